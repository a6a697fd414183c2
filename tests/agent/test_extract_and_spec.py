"""Verilog extraction from LLM answers, the spec format, its Markdown rendering, the VCD reader."""

from __future__ import annotations

import json

import pytest
from scripted import ADDSAT_SPEC

from agent.extract import extract_verilog
from agent.vcd import Waveform, show
from spec_templates.examples import golden
from spec_templates.spec import SpecError, dump_spec, load_spec, parse_spec, render_markdown

EXAMPLES = golden.HERE


@pytest.mark.parametrize(("answer", "modules", "method"), [
    ("Sure:\n```verilog\nmodule top(input a, output y);\n  assign y = a;\nendmodule\n```\nHope it helps.",
     ["top"], "fenced"),
    (("```systemverilog\nmodule sub(input a, output y); assign y = ~a; endmodule\n```\nand\n```sv\n"
      "module top(input a, output y);\n  sub u(.a(a), .y(y));\nendmodule : top\n```"), ["sub", "top"], "fenced"),
    ("[BEGIN]\nmodule top(input a, output y);\n  assign y = a;\nendmodule\n[DONE]", ["top"], "markers"),
    ("The design is\nmodule top(input a, output y); assign y = a; endmodule\nThat is all.", ["top"], "bare"),
    (("```\nmodule top(input a, output y); assign y = 0; endmodule\n```\nOops, fixed:\n```verilog\n"
      "module top(input a, output y); assign y = a; endmodule\n```"), ["top"], "fenced"),
    # shapes small local models give: the prompt's words echoed as the fence label, an unclosed fence, a `v`
    # label, a module starting after prose on the same line or glued to the fence
    ("```verilog code block\nmodule top(input a, output y);\n  assign y = a;\nendmodule\n```", ["top"], "fenced"),
    ("```v\nmodule top(input a, output y);\n  assign y = a;\nendmodule\n", ["top"], "fenced"),
    ("Here is the code: module top(input a, output y); assign y = a; endmodule Done.", ["top"], "inline"),
    ("```module top(input a, output y);\n  assign y = a;\nendmodule```", ["top"], "inline"),
])
def test_extraction_variants(answer, modules, method):
    result = extract_verilog(answer, "top")
    assert result.ok and result.modules == modules and result.method == method
    assert result.code.count("endmodule") == len(modules)
    if "Oops" in answer:
        assert "assign y = a" in result.code and "assign y = 0" not in result.code


def test_extraction_keeps_timescale_and_ignores_other_languages():
    answer = "```python\nprint('module fake')\n```\n```verilog\n`timescale 1ns/1ps\nmodule top; endmodule\n```"
    result = extract_verilog(answer, "top")
    assert result.code.startswith("`timescale 1ns/1ps\n") and "print" not in result.code


@pytest.mark.parametrize(("answer", "problem"), [
    ("I need more details about the reset.", "contains no Verilog module"),
    ("```verilog\nmodule top(input a);\n  assign", "never closes it with endmodule"),
    ("```verilog\nmodule other(input a); endmodule\n```", "not the required module `top`"),
    ("The module top must drive y; its endmodule comes last.", "contains no Verilog module"),
])
def test_answers_without_usable_code(answer, problem):
    result = extract_verilog(answer, "top")
    assert not result.ok and problem in result.problem


def test_a_truncated_answer_says_so():
    """finish_reason `length`: the feedback names the token limit, whether or not a module survived."""
    cut = extract_verilog("```verilog\nmodule top(input a, output y);\n  assign y", "top", truncated=True)
    assert not cut.ok and cut.problem.startswith("the answer was cut off at the answer token limit")
    assert "never closes it with endmodule" in cut.problem
    kept = extract_verilog("module top(input a, output y); assign y = a; endmodule\nmodule extra(", "top",
                           truncated=True)
    assert kept.ok and kept.modules == ["top"] and "cut off" in kept.problem


def test_example_specs_load_render_and_vectors_match_golden_models():
    requant = load_spec(EXAMPLES / "requant.yaml")
    mac = load_spec(EXAMPLES / "mac4x4.yaml")
    assert requant.port_widths()["q"] == ("output", 8) and mac.port_widths()["acc"] == ("output", 384)
    assert requant.golden_vectors() == golden.requant_vectors()
    assert mac.golden_vectors() == golden.mac4x4_vectors()
    text = render_markdown(mac)
    assert "| `acc` | output | 16*ACC_W (= 384) | no |" in text
    assert "- Latency: exactly 1 cycle(s)" in text and "Cells: at most 14000" in text
    assert "parameter ACC_W = 24" in text and "output [(16*ACC_W)-1:0] acc" in text
    assert load_spec(EXAMPLES / "requant.yaml").testbench_source().startswith('"""cocotb testbench')
    assert parse_spec(__import__("yaml").safe_load(dump_spec(requant))).model_dump() == requant.model_dump()


def test_requant_golden_model_examples_from_the_spec_text():
    assert golden.requant(1000, 4096, 16, 0) == 63 and golden.requant(-1000, 4096, 16, 0) == -62
    assert golden.requant(100000, 4096, 16, 0) == 127 and golden.requant(3, 1, 1, 0) == 2


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "2bad"}, "name: '2bad' is not a Verilog identifier"),
    ({"ports": [{"name": "a", "direction": "input", "width": "N+1"}]}, "unknown parameter 'N'"),
    ({"ports": [{"name": "a", "direction": "sideways"}]}, "ports.0.direction"),
    ({"clock": {"name": "clk"}}, "clock.name: 'clk' is not an input port"),
    ({"latency": {"kind": "fixed"}}, "needs latency.cycles"),
    ({"ppa": {"max_cells": -3}}, "ppa.max_cells"),
    ({"testbench": {"kind": "cocotb"}}, "exactly one of 'path' or 'source'"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_specs_fail_with_one_line_naming_the_field(change, message):
    data = __import__("yaml").safe_load(ADDSAT_SPEC.read_text()) | change
    with pytest.raises(SpecError) as info:
        parse_spec(data, "bad.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_testbench_file_is_reported(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(ADDSAT_SPEC.read_text().replace("addsat_tb.v", "nowhere_tb.v"))
    with pytest.raises(SpecError, match="testbench.path: no such file"):
        load_spec(spec).testbench_source()


def test_vcd_reader(tmp_path):
    vcd = tmp_path / "w.vcd"
    vcd.write_text("$timescale 1ps $end\n$scope module tb $end\n$var wire 1 ! clk $end\n$scope module dut $end\n"
                   "$var wire 8 \" q [7:0] $end\n$upscope $end\n$upscope $end\n$enddefinitions $end\n"
                   "#0\n$dumpvars\n0!\nbx \"\n$end\n#5\n1!\nb11111110 \"\n#10\n0!\n#15\n1!\nb1 \"\n")
    wave = Waveform(vcd)
    q = wave.find("q")
    assert q.name == "tb.dut.q" and q.width == 8
    assert show(q.at(0), 8) == "xxxxxxxx" and show(q.at(5), 8, signed=True) == "-2" and show(q.at(7), 8) == "254"
    assert q.at(15) == "00000001" and wave.rising_edges(wave.find("clk")) == [5, 15]
    assert json.dumps(wave.to_fs(15)) == "15000"


def test_a_testbench_in_the_answer_is_dropped():
    answer = ("```verilog\nmodule top(input a, output y); assign y = a; endmodule\n\nmodule tb;\n  reg a; wire y;\n"
              "  top dut(.a(a), .y(y));\nendmodule\n```")
    result = extract_verilog(answer, "top")
    assert result.modules == ["top"] and "module tb" not in result.code and "tb dropped" in result.problem
