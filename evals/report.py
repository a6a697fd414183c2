"""Render a scored run (summary.json + results.jsonl) as Markdown and as an HTML page with a pass-rate chart."""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

from evals.score import SUMMARY, read_results


class ReportError(RuntimeError):
    """The folder holds no scored run."""


def load_run(out_dir: Path) -> tuple[dict, list[dict]]:
    path = Path(out_dir) / SUMMARY
    if not path.is_file():
        raise ReportError(f"{out_dir} holds no {SUMMARY}: run `hwagent eval score ... --out {out_dir}` first")
    return json.loads(path.read_text()), read_results(Path(out_dir))


def _tables(summary: dict, rows: list[dict]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table in the report."""
    incl, excl = summary["errata_included"], summary["errata_excluded"]
    ks = sorted({k for block in (incl, excl) for k in block["pass_at_k"]}, key=lambda k: int(k.split("@")[1]))
    overview = [["errata included", str(incl["tasks"]), str(incl["samples"]), str(incl["tasks_solved"]),
                 *[f"{incl['pass_at_k'].get(k, float('nan')):.4f}" for k in ks]],
                ["errata excluded", str(excl["tasks"]), str(excl["samples"]), str(excl["tasks_solved"]),
                 *[f"{excl['pass_at_k'].get(k, float('nan')):.4f}" for k in ks]]]
    meanings = summary.get("class_meanings", {})
    classes = [[name, str(count), str(excl["failure_classes"].get(name, 0)), meanings.get(name, "")]
               for name, count in sorted(incl["failure_classes"].items(), key=lambda item: -item[1])]
    errata = [[e["problem"], e["tool"], e["reason"]] for e in summary["errata"]]
    by_task: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_task[row["task_id"]].append(row)
    failing = []
    for task, task_rows in sorted(by_task.items()):
        passed = sum(r["passed"] for r in task_rows)
        if passed == len(task_rows):
            continue
        reasons = Counter(r["reason"] for r in task_rows if not r["passed"])
        first = next(r for r in task_rows if not r["passed"])
        note = (first.get("detail") or "").splitlines()[:1]
        failing.append([task + (" (erratum)" if task in {e["problem"] for e in summary["errata"]} else ""),
                        f"{passed}/{len(task_rows)}", ", ".join(f"{k} x{v}" for k, v in reasons.most_common()),
                        note[0][:120] if note else ""])
    weak = [[task, why] for task, why in (summary.get("weak_testbenches") or {}).items()]
    missing = summary.get("tasks_without_samples") or []
    coverage = ([[f"{incl['tasks']} of {incl['tasks'] + len(missing)} tasks have samples: the pass rates are not "
                  f"the suite's score", ", ".join(missing[:40]) + (" ..." if len(missing) > 40 else "")]]
                if missing else [])
    return [*_eval_run_tables(summary), ("Pass rates", ["", "tasks", "samples", "tasks solved", *ks], overview),
            *([("Partial run", ["coverage", "tasks without samples"], coverage)] if coverage else []),
            *([("Weak testbenches (they also pass designs that do not implement the task)", ["task", "why"],
                weak)] if weak else []),
            ("Failure classes", ["class", "samples", "samples (errata excluded)", "meaning"], classes),
            ("Errata (known problems of the suite, reported apart)", ["problem", "tool", "reason"], errata),
            ("Tasks with failing samples", ["task", "passed", "classes", "first failure"], failing),
            *_provenance_table(summary)]


def _provenance_table(summary: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    record = (summary.get("eval_run") or {}).get("provenance") or summary.get("provenance")
    if not record:
        return []
    tools = ", ".join(f"{name} {version}" for name, version in record.get("tools", {}).items())
    suite = record.get("suite", {})
    rows = [["date", record.get("date", "")], ["hwagent", str(record.get("hwagent"))],
            ["python", str(record.get("python"))], ["tools", tools],
            ["suite data", f"{suite.get('data')} ({suite.get('data_source') or 'no SOURCE file'})"],
            ["pinned upstream commit", str(suite.get("pinned_commit"))]]
    if record.get("models"):
        rows.append(["models", ", ".join(record["models"])])
    return [("Provenance", ["", ""], rows)]


def _eval_run_tables(summary: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """For a folder written by `hwagent eval run`: the setting, pass@1 by iteration, usage and cascade tiers."""
    run = summary.get("eval_run")
    if not run:
        return []
    setting = [["setting", run["setting"]], ["benchmark testbench in the loop",
                                              "yes" if run["benchmark_testbench_in_loop"] else "no"],
               ["models", ", ".join(run["models"])], ["samples per problem", str(run["samples_per_problem"])],
               ["finished", f"{run['finished']} of {run['total']}"]]
    if run.get("stopped"):
        setting.append(["stopped", run["stopped"]])
    usage = run["usage"]
    cost = [["LLM calls", str(usage["llm_calls"])], ["tokens", f"{usage['prompt_tokens']} prompt + "
                                                             f"{usage['completion_tokens']} completion"],
            ["cost (USD)", str(usage["cost_usd"])], ["solved problems", str(usage["solved_problems"])],
            ["tokens per solved problem", str(usage["tokens_per_solved_problem"])],
            ["cost per solved problem (USD)", str(usage["cost_per_solved_problem"])]]
    curve = [[str(p["iteration"]), f"{p['pass@1']:.4f}"] for p in run["pass_at_1_by_iteration"]]
    tiers = [[str(t["tier"]), t["model"], str(t["solved"]), f"{t['share_of_solved']:.0%}", str(t["calls"]),
              str(t["tokens"]), str(t["cost_usd"])] for t in run["tiers"]]
    tables = [("Eval run", ["", ""], setting), ("pass@1 by iteration", ["iteration", "pass@1"], curve),
              ("LLM usage", ["", ""], cost)]
    if len(tiers) > 1:
        tables.append(("Cascade tiers", ["tier", "model", "solved", "share of solved", "calls", "tokens",
                                         "cost (USD)"], tiers))
    return tables


def iteration_chart(summary: dict) -> bytes | None:
    """PNG of an eval run: pass@1 by iteration, and tokens per solved problem per tier."""
    run = summary.get("eval_run")
    if not run:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    curve = run["pass_at_1_by_iteration"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot([p["iteration"] for p in curve], [p["pass@1"] * 100 for p in curve], marker="o")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylim(0, 100)
    left.set_xlabel("iteration")
    left.set_ylabel("pass@1 (%)")
    left.set_title(f"pass@1 by iteration ({run['solver']})")
    tiers = run["tiers"]
    right.bar([t["model"].rsplit("/", 1)[-1] for t in tiers],
              [t["tokens"] / t["solved"] if t["solved"] else 0 for t in tiers], color="tab:green")
    right.set_ylabel("tokens per solved sample")
    right.set_title("cost per solved (tokens; USD in the tables)")
    return figure_png(fig)


def render_markdown(summary: dict, rows: list[dict]) -> str:
    lines = [f"# {summary['suite']}: scored run", ""]
    if summary.get("tasks_without_samples"):
        lines += [f"{len(summary['tasks_without_samples'])} task(s) of the suite have no samples.", ""]
    for title, header, body in _tables(summary, rows):
        lines += [f"## {title}", ""]
        if not body:
            lines += ["(none)", ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in body:
            lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |")
        lines.append("")
    return "\n".join(lines)


def pass_rate_chart(summary: dict) -> bytes:
    """PNG: pass@k with and without errata, and the failure classes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    incl, excl = summary["errata_included"], summary["errata_excluded"]
    ks = sorted(incl["pass_at_k"], key=lambda k: int(k.split("@")[1]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.38
    positions = range(len(ks))
    left.bar([p - width / 2 for p in positions], [incl["pass_at_k"][k] * 100 for k in ks], width,
             label="errata included")
    left.bar([p + width / 2 for p in positions], [excl["pass_at_k"].get(k, 0) * 100 for k in ks], width,
             label="errata excluded")
    left.set_xticks(list(positions), ks)
    left.set_ylim(0, 100)
    left.set_ylabel("pass rate (%)")
    left.set_title(summary["suite"])
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)  # below: covers no bar
    classes = sorted(incl["failure_classes"].items(), key=lambda item: -item[1])
    right.barh([name for name, _ in classes] or ["(no failures)"], [count for _, count in classes] or [0],
               color="tab:red")
    right.invert_yaxis()
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_xlabel("failing samples")
    right.set_title("failure classes")
    return figure_png(fig)


def figure_png(fig) -> bytes:
    """The figure as PNG bytes (tight layout, 100 dpi); the figure is closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def render_html(summary: dict, rows: list[dict]) -> str:
    charts = [pass_rate_chart(summary), iteration_chart(summary)]
    images = "".join(f"<img alt='chart' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
                     for png in charts if png)
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>{html.escape(summary['suite'])}: scored run</title>",
             ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
             "th{background:#eee}</style></head><body>"),
             f"<h1>{html.escape(summary['suite'])}: scored run</h1>",
             images]
    for title, header, body in _tables(summary, rows):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if not body:
            parts.append("<p>(none)</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        for row in body:
            parts.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out_dir: Path) -> tuple[Path, Path]:
    """Write out_dir/report.md and out_dir/report.html."""
    summary, rows = load_run(out_dir)
    markdown, page = Path(out_dir) / "report.md", Path(out_dir) / "report.html"
    markdown.write_text(render_markdown(summary, rows))
    page.write_text(render_html(summary, rows))
    (Path(out_dir) / "report_pass_rate.png").write_bytes(pass_rate_chart(summary))
    curve = iteration_chart(summary)
    if curve:
        (Path(out_dir) / "report_iterations.png").write_bytes(curve)
    return markdown, page
