"""What the agent is asked to build: a spec file, or a benchmark problem mapped onto the spec format.

Benchmark problems (`verilog-eval-v2:spec-to-rtl/Prob050_kmap1`, `rtllm-v2/adder_8bit`) are looked up by the
caller (the CLI asks evals.suites; agent/ does not import evals) and handed over as plain texts through
`benchmark_problem`. Their interface comes from the problem's module header, parsed with pyslang, so the port
check works for them too.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spec_templates.spec import Spec, SpecError, load_spec, parse_spec, render_markdown


class ProblemError(ValueError):
    """The input is neither a readable spec file nor a known benchmark problem; the message says why."""


@dataclass
class NativeBench:
    """A self-checking Verilog testbench (trusted) plus trusted helper sources such as a reference model."""

    testbench: list[Path]
    top: str
    trusted: list[Path] = field(default_factory=list)
    data_files: list[Path] = field(default_factory=list)
    iverilog_flags: list[str] = field(default_factory=lambda: ["-g2012"])
    pass_pattern: str | None = None
    fail_pattern: str | None = None


@dataclass
class Problem:
    id: str
    spec: Spec
    prompt: str  # the Markdown the LLM reads
    prompt_without_header: str | None = None  # the same without the module header (None: no such section)
    native: NativeBench | None = None
    cocotb_source: str | None = None  # test module text (from the spec)
    vectors: list[dict] = field(default_factory=list)

    @property
    def top(self) -> str:
        return self.spec.name

    def spec_text(self, interface_shown: bool) -> str:
        """The prompt; without its module header when a design with the spec's interface is shown too."""
        return self.prompt_without_header if interface_shown and self.prompt_without_header else self.prompt

    @property
    def has_testbench(self) -> bool:
        return self.native is not None or self.cocotb_source is not None


Resolver = Callable[[str], "Problem | None"]  # benchmark id -> Problem (None: not a benchmark id)


def load_problem(text: str, resolver: Resolver | None = None) -> Problem:
    """A spec file path, or whatever `resolver` makes of a benchmark id."""
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        try:
            spec = load_spec(path)
        except SpecError as exc:
            raise ProblemError(str(exc)) from None
        return problem_from_spec(spec, spec.name)
    problem = resolver(text) if resolver else None
    if problem is None:
        raise ProblemError(f"'{text}' is neither a spec file (.yaml) nor a benchmark id such as "
                           f"verilog-eval-v2:spec-to-rtl/Prob050_kmap1 or rtllm-v2/adder_8bit")
    return problem


def problem_from_spec(spec: Spec, problem_id: str) -> Problem:
    problem = Problem(problem_id, spec, render_markdown(spec), render_markdown(spec, module_header=False))
    tb = spec.testbench
    if tb is None:
        return problem
    try:
        source = spec.testbench_source()
        problem.vectors = spec.golden_vectors()
        data_files = spec.data_file_paths()
    except SpecError as exc:
        raise ProblemError(str(exc)) from None
    if tb.kind == "cocotb":
        problem.cocotb_source = source
    else:
        path = (spec.base_dir / tb.path) if tb.path else None
        if path is None:
            raise ProblemError("native testbenches need `testbench.path` (a file the simulator can compile)")
        problem.native = NativeBench([path], tb.top, data_files=data_files)
    return problem


def benchmark_problem(problem_id: str, prompt: str, interface: str, top: str, testbench: str, testbench_top: str,
                      trusted: list[tuple[str, str]] = (), data_files: list[Path] = (),
                      pass_pattern: str | None = None, fail_pattern: str | None = None,
                      iverilog_flags: list[str] = ("-g2012",)) -> Problem:
    """A benchmark task as a Problem: its testbench and trusted sources are written to a private folder."""
    folder = Path(tempfile.mkdtemp(prefix="hwagent-bench-"))
    atexit.register(shutil.rmtree, folder, True)
    tb_path = folder / f"{testbench_top}_tb.sv"
    tb_path.write_text(testbench)
    trusted_paths = []
    for name, text in trusted:
        (folder / name).write_text(text)
        trusted_paths.append(folder / name)
    spec = _interface_spec(top, interface, prompt, problem_id)
    native = NativeBench([tb_path], testbench_top, trusted=trusted_paths, data_files=list(data_files),
                         iverilog_flags=list(iverilog_flags), pass_pattern=pass_pattern,
                         fail_pattern=fail_pattern)
    text = prompt.strip() + f"\n\nAnswer with the complete `{top}` module in one ```verilog code block.\n"
    return Problem(problem_id, spec, text, native=native)


def _interface_spec(top: str, header: str, description: str, source: str) -> Spec:
    """A spec whose ports are those of the module header `header` (`module top (...);`)."""
    from pyslang import Bag, ast, syntax

    options = ast.CompilationOptions()
    options.topModules = {top}
    compilation = ast.Compilation(Bag([options]))
    compilation.addSyntaxTree(syntax.SyntaxTree.fromText(header.strip() + "\nendmodule\n", "interface.v"))
    instances = [i for i in compilation.getRoot().topInstances if i.name == top]
    if not instances:
        raise ProblemError(f"{source}: cannot parse the interface of {top}")
    directions = {"In": "input", "Out": "output", "InOut": "inout"}
    ports = [{"name": p.name, "direction": directions.get(str(p.direction).rsplit(".", 1)[-1], "inout"),
              "width": max(1, int(p.type.bitWidth)), "signed": bool(p.type.isSigned)}
             for p in instances[0].body.portList]
    clock = next((p["name"] for p in ports if p["name"] in ("clk", "clock") and p["direction"] == "input"), None)
    data = {"name": top, "description": description, "ports": ports, "source": source}
    if clock:
        data["clock"] = {"name": clock}
    return parse_spec(data, source)
