"""One candidate design and how far it got: the stage ladder code -> ports -> lint -> sim -> ppa, written once.

Candidates are plain dicts in the checkpointed graph state (so a run written by an older hwagent still resumes);
the TypedDicts below say what they hold. `stage()` is the ladder; ranking, the one-line verdict and the feedback
all start from it.
"""

from __future__ import annotations

import re
from typing import Literal, TypedDict

Stage = Literal["passed", "ppa", "mismatch", "sim_error", "ports", "lint", "no_code"]
STAGE_RANK: dict[Stage, int] = {"passed": 0, "ppa": 1, "mismatch": 2, "sim_error": 3, "ports": 4, "lint": 5,
                                "no_code": 6}


class PortsSummary(TypedDict):
    ok: bool
    problems: list[str]


class LintSummary(TypedDict, total=False):
    passed: bool
    errors: int
    warnings: int
    feedback: str
    tools: list[str]
    diagnostics: list[dict]


class SimSummary(TypedDict, total=False):
    passed: bool
    reason: str  # verify.sim.Reason
    mismatches: int | None
    samples: int | None
    summary: str
    rows: list[dict]  # signal, cycle, time_ps, expected, got (count)
    mismatch_counts: dict[str, int]
    assertions: list[str]
    errors: list[str]
    log_excerpt: str
    log_excerpt_from: str
    waveform: str | None
    official: dict | None  # the benchmark's own verdict (verify.jobs.Verdict) when its recipe ran
    wall_s: float


class PPASummary(TypedDict, total=False):
    ok: bool
    error: str
    violations: list[dict]  # figure, value, limit, unit, over_pct
    figures: dict
    overshoot_pct: float
    cells_by_type: dict[str, int]


class Candidate(TypedDict, total=False):
    iteration: int
    index: int
    model: str
    code: str | None
    extract_problem: str
    path: str | None
    ports: PortsSummary
    lint: LintSummary
    sim: SimSummary
    ppa: PPASummary


def stage(candidate: Candidate) -> Stage:
    """The first step of the ladder the candidate did not get past ("passed": all of them)."""
    if candidate.get("code") is None:
        return "no_code"
    if not (candidate.get("ports") or {}).get("ok", True):
        return "ports"
    if not (candidate.get("lint") or {}).get("passed", True):
        return "lint"
    sim = candidate.get("sim")
    if sim is None or not sim["passed"]:
        return "mismatch" if sim and sim["reason"] == "mismatch" else "sim_error"
    ppa = candidate.get("ppa") or {}
    if ppa.get("violations") or ppa.get("error"):
        return "ppa"
    return "passed"


def mismatch_count(sim: SimSummary) -> int:
    if sim.get("mismatches") is not None:
        return sim["mismatches"]
    count = re.search(r"(\d+)\s*(?:/\s*\d+\s*)?(?:mismatches|failures|errors)", " ".join(sim.get("assertions", [])))
    return int(count.group(1)) if count else max(1, len(sim.get("rows", [])))


def rank_key(candidate: Candidate) -> tuple:
    """Ranking: passes first, then fewer mismatches, then fewer lint warnings, then PPA against budget."""
    where = stage(candidate)
    ppa = candidate.get("ppa") or {}
    mismatches = mismatch_count(candidate.get("sim") or {}) if where == "mismatch" else 0
    return (STAGE_RANK[where], mismatches, (candidate.get("lint") or {}).get("warnings", 0),
            ppa.get("overshoot_pct", 0.0), (ppa.get("figures") or {}).get("area_um2") or 0.0)


def verdict(candidate: Candidate) -> str:
    """One line: how far the candidate got."""
    where = stage(candidate)
    if where == "no_code":
        problem = candidate.get("extract_problem")
        return f"no code: {problem}" if problem else "no code"
    if where == "ports":
        return f"wrong interface ({len(candidate['ports'].get('problems', []))} port problems)"
    if where == "lint":
        return f"lint: {candidate['lint']['errors']} error(s)"
    sim = candidate.get("sim")
    if sim is None:
        return "not simulated"
    if where in ("mismatch", "sim_error"):
        signals = sorted({row["signal"] for row in sim.get("rows", [])})
        return sim["summary"] + (f" on {', '.join(signals[:4])}" if signals else "")
    ppa = candidate.get("ppa")
    if where == "ppa" and ppa.get("violations"):
        worst = max(ppa["violations"], key=lambda v: v["over_pct"])
        return f"passes, {worst['figure']} {worst['over_pct']}% over budget"
    if where == "ppa":
        return "passes, synthesis failed"
    return "passes" + (" within the PPA budget" if ppa and ppa.get("ok") else "")
