"""`hwagent run` and `hwagent resume`: the LLM agent loop on a spec file or a benchmark problem."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

import typer
from rich.panel import Panel
from rich.prompt import Prompt

from hwagent.console import EXIT_DESIGN_FAILED, EXIT_OK, console, emit_json, err_console, fail


def _models(llm: str | None, cascade: str | None) -> list[str]:
    from agent.llm.client import SETUP_HINT, default_model

    if cascade:
        return [m.strip() for m in cascade.split(",") if m.strip()]
    model = llm or default_model()
    if model is None:
        fail(f"no LLM configured: {SETUP_HINT}")
    return [model]


def _check_models(models: list[str]) -> None:
    from agent.llm import LLMError, require_credentials

    for model in models:
        try:
            require_credentials(model)
        except LLMError as exc:
            fail(exc.message)


def _resolver(data: str | None):
    """Benchmark ids -> agent Problems through the benchmark harness's suite modules."""
    def resolve(text: str):
        from agent.problem import ProblemError, benchmark_problem
        from evals.data import DataMissing
        from evals.suites import resolve as resolve_suite

        if "/" not in text or not text.split("/")[0].replace(":", "").replace("-", "").isalnum():
            return None
        if text.startswith("mfm-accel/"):
            return _mfm_problem(text)
        try:
            suite, task = resolve_suite(text, data)
        except DataMissing as exc:
            raise ProblemError(str(exc)) from None
        except KeyError as exc:
            raise ProblemError(str(exc.args[0])) from None
        sample_tb = {"testbench": task.testbench, "testbench_top": task.testbench_top,
                     "trusted": list(task.trusted), "data_files": list(task.data_files)}
        if suite.id.startswith("verilog-eval"):
            sample_tb |= {"iverilog_flags": ["-Wall", "-Winfloop", "-Wno-timescale", "-g2012"]}
        else:
            sample_tb |= {"pass_pattern": r"Your Design Passed", "fail_pattern": r"[Ff]ail|[Ee]rror"}
        return benchmark_problem(f"{suite.id}/{task.id}", task.prompt, task.interface, task.top_module, **sample_tb)
    return resolve


def _mfm_problem(text: str):
    """An mfm-accel task: its spec, cocotb testbench and golden vectors, as built by spec_templates."""
    from agent.problem import Problem, ProblemError
    from evals.suites.mfm_accel import TASKS, build_task
    from spec_templates.spec import render_markdown

    task_id = text.removeprefix("mfm-accel/")
    if task_id not in {task.id for task in TASKS}:
        raise ProblemError(f"mfm-accel has no task {task_id!r} (tasks: {', '.join(t.id for t in TASKS)})")
    built = build_task(task_id)
    return Problem(text, built.spec, render_markdown(built.spec), render_markdown(built.spec, module_header=False),
                   cocotb_source=built.testbench, vectors=built.vectors)


def _official_verdict(problem_id: str, data: str | None, design: Path) -> dict | None:
    """The benchmark's own judge on the final design (what pass@k would count)."""
    if not design.is_file() or "/" not in problem_id:
        return None
    from evals.suites import resolve as resolve_suite

    try:
        suite, task = resolve_suite(problem_id, data)
    except (KeyError, RuntimeError):
        return None
    return suite.judge(task, suite.as_sample(task, design.read_text())).to_dict()


def _progress(out, status):
    def emit(node: str, info: dict) -> None:
        if node == "node":
            status.update(f"[bold]{info['node']}[/] ...")
        elif node == "llm":
            status.update(f"[bold]{info['what']}[/]: asking {info['model']} ...")
        elif node == "rank":
            usage = info.get("usage") or {}
            cost = "?" if usage.get("cost_unknown") else f"${usage.get('cost_usd', 0):.4f}"
            model = info["model"]
            model = f"replay/{Path(model[7:]).name}" if model.startswith("replay/") else model
            out.print(f"iter {info['iteration']:>2} [dim]{model}[/]  this: {info['verdict']}  "
                      f"best: [bold]{info['best']}[/]  tokens {usage.get('prompt_tokens', 0)}+"
                      f"{usage.get('completion_tokens', 0)}  {cost}", highlight=False)
        elif node == "escalate":
            out.print(f"[yellow]escalating[/] after iteration {info['iteration']}: {info['from']} -> {info['to']}")
    return emit


def _reviewer(out):
    def review(payload: dict) -> dict:
        out.print(Panel(payload["feedback"], title=f"iteration {payload['iteration']}: {payload['best']}"))
        action = Prompt.ask("accept, edit or stop", choices=["accept", "edit", "stop"], default="accept",
                            console=out)
        if action == "edit":
            return {"action": "edit", "feedback": _edit(payload["feedback"])}
        return {"action": action}
    return review


def _edit(text: str) -> str:
    """Let the reviewer edit the feedback in $EDITOR (vi if unset)."""
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as handle:
        handle.write(text)
    try:
        subprocess.run([*shlex.split(os.environ.get("EDITOR", "vi")), handle.name], check=False)
        return Path(handle.name).read_text()
    finally:
        os.unlink(handle.name)


def _drive(session, json_out: bool, review: bool, data: str | None = None) -> None:
    from langgraph.errors import GraphRecursionError

    from agent.llm import LLMError

    out = err_console if json_out else console
    with out.status("starting ...") as status:
        session.emit = session.context.emit = _progress(out, status)
        try:
            summary = session.drive(_reviewer(out) if review else None)
        except LLMError as exc:
            summary = session.write_interrupted(str(exc))
            if json_out:
                emit_json(summary)
            fail(f"{exc}; the run is checkpointed: hwagent resume {session.run_id} "
                 f"[--llm MODEL] --out {session.run_dir.parent}")
        except GraphRecursionError as exc:
            session.write_interrupted(f"graph recursion limit: {exc}")
            fail(f"the agent graph hit its recursion limit ({exc}); see {session.run_dir}")
        except KeyboardInterrupt:
            session.write_interrupted("stopped by the user")
            fail(f"stopped; continue with: hwagent resume {session.run_id} --out {session.run_dir.parent}")
        finally:
            session.close()
    if "/" in session.problem.id and not Path(session.problem.id).exists():
        official = _official_verdict(session.problem.id, data, session.run_dir / "design.v")
        if official is not None:
            summary["official_verdict"] = official
            (session.run_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    if json_out:
        emit_json(summary | {"run_dir": str(session.run_dir)})
    else:
        best = summary.get("best") or {}
        colour = "green" if summary.get("passed") else "red"
        out.print(f"[{colour}]{summary.get('status')}[/] after {summary.get('iterations')} iteration(s); best: "
                  f"{best.get('verdict', 'no design')}; run dir {session.run_dir}", highlight=False)
        if "official_verdict" in summary:
            verdict = summary["official_verdict"]
            out.print(f"official judge: {'passed' if verdict['passed'] else 'failed'} ({verdict['result']})",
                      highlight=False)
        if "self-test" in summary.get("checked_against", ""):
            out.print("[yellow]note:[/] checked only against a testbench the agent wrote itself")
    raise typer.Exit(EXIT_OK if summary.get("passed") else EXIT_DESIGN_FAILED)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        target: str = typer.Argument(..., help="Spec file (.yaml) or benchmark problem id, e.g. "
                                               "verilog-eval-v2:spec-to-rtl/Prob050_kmap1 or rtllm-v2/adder_8bit"),
        llm: str = typer.Option(None, "--llm", help="Model: openai/gpt-4o-mini, anthropic/claude-sonnet-4-6, "
                                                   "ollama/qwen2.5-coder:7b, openai-api/<name>/<model>, "
                                                   "replay/PATH"),
        cascade: str = typer.Option(None, help="Comma-separated models, cheapest first; escalates when one "
                                               "keeps failing"),
        candidates: int = typer.Option(1, "--candidates", "-k", min=1, max=16, help="Candidates per iteration"),
        max_iters: int = typer.Option(8, min=1, help="Iteration budget"),
        budget_usd: float = typer.Option(None, help="Stop when this much money is spent"),
        max_tokens: int = typer.Option(None, help="Stop after this many tokens (prompt + completion)"),
        max_wall: float = typer.Option(None, help="Stop after this many seconds"),
        escalate_after: int = typer.Option(2, min=1, help="Cascade: iterations per tier before escalating"),
        plan: bool = typer.Option(False, help="Ask for a design plan before the first design"),
        review: bool = typer.Option(False, help="Pause before each repair: accept, edit or stop"),
        trace: bool = typer.Option(True, help="Waveform tracing of the first mismatch"),
        cache: bool = typer.Option(True, help="On-disk LLM response cache (.hwagent-cache/llm)"),
        out: Path = typer.Option("runs", help="Directory for run directories"),  # noqa: B008
        data: str = typer.Option(None, help="Benchmark data folder (default HWAGENT_DATA_DIR)"),
        json_out: bool = typer.Option(False, "--json", help="Print summary.json on stdout"),
    ) -> None:
        """Design a module with the LLM agent: generate, lint, simulate, PPA, repair until it passes."""
        from agent.graph import RunOptions
        from agent.problem import ProblemError
        from agent.session import new_run

        models = _models(llm, cascade)
        _check_models(models)
        options = RunOptions(models=models, candidates=candidates, max_iters=max_iters, max_tokens=max_tokens,
                             budget_usd=budget_usd, max_wall_s=max_wall, escalate_after=escalate_after, plan=plan,
                             review=review, trace=trace, cache=cache)
        try:
            session = new_run(target, options, out, resolver=_resolver(data), data_dir=data)
        except ProblemError as exc:
            fail(str(exc))
        (err_console if json_out else console).print(f"run [bold]{session.run_id}[/] on {session.problem.id} "
                                                     f"with {', '.join(models)}", highlight=False)
        _drive(session, json_out, review, data)

    @app.command()
    def resume(
        run_id: str = typer.Argument(..., help="Run id (a folder in --out) or a run directory"),
        llm: str = typer.Option(None, "--llm", help="Use this model from now on (e.g. the provider is back)"),
        cascade: str = typer.Option(None, help="Replace the cascade (same number of tiers)"),
        review: bool = typer.Option(None, help="Turn review pauses on or off"),
        out: Path = typer.Option("runs", help="Directory holding the run directories"),  # noqa: B008
        json_out: bool = typer.Option(False, "--json", help="Print summary.json on stdout"),
    ) -> None:
        """Continue a stopped or killed run from its last checkpoint."""
        from agent.problem import ProblemError
        from agent.session import find_run, open_run, run_meta

        models = None
        if llm or cascade:
            models = _models(llm, cascade)
            _check_models(models)
        try:
            run_dir = find_run(run_id, out)
            data = run_meta(run_dir).get("data_dir")
            session = open_run(run_dir, models=models, review=review, resolver=_resolver(data))
        except (FileNotFoundError, ValueError, ProblemError) as exc:
            fail(str(exc))
        if models is None:
            _check_models(session.options.models)
        if session.finished():
            (err_console if json_out else console).print(f"run {session.run_id} had already finished")
        _drive(session, json_out, session.options.review, data)

