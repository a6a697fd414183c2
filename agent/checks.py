"""The agent's view of verify/: lint, port check, simulation and PPA of one candidate, as plain dicts (the
summaries of agent.candidate; they live in the checkpointed graph state)."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from agent.candidate import LintSummary, PortsSummary, PPASummary, SimSummary
from agent.problem import Problem
from spec_templates.spec import MISMATCH_LINE
from verify.jobs import Job
from verify.lint import lint
from verify.ports import InterfaceError, read_interface
from verify.ppa import SynthesisError, synthesize
from verify.sim import SimResult

PPA_FIGURES = (("max_area_um2", "area_um2", "area", "um^2"), ("max_cells", "cells", "cells", ""),
               ("max_power_mw", "power_mw", "power", "mW"))


def run_lint(design: Path, top: str, max_chars: int = 3000) -> LintSummary:
    report = lint([design], top)
    return {"passed": report.passed, "errors": len(report.errors), "warnings": len(report.warnings),
            "feedback": report.feedback(max_chars=max_chars), "tools": report.tools_run,
            "diagnostics": [d.model_dump() for d in report.diagnostics[:40]]}


def check_ports(design: Path, problem: Problem) -> PortsSummary:
    """Compare the design's interface, elaborated with the spec's parameter values, with the spec's."""
    want = problem.spec.port_widths()
    try:
        have = read_interface(design.read_text(errors="replace"), problem.top,
                              _known_parameters(design, problem), file=str(design)).widths()
    except InterfaceError as exc:
        return {"ok": False, "problems": [str(exc)]}
    problems = [f"missing port `{name}` ({d}, {w} bit{'s' * (w > 1)})" for name, (d, w) in want.items()
                if name not in have]
    problems += [f"unexpected port `{name}` (not in the spec)" for name in have if name not in want]
    for name, (direction, width) in want.items():
        if name in have and have[name][0] != direction:
            problems.append(f"port `{name}` is {have[name][0]}, the spec says {direction}")
        if name in have and have[name][1] != width:
            problems.append(f"port `{name}` is {have[name][1]} bits wide, the spec says {width}")
    return {"ok": not problems, "problems": problems}


def _known_parameters(design: Path, problem: Problem) -> dict[str, int]:
    """The spec's parameter values that the design declares (others would be an elaboration error)."""
    values = problem.spec.parameter_values()
    if not values:
        return {}
    try:
        declared = read_interface(design.read_text(errors="replace"), problem.top, file=str(design)).parameters
    except InterfaceError:
        return {}
    return {name: value for name, value in values.items() if name in declared}


def simulate(job: Job, work: Path, *, waves: bool, timeout_s: float | None = None) -> tuple[SimSummary, SimResult]:
    """Run `job` (the problem's recipe for one candidate, or a self-test) in `work`; a failing run's dir is kept."""
    work = work.resolve()  # the simulator runs in its own directory: every path handed to it is absolute
    work.mkdir(parents=True, exist_ok=True)
    result = job.run(waves=waves, run_root=work, keep="failed", timeout_s=timeout_s).sim
    return sim_summary(result), result


def mismatch_rows(result: SimResult, log: str) -> list[dict]:
    """(signal, cycle, time, expected, got) rows from the testbench's MISMATCH lines, else from its hints."""
    rows, seen = [], set()
    for line in (log + "\n" + "\n".join(result.assertion_messages + result.report_lines)).splitlines():
        for match in MISMATCH_LINE.finditer(line):
            key = (match["signal"], match["cycle"], match["time"])
            if key not in seen:
                seen.add(key)
                rows.append({"signal": match["signal"], "cycle": match["cycle"],
                             "time_ps": int(match["time"]) if match["time"] else None,
                             "expected": match["expected"], "got": match["got"]})
    if not rows:
        for signal, count in result.output_mismatches.items():
            if count:
                rows.append({"signal": signal, "cycle": None, "time_ps": None, "expected": None, "got": None,
                             "count": count})
        if rows and result.first_mismatch_time is not None:
            first = min(rows, key=lambda r: -r["count"])
            first["time_ps"] = result.first_mismatch_time  # VerilogEval testbenches run in ps
    rows.sort(key=lambda r: (r["time_ps"] is None, r["time_ps"] or 0))
    return rows


_ERROR_LINE = re.compile(r"\b(error|fatal|traceback|exception|segmentation fault)\b", re.IGNORECASE)


def log_excerpt(log: str, head: int = 6, tail: int = 8, max_chars: int = 1500) -> tuple[str, str]:
    """The first error of a simulation log with the lines after it, plus the end of the log (where a Python
    traceback names its exception); without an error line, the tail alone. Returns (text, where from)."""
    lines = log.rstrip().splitlines()
    first = next((i for i, line in enumerate(lines) if _ERROR_LINE.search(line)), None)
    if first is None or first + head >= len(lines) - tail:
        start = min(first if first is not None else len(lines), max(0, len(lines) - head - tail))
        return "\n".join(lines[start:])[-max_chars:], "tail" if first is None else f"from line {start + 1}"
    text = "\n".join([*lines[first:first + head], "...", *lines[-tail:]])
    return text[:max_chars], f"first error at line {first + 1} of {len(lines)}, then the end"


def full_log(result: SimResult) -> str:
    """The whole log of a kept (failing) run, else the excerpt the result carries."""
    if result.log_path and Path(result.log_path).is_file():
        return Path(result.log_path).read_text(errors="replace")
    return result.log_excerpt


def sim_summary(result: SimResult) -> SimSummary:
    errors = [f"{d.position()}: {d.message}" for d in result.diagnostics if d.is_error][:10]
    summary = result.summary()
    if not result.blocked and (result.failing_tests or result.mismatches is None) and result.assertion_messages:
        summary = f"{result.reason}: {result.assertion_messages[0].split(';')[0].strip(' =')}"
    log = "" if result.passed else full_log(result)
    rows = mismatch_rows(result, log)
    counts = dict(Counter(r["signal"] for r in rows))  # rows from hints carry their own count
    counts |= {r["signal"]: r["count"] for r in rows if r.get("count")}
    excerpt, origin = log_excerpt(log) if log else ("", "")
    return {"passed": result.passed, "reason": result.reason, "mismatches": result.mismatches,
            "samples": result.samples, "summary": summary, "rows": rows[:20], "mismatch_counts": counts,
            "assertions": result.assertion_messages[:5], "errors": errors, "log_excerpt": excerpt,
            "log_excerpt_from": origin, "waveform": result.waveform, "official": result.official,
            "wall_s": round(result.wall_s, 2)}


def run_ppa(design: Path, problem: Problem) -> PPASummary:
    """Synthesize and compare against the spec's budget: which figure, by how much."""
    budget = problem.spec.ppa
    clock_mhz = budget.clock_mhz if budget and budget.clock_mhz else 100.0
    clock = problem.spec.clock.name if problem.spec.clock else None
    try:
        report = synthesize([design], problem.top, clock_mhz=clock_mhz, clock=clock)
    except (SynthesisError, ValueError) as exc:
        return {"ok": False, "error": str(exc), "violations": [], "figures": {}}
    figures = {"area_um2": report.area_um2, "cells": report.cells, "flops": report.flops,
               "power_mw": report.power_mw, "fmax_mhz": report.fmax_mhz, "slack_ns": report.slack_ns,
               "critical_path_ns": report.critical_path_ns, "clock_mhz": clock_mhz}
    path = {"critical_path": report.critical_path}
    violations = []
    if budget is not None:
        for limit_name, figure, label, unit in PPA_FIGURES:
            limit, value = getattr(budget, limit_name), figures[figure]
            if limit is not None and value is not None and value > limit:
                violations.append({"figure": label, "value": value, "limit": limit, "unit": unit,
                                   "over_pct": round(100 * (value - limit) / limit, 1)})
        if budget.clock_mhz and report.slack_ns is None:
            violations.append({"figure": "timing", "value": None, "limit": round(1000 / budget.clock_mhz, 3),
                               "unit": "ns", "over_pct": 100.0,
                               "note": f"no timing path could be measured ({'; '.join(report.missing)})"})
        elif budget.clock_mhz and report.slack_ns < 0:
            violations.append({"figure": "timing", "value": report.critical_path_ns,
                               "limit": round(1000 / budget.clock_mhz, 3), "unit": "ns",
                               "over_pct": round(-100 * report.slack_ns * budget.clock_mhz / 1000, 1),
                               "note": f"critical path {report.critical_path}" if report.critical_path else ""})
    overshoot = sum(v["over_pct"] for v in violations)
    return {"ok": not violations, "violations": violations, "figures": figures, "overshoot_pct": overshoot, **path,
            "cells_by_type": dict(sorted(report.cells_by_type.items(), key=lambda kv: -kv[1])[:8])}


def move_waves(summary: dict, target: Path) -> str | None:
    """Move a failing run's waveform out of its simulator run dir to `target`; returns the new path."""
    source = summary.get("waveform")
    if not source or not Path(source).is_file():
        return None
    return shutil.move(source, target)
