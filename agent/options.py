"""The options of one agent run, as one pydantic model: `hwagent run` flags, `--config run.yaml` and run.json.

Every limit and knob of the loop lives here (no hidden literals in the nodes). `hwagent run` has a flag for every
field but `models` (tests/agent/test_options.py checks it), and its help texts are the field descriptions.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class OptionsError(ValueError):
    """A config file or option value that does not validate; the message is one line naming the key."""


class RunOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    models: list[str] = Field(min_length=1, description="One model, or the cascade tiers cheapest first")
    candidates: int = Field(1, ge=1, le=16, description="Candidates per iteration")
    max_iters: int = Field(8, ge=1, description="Iteration budget")
    max_tokens: int | None = Field(None, ge=1, description="Stop after this many tokens (prompt + completion)")
    budget_usd: float | None = Field(None, gt=0, description="Stop when this much money is spent")
    max_wall_s: float | None = Field(None, gt=0, description="Stop after this many seconds")
    escalate_after: int = Field(2, ge=1, description="Cascade: iterations per tier before escalating")
    plan: bool = Field(False, description="Ask for a design plan before the first design")
    review: bool = Field(False, description="Pause before each repair: accept, edit or stop")
    trace: bool = Field(True, description="Waveform tracing of the first mismatch")
    cache: bool = Field(True, description="On-disk LLM response cache (see verify.paths)")
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature for one candidate")
    sample_temperature: float = Field(0.7, ge=0, le=2, description=(
        "Lowest temperature when several candidates are drawn per iteration (k > 1)"))
    seed: int | None = Field(None, ge=0, description=(
        "Sampling seed sent to the provider (where it takes one) and part of the response-cache key"))
    answer_tokens: int = Field(4096, ge=16, description="Completion token limit per answer")
    history_lines: int = Field(6, ge=0, description="Earlier iterations summarised in the prompt (lines)")
    history_chars: int = Field(400, ge=0, description="Characters of that summary at most")
    lint_feedback_chars: int = Field(3000, ge=200, description="Characters of lint feedback at most")
    testbench_rewrites: int = Field(2, ge=0, description=(
        "Self-written testbench: rewrites per iteration before the design is blamed"))
    sim_timeout_s: float | None = Field(None, gt=0, description=(
        "Simulation time limit per candidate (spec files; benchmarks keep their official limit)"))

    def to_dict(self) -> dict:
        return self.model_dump()

    def temperature_for(self, n: int) -> float:
        return self.temperature if n == 1 else max(self.temperature, self.sample_temperature)


def describe(field: str) -> str:
    """The help text of one option, with its default."""
    info = RunOptions.model_fields[field]
    default = "" if info.default is None else f" (default: {info.default})"
    return (info.description or "") + default


def load_config(path: Path) -> dict:
    """A run.yaml: a mapping of RunOptions fields (`models` may be given as `llm` or `cascade` on the CLI)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise OptionsError(f"{path}: cannot read the run config ({type(exc).__name__}: {exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OptionsError(f"{path}: a run config is a mapping of option names to values")
    unknown = sorted(set(data) - set(RunOptions.model_fields))
    if unknown:
        raise OptionsError(f"{path}: unknown option {unknown[0]!r} (options: {', '.join(RunOptions.model_fields)})")
    return data


def build_options(values: dict, source: str = "options") -> RunOptions:
    """RunOptions from merged config + flag values; a bad value is one line naming the key."""
    try:
        return RunOptions(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "?"
        raise OptionsError(f"{source}: {where}: {error['msg']}") from None
