"""`hwagent eval fetch` against a local git repository (no network here), its offline error, and bench eval."""

from __future__ import annotations

import subprocess
import sys

import pytest

from evals.fetch import FetchError, fetch
from evals.suites import get_suite


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.fixture()
def upstream(tmp_path):
    repo = tmp_path / "upstream"
    (repo / "data").mkdir(parents=True)
    _git("init", "-q", cwd=repo)
    (repo / "data" / "VerilogEval_Human.jsonl").write_text("first\n")
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "one", cwd=repo)
    pinned = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=False, capture_output=True, text=True).stdout.strip()
    (repo / "data" / "VerilogEval_Human.jsonl").write_text("second\n")
    _git("commit", "-qam", "two", cwd=repo)
    return repo, pinned


def test_fetch_checks_out_the_pinned_commit(upstream, tmp_path):
    repo, pinned = upstream
    cache = tmp_path / "cache"
    path = fetch("verilog-eval-v1:human", cache, url=str(repo), commit=pinned)
    assert path == cache / "verilog-eval-v1"
    assert (path / "data" / "VerilogEval_Human.jsonl").read_text() == "first\n"
    assert fetch("verilog-eval-v1:machine", cache, url=str(repo), commit="HEAD") == path  # already there
    fetch("verilog-eval-v1:human", cache, url=str(repo), commit="HEAD", force=True)
    assert (path / "data" / "VerilogEval_Human.jsonl").read_text() == "second\n"
    assert [p.name for p in cache.iterdir()] == ["verilog-eval-v1"]  # no staging leftovers


def test_fetch_cli_offline_error(tmp_path):
    cmd = [sys.executable, "-c", "from hwagent.cli import app; app()", "eval", "fetch", "rtllm-v2",
           "--dest", str(tmp_path), "--url", "http://127.0.0.1:9/RTLLM.git"]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot clone" in done.stderr and "HWAGENT_DATA_DIR" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "rtllm-v2").exists()
    with pytest.raises(FetchError, match="does not exist"):
        fetch("rtllm-v2", tmp_path, url=str(tmp_path / "missing"))


def test_fetch_unknown_commit(upstream, tmp_path):
    repo, _ = upstream
    with pytest.raises(FetchError, match="checkout"):
        fetch("rtllm-v2", tmp_path / "cache", url=str(repo), commit="0" * 40)
    assert not (tmp_path / "cache" / "rtllm-v2").exists()


def test_bench_eval_both_loops_agree(data_dir):
    from evals.bench_eval import run_bench

    result = run_bench(get_suite("verilog-eval-v2:spec-to-rtl", data_dir), jobs=2, limit=6)
    assert result.problems == 6 and result.bare_passed == result.harness_passed == 6
    assert result.bare_s > 0 and result.harness_s > 0
