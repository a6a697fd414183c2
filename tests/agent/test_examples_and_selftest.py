"""Example specs against their cocotb testbenches, the scripted demo run, self-written testbench + judge,
and a VerilogEval problem through the benchmark harness (SCRIPTED transcripts, real simulators)."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from scripted import ADDSAT_GOOD, ADDSAT_SPEC, answer, exchange, write_transcript

from agent import checks
from agent.feedback import candidate_feedback
from agent.options import RunOptions
from agent.problem import load_problem, problem_from_spec
from agent.session import new_run
from spec_templates.examples import golden
from spec_templates.spec import parse_spec
from verify import sandbox

EXAMPLES = golden.HERE
DEMO = EXAMPLES / "requant_demo.transcript.jsonl"


def simulate(design, problem, work, testbench=None):
    code = design.read_text()
    job = problem.self_test_job(code, testbench) if testbench else problem.job(code)
    return checks.simulate(job, work, waves=False)


def test_example_references_pass_and_a_bug_is_located(tmp_path):
    mac = load_problem(str(EXAMPLES / "mac4x4.yaml"))
    summary, _ = simulate(EXAMPLES / "mac4x4_ref.v", mac, tmp_path / "ref")
    assert summary["passed"], summary["log_excerpt"]
    buggy = tmp_path / "mac.v"  # forgets the sign of b: unsigned lanes
    buggy.write_text((EXAMPLES / "mac4x4_ref.v").read_text().replace("$signed(b[8*j +: 8])", "b[8*j +: 8]"))
    summary, _ = simulate(buggy, mac, tmp_path / "bug")
    assert not summary["passed"] and summary["reason"] == "mismatch"
    assert summary["rows"][0]["signal"].startswith("acc[") and summary["rows"][0]["cycle"] == "0"
    requant = load_problem(str(EXAMPLES / "requant.yaml"))
    summary, _ = simulate(EXAMPLES / "requant_ref.v", requant, tmp_path / "rq")
    assert summary["passed"], summary["log_excerpt"]


LOUD_TB = """import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def loud(dut):
    for cycle in range(100):
        await Timer(10, unit="ns")
        dut._log.error(f"MISMATCH signal=q cycle={cycle} time={10000 * (cycle + 1)} expected=1 got=0")
    assert False, "100 mismatches"
"""


def test_feedback_reads_the_full_log_of_a_failing_run(tmp_path):
    requant = load_problem(str(EXAMPLES / "requant.yaml"))
    summary, result = simulate(EXAMPLES / "requant_ref.v", requant, tmp_path / "loud", LOUD_TB)
    assert "cycle=0 " not in result.log_excerpt  # the excerpt alone has lost the first mismatch
    assert summary["rows"][0]["cycle"] == "0" and summary["mismatch_counts"] == {"q": 100}
    broken = "import cocotb\nimport no_such_module_xyz\n\n\n@cocotb.test()\nasync def t(dut):\n    pass\n"
    summary, _ = simulate(EXAMPLES / "requant_ref.v", requant, tmp_path / "broken", broken)
    assert not summary["passed"] and summary["log_excerpt_from"].startswith("first error at line")
    assert summary["log_excerpt"].startswith("Traceback")
    assert "ModuleNotFoundError: No module named 'no_such_module_xyz'" in summary["log_excerpt"]
    feedback = candidate_feedback({"code": "", "sim": summary}, requant.top)
    assert "Simulator output (first error at line" in feedback and "no_such_module_xyz" in feedback


@pytest.mark.slow  # cocotb on Icarus (waves as VCD, traced without a re-run)
def test_scripted_demo_run_on_the_requantiser(tmp_path):
    session = new_run(str(EXAMPLES / "requant.yaml"), RunOptions(models=[f"replay/{DEMO}"], max_iters=3),
                      tmp_path / "runs")
    summary = session.drive()
    session.close()
    assert summary["passed"] and summary["iterations"] == 2
    feedback = (session.run_dir / "iter_01" / "feedback.md").read_text()
    assert "Mismatches on q" in feedback and "| 0 | 30 | 63 | 62 |" in feedback  # 62.5 must round up to 63
    assert "| 30 <- first mismatch | 62 | 63 | 62 |" in feedback  # waveform of the Icarus run: q, expected, sat
    trace = json.loads((session.run_dir / "iter_01" / "cand_0" / "trace.json").read_text())
    assert {"line": 14, "text": "wire signed [48:0] rounded = prod >>> shift;"}.items() <= trace["assignments"][0].items()
    prompt = (session.run_dir / "iter_02" / "prompt.md").read_text()
    assert "    wire signed [48:0] rounded = prod >>> shift;  // <- q\n" in prompt
    assert summary["best"]["ppa"]["ok"]


SELF_TB = '''import random

import cocotb
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time


@cocotb.test()
async def addsat_random(dut):
    mismatches = 0
    rng = random.Random(5)
    cases = [(0, 0), (200, 100), (255, 255)] + [(rng.randrange(256), rng.randrange(256)) for _ in range(60)]
    for cycle, (a, b) in enumerate(cases):
        dut.a.value = a
        dut.b.value = b
        await Timer(5, unit="ns")
        want = MODEL
        got = int(dut.y.value)
        if got != want:
            mismatches += 1
            dut._log.error(f"MISMATCH signal=y cycle={cycle} time={int(get_sim_time('ps'))} expected={want} got={got}")
    assert mismatches == 0, f"{mismatches} mismatches"
'''


@pytest.mark.slow  # several cocotb runs
def test_self_written_testbench_and_judge(tmp_path):
    data = yaml.safe_load(ADDSAT_SPEC.read_text())
    del data["testbench"]
    problem = problem_from_spec(parse_spec(data).with_base_dir(ADDSAT_SPEC.parent), "addsat-no-tb")
    assert not problem.has_testbench
    wrong_tb = SELF_TB.replace("MODEL", "(a + b) & 0xFF")
    right_tb = SELF_TB.replace("MODEL", "min(a + b, 255)")
    transcript = write_transcript(tmp_path / "t.jsonl", [
        exchange(f"```python\n{wrong_tb}```", expect=["Write a cocotb 2.x testbench", "MISMATCH signal="]),
        exchange(answer(ADDSAT_GOOD)),
        exchange("The spec says saturate at 255; the testbench wraps modulo 256.\nVERDICT: TESTBENCH",
                 expect=["VERDICT: DESIGN", "Mismatches on y", "| 1 | 10 | 44 | 255 |"]),
        exchange(f"```python\n{right_tb}```", expect=["Your previous testbench was judged wrong",
                                                      "saturate at 255"]),
    ], "self-written testbench is wrong, the judge blames it, the rewrite passes")
    from langgraph.checkpoint.memory import InMemorySaver

    from agent.graph import RunContext, build_graph, initial_state

    options = RunOptions(models=[f"replay/{transcript}"], max_iters=3)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    graph = build_graph(RunContext(problem, options, run_dir), InMemorySaver())
    state = graph.invoke(initial_state(options), {"configurable": {"thread_id": "t"}, "recursion_limit": 40})
    assert state["status"] == "passed" and state["iteration"] == 1
    assert [j["verdict"] for j in state["judgements"]] == ["TESTBENCH"]
    summary = __import__("json").loads((run_dir / "summary.json").read_text())
    assert "self-test only" in summary["checked_against"]
    assert (run_dir / "self_testbench_2.py").read_text() == right_tb


@pytest.mark.skipif(not sandbox.isolation().bwrap, reason=sandbox.isolation().description)
def test_self_written_testbench_stopped_by_the_sandbox_is_rewritten(tmp_path):
    data = yaml.safe_load(ADDSAT_SPEC.read_text())
    del data["testbench"]
    problem = problem_from_spec(parse_spec(data).with_base_dir(ADDSAT_SPEC.parent), "addsat-no-tb")
    outside = tmp_path / "stolen.txt"
    escaping_tb = SELF_TB.replace("MODEL", "min(a + b, 255)").replace(
        "    mismatches = 0\n", f"    mismatches = 0\n    open({str(outside)!r}, 'w').write('x')\n")
    right_tb = SELF_TB.replace("MODEL", "min(a + b, 255)")
    transcript = write_transcript(tmp_path / "t.jsonl", [
        exchange(f"```python\n{escaping_tb}```"),
        exchange(answer(ADDSAT_GOOD)),
        exchange(f"```python\n{right_tb}```", expect=["blocked: the testbench tried to write outside its run dir",
                                                      "VERDICT: TESTBENCH"]),
    ], "self-written testbench writes outside its run dir; the rewrite passes the first design")
    session = new_run("addsat-no-tb", RunOptions(models=[f"replay/{transcript}"], max_iters=2), tmp_path / "runs",
                      resolver=lambda text: problem)
    summary = session.drive()
    session.close()
    assert summary["passed"] and summary["iterations"] == 1  # the finished design was kept, not regenerated
    assert [j["verdict"] for j in summary["judgements"]] == ["TESTBENCH"] and not outside.exists()
    assert (session.run_dir / "self_testbench_1.py").read_text() == escaping_tb


@pytest.mark.needs_data
def test_verilog_eval_problem_through_the_cli(tmp_path):
    data = os.environ.get("HWAGENT_DATA_DIR")
    if not data or not os.path.isdir(os.path.join(data, "verilog-eval-v2")):
        pytest.skip("needs VerilogEval v2 data: set HWAGENT_DATA_DIR (see `hwagent eval fetch`)")
    from test_cli_run import hwagent

    wrong = "```verilog\nmodule TopModule(input a, input b, input c, output out);\n  assign out = a & b | c;\nendmodule\n```"
    right = "```verilog\nmodule TopModule(input a, input b, input c, output out);\n  assign out = a | b | c;\nendmodule\n```"
    transcript = write_transcript(tmp_path / "t.jsonl", [
        exchange(wrong, expect=["Karnaugh", "TopModule"]),
        exchange(right, expect=["| time (ps) | out | out expected |", "| 25 <- first mismatch (checked at 30) | 0 | 1 |",
                                "  assign out = a & b | c;  // <- out\n", "Mismatches on out",
                                "| - | 30 | 1 | 0 (57 mismatches) |"]),
    ], "kmap1: wrong then right")
    result = hwagent("run", "verilog-eval-v2:spec-to-rtl/Prob050_kmap1", "--llm", f"replay/{transcript}", "--out",
                     str(tmp_path / "runs"), "--json")
    assert result.returncode == 0, result.stderr
    summary = __import__("json").loads(result.stdout)
    assert summary["passed"] and summary["official_verdict"]["passed"]


@pytest.mark.needs_data
def test_rtllm_problem_through_the_cli(tmp_path):
    data = os.environ.get("HWAGENT_DATA_DIR")
    if not data or not os.path.isdir(os.path.join(data, "rtllm-v2")):
        pytest.skip("needs RTLLM v2 data: set HWAGENT_DATA_DIR (see `hwagent eval fetch`)")
    from test_cli_run import hwagent

    header = "module adder_8bit(input [7:0] a, b, input cin, output [7:0] sum, output cout);\n"
    wrong = f"```verilog\n{header}  assign {{cout, sum}} = a + b;\nendmodule\n```"
    right = f"```verilog\n{header}  assign {{cout, sum}} = a + b + cin;\nendmodule\n```"
    transcript = write_transcript(tmp_path / "t.jsonl", [
        exchange(wrong, expect=["Module name"]),
        exchange(right, expect=["Test completed with", "failures"]),
    ], "RTLLM adder: forgets the carry-in, then fixed")
    result = hwagent("run", "rtllm-v2/adder_8bit", "--llm", f"replay/{transcript}", "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert "official verdict (rtllm-v2's own testbench and judge): passed\n" in result.stdout
    summary = json.loads(next((tmp_path / "runs").glob("*/summary.json")).read_text())
    assert summary["passed"] and summary["official_verdict"]["passed"] and summary["benchmark_testbench_in_loop"]
    first = json.loads(next((tmp_path / "runs").glob("*/iter_01/cand_0/sim.json")).read_text())
    assert first["official"]["result"] == "failed: pass message not printed." and first["reason"] == "mismatch"
