"""`hwagent doctor | lint | sim | ppa | demo`: the verify toolkit on the command line."""

from __future__ import annotations

import re
from contextlib import nullcontext
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hwagent.console import EXIT_DESIGN_FAILED, EXIT_OK, EXIT_USAGE, console, emit_json, fail
from verify import tools
from verify.lint import LintReport, lint
from verify.ppa import PPAReport, SynthesisError, synthesize
from verify.sim import SimResult, simulate_cocotb, simulate_native

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def register(app: typer.Typer) -> None:
    for command in (doctor, lint_cmd, sim_cmd, ppa_cmd):
        name = command.__name__.removesuffix("_cmd")
        app.command(name=name)(command)


def doctor(json_out: JsonOpt = False) -> None:
    """List the external tools hwagent uses, their versions, what each is usable for and how to install the rest."""
    found = tools.all_tools()
    essential_missing = [t.name for t in (tools.iverilog(), tools.yosys()) if not t.found]
    environment = _environment()
    if json_out:
        emit_json({"tools": [t.to_dict() for t in found], "ok": not essential_missing} | environment)
    else:
        table = Table(title="hwagent doctor")
        for column in ("tool", "version", "usable for", "notes / install"):
            table.add_column(column)
        for tool in found:
            status = ", ".join(tool.usable_for) if tool.found else "[red]missing[/]"
            notes = tool.note if tool.found else f"{tool.note}\n[dim]install:[/] {tool.install}".strip()
            table.add_row(tool.name, tool.version or ("?" if tool.found else "-"), status, notes)
        console.print(table)
        _print_environment(environment)
        if essential_missing:
            console.print(f"[red]Missing essential tools: {', '.join(essential_missing)}[/]\n"
                          f"Install: {tools.APT_HINT}")
    raise typer.Exit(EXIT_USAGE if essential_missing else EXIT_OK)


KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HWAGENT_LLM", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")


def _environment() -> dict:
    """LLM configuration (whether each variable is set, never its value), benchmark data and caches."""
    import os

    from agent.llm.providers import local_servers
    from evals.suites import SUITES
    from verify.paths import cache_root, data_root

    root = data_root()
    return {"llm": {name: bool(os.environ.get(name)) for name in KEY_VARIABLES}, "local_servers": local_servers(),
            "benchmarks": {"root": str(root), "suites": {
                entry.id: (entry.upstream is None or (root / entry.upstream.folder).is_dir())
                for entry in SUITES.values()}},
            "cache": {"root": str(cache_root())}}


def _print_environment(environment: dict) -> None:
    llm = ", ".join(f"{name} {'set' if value else 'not set'}" for name, value in environment["llm"].items())
    console.print(f"[bold]LLM:[/] {llm}", highlight=False, soft_wrap=True)
    for server in environment["local_servers"]:
        if server["up"]:
            models = ", ".join(f"{server['provider']}/{m}" for m in server["models"]) or "no models listed"
            console.print(f"[bold]local server[/] {server['provider']} at {server['url']}: up; --llm {models}",
                          highlight=False, soft_wrap=True)
        else:
            console.print(f"[dim]local server {server['provider']} at {server['url']}: down (start: "
                          f"{server['start']})[/]", highlight=False, soft_wrap=True)
    bench = environment["benchmarks"]
    present = [suite for suite, ok in bench["suites"].items() if ok]
    absent = [suite for suite, ok in bench["suites"].items() if not ok]
    console.print(f"[bold]benchmarks[/] at {bench['root']}: {', '.join(present) or 'none'}"
                  + (f"; missing {', '.join(absent)} (hwagent eval fetch SUITE)" if absent else ""),
                  highlight=False, soft_wrap=True)
    console.print(f"[bold]caches[/] at {environment['cache']['root']} (HWAGENT_CACHE_DIR)", highlight=False,
                  soft_wrap=True)


def _check_files(files: list[Path]) -> None:
    for file in files:
        if not file.is_file():
            fail(f"no such file: {file}")


def lint_cmd(files: Annotated[list[Path], typer.Argument(help="Verilog/SystemVerilog sources.")],
             top: Annotated[str | None, typer.Option(help="Top module name.")] = None,
             json_out: JsonOpt = False) -> None:
    """Lint with pyslang, Verilator and Icarus; one merged list. Exit 1 when any error is found."""
    _check_files(files)
    report = lint(files, top=top)
    if json_out:
        emit_json(report.model_dump() | {"passed": report.passed, "feedback": report.feedback()})
    else:
        print_lint(report)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_DESIGN_FAILED)


def print_lint(report: LintReport) -> None:
    table = Table(title=f"lint: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    for column in ("where", "severity", "tool", "code", "message"):
        table.add_column(column, overflow="fold")
    for diag in report.diagnostics[:40]:
        style = "red" if diag.is_error else "yellow"
        table.add_row(diag.position(), f"[{style}]{diag.severity}[/]", diag.tool, diag.code, diag.message)
    console.print(table)
    for note in report.skipped:
        console.print(f"[dim]skipped: {note}[/]")
    if report.errors:
        console.print("[bold]Feedback an LLM would receive:[/]")
        console.print(report.feedback(), markup=False, highlight=False)


def _guess_tb_top(files: list[Path]) -> str | None:
    """The testbench top: a module declared in the testbench files that none of them instantiates."""
    text = "\n".join(f.read_text(errors="replace") for f in files)
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)
    declared = re.findall(r"^\s*module\s+(\w+)", text, re.MULTILINE)
    roots = [m for m in declared if not re.search(rf"^\s*{m}\s+(#\s*\(.*?\)\s*)?\w+\s*\(", text, re.MULTILINE | re.DOTALL)]
    return roots[0] if len(roots) == 1 else None


def sim_cmd(design: Annotated[list[Path], typer.Argument(help="Design sources (untrusted).")],
            tb: Annotated[list[Path] | None, typer.Option("--tb", help="Native Verilog testbench file(s).")] = None,
            cocotb: Annotated[Path | None, typer.Option(help="cocotb test module (.py).")] = None,
            spec: Annotated[Path | None, typer.Option(help="A spec file: run its own testbench, golden vectors and "
                                                           "parameters (what `hwagent run` checks).")] = None,
            vectors: Annotated[Path | None, typer.Option(help="Golden vectors (JSON) for a cocotb testbench that "
                                                              "reads HWAGENT_VECTORS.")] = None,
            param: Annotated[list[str] | None, typer.Option("--param", help="Design parameter N=V (cocotb; "
                                                                            "repeatable).")] = None,
            top: Annotated[str | None, typer.Option(
                help="Top module: the testbench module with --tb, the design's top with --cocotb.")] = None,
            simulator: Annotated[str, typer.Option(help="cocotb simulator: icarus or verilator.")] = "icarus",
            waves: Annotated[bool, typer.Option(help="Dump waveforms (kept for failing runs).")] = False,
            untrusted: Annotated[bool, typer.Option(
                help="The cocotb testbench is untrusted (e.g. LLM-written): run it isolated, no network.")] = False,
            timeout: Annotated[float, typer.Option(help="Wall-clock limit in seconds.")] = 60.0,
            json_out: JsonOpt = False) -> None:
    """Simulate a design against a native Verilog testbench (Icarus), a cocotb testbench, or a spec's own."""
    _check_files(design + (tb or []) + [f for f in (cocotb, spec, vectors) if f])
    if sum(map(bool, (tb, cocotb, spec))) != 1:
        fail("give exactly one of --tb TB.v, --cocotb test_module.py or --spec SPEC.yaml")
    if spec:
        _sim_spec(design, spec, waves, json_out)
    if tb:
        top = top or _guess_tb_top(tb)
        if not top:
            fail("cannot tell the testbench top module; pass --top NAME")
    elif not top:
        fail("--top NAME (the design's top module) is required with --cocotb")
    if simulator not in ("icarus", "verilator"):
        fail(f"unknown simulator {simulator!r}: use icarus or verilator")
    try:
        if tb:
            result = simulate_native(design, tb, top, timeout_s=timeout, waves=waves)
        else:
            result = simulate_cocotb(design, cocotb, top, simulator=simulator, timeout_s=timeout, waves=waves,
                                     untrusted_testbench=untrusted, parameters=_parameters(param) or None,
                                     extra_env=_vectors_env(cocotb, vectors))
    except tools.ToolMissing as exc:
        fail(str(exc))
    if json_out:
        emit_json(result.model_dump())
    else:
        print_sim(result)
    raise typer.Exit(EXIT_OK if result.passed else EXIT_DESIGN_FAILED)


def _vectors_env(test_module: Path, vectors: Path | None) -> dict[str, str]:
    from spec_templates.spec import VECTORS_ENV

    if vectors is not None:
        return {VECTORS_ENV: str(vectors.resolve())}
    if VECTORS_ENV in test_module.read_text(errors="replace"):
        fail(f"{test_module} reads its golden vectors from {VECTORS_ENV}: pass --vectors FILE.json, or run the "
             f"spec's own testbench with --spec SPEC.yaml")
    return {}


def _parameters(values: list[str] | None) -> dict[str, int]:
    out = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier() or not value.lstrip("-").isdigit():
            fail(f"--param takes NAME=INTEGER, got {item!r}")
        out[name] = int(value)
    return out


def _sim_spec(design: list[Path], spec: Path, waves: bool, json_out: bool) -> None:
    """The spec's own run recipe (testbench, vectors, parameters) on the design, exactly as the agent runs it."""
    import tempfile

    from agent.problem import ProblemError, load_problem

    try:
        problem = load_problem(str(spec))
    except ProblemError as exc:
        fail(str(exc))
    if problem.job is None:
        fail(f"{spec} has no testbench (`hwagent run` would have the agent write one)")
    code = "\n".join(path.read_text(errors="replace") for path in design)
    with tempfile.TemporaryDirectory(prefix="hwagent-sim-") as tmp:
        result = problem.job(code).run(waves=waves, run_root=tmp, keep="failed").sim
    if json_out:
        emit_json(result.model_dump())
    else:
        print_sim(result)
    raise typer.Exit(EXIT_OK if result.passed else EXIT_DESIGN_FAILED)


def print_sim(result: SimResult) -> None:
    style = "green" if result.passed else "red"
    table = Table(title=f"simulation: [{style}]{result.summary()}[/]")
    table.add_column("figure")
    table.add_column("value", overflow="fold")
    rows = [("verdict", result.reason)]
    if result.mismatches is not None:
        rows.append(("mismatches", f"{result.mismatches} of {result.samples}"))
    rows += [(f"  output {name}", str(count)) for name, count in result.output_mismatches.items()]
    if result.first_mismatch_time is not None:
        rows.append(("first mismatch at", str(result.first_mismatch_time)))
    if result.tests_total is not None:
        passed = result.tests_total - len(result.failing_tests)
        rows.append(("cocotb tests", f"{passed} of {result.tests_total} passed"))
    rows += [("failing test", f"{name}: {msg}") for name, msg in zip(result.failing_tests, result.assertion_messages)]
    rows += [("diagnostic", f"{d.position()}: {d.message}") for d in result.diagnostics if d.is_error][:10]
    rows += [("waveform", result.waveform or "-"), ("run dir (kept)", result.run_dir or "-"),
             ("full log", result.log_path or "-"), ("isolation", result.isolation or "-"),
             ("wall time", f"{result.wall_s:.2f} s")]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if not result.passed and result.log_excerpt:
        console.print("[bold]log excerpt:[/]")
        console.print(result.log_excerpt[-2000:], markup=False, highlight=False)


def ppa_cmd(files: Annotated[list[Path], typer.Argument(help="Design sources.")],
            top: Annotated[str, typer.Option(help="Top module to synthesize.")],
            clock_mhz: Annotated[float, typer.Option(help="Clock for timing target and power.")] = 100.0,
            activity: Annotated[float, typer.Option(help="Switching activity for power (0..1).")] = 0.1,
            clock: Annotated[str | None, typer.Option(help="Clock port (default: clk, clock, ...).")] = None,
            param: Annotated[list[str] | None, typer.Option("--param", help="Top parameter override NAME=VALUE "
                                                                            "(repeatable).")] = None,
            macro: Annotated[list[str] | None, typer.Option("--macro", help="Memory module to keep as an SRAM "
                                                                            "macro (repeatable).")] = None,
            no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore cached results.")] = False,
            json_out: JsonOpt = False) -> None:
    """Synthesize to OSU018 cells (Yosys) and time/power the netlist (OpenSTA)."""
    _check_files(files)
    parameters = {}
    for item in param or []:
        name, _, value = item.partition("=")
        if not name or not value.lstrip("-").isdigit():
            fail(f"--param {item!r}: expected NAME=INTEGER", EXIT_USAGE)
        parameters[name] = int(value)
    try:
        with console.status(f"synthesizing {top} ...", spinner="dots") if not json_out else nullcontext():
            report = synthesize(files, top, clock_mhz=clock_mhz, activity=activity, clock=clock,
                                use_cache=not no_cache, parameters=parameters, macros=macro or [])
    except (SynthesisError, ValueError) as exc:
        if json_out:
            emit_json({"error": str(exc)})
        fail(str(exc), EXIT_DESIGN_FAILED if isinstance(exc, SynthesisError) else EXIT_USAGE)
    except tools.ToolMissing as exc:
        fail(str(exc))
    if json_out:
        emit_json(report.model_dump())
    else:
        print_ppa(report)


def print_ppa(report: PPAReport) -> None:
    measured_with = "; ".join(filter(None, (report.technology, report.tools_label())))
    table = Table(title=f"PPA: {report.top} ({measured_with}){' [cached]' if report.cached else ''}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for row in report.table_rows():
        table.add_row(*row)
    console.print(table)
    console.print(f"[dim]assumptions: {'; '.join(report.assumptions)}[/]")
    if report.missing:
        console.print(f"[yellow]missing figures: {', '.join(report.missing)}[/]")


def demo_verify() -> bool:
    """Lint, simulate and PPA the bundled 4x4 int8 MAC array and print the tables; True when it all passed."""
    for tool in (tools.iverilog(), tools.yosys()):
        if not tool.found:
            fail(f"{tool.name} not found. Install: {tool.install} (or run `make demo`, which installs it)")
    example = resources.files("spec_templates") / "examples" / "mac_array"
    design, testbench = Path(str(example / "mac_array.v")), Path(str(example / "mac_array_tb.v"))
    console.print(f"design: {design}\ntestbench: {testbench}\n")
    lint_report = lint([design], top="mac_array")
    print_lint(lint_report)
    sim = simulate_native([design], [testbench], "mac_array_tb")
    print_sim(sim)
    with console.status("synthesizing mac_array ...", spinner="dots"):
        report = synthesize([design], "mac_array", clock_mhz=100.0, activity=0.1)
    print_ppa(report)
    return lint_report.passed and sim.passed
