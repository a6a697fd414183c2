"""compare.json as compare.md and compare.html (matplotlib charts embedded, one file a user can mail)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from evals.compare.compare import RESULT
from evals.report import figure_png

RATIO_FIGURES = (("area_um2", "area"), ("fmax_mhz", "fmax"), ("power_mw", "power"), ("energy_pj_per_op", "energy/op"))
Table = tuple[str, list[str], list[list[str]]]


def environment() -> Environment:
    return Environment(loader=PackageLoader("evals.compare", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"


def _ratio(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def tables(result: dict) -> list[Table]:
    """(title, header, rows) of every table of the report."""
    designs = []
    for row in result["designs"]:
        mine, theirs, ratio = row.get("design_ppa", {}), row.get("reference_ppa", {}), row.get("ratios", {})
        status = "; ".join([row["status"], *row.get("notes", [])])
        cells = [row["name"], row["verdict"], status, row["reference"] or "-"]
        for key, digits in (("area_um2", 0), ("cells", 0), ("flops", 0), ("fmax_mhz", 1), ("power_mw", 3),
                            ("energy_pj_per_op", 1), ("latency_cycles", 0), ("cycles_per_op", 0)):
            cells.append(f"{_num(mine.get(key), digits)} / {_num(theirs.get(key), digits)} ({_ratio(ratio.get(key))})"
                         if row["status"] == "priced" else "-")
        designs.append(cells)
    hybrid = []
    for row in result["hybrid"]:
        ratio = row.get("top_ratios", {})
        cycles = (f"{_num(row.get('block_cycles'))} / {_num(row['model_cycles'])}"
                  if row.get("block_cycles") is not None else f"- / {_num(row['model_cycles'])}")
        hybrid.append([row["design"], row["unit"], f"{row['config']} (seed {row['seed']})",
                       "yes" if row["bit_exact"] else f"no: {row.get('detail', row['status'])}", cycles,
                       *[_ratio(ratio.get(key)) for key, _ in RATIO_FIGURES],
                       row.get("top_ppa_error", "")])
    tops = [[t["config"], _num(t["ppa"]["area_um2"], 0), _num(t["sram_um2"], 0), _num(t["ppa"]["fmax_mhz"]),
             _num(t["ppa"]["power_mw"], 3), _num(t["ppa"]["latency_cycles"])] if "ppa" in t
            else [t["config"], f"synthesis failed: {t['error']}", "", "", "", ""] for t in result["baseline_tops"]]
    space = [[f"{p['rows']}x{p['cols']}", p["dataflow"], _num(p["cycles"]), _num(p["area_um2"], 0),
              "chosen" if p["chosen"] else ""] for p in result["design_space"]]
    out: list[Table] = [
        ("Generated vs reference (design / reference (ratio); 1.0 = the reference)",
         ["design", "official verdict", "status", "reference", "area um2", "cells", "flops", "fmax MHz",
          "power mW", "energy pJ/op", "latency cycles", "cycles/op"], designs)]
    if hybrid:
        out.append(("Hybrid block: the expert qblock_top with the generated unit (top ratios vs the all-expert top)",
                    ["design", "unit", "block", "bit-exact vs golden model", "block cycles / cycle model",
                     *[f"{label} ratio" for _, label in RATIO_FIGURES], "top PPA error"], hybrid))
    if tops:
        out.append(("Expert baseline tops (buffers as SRAM macros, cycles from the cycle model)",
                    ["config", "logic + SRAM area um2", "SRAM um2", "fmax MHz", "power mW", "block cycles"], tops))
    if space:
        out.append(("Design space of `hwagent spec` (area model estimate, cycles per inference)",
                    ["array", "dataflow", "cycles", "area um2 (model)", ""], space))
    return out


def ratio_chart(result: dict) -> bytes:
    """PNG: per priced design, the area, fmax, power and energy ratios to its reference (1.0 = expert)."""
    plt = _pyplot()
    priced = [r for r in result["designs"] if r["status"] == "priced"]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(priced) + 3), 4))
    width = 0.8 / len(RATIO_FIGURES)
    for i, (key, label) in enumerate(RATIO_FIGURES):
        values = [r["ratios"].get(key) or 0 for r in priced]
        ax.bar([n + (i - 1.5) * width for n in range(len(priced))], values, width, label=label)
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_xticks(range(len(priced)), [_short(r["name"]) for r in priced] or [], rotation=15, ha="right")
    if not priced:
        ax.text(0.5, 0.5, "no passing design with a reference", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("generated / reference (1.0 = expert)")
    ax.set_title("Ratios to the reference (lower is better, except fmax)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    return figure_png(fig)


def pareto_chart(result: dict) -> bytes:
    """PNG: area vs latency of the expert and generated units, the expert and hybrid tops and the design space."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    groups: dict[str, list[tuple[float, float]]] = {}

    def add(group: str, cycles, area) -> None:
        if cycles and area:
            groups.setdefault(group, []).append((cycles, area / 1e6))

    for row in result["designs"]:
        if row["status"] == "priced":
            add("expert unit (reference)", row["reference_ppa"]["latency_cycles"], row["reference_ppa"]["area_um2"])
            add("generated unit", row["design_ppa"]["latency_cycles"], row["design_ppa"]["area_um2"])
    for row in result["hybrid"]:
        if "top" in row:
            add("expert top (per block)", row["expert_top"]["latency_cycles"], row["expert_top"]["area_um2"])
            add("hybrid top (per block)", row["top"]["latency_cycles"], row["top"]["area_um2"])
    for top in (t for t in result["baseline_tops"] if "ppa" in t):
        add("expert top (per block)", top["ppa"]["latency_cycles"], top["ppa"]["area_um2"])
    for point in result["design_space"]:
        add("design space (hwagent spec, per inference, area model)", point["cycles"], point["area_um2"])
    markers = {"expert unit (reference)": "s", "generated unit": "o", "expert top (per block)": "D",
               "hybrid top (per block)": "^", "design space (hwagent spec, per inference, area model)": "."}
    for group, points in groups.items():
        xs, ys = zip(*sorted(set(points)))
        ax.scatter(xs, ys, marker=markers[group], label=group, s=50 if markers[group] != "." else 30)
    space = sorted(set(groups.get("design space (hwagent spec, per inference, area model)", [])))
    front, best = [], float("inf")
    for cycles, area in space:
        if area < best:
            front.append((cycles, area))
            best = area
    if len(front) > 1:
        ax.plot(*zip(*front), color="grey", linewidth=1, label="design-space Pareto front")
    if not groups:
        ax.text(0.5, 0.5, "no design with a latency", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    ax.set_xlabel("latency (cycles)")
    ax.set_ylabel("area (mm2, OSU018; SRAM modelled)")
    ax.set_title("Area vs latency")
    return figure_png(fig)


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(out: Path, result: dict | None = None) -> tuple[Path, Path]:
    """compare.md and compare.html (charts embedded as base64 PNG) beside compare.json."""
    result = result or json.loads((out / RESULT).read_text())
    charts = [("Ratios to the reference", ratio_chart(result)), ("Area vs latency", pareto_chart(result))]
    context = {"result": result, "tables": tables(result),
               "charts": [(title, base64.b64encode(png).decode()) for title, png in charts]}
    env = environment()
    markdown, page = out / "compare.md", out / "compare.html"
    markdown.write_text(env.get_template("compare.md.j2").render(context))
    page.write_text(env.get_template("compare.html.j2").render(context))
    return markdown, page
