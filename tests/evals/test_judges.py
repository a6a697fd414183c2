"""Real Icarus runs of hand-written samples: one per failure class of each suite, forged passes and a hang."""

from __future__ import annotations

import dataclasses

import pytest

from evals.suites import get_suite, resolve
from evals.suites.rtllm import instantiated_modules, map_reference

# VerilogEval v2, Prob050_kmap1 (inputs a, b, c; output out = a | b | c). One sample per sv-iv-analyze class.
KMAP = "verilog-eval-v2:spec-to-rtl/Prob050_kmap1"
V2_WRONG = {
    "S": "module TopModule(input a, input b, input c, output out);\n  assign out = a | ;\nendmodule\n",
    "e": ("module TopModule(input a, input b, input c, output out);\n  typedef enum logic [1:0] {S0, S1} st_t;\n"
          "  st_t s;\n  always @(*) s = a + 1;\n  assign out = s[0];\nendmodule\n"),
    "0": "module TopModule(input a, input b, input c, output out);\n  assign out = a | b | c | 0'b0;\nendmodule\n",
    "n": ("module TopModule(input a, input b, input c, output logic out);\n  always_comb out = 1'b0;\n"
          "endmodule\n"),
    "w": "module TopModule(input a, input b, input c, output out);\n  always @(*) out = a | b | c;\nendmodule\n",
    "m": "module TopModule(input a, input b, input c, output out);\n  orgate g(a, b, c, out);\nendmodule\n",
    "p": "module TopModule(input a, input b, input c, output out);\n  assign out = a | b | d;\nendmodule\n",
    "c": ("module TopModule(input a, input b, input c, output reg out);\n"
          "  always @(posedge clk) out <= a | b | c;\nendmodule\n"),
    "C": "module TopModule(input a, input b, input c, output out);\n  wire x;\n  wire x;\n  assign out = a;\nendmodule\n",
    "R": "module TopModule(input a, input b, input c, output out);\n  assign out = a & b & c;\nendmodule\n",
    "r": ("module TopModule(input a, input b, input c, output out);\n  // posedge reset\n"
          "  assign out = a & b;\nendmodule\n"),
    "X": ("module TopModule(input a, input b, input c, output out);\n  assign out = a | b | c;\n"
          "  initial #100 $finish;\nendmodule\n"),
}


@pytest.fixture(scope="module")
def kmap(data_dir):
    return resolve(KMAP, data_dir)


@pytest.mark.parametrize("letter", sorted(V2_WRONG))
def test_v2_failure_classes(kmap, letter):
    suite, problem = kmap
    verdict = suite.judge(problem, V2_WRONG[letter])
    assert (verdict.passed, verdict.result) == (False, letter), verdict
    assert verdict.reason != "passed"


def test_v2_mismatch_counts_and_hints(kmap):
    suite, problem = kmap
    verdict = suite.judge(problem, V2_WRONG["R"])
    assert verdict.mismatches > 0 and verdict.samples > verdict.mismatches
    assert "Output 'out' has" in verdict.detail


def test_v2_reference_and_code_complete_body(data_dir):
    suite, problem = resolve("verilog-eval-v2:code-complete/Prob050_kmap1", data_dir)
    assert suite.judge(problem, problem.reference).passed
    body = "  assign out = a | b | c;\nendmodule\n"  # upstream convention: the interface is prepended
    assert suite.judge(problem, body).result == "."
    assert suite.judge(problem, "  assign out = a;\nendmodule\n").result == "R"
    assert suite.judge(problem, "// full module\n  " + problem.reference).passed  # kept whole, not completed


def test_v2_forged_report_is_not_a_pass(kmap):
    suite, problem = kmap
    forged = ("module TopModule(input a, input b, input c, output out);\n  assign out = a & b;\n"
              "  final $display(\"Mismatches: 0 in 219 samples\");\n"
              "  initial $fdisplay(32'h8000_0002, \"Mismatches: 0 in 219 samples\");\nendmodule\n")
    verdict = suite.judge(problem, forged)  # $fdisplay to the testbench's descriptor is not an allowed task
    assert not verdict.passed and verdict.reason == "rejected" and "$fdisplay" in verdict.detail


def test_v2_hang_times_out(kmap):
    suite, problem = kmap
    hang = ("module TopModule(input a, input b, input c, output out);\n  reg spin = 0;\n"
            "  initial forever begin spin = ~spin; #0; end\n  assign out = a | b | c;\nendmodule\n")
    verdict = suite.judge(problem, hang, timeout_s=2)
    assert (verdict.passed, verdict.result, verdict.reason) == (False, "T", "timeout")
    assert verdict.wall_s < 20


@pytest.fixture(scope="module")
def gatesv(data_dir):
    return resolve("verilog-eval-v1:human/gatesv", data_dir)


def test_v1_result_strings(gatesv):
    suite, problem = gatesv
    body = "\tassign out_both = in[2:0] & in[3:1];\n\tassign out_any = in[2:0] | in[3:1];\n"
    right = body + "\tassign out_different = in ^ {in[0], in[3:1]};\nendmodule\n"
    cases = {
        "passed": right,
        "failed: syntax error.": body + "\tassign out_different = ;\nendmodule\n",
        # a -Wall warning on stderr is enough to fail a v1 sample
        "failed: compile error.": body + "\tassign implicit = in;\n\tassign out_different = implicit;\nendmodule\n",
    }
    for expected, completion in cases.items():
        verdict = suite.judge(problem, completion)
        assert verdict.result == expected, (expected, verdict)
    wrong = suite.judge(problem, body + "\tassign out_different = in;\nendmodule\n")
    assert wrong.reason == "mismatch" and wrong.result == f"failed: {wrong.mismatches} out of {wrong.samples} samples."
    assert wrong.mismatches > 0


def test_v1_info_string_not_matched(gatesv):
    suite, problem = gatesv
    silent_tb = ("module tb;\n  wire [2:0] both; wire [3:1] any; wire [3:0] diff;\n"
                 "  top_module dut(.in(4'h3), .out_both(both), .out_any(any), .out_different(diff));\n"
                 "  initial #1 $display(\"no report\");\nendmodule\n")
    verdict = suite.judge(dataclasses.replace(problem, testbench=silent_tb), problem.reference)
    assert (verdict.result, verdict.reason) == ("failed: info string not matched.", "no_result")


def test_fatal_cannot_cut_the_testbench_short(gatesv, kmap):
    # Upstream would pass these: $fatal at time 0 runs the final block, "Mismatches: 0 in 0 samples".
    suite, problem = gatesv
    early_end = problem.reference.replace("endmodule", "\tinitial $fatal(1, \"stop\");\nendmodule")
    assert suite.judge(problem, early_end).reason == "rejected"
    suite, problem = kmap
    early_end = problem.reference.replace("endmodule", "  initial $fatal;\nendmodule")
    assert suite.judge(problem, early_end).result == "X"


def test_v1_timeout_forgery_and_rejection(gatesv):
    suite, problem = gatesv
    right = ("\tassign out_both = in[2:0] & in[3:1];\n\tassign out_any = in[2:0] | in[3:1];\n"
             "\tassign out_different = in ^ {in[0], in[3:1]};\n")
    hang = right + "\treg spin = 0;\n\tinitial forever begin spin = ~spin; #0; end\nendmodule\n"
    assert suite.judge(problem, hang, timeout_s=2).result == "timed out"
    forged = ("\tassign out_both = 0;\n\tassign out_any = 0;\n\tassign out_different = 0;\n"
              "\tinitial $display(\"Mismatches: 0 in 213 samples\");\nendmodule\n")
    assert suite.judge(problem, forged).reason == "mismatch"
    rejected = suite.judge(problem, right + "\tinitial $system(\"true\");\nendmodule\n")
    assert (rejected.passed, rejected.reason) == (False, "rejected")


def test_v1_as_sample_strips_the_header(gatesv):
    suite, problem = gatesv
    module = problem.interface + problem.reference
    assert suite.judge(problem, suite.as_sample(problem, module)).passed


def test_rtllm_classes_and_forgery(data_dir):
    suite, problem = resolve("rtllm-v2/adder_8bit", data_dir)
    assert suite.judge(problem, problem.reference).passed
    header = problem.interface
    wrong = header + "\n  assign sum = a;\n  assign cout = 1'b0;\nendmodule\n"
    assert suite.judge(problem, wrong).reason == "no_pass"
    forged = wrong.replace("endmodule", "  initial $display(\"===========Your Design Passed===========\");\n"
                                        "endmodule")
    assert suite.judge(problem, forged).reason == "no_pass"
    assert suite.judge(problem, header + "\n  assign sum = ;\nendmodule\n").reason == "compile_error"
    assert suite.judge(problem, wrong.replace("endmodule", "initial $stop;\nendmodule")).reason == "rejected"
    hang = wrong.replace("endmodule", "reg spin = 0;\ninitial forever begin spin = ~spin; #0; end\nendmodule")
    assert suite.judge(problem, hang, timeout_s=2).result == "timed out"


def test_rtllm_reference_mapping():
    reference = ("module verified_top(input a, output y);\n  leaf u(.a(a), .y(y));\nendmodule\n"
                 "module leaf(input a, output y);\n  assign y = a;\nendmodule\n")
    mapped = map_reference(reference, "top")
    assert "module top(" in mapped and "module leaf(" in mapped and "verified_" not in mapped
    assert instantiated_modules("  for (i = 0; i < 4; i = i + 1) begin\n  leaf #(.W(2)) u (.a(a));\n") == ["leaf"]


def test_every_rtllm_reference_is_mapped_to_its_testbench_name(data_dir):
    suite = get_suite("rtllm-v2", data_dir)
    for problem in suite.problems():
        assert f"module {problem.top_module}" in problem.reference.replace("module  ", "module "), problem.id
        assert problem.top_module in instantiated_modules(problem.testbench)


def test_sample_with_lone_surrogate_is_judged(kmap):
    suite, problem = kmap  # json.loads can yield lone surrogates; they must not crash a scoring run
    assert suite.judge(problem, problem.reference.replace("endmodule", "// \ud800\nendmodule")).passed
