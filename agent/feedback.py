"""Feedback text for the LLM, rendered from prompts/*.j2 (loaded with importlib.resources)."""

from __future__ import annotations

import functools
from importlib import resources

import jinja2


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FunctionLoader(
        lambda name: resources.files("prompts").joinpath(name).read_text()),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False)


def render(template: str, **values) -> str:
    return _env().get_template(template).render(**values).strip() + "\n"


def candidate_feedback(candidate: dict, top: str, library: str = "osu018", trace: dict | None = None,
                       self_test: bool = False) -> str:
    """What is wrong with one candidate, from the first failing stage: extraction, ports/lint, sim, PPA."""
    if candidate.get("code") is None:
        return render("no_code.j2", problem=candidate.get("extract_problem") or "no Verilog found", top=top)
    lint, ports = candidate.get("lint") or {}, candidate.get("ports") or {}
    if not ports.get("ok", True) or not lint.get("passed", True):
        return render("lint_feedback.j2", ports=ports.get("problems", []),
                      lint=lint.get("feedback") if not lint.get("passed", True) else "",
                      tools=lint.get("tools", []))
    sim = candidate.get("sim")
    if sim is not None and not sim["passed"]:
        rows = sim.get("rows", [])
        return render("sim_feedback.j2", sim=sim, rows=rows[:6], total=sim.get("mismatches"), trace=trace,
                      self_test=self_test)
    ppa = candidate.get("ppa")
    if ppa is not None and ppa.get("violations"):
        return render("ppa_feedback.j2", violations=ppa["violations"], figures=ppa["figures"],
                      cells_by_type=ppa.get("cells_by_type", {}), library=library)
    if ppa is not None and ppa.get("error"):
        return f"Synthesis failed: {ppa['error']}\n"
    return ""


def verdict(candidate: dict) -> str:
    """One line: how far the candidate got."""
    if candidate.get("code") is None:
        return "no code"
    ports, lint = candidate.get("ports") or {}, candidate.get("lint") or {}
    if not ports.get("ok", True):
        return f"wrong interface ({len(ports.get('problems', []))} port problems)"
    if not lint.get("passed", True):
        return f"lint: {lint['errors']} error(s)"
    sim = candidate.get("sim")
    if sim is None:
        return "not simulated"
    if not sim["passed"]:
        signals = sorted({row["signal"] for row in sim.get("rows", [])})
        return sim["summary"] + (f" on {', '.join(signals[:4])}" if signals else "")
    ppa = candidate.get("ppa")
    if ppa and ppa.get("violations"):
        worst = max(ppa["violations"], key=lambda v: v["over_pct"])
        return f"passes, {worst['figure']} {worst['over_pct']}% over budget"
    return "passes" + (" within the PPA budget" if ppa and ppa.get("ok") else "")
