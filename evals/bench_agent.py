"""`hwagent bench agent`: prompt size per iteration and the agent's own (non-LLM) time per iteration.

The agent runs on an example spec with a SCRIPTED transcript whose every answer keeps the same functional
bug (each a new design text, so nothing is reused between iterations), so the loop goes the full number of
iterations with real lint, simulation, tracing and feedback. Prompt
tokens are estimated as characters / 4 (no tokenizer is installed; the ratio is what matters). Baselines timed
and measured in the same run:

- prompt size: a plain chat that carries the whole conversation (every prompt and answer so far), as a
  multi-turn repair loop without bounding would send;
- non-LLM time: bare lint + one simulation of the same design (what any loop must pay per iteration).

Iteration 1 carries only the spec; from iteration 2 on the prompt also holds the best design and its
feedback, so the iteration N / iteration 2 ratio shows whether the prompt keeps growing.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from agent import checks
from agent.options import RunOptions
from agent.problem import load_problem
from agent.session import new_run
from prompts import render
from spec_templates.examples import golden

TARGET_RATIO = 1.5
SPEC = golden.HERE / "requant.yaml"
BUGGY_DESIGN = (golden.HERE / "requant_ref.v").read_text().replace(
    "wire signed [48:0] rounded = (prod + bias) >>> shift;", "wire signed [48:0] rounded = prod >>> shift;")


@dataclass
class AgentBench:
    spec: str
    iterations: int
    prompt_chars: list[int]
    prompt_tokens_est: list[int]
    full_history_tokens_est: list[int]
    ratio_last_to_first: float
    ratio_last_to_first_repair: float  # iteration N / iteration 2, the first prompt carrying a design + feedback
    full_history_ratio_last_to_first: float
    non_llm_s_per_iter: float
    node_s_per_iter: dict[str, float]
    bare_lint_sim_s: float
    overhead_vs_bare: float
    wall_s: float
    target_ratio: float = TARGET_RATIO

    def to_dict(self) -> dict:
        return asdict(self)


def _tokens(chars: int) -> int:
    return max(1, round(chars / 4))


def run(iterations: int = 10, trace: bool = True, progress=lambda done, total: None) -> AgentBench:
    body = BUGGY_DESIGN.split("\n", 1)[1]
    answers = [("I fixed the rounding (SCRIPTED benchmark answer: the bug stays).\n\n```verilog\n"
                + body.replace("endmodule", f"    // attempt {number}\nendmodule") + "```\n")
               for number in range(1, iterations + 1)]
    with tempfile.TemporaryDirectory(prefix="hwagent-bench-agent-") as tmp:
        tmp = Path(tmp)
        transcript = tmp / "scripted.jsonl"
        lines = [{"transcript": "hwagent", "version": 1, "scripted": True,
                  "description": "SCRIPTED BENCHMARK FIXTURE: the same buggy requantiser every iteration"}]
        lines += [{"expect": [], "response": {"texts": [answer], "usage": {}}} for answer in answers]
        transcript.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

        options = RunOptions(models=[f"replay/{transcript}"], max_iters=iterations, trace=trace, cache=False)
        session = new_run(str(SPEC), options, tmp / "runs",
                          emit=lambda node, info: progress(info["iteration"], iterations) if node == "rank" else None)
        start = time.monotonic()
        summary = session.drive()
        wall = time.monotonic() - start
        session.close()
        prompts = [(session.run_dir / f"iter_{i:02d}" / "prompt.md").read_text() for i in range(1, iterations + 1)]
        system_chars = len(render("system.j2"))
        carried, full = system_chars, []
        for prompt in prompts:
            carried += len(prompt)
            full.append(_tokens(carried))
            carried += len(answers[0])
        design = tmp / "design.v"
        design.write_text(BUGGY_DESIGN)
        problem = load_problem(str(SPEC))
        bare_start = time.monotonic()
        checks.run_lint(design, problem.top)
        checks.simulate(problem.job(design.read_text()), tmp / "bare", waves=False)
        bare = time.monotonic() - bare_start
    timings = session.context.timings
    done = summary["iterations"]
    non_llm = sum(timings.values()) / done
    tokens = [_tokens(len(p) + system_chars) for p in prompts]
    return AgentBench(
        spec=str(SPEC.name), iterations=done, prompt_chars=[len(p) for p in prompts], prompt_tokens_est=tokens,
        full_history_tokens_est=full, ratio_last_to_first=round(tokens[-1] / tokens[0], 3),
        ratio_last_to_first_repair=round(tokens[-1] / tokens[1], 3),
        full_history_ratio_last_to_first=round(full[-1] / full[0], 3), non_llm_s_per_iter=round(non_llm, 3),
        node_s_per_iter={k: round(v / done, 3) for k, v in timings.items()}, bare_lint_sim_s=round(bare, 3),
        overhead_vs_bare=round(non_llm / bare, 2), wall_s=round(wall, 1))
