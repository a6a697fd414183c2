"""Feedback text for the LLM, rendered from prompts/*.j2 (loaded with importlib.resources)."""

from __future__ import annotations

import re

from agent.candidate import Candidate, mismatch_count, stage
from prompts import render

__all__ = ["candidate_feedback", "history_summary", "mark_drivers", "render", "table_rows"]


def candidate_feedback(candidate: Candidate, top: str, library: str = "osu018", trace: dict | None = None,
                       self_test: bool = False) -> str:
    """What is wrong with one candidate, from the stage it did not get past: extraction, ports/lint, sim, PPA."""
    where = stage(candidate)
    if where == "no_code":
        return render("no_code.j2", problem=candidate.get("extract_problem") or "no Verilog found", top=top)
    if where in ("ports", "lint"):
        lint, ports = candidate.get("lint") or {}, candidate.get("ports") or {}
        return render("lint_feedback.j2", ports=ports.get("problems", []),
                      lint=lint.get("feedback") if not lint.get("passed", True) else "",
                      tools=lint.get("tools", []))
    sim = candidate.get("sim")
    if where in ("mismatch", "sim_error") and sim is not None:
        rows = table_rows(sim.get("rows", []))
        counts = sim.get("mismatch_counts") or {}
        ns = all(row["time_ps"] % 1000 == 0 for row in rows if row.get("time_ps") is not None)
        unit, scale = ("ns", 1000) if ns else ("ps", 1)
        rows = [row | {"time": row["time_ps"] // scale if row.get("time_ps") is not None else None} for row in rows]
        sim = {"log_excerpt": "", "log_excerpt_from": "", "official": None} | sim  # older checkpoints lack these
        return render("sim_feedback.j2", sim=sim, rows=rows, total=mismatch_count(sim), counts=counts, unit=unit,
                      trace=trace, self_test=self_test)
    ppa = candidate.get("ppa") or {}
    if where == "ppa" and ppa.get("violations"):
        return render("ppa_feedback.j2", violations=ppa["violations"], figures=ppa["figures"],
                      cells_by_type=ppa.get("cells_by_type", {}), library=library)
    if where == "ppa":
        return f"Synthesis failed: {ppa['error']}\n"
    return ""


def table_rows(rows: list[dict], first: int = 4, limit: int = 6) -> list[dict]:
    """The first mismatches in time, plus the first one of every other mismatching signal (at most `limit`)."""
    shown = rows[:first]
    for row in rows[first:]:
        if len(shown) < limit and row["signal"] not in {r["signal"] for r in shown}:
            shown.append(row)
    return shown


def mark_drivers(code: str, trace: dict | None) -> str:
    """`code` with the assignments on the traced output's driver path marked `// <- signal`."""
    if not trace or not trace.get("assignments"):
        return code
    lines = code.splitlines()
    for line in sorted({a["line"] for a in trace["assignments"]}):
        if 0 < line <= len(lines):
            lines[line - 1] += f"  // <- {trace['signal']}"
    return "\n".join(lines) + "\n"


def history_summary(history: list[str], max_lines: int = 6, max_chars: int = 400) -> list[str]:
    """One line per run of iterations with the same verdict, newest kept, bounded in lines and characters."""
    groups: list[list] = []  # [first iteration, last iteration, verdict]
    for line in history:
        match = re.match(r"iteration (\d+): (.*)", line)
        number, text = (int(match[1]), match[2]) if match else (None, line)
        if groups and groups[-1][2] == text and number is not None:
            groups[-1][1] = number
        else:
            groups.append([number, number, text])
    lines, used = [], 0
    for first, last, text in reversed(groups):
        label = f"iteration {first}" if first == last else f"iterations {first}-{last}"
        line = f"{label}: {text}" if first is not None else text
        if len(lines) == max_lines or used + len(line) > max_chars:
            break
        lines.insert(0, line)
        used += len(line)
    return lines
