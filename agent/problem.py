"""What the agent is asked to build: a spec file, or a benchmark problem id mapped onto the spec format.

Benchmark ids: `verilog-eval-v2:spec-to-rtl/Prob050_kmap1`, `verilog-eval-v2:code-complete/Prob050_kmap1`,
`rtllm-v2/adder_8bit`. Their data is found like the benchmark harness finds it (`--data`, HWAGENT_DATA_DIR,
~/.cache/hwagent/benchmarks). The interface comes from the reference module's header (parsed with pyslang), so
the port check works for benchmark problems too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from spec_templates.spec import Spec, SpecError, load_spec, parse_spec, render_markdown

VERILOG_EVAL_FLAGS = ["-Wall", "-Winfloop", "-Wno-timescale", "-g2012"]
RTLLM_PASS = r"Your Design Passed"


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
    dut_instance_hint: str = ""


@dataclass
class Problem:
    id: str
    spec: Spec
    prompt: str  # the Markdown the LLM reads
    native: NativeBench | None = None
    cocotb_source: str | None = None  # test module text (from the spec)
    vectors: list[dict] = field(default_factory=list)

    @property
    def top(self) -> str:
        return self.spec.name

    @property
    def has_testbench(self) -> bool:
        return self.native is not None or self.cocotb_source is not None


def load_problem(text: str, data_dir: str | Path | None = None) -> Problem:
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        try:
            spec = load_spec(path)
        except SpecError as exc:
            raise ProblemError(str(exc)) from None
        return problem_from_spec(spec, spec.name if path.suffix in (".yaml", ".yml") else str(path))
    if text.startswith("verilog-eval-v2:"):
        return _verilog_eval_v2(text, _data_root(data_dir))
    if text.startswith("rtllm-v2/"):
        return _rtllm_v2(text, _data_root(data_dir))
    raise ProblemError(f"'{text}' is neither a spec file (.yaml) nor a benchmark id such as "
                       f"verilog-eval-v2:spec-to-rtl/Prob050_kmap1 or rtllm-v2/adder_8bit")


def problem_from_spec(spec: Spec, problem_id: str) -> Problem:
    problem = Problem(problem_id, spec, render_markdown(spec))
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


def _data_root(explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("HWAGENT_DATA_DIR"):
        return Path(os.environ["HWAGENT_DATA_DIR"]).expanduser()
    return Path.home() / ".cache" / "hwagent" / "benchmarks"


def _need(path: Path, problem_id: str) -> Path:
    if not path.exists():
        raise ProblemError(f"{problem_id}: {path} not found (benchmark data: set HWAGENT_DATA_DIR or --data, or "
                           f"run `hwagent eval fetch`)")
    return path


def _ports_spec(name: str, reference: Path, ref_module: str, description: str, source: str) -> Spec:
    """A spec whose interface is the reference module's header, renamed to the module the design must use."""
    from pyslang import Bag, ast, syntax

    options = ast.CompilationOptions()
    options.topModules = {ref_module}
    compilation = ast.Compilation(Bag([options]))
    compilation.addSyntaxTree(syntax.SyntaxTree.fromText(reference.read_text(errors="replace"), str(reference)))
    instances = [i for i in compilation.getRoot().topInstances if i.name == ref_module]
    if not instances:
        raise ProblemError(f"{source}: no module {ref_module} in {reference}")
    directions = {"In": "input", "Out": "output", "InOut": "inout"}
    ports = [{"name": p.name, "direction": directions.get(str(p.direction).rsplit(".", 1)[-1], "inout"),
              "width": max(1, int(p.type.bitWidth)), "signed": bool(p.type.isSigned)}
             for p in instances[0].body.portList]
    clock = next((p["name"] for p in ports if p["name"] in ("clk", "clock") and p["direction"] == "input"), None)
    data = {"name": name, "description": description, "ports": ports, "source": source}
    if clock:
        data["clock"] = {"name": clock}
    return parse_spec(data, source)


def _verilog_eval_v2(problem_id: str, root: Path) -> Problem:
    task, _, name = problem_id.removeprefix("verilog-eval-v2:").partition("/")
    folders = {"spec-to-rtl": "dataset_spec-to-rtl", "code-complete": "dataset_code-complete-iccad2023"}
    if task not in folders or not name:
        raise ProblemError(f"'{problem_id}': use verilog-eval-v2:spec-to-rtl/<ProbNNN_name> or "
                           f"verilog-eval-v2:code-complete/<ProbNNN_name>")
    folder = _need(root / "verilog-eval-v2" / folders[task], problem_id)
    prompt_file = _need(folder / f"{name}_prompt.txt", problem_id)
    test, ref = _need(folder / f"{name}_test.sv", problem_id), _need(folder / f"{name}_ref.sv", problem_id)
    description = prompt_file.read_text()
    spec = _ports_spec("TopModule", ref, "RefModule", description, problem_id)
    prompt = (description.strip() + "\n\nAnswer with the complete `TopModule` in one ```verilog code block.\n")
    native = NativeBench([test], "tb", trusted=[ref], iverilog_flags=VERILOG_EVAL_FLAGS,
                         dut_instance_hint="top_module1")
    return Problem(problem_id, spec, prompt, native=native)


def _rtllm_v2(problem_id: str, root: Path) -> Problem:
    name = problem_id.removeprefix("rtllm-v2/")
    base = _need(root / "rtllm-v2", problem_id)
    matches = [p for p in base.rglob(name) if p.is_dir() and (p / "testbench.v").is_file()]
    if not matches:
        raise ProblemError(f"{problem_id}: no RTLLM v2 design named {name} under {base}")
    folder = matches[0]
    description = (folder / "design_description.txt").read_text(errors="replace")
    reference = next(folder.glob("verified_*.v"), None)
    if reference is None:
        raise ProblemError(f"{problem_id}: no verified_*.v reference in {folder}")
    module = re.search(r"Module name:\s*\n?\s*(\w+)", description)
    top = module.group(1) if module else name
    ref_module = re.search(r"^\s*module\s+(\w+)", reference.read_text(errors="replace"), re.MULTILINE).group(1)
    spec = _ports_spec(top, reference, ref_module, description, problem_id)
    tb_text = (folder / "testbench.v").read_text(errors="replace")
    tb_top = re.search(r"^\s*module\s+(\w+)", tb_text, re.MULTILINE).group(1)
    data = [p for p in folder.iterdir() if p.suffix in (".txt", ".dat", ".hex", ".mem") and
            p.name != "design_description.txt"]
    native = NativeBench([folder / "testbench.v"], tb_top, data_files=data, pass_pattern=RTLLM_PASS)
    return Problem(problem_id, spec, description.strip() + f"\n\nAnswer with the complete `{top}` module in one "
                                                           "```verilog code block.\n", native=native)
