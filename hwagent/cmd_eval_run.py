"""`hwagent eval run`: an LLM solves a suite (single generation, agent, cascade), every sample judged officially."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwagent.cmd_eval import DataOpt, JobsOpt, JsonOpt, SuiteOpt, _print_summary, _suite, eval_app, parse_ks
from hwagent.console import EXIT_OK, console, emit_json, err_console, fail


def _models(llm: str | None, cascade: str | None) -> list[str]:
    if llm and cascade:
        fail("give --llm or --cascade, not both")
    models = [m.strip() for m in (cascade or llm or "").split(",") if m.strip()]
    if not models:
        from agent.llm.client import SETUP_HINT, default_model

        model = default_model()
        if model is None:
            fail(f"no LLM configured: {SETUP_HINT}")
        models = [model]
    return models


def register() -> None:
    from hwagent.cmd_bench import bench_app

    eval_app.command("run")(run)
    bench_app.command("eval-run")(bench_eval_run)


def run(
    suite_id: SuiteOpt,
    out: Annotated[Path, typer.Option("--out", help="Eval dir: results.jsonl, samples.jsonl, summary.json, runs/ "
                                                    "(resumable: the same command skips finished samples).")],
    llm: Annotated[str | None, typer.Option("--llm", help="Model string (see `hwagent run --help`).")] = None,
    cascade: Annotated[str | None, typer.Option(help="Comma-separated models, cheapest first (agent solver).")] = None,
    solver: Annotated[Literal["single", "agent"], typer.Option(help="single: one generation per sample with the "
                                                                     "suite's upstream convention; agent: the "
                                                                     "agent loop per sample.")] = "single",
    samples: Annotated[int, typer.Option("-n", "--samples", min=1, help="Samples per problem.")] = 1,
    k: Annotated[str, typer.Option("-k", help="pass@k values, comma-separated.")] = "1,5,10",
    problems: Annotated[list[str] | None, typer.Option("--problems", help="Task id glob (repeatable) or a file of "
                                                                          "ids; default: the whole suite.")] = None,
    max_iters: Annotated[int, typer.Option(min=1, help="Agent iterations per sample.")] = 4,
    feedback: Annotated[Literal["oracle", "self"], typer.Option(help="Agent: oracle = the benchmark's testbench in "
                                                                     "the loop; self = only its own testbench.")] = "oracle",
    budget_usd: Annotated[float | None, typer.Option(help="Stop starting samples once this much is spent.")] = None,
    examples: Annotated[int, typer.Option(min=0, max=4, help="VerilogEval v2: in-context examples (0-4).")] = 0,
    rules: Annotated[bool, typer.Option(help="VerilogEval v2: add the rules suffix to the prompt.")] = False,
    temperature: Annotated[float | None, typer.Option(help="Default: 0 for -n 1, 0.85 for -n > 1 (single; "
                                                           "VerilogEval v2's settings); agent 0.2 / 0.7.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Default: 0.01 for -n 1, 0.95 for -n > 1 (single).")] = None,
    answer_tokens: Annotated[int, typer.Option(min=16, help="Completion token limit per answer.")] = 1024,
    executor: Annotated[Literal["local", "ray"], typer.Option(help="local process pool, or Ray tasks.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (default: a local Ray).")] = None,
    jobs: JobsOpt = None,
    cache: Annotated[bool, typer.Option(help="LLM response cache.")] = True,
    data: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask a model to solve a suite and score every sample with the suite's official judge."""
    from evals.run import EvalRunError, EvalSettings, check_models, prepare, run_eval
    from evals.score import default_jobs
    from evals.solvers.conventions import ConventionError, convention_for

    if budget_usd is not None and budget_usd <= 0:
        fail("--budget-usd must be > 0")
    ks = parse_ks(k)
    suite = _suite(suite_id, data)
    try:
        chosen = _select(suite, problems)
        models = _models(llm, cascade)
        if len(models) > 1 and solver != "agent":
            fail("--cascade needs --solver agent (a cascade escalates between agent iterations)")
        settings = EvalSettings(suite=suite.id, models=models, solver=solver, samples=samples, problems=chosen,
                                max_iters=max_iters, feedback=feedback, examples=examples, rules=rules,
                                temperature=temperature, top_p=top_p, answer_tokens=answer_tokens, cache=cache,
                                data=str(data) if data else None)
        if solver == "single":
            convention_for(suite, examples, rules).messages(suite.problem(chosen[0]))  # examples are there
        check_models(settings, budget_usd)
        prepare(out, settings)
    except (EvalRunError, ConventionError) as exc:
        fail(str(exc))
    if executor == "ray":
        _require_ray()
    total = len(chosen) * samples
    with _progress(json_out) as progress:
        bar = progress.add_task(f"{suite.id} ({solver})", total=total, passed=0)
        counts = {"passed": 0}

        def on_row(row: dict, _: int) -> None:
            counts["passed"] += row["passed"]
            progress.update(bar, advance=1, passed=counts["passed"])

        def on_error(unit, error) -> None:
            err_console.print(f"[yellow]{unit[0]} sample {unit[1]} not finished:[/] {error}", highlight=False,
                              soft_wrap=True)

        progress.update(bar, completed=_finished(out, chosen, samples))
        try:
            summary = run_eval(settings, out, ks=ks, jobs=jobs or default_jobs(), executor=executor,
                               ray_address=ray_address, budget_usd=budget_usd, on_row=on_row, on_error=on_error)
        except KeyboardInterrupt:
            fail(f"interrupted: finished samples are in {out / 'results.jsonl'}; the same command resumes", 130)
    if json_out:
        emit_json({key: value for key, value in summary.items() if key != "per_task"})
    else:
        _print_run(summary, out)
    errors = summary["eval_run"]["errors"]
    if errors:
        first = next(iter(errors.items()))
        fail(f"{len(errors)} sample(s) not finished ({first[0]}: {first[1]}); the same command retries them")
    raise typer.Exit(EXIT_OK)


def _select(suite, problems: list[str] | None) -> list[str]:
    from evals.run import EvalRunError, read_problem_patterns, select_problems

    try:
        return select_problems(suite, read_problem_patterns(problems or []))
    except OSError as exc:
        raise EvalRunError(f"cannot read --problems: {exc}") from None


def _require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        fail("--executor ray needs Ray: pip install 'hwagent[ray]' (or pip install ray)")


def _finished(out: Path, problems: list[str], samples: int) -> int:
    from evals.score import read_results

    wanted = {f"{task}#{n}" for task in problems for n in range(samples)}
    return sum(1 for row in read_results(out) if row["key"] in wanted)


def _progress(disable: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[green]{task.fields[passed]} passed"), TimeElapsedColumn(),
                    console=err_console, transient=True, disable=disable)


def _print_run(summary: dict, out: Path) -> None:
    run = summary["eval_run"]
    console.print(f"[bold]setting:[/] {run['setting']}", highlight=False, soft_wrap=True)
    _print_summary(summary, 0, out / "summary.json")
    curve = run["pass_at_1_by_iteration"]
    if len(curve) > 1:
        table = Table(title="pass@1 by iteration")
        for point in curve:
            table.add_column(str(point["iteration"]), justify="right")
        table.add_row(*[f"{p['pass@1']:.4f}" for p in curve])
        console.print(table)
    usage = run["usage"]
    console.print(f"LLM calls {usage['llm_calls']}, tokens {usage['prompt_tokens']}+{usage['completion_tokens']}, "
                  f"cost {usage['cost_usd']}, per solved problem: {usage['tokens_per_solved_problem']} tokens, "
                  f"{usage['cost_per_solved_problem']}", highlight=False, soft_wrap=True)
    if len(run["tiers"]) > 1:
        for tier in run["tiers"]:
            console.print(f"tier {tier['tier']} {tier['model']}: {tier['solved']} solved "
                          f"({tier['share_of_solved']:.0%}), {tier['calls']} calls, cost {tier['cost_usd']}",
                          highlight=False, soft_wrap=True)
    if run["stopped"]:
        console.print(f"[yellow]{run['stopped']}[/]", highlight=False)
    console.print(f"samples for `hwagent eval score`: {out / 'samples.jsonl'}", highlight=False, soft_wrap=True)


def bench_eval_run(
    suite_id: Annotated[str, typer.Option("--suite", help="Suite to time.")] = "verilog-eval-v2:spec-to-rtl",
    problems: Annotated[int | None, typer.Option(min=1, help="The first N problems (default: all).")] = None,
    ray: Annotated[bool, typer.Option(help="Also time the Ray executor.")] = True,
    data: DataOpt = None, jobs: JobsOpt = None, json_out: JsonOpt = False,
) -> None:
    """`eval run` with an instant loopback LLM vs `eval score` on the same samples, and Ray vs the local pool."""
    from evals import bench_eval_run as bench
    from evals.score import default_jobs

    if ray:
        _require_ray()
    suite = _suite(suite_id, data)
    chosen = [p.id for p in suite.problems()][:problems] if problems else None
    with console.status("timing", spinner="dots") if not json_out else _quiet() as status:
        result = bench.run(suite, jobs or default_jobs(), with_ray=ray, problems=chosen,
                           progress=status.update if not json_out else lambda message: None)
    if json_out:
        emit_json(result.to_dict())
        return
    table = Table(title=f"bench eval-run: {result.samples} {result.suite} samples, {result.jobs} jobs, "
                        "instant loopback LLM (SCRIPTED: answers the references)")
    for column in ("figure", "measured", "target"):
        table.add_column(column, justify="right")
    table.add_row("eval score (same samples)", f"{result.score_s:.2f} s", "baseline")
    table.add_row("eval run, local pool", f"{result.local_s:.2f} s ({result.passed} passed)", "")
    table.add_row("eval run / eval score", f"{result.run_over_score:.2f}x", f"<= {bench.TARGETS['run_over_score']}x")
    if result.ray_s is not None:
        table.add_row("eval run, Ray tasks", f"{result.ray_s:.2f} s (Ray start {result.ray_start_s:.1f} s apart)", "")
        table.add_row("Ray / local pool", f"{result.ray_over_local:.2f}x", f"<= {bench.TARGETS['ray_over_local']}x")
    console.print(table)


def _quiet():
    from contextlib import nullcontext

    return nullcontext()
