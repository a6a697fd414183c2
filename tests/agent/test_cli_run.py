"""`hwagent run` / `hwagent resume` as a user runs them (subprocesses), with SCRIPTED transcripts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripted import ADDSAT_GOOD, ADDSAT_SPEC, ADDSAT_WRAPS, answer, exchange, write_transcript

ROOT = Path(__file__).resolve().parents[2]


def hwagent(*args, env=None, **kw):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HWAGENT_LLM")} | (env or {})
    return subprocess.run([sys.executable, "-m", "hwagent.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600, check=False, **kw)


def test_no_key_and_no_server_says_how_to_set_one_up():
    result = hwagent("run", str(ADDSAT_SPEC))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3 and "no LLM configured" in result.stderr and "OPENAI_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    missing = hwagent("run", str(ADDSAT_SPEC), "--llm", "openai/gpt-4o-mini")
    assert missing.returncode == 2 and "OPENAI_API_KEY is not set" in missing.stderr


def test_run_json_summary_and_run_directory_layout(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_WRAPS)), exchange(answer(ADDSAT_GOOD))],
                                  "bug then fix")
    result = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{transcript}", "--out", str(tmp_path / "runs"),
                     "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    run_dir = Path(summary["run_dir"])
    assert summary["passed"] and summary["iterations"] == 2
    for name in ("run.json", "spec.yaml", "spec.md", "checkpoint.sqlite", "transcript.jsonl", "summary.json",
                 "design.v", "iter_01/prompt.md", "iter_01/feedback.md", "iter_01/cand_0/response.md",
                 "iter_01/cand_0/design.v", "iter_01/cand_0/lint.json", "iter_01/cand_0/sim.json",
                 "iter_01/cand_0/waves.vcd", "iter_02/cand_0/ppa.json"):
        assert (run_dir / name).exists(), name
    # the recording replays the same run offline, exchange by exchange
    again = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{run_dir / 'transcript.jsonl'}", "--out",
                    str(tmp_path / "runs2"), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["iterations"] == 2


def test_failed_design_exits_1(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_WRAPS))], "never fixed")
    result = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{transcript}", "--max-iters", "1", "--out",
                     str(tmp_path / "runs"))
    assert result.returncode == 1 and "budget: 1 iterations used" in result.stdout


def test_provider_outage_exits_2_with_resume_hint(tmp_path):
    down = write_transcript(tmp_path / "down.jsonl", [exchange(answer(ADDSAT_WRAPS)), exchange(error="server")],
                            "outage on the second call")
    result = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{down}", "--out", str(tmp_path / "runs"))
    assert result.returncode == 2 and "hwagent resume" in result.stderr and "Traceback" not in result.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    assert json.loads((run_dir / "summary.json").read_text())["status"].startswith("interrupted")
    up = write_transcript(tmp_path / "up.jsonl", [exchange(answer(ADDSAT_WRAPS)), exchange(answer(ADDSAT_GOOD))],
                          "provider back")
    resumed = hwagent("resume", run_dir.name, "--out", str(tmp_path / "runs"), "--llm", f"replay/{up}")
    assert resumed.returncode == 0, resumed.stderr


def test_kill_9_then_resume(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [
        exchange(answer(ADDSAT_WRAPS)), exchange(answer(ADDSAT_WRAPS)),
        exchange(answer(ADDSAT_GOOD), expect=["iteration 2"])], "two failures then a fix")
    runs = tmp_path / "runs"
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    process = subprocess.Popen([sys.executable, "-m", "hwagent.cli", "run", str(ADDSAT_SPEC), "--llm",
                                f"replay/{transcript}", "--out", str(runs)], cwd=ROOT, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(runs.glob("*/iter_02/prompt.md")):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    run_dir = next(runs.iterdir())
    assert not (run_dir / "summary.json").exists()  # killed mid-run
    resumed = hwagent("resume", run_dir.name, "--out", str(runs), "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["passed"] and summary["iterations"] == 3
    assert summary["history"][:2] == [f"iteration {i}: mismatch: 146 of 300 samples on y"
                                      for i in (1, 2)]
    finished = hwagent("resume", run_dir.name, "--out", str(runs))
    assert finished.returncode == 0 and "already finished" in finished.stdout


def test_resume_unknown_run_is_one_line(tmp_path):
    result = hwagent("resume", "no-such-run", "--out", str(tmp_path))
    assert result.returncode == 2 and "no run 'no-such-run'" in result.stderr and "Traceback" not in result.stderr


def test_openai_compatible_server_end_to_end_with_cache(tmp_path):
    from llm_loopback import LoopbackServer, Reply, openai_chat

    secret = "sk-loop-SECRET"
    with LoopbackServer([Reply(200, openai_chat([answer(ADDSAT_GOOD)], 900, 150))]) as server:
        env = {"LOOP_BASE_URL": server.url + "/v1", "LOOP_API_KEY": secret, "HWAGENT_CACHE_DIR": str(tmp_path / "c")}
        args = ("run", str(ADDSAT_SPEC), "--llm", "openai-api/loop/coder-7b", "--out", str(tmp_path / "runs"), "--json")
        first = hwagent(*args, env=env)
        assert first.returncode == 0, first.stderr
        second = hwagent(*args, env=env)
        assert second.returncode == 0 and len(server.requests) == 1  # answered from the response cache
        third = hwagent(*args, "--no-cache", env=env)
        assert third.returncode == 0 and len(server.requests) == 2
    summary = json.loads(first.stdout)
    assert summary["passed"] and summary["usage"]["prompt_tokens"] == 900
    assert server.requests[0]["body"]["model"] == "coder-7b"
    assert "Implement the Verilog module `addsat`" in server.requests[0]["body"]["messages"][1]["content"]
    for path in (tmp_path / "runs").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".md"):
            assert secret not in path.read_text(errors="replace"), path


def test_review_prompt_on_the_terminal(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_WRAPS))], "reviewer stops")
    result = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{transcript}", "--review", "--out",
                     str(tmp_path / "runs"), input="stop\n")
    assert result.returncode == 1 and "stopped: by reviewer" in result.stdout
    assert "Mismatches on y" in result.stdout and "| 2 | 25 | 255 | 44 |" in result.stdout  # shown before asking


def test_max_wall_ends_a_hanging_llm_call(tmp_path):
    from llm_loopback import LoopbackServer, Reply, openai_chat

    with LoopbackServer([Reply(200, openai_chat([answer(ADDSAT_GOOD)], 900, 150), delay_s=60)]) as server:
        env = {"SLOW_BASE_URL": server.url + "/v1"}
        start = time.monotonic()
        result = hwagent("run", str(ADDSAT_SPEC), "--llm", "openai-api/slow/coder", "--max-wall", "3", "--out",
                         str(tmp_path / "runs"), "--json", env=env)
        took = time.monotonic() - start
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"].startswith("budget: 3 s wall time used (while waiting for openai-api/slow/coder")
    assert took < 30, f"--max-wall 3 took {took:.0f} s"  # the hanging call was not waited for (60 s)


def test_review_with_stdin_ended_is_one_line_and_resumable(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_WRAPS))], "review, no answer")
    result = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{transcript}", "--review", "--out",
                     str(tmp_path / "runs"), stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "stdin ended" in result.stderr and "hwagent resume" in result.stderr
    assert "Aborted" not in result.stdout + result.stderr


def test_wrong_module_name_is_said_on_the_terminal(tmp_path):
    wrong = ADDSAT_GOOD.replace("module addsat", "module top_module")
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(wrong))], "answers with another name")
    result = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{transcript}", "--max-iters", "1", "--out",
                     str(tmp_path / "runs"), env={"COLUMNS": "200"})
    assert result.returncode == 1 and "this: no code: the answer defines top_module" in result.stdout


def test_a_finished_run_whose_summary_was_lost_gets_it_back(tmp_path):
    """A kill between the final checkpoint and summary.json: resume writes the summary from that checkpoint."""
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_GOOD))], "a fix at once")
    runs = tmp_path / "runs"
    first = hwagent("run", str(ADDSAT_SPEC), "--llm", f"replay/{transcript}", "--out", str(runs), "--json")
    assert first.returncode == 0, first.stderr
    run_dir = next(runs.iterdir())
    (run_dir / "summary.json").unlink()
    resumed = hwagent("resume", run_dir.name, "--out", str(runs), "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["passed"] and json.loads((run_dir / "summary.json").read_text())["passed"]
