"""`hwagent eval run` against SCRIPTED models on loopback servers (both wire formats) and the replay provider: a
model that answers some VerilogEval v2 problems correctly and others wrongly must give exactly the expected pass@1,
through single, agent (oracle and self feedback) and cascade solvers, after a kill -9 and resume, and under Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llm_loopback import LoopbackServer, Reply, anthropic_message, openai_chat
from scripted import exchange, write_transcript
from test_cli_run import ROOT, hwagent

from evals.run import verdict_rows
from evals.suites import get_suite

SUITE = "verilog-eval-v2:spec-to-rtl"
PROBLEMS = ["Prob001_zero", "Prob002_m2014_q4i", "Prob003_step_one", "Prob004_vector2", "Prob005_notgate",
            "Prob006_vectorr"]
RIGHT = {"Prob001_zero", "Prob003_step_one", "Prob005_notgate"}  # the scripted model solves these

pytestmark = pytest.mark.needs_data


def empty_module(task) -> str:
    return task.interface.strip() + "\nendmodule\n"  # outputs undriven: fails every one of PROBLEMS


class ScriptedModel:
    """A SCRIPTED model behind a loopback server: finds the problem in the prompt, answers per `policy`."""

    def __init__(self, data_dir, policy, wire="openai", markers=True, delay_s=0.0):
        suite = get_suite(SUITE, data_dir)
        self.tasks = [suite.problem(t) for t in PROBLEMS]
        self.policy, self.wire, self.markers, self.delay_s = policy, wire, markers, delay_s
        self.asked: dict[str, int] = {}
        self.prompts: dict[str, list[str]] = {}
        self.server = LoopbackServer(respond=self.respond)

    def respond(self, path: str, body: dict) -> Reply:
        prompt = body["messages"][-1]["content"]
        task = next(t for t in self.tasks if t.prompt.strip()[:300] in prompt)
        self.asked[task.id] = self.asked.get(task.id, 0) + 1
        self.prompts.setdefault(task.id, []).append(prompt)
        code = self.policy(task, self.asked[task.id], prompt)
        text = f"[BEGIN]\n{code}[DONE]\n" if self.markers else f"Here it is.\n```verilog\n{code}```\n"
        reply = openai_chat([text], 500, 80) if self.wire == "openai" else anthropic_message(text, 500, 80)
        return Reply(200, reply, delay_s=self.delay_s)

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)


def right_or_wrong(task, asked, prompt):
    return task.reference if task.id in RIGHT else empty_module(task)


def eval_run(out: Path, data_dir: Path, *args, env=None):
    return hwagent("eval", "run", "--suite", SUITE, "--out", str(out), "--problems", "Prob00[1-6]_*", "--json",
                   "--data", str(data_dir), *args, env=env)


def test_single_solver_openai_wire_exact_pass_at_1_and_rescoring(data_dir, tmp_path):
    with ScriptedModel(data_dir, right_or_wrong) as model:
        env = {"LOOP_BASE_URL": model.server.url + "/v1"}
        result = eval_run(tmp_path / "out", data_dir, "--llm", "openai-api/loop/coder", "-k", "1", "--jobs", "2", env=env)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        again = eval_run(tmp_path / "out", data_dir, "--llm", "openai-api/loop/coder", "-k", "1", env=env)
        assert again.returncode == 0 and len(model.server.requests) == 6  # finished samples are not asked again
    assert summary["errata_included"]["pass_at_k"]["pass@1"] == 0.5
    run = summary["eval_run"]
    assert run["benchmark_testbench_in_loop"] is False and "no testbench feedback" in run["setting"]
    assert run["usage"]["prompt_tokens"] == 6 * 500 and run["usage"]["cost_usd"] == "unknown"
    first = model.server.requests[0]["body"]
    assert first["temperature"] == 0.0 and first["top_p"] == 0.01 and first["max_tokens"] == 1024
    assert "Enclose your code with [BEGIN] and [DONE]" in first["messages"][1]["content"]
    assert first["messages"][0]["content"].startswith("You are a Verilog RTL designer")
    rescored = hwagent("eval", "score", "--suite", SUITE, "--data", str(data_dir), "--samples", str(tmp_path / "out" / "samples.jsonl"),
                       "--out", str(tmp_path / "rescored"), "-k", "1", "--json")
    assert rescored.returncode == 0 and json.loads(rescored.stdout)["errata_included"]["pass_at_k"]["pass@1"] == 0.5
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert {r["task_id"] for r in rows if r["passed"]} == RIGHT and all(r["llm_calls"] == 1 for r in rows)


def test_single_solver_anthropic_wire(data_dir, tmp_path):
    with ScriptedModel(data_dir, right_or_wrong, wire="anthropic", markers=False) as model:
        env = {"ANTHROPIC_BASE_URL": model.server.url, "ANTHROPIC_API_KEY": "sk-test"}
        result = eval_run(tmp_path / "out", data_dir, "--llm", "anthropic/claude-haiku-4-5", "-k", "1", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["errata_included"]["pass_at_k"]["pass@1"] == 0.5
    assert isinstance(summary["eval_run"]["usage"]["cost_usd"], float)  # a priced model
    assert model.server.requests[0]["path"] == "/v1/messages"


def test_replay_provider_and_samples_per_problem(data_dir, tmp_path):
    suite = get_suite(SUITE, data_dir)
    exchanges = [exchange(f"[BEGIN]\n{right_or_wrong(task, 1, '')}[DONE]\n", expect=[task.prompt.strip()[:300]])
                 | {"seed": seed} for task in map(suite.problem, PROBLEMS) for seed in range(2)]
    transcript = write_transcript(tmp_path / "t.jsonl", exchanges, "eval run: three right, three wrong, two samples "
                                  "each, keyed by problem and sample", keyed=True)
    result = eval_run(tmp_path / "out", data_dir, "--llm", f"replay/{transcript}", "-n", "2", "-k", "1,2", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["errata_included"]["pass_at_k"] == {"pass@1": 0.5, "pass@2": 0.5}


def test_kill_9_then_resume_loses_nothing_and_asks_nothing_twice(data_dir, tmp_path):
    out = tmp_path / "out"
    with ScriptedModel(data_dir, right_or_wrong, delay_s=0.4) as model:
        env = os.environ | {"LOOP_BASE_URL": model.server.url + "/v1"}
        args = ["-m", "hwagent.cli", "eval", "run", "--suite", SUITE, "--data", str(data_dir), "--out", str(out), "--problems", "Prob00[1-6]_*",
                "--llm", "openai-api/loop/coder", "-k", "1", "--jobs", "1", "--no-cache", "--json"]
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _rows(out) < 2:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished = _rows(out)
        assert 2 <= finished < 6
        before = dict(model.asked)
        resumed = eval_run(out, data_dir, "--llm", "openai-api/loop/coder", "-k", "1", "--no-cache", env={
            "LOOP_BASE_URL": model.server.url + "/v1"})
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["errata_included"]["pass_at_k"]["pass@1"] == 0.5
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["task_id"] for r in rows) == PROBLEMS  # each sample exactly once
    asked_again = [t for t in PROBLEMS if model.asked.get(t, 0) > 1]
    # --jobs 1: one simulating, one more waiting on the model; only those two can be asked again
    assert len(asked_again) <= 2 and sum(before.values()) - len(asked_again) >= finished


def _rows(out: Path) -> int:
    path = out / "results.jsonl"
    return path.read_text().count("\n") if path.is_file() else 0


def second_time_right(task, asked, prompt):
    """Prob001/003 right at once, Prob005 right after feedback, the rest never."""
    if task.id == "Prob005_notgate":
        return task.reference if asked >= 2 else empty_module(task)
    return right_or_wrong(task, asked, prompt)


def test_agent_oracle_feedback_pass_at_1_by_iteration(data_dir, tmp_path):
    with ScriptedModel(data_dir, second_time_right, markers=False) as model:
        env = {"LOOP_BASE_URL": model.server.url + "/v1"}
        result = eval_run(tmp_path / "out", data_dir, "--llm", "openai-api/loop/coder", "--solver", "agent", "--max-iters",
                          "2", "-k", "1", "--jobs", "2", env=env)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["eval_run"]
    assert run["benchmark_testbench_in_loop"] is True and "oracle" in run["setting"]
    assert run["pass_at_1_by_iteration"] == [{"iteration": 1, "pass@1": round(2 / 6, 6)}, {"iteration": 2, "pass@1": 0.5}]
    notgate = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()
               if '"Prob005_notgate"' in line][0]
    assert notgate["iterations"] == 2 and notgate["solved_at"] == 2 and notgate["llm_calls"] == 2
    assert (tmp_path / "out" / notgate["run_dir"] / "summary.json").is_file()
    first, second = model.prompts["Prob005_notgate"]
    assert "Mismatch" not in first and "Mismatches on out" in second  # the benchmark's testbench spoke
    report = hwagent("eval", "report", str(tmp_path / "out"))
    assert report.returncode == 0, report.stderr
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| 1 | 0.3333 |" in markdown and "| 2 | 0.5000 |" in markdown and "oracle feedback" in markdown
    assert (tmp_path / "out" / "report_iterations.png").stat().st_size > 1000


SELF_TB = """```python
import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def smoke(dut):
    await Timer(10, unit="ns")
```"""


def test_agent_self_feedback_is_judged_officially(data_dir, tmp_path):
    def policy(task, asked, prompt):
        return task.reference if task.id == "Prob001_zero" else empty_module(task)

    with ScriptedModel(data_dir, policy, markers=False) as model:
        original = model.respond

        def respond(path, body):  # the agent first asks for its own testbench: a smoke test that always passes
            if "cocotb" in body["messages"][-1]["content"] and "testbench" in body["messages"][-1]["content"]:
                return Reply(200, openai_chat([SELF_TB], 300, 40))
            return original(path, body)

        model.server.respond = respond
        env = {"LOOP_BASE_URL": model.server.url + "/v1"}
        result = hwagent("eval", "run", "--suite", SUITE, "--data", str(data_dir), "--out", str(tmp_path / "out"),
                         "--problems",
                         "Prob001_zero", "--problems", "Prob002_*", "--llm", "openai-api/loop/coder", "--solver",
                         "agent", "--feedback", "self", "--max-iters", "1", "-k", "1", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["eval_run"]["benchmark_testbench_in_loop"] is False and "self" in summary["eval_run"]["setting"]
    assert summary["errata_included"]["pass_at_k"]["pass@1"] == 0.5  # both self-tests passed; the judge says 1 of 2


def test_cascade_reports_tier_shares(data_dir, tmp_path):
    with ScriptedModel(data_dir, lambda task, asked, prompt: empty_module(task), markers=False) as cheap, \
            ScriptedModel(data_dir, lambda task, asked, prompt: task.reference, markers=False) as strong:
        env = {"CHEAP_BASE_URL": cheap.server.url + "/v1", "STRONG_BASE_URL": strong.server.url + "/v1"}
        result = hwagent("eval", "run", "--suite", SUITE, "--data", str(data_dir), "--out", str(tmp_path / "out"),
                         "--problems",
                         "Prob00[12]_*", "--cascade", "openai-api/cheap/small,openai-api/strong/big", "--solver",
                         "agent", "--max-iters", "3", "-k", "1", "--json", env=env)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["eval_run"]
    assert json.loads(result.stdout)["errata_included"]["pass_at_k"]["pass@1"] == 1.0
    cheap_tier, strong_tier = run["tiers"]
    assert (cheap_tier["solved"], strong_tier["solved"], strong_tier["share_of_solved"]) == (0, 2, 1.0)
    assert cheap_tier["calls"] == 4 and strong_tier["calls"] == 2  # escalation after 2 failing iterations


def test_ray_executor_gives_the_same_verdict_rows(data_dir, tmp_path):
    pytest.importorskip("ray")
    with ScriptedModel(data_dir, right_or_wrong) as model:
        env = {"LOOP_BASE_URL": model.server.url + "/v1", "HWAGENT_LOOP_CONCURRENCY": "1"}
        local = eval_run(tmp_path / "local", data_dir, "--llm", "openai-api/loop/coder", "-k", "1", "--jobs", "2", env=env)
        ray_run = eval_run(tmp_path / "ray", data_dir, "--llm", "openai-api/loop/coder", "-k", "1", "--jobs", "2",
                           "--executor", "ray", env=env)
        assert local.returncode == 0 and ray_run.returncode == 0, ray_run.stderr
        assert model.server.max_in_flight == 1  # the provider limit held across Ray workers
    assert verdict_rows(tmp_path / "local") == verdict_rows(tmp_path / "ray")
    assert json.loads(ray_run.stdout)["errata_included"]["pass_at_k"]["pass@1"] == 0.5


def test_budget_stops_new_work_and_keeps_finished_work(data_dir, tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("coder: {input: 1000.0, output: 0.0}\n")  # 500 prompt tokens = $0.50 per sample
    with ScriptedModel(data_dir, right_or_wrong) as model:
        env = {"LOOP_BASE_URL": model.server.url + "/v1", "HWAGENT_PRICES": str(prices)}
        result = eval_run(tmp_path / "out", data_dir, "--llm", "openai-api/loop/coder", "-k", "1", "--jobs", "1",
                          "--budget-usd", "1.0", env=env)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["eval_run"]  # the sample in flight when the budget ran out is finished too
    assert run["finished"] == 3 and run["stopped"] == "budget $1.0 spent: 3 of 6 samples not run"


@pytest.mark.parametrize(("args", "message"), [
    (["--suite", "no-such-suite"], "unknown suite"),
    (["--suite", SUITE, "--problems", "Prob050"], "did you mean Prob050_kmap1"),
    (["--suite", SUITE, "--llm", "openai/gpt-4o-mini"], "OPENAI_API_KEY is not set"),
    (["--suite", SUITE, "--llm", "nosuch/model"], "unknown provider 'nosuch'"),
    (["--suite", SUITE, "--llm", "replay/x.jsonl", "--cascade", "replay/y.jsonl"], "not both"),
    (["--suite", SUITE, "--llm", "llamacpp/x"], "no server answers"),
    (["--suite", SUITE, "--llm", "replay/x.jsonl", "--budget-usd", "0"], "--budget-usd must be > 0"),
    (["--suite", SUITE, "--llm", "openai-api/loop/x", "--budget-usd", "5"], "no price is known"),
    (["--suite", SUITE, "--llm", "replay/x.jsonl", "--examples", "2"], "in-context examples"),
])
def test_bad_input_is_one_line_and_writes_nothing(data_dir, tmp_path, args, message):
    with LoopbackServer([Reply(200, openai_chat(["x"]))]) as server:
        result = hwagent("eval", "run", "--out", str(tmp_path / "out"), "--data", str(data_dir), *args,
                         env={"LOOP_BASE_URL": server.url + "/v1", "LLAMACPP_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
