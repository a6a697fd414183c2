"""`hwagent bench agent` machinery on a short run (no timing asserted: numbers are printed, not checked)."""

from __future__ import annotations

import pytest

from evals import bench_agent


@pytest.mark.slow  # three cocotb iterations of the requantiser
def test_bench_agent_measures_prompts_and_times():
    result = bench_agent.run(iterations=3, trace=False)
    assert result.iterations == 3 and len(result.prompt_chars) == 3
    # the repair prompt carries the best design and its feedback, but does not keep growing
    assert result.prompt_chars[1] > result.prompt_chars[0]
    assert abs(result.prompt_chars[2] - result.prompt_chars[1]) < 0.1 * result.prompt_chars[1]
    assert result.full_history_tokens_est[2] > 2 * result.prompt_tokens_est[2]
    assert set(result.node_s_per_iter) >= {"lint", "simulate", "rank"} and result.bare_lint_sim_s > 0
