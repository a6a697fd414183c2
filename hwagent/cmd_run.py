"""`hwagent run` and `hwagent resume`: the LLM agent loop on a spec file or a benchmark problem."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

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


def _drive(session, json_out: bool, review: bool) -> None:
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
        except EOFError:  # --review, and stdin ended before the answer
            session.write_interrupted("no answer for the review prompt (stdin ended)")
            fail(f"--review needs an answer (accept, edit or stop) on stdin for every repair, and stdin ended; "
                 f"continue with: hwagent resume {session.run_id} --out {session.run_dir.parent} [--no-review]")
        finally:
            session.close()
    if json_out:
        emit_json(summary | {"run_dir": str(session.run_dir)})
    else:
        best = summary.get("best") or {}
        colour = "green" if summary.get("passed") else "red"
        out.print(f"[{colour}]{summary.get('status')}[/] after {summary.get('iterations')} iteration(s); best: "
                  f"{best.get('verdict', 'no design')}; run dir {session.run_dir}", highlight=False)
        if summary.get("benchmark_testbench_in_loop"):
            verdict = summary.get("official_verdict")
            text = ("passed" if verdict["passed"] else f"failed: {verdict['result']} ({verdict['reason']})"
                    ) if verdict else "no design reached the judge"
            out.print(f"official verdict ({summary['checked_against']}): {text}", highlight=False, soft_wrap=True)
        if "self-test" in summary.get("checked_against", ""):
            out.print("[yellow]note:[/] checked only against a testbench the agent wrote itself")
    raise typer.Exit(EXIT_OK if summary.get("passed") else EXIT_DESIGN_FAILED)


ModelOpt = Annotated[str | None, typer.Option("--llm", help=(
    "Model: openai/gpt-4o-mini, anthropic/claude-sonnet-4-6, ollama/qwen2.5-coder:7b, llamacpp/NAME, "
    "openai-api/<name>/<model>, replay/PATH"))]
CascadeOpt = Annotated[str | None, typer.Option(help="Comma-separated models, cheapest first; escalates when one "
                                                     "keeps failing")]
OutOpt = Annotated[Path, typer.Option(help="Directory holding the run directories")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print summary.json on stdout")]


def _check_budget(options) -> None:
    """Refuse a USD budget that could not be honoured (a model without a price)."""
    from agent.llm.pricing import unpriced

    missing = unpriced(options.models) if options.budget_usd is not None else []
    if missing:
        fail(f"--budget-usd cannot be enforced: no price is known for {', '.join(missing)}; give one in a "
             f"HWAGENT_PRICES file ({{model: {{input: USD/Mtok, output: USD/Mtok}}}}) or use --max-tokens")


def _flag(field: str, *names: str, **kw):
    """A `hwagent run` option for one RunOptions field, with the field's description as help."""
    from agent.options import describe

    return typer.Option(*names, help=describe(field), show_default=False, **kw)


def _options(config: Path | None, models: list[str] | None, flags: dict):
    """RunOptions from --config, then the flags given on the command line (None: not given)."""
    from agent.options import OptionsError, build_options, load_config

    try:
        values = load_config(config) if config else {}
        values |= {key: value for key, value in flags.items() if value is not None}
        if models:
            values["models"] = models
        elif "models" not in values:
            values["models"] = _models(None, None)
        return build_options(values, str(config) if config else "options")
    except OptionsError as exc:
        fail(str(exc))


def run(
    target: Annotated[str, typer.Argument(help="Spec file (.yaml) or benchmark problem id, e.g. "
                                               "verilog-eval-v2:spec-to-rtl/Prob050_kmap1 or rtllm-v2/adder_8bit")],
    llm: ModelOpt = None,
    cascade: CascadeOpt = None,
    config: Annotated[Path | None, typer.Option(help="run.yaml: RunOptions fields (flags given here win)")] = None,
    candidates: Annotated[int | None, _flag("candidates", "--candidates", min=1, max=16)] = None,
    max_iters: Annotated[int | None, _flag("max_iters", min=1)] = None,
    budget_usd: Annotated[float | None, _flag("budget_usd")] = None,
    max_tokens: Annotated[int | None, _flag("max_tokens")] = None,
    max_wall: Annotated[float | None, _flag("max_wall_s", "--max-wall")] = None,
    escalate_after: Annotated[int | None, _flag("escalate_after", min=1)] = None,
    plan: Annotated[bool | None, _flag("plan", "--plan/--no-plan")] = None,
    review: Annotated[bool | None, _flag("review", "--review/--no-review")] = None,
    trace: Annotated[bool | None, _flag("trace", "--trace/--no-trace")] = None,
    cache: Annotated[bool | None, _flag("cache", "--cache/--no-cache")] = None,
    temperature: Annotated[float | None, _flag("temperature")] = None,
    sample_temperature: Annotated[float | None, _flag("sample_temperature")] = None,
    seed: Annotated[int | None, _flag("seed")] = None,
    answer_tokens: Annotated[int | None, _flag("answer_tokens")] = None,
    history_lines: Annotated[int | None, _flag("history_lines")] = None,
    history_chars: Annotated[int | None, _flag("history_chars")] = None,
    lint_feedback_chars: Annotated[int | None, _flag("lint_feedback_chars")] = None,
    testbench_rewrites: Annotated[int | None, _flag("testbench_rewrites")] = None,
    sim_timeout: Annotated[float | None, _flag("sim_timeout_s", "--sim-timeout")] = None,
    out: OutOpt = Path("runs"),
    data: Annotated[str | None, typer.Option(help="Benchmark data folder (default HWAGENT_DATA_DIR)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Design a module with the LLM agent: generate, lint, simulate, PPA, repair until it passes."""
    from agent.problem import ProblemError
    from agent.session import new_run
    from evals.problems import resolver

    flags = {"candidates": candidates, "max_iters": max_iters, "budget_usd": budget_usd, "max_tokens": max_tokens,
             "max_wall_s": max_wall, "escalate_after": escalate_after, "plan": plan, "review": review,
             "trace": trace, "cache": cache, "temperature": temperature, "sample_temperature": sample_temperature,
             "seed": seed, "answer_tokens": answer_tokens, "history_lines": history_lines, "history_chars": history_chars,
             "lint_feedback_chars": lint_feedback_chars, "testbench_rewrites": testbench_rewrites,
             "sim_timeout_s": sim_timeout}
    options = _options(config, _models(llm, cascade) if llm or cascade else None, flags)
    _check_models(options.models)
    _check_budget(options)
    try:
        session = new_run(target, options, out, resolver=resolver(data), data_dir=data)
    except ProblemError as exc:
        fail(str(exc))
    (err_console if json_out else console).print(f"run [bold]{session.run_id}[/] on {session.problem.id} "
                                                 f"with {', '.join(options.models)}", highlight=False)
    _drive(session, json_out, options.review)


def resume(
    run_id: Annotated[str, typer.Argument(help="Run id (a folder in --out) or a run directory")],
    llm: Annotated[str | None, typer.Option("--llm", help="Use this model from now on (e.g. the provider is "
                                                           "back)")] = None,
    cascade: Annotated[str | None, typer.Option(help="Replace the cascade (same number of tiers)")] = None,
    review: Annotated[bool | None, typer.Option("--review/--no-review", help="Turn review pauses on or off",
                                                show_default=False)] = None,
    out: OutOpt = Path("runs"),
    json_out: JsonOpt = False,
) -> None:
    """Continue a stopped or killed run from its last checkpoint."""
    from agent.problem import ProblemError
    from agent.session import find_run, open_run, run_meta
    from evals.problems import resolver

    models = None
    if llm or cascade:
        models = _models(llm, cascade)
        _check_models(models)
    try:
        run_dir = find_run(run_id, out)
        session = open_run(run_dir, models=models, review=review, resolver=resolver(run_meta(run_dir).get(
            "data_dir")))
    except (FileNotFoundError, ValueError, ProblemError) as exc:
        fail(str(exc))
    if models is None:
        _check_models(session.options.models)
    if session.finished():
        (err_console if json_out else console).print(f"run {session.run_id} had already finished")
    _drive(session, json_out, session.options.review)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(resume)
