"""Every limit the user sets is honoured within a second or two: the static checks run inside the time limit and
are linear, and `--max-wall` cancels an LLM call that hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.security.conftest import ROOT

SLACK_S = 8.0  # process start-up and imports on a loaded CI machine; the limits themselves are seconds


@pytest.mark.needs_data
def test_pathological_comment_is_judged_within_the_timeout(v2):
    problem = v2.problem("Prob001_zero")
    sample = problem.reference + "/* " * 20000  # 60 KB; the old regex check took 41 s here
    start = time.monotonic()
    verdict = v2.judge(problem, sample, timeout_s=5)
    took = time.monotonic() - start
    assert not verdict.passed
    assert took < 5 + SLACK_S, f"{took:.1f} s with --timeout 5"


def test_lexer_on_unterminated_comments_is_linear():
    """The same work per byte: 4x the text is not 16x the tokens' cost (one block comment token either way)."""
    from verify.safety import check_source, tokens

    for size in (5000, 20000):
        found = [t.kind for t in tokens("/* " * size)]
        assert found == ["block"]
    assert [d.code for d in check_source("module m; endmodule\n" + "/* " * 20000)] == ["unterminated"]


def test_max_wall_cancels_a_hanging_llm_call(tmp_path):
    """Measured from the moment the LLM request reaches the (hanging) loopback server to the command's exit, so
    interpreter start-up on a loaded machine is not counted (15 s: on a machine with a load of 20 the start-up alone
    took 8 s, and the wall budget counts from the start)."""
    from llm_loopback import LoopbackServer, Reply, openai_chat
    from scripted import ADDSAT_GOOD, ADDSAT_SPEC, answer

    env = os.environ | {"HWAGENT_PLAIN": "1"}
    with LoopbackServer([Reply(200, openai_chat([answer(ADDSAT_GOOD)], 900, 150), delay_s=120)]) as server:
        proc = subprocess.Popen([sys.executable, "-m", "hwagent.cli", "run", str(ADDSAT_SPEC), "--llm",
                                 "openai-api/slow/coder", "--max-wall", "15", "--out", str(tmp_path / "runs"), "--json"],
                                cwd=ROOT, env=env | {"SLOW_BASE_URL": server.url + "/v1"}, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while not server.requests and proc.poll() is None:
            time.sleep(0.05)
        asked = time.monotonic()
        out, err = proc.communicate(timeout=120)
        after_call = time.monotonic() - asked
    assert server.requests and proc.returncode == 1 and "Traceback" not in err, err
    assert json.loads(out)["status"].startswith("budget: 15 s wall time used")
    assert after_call < 15 + 4, f"--max-wall 15 ended {after_call:.1f} s after the call started (it hangs 120 s)"
