"""What the agent is asked to build: a spec file, or a benchmark problem mapped onto the spec format.

A problem carries its run recipe: `job(design_text)` builds the verify.jobs object that simulates one candidate
against the problem's testbench and judges it. For spec files that is the spec's own testbench with hwagent's
generic rule; for benchmark problems (`verilog-eval-v2:spec-to-rtl/Prob050_kmap1`, `rtllm-v2/adder_8bit`,
`mfm-accel/requant_1lane`) evals.problems hands over the suite's own recipe, so the verdict the agent acts on
is the official one. A problem without a testbench (`job` None) gets one written by the agent (self-test).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from spec_templates.spec import VECTORS_ENV, Spec, SpecError, load_spec, parse_spec, render_markdown
from verify.jobs import CocotbJob, IcarusJob, Job, cocotb_rule, native_rule
from verify.ports import InterfaceError, read_interface
from verify.sim import Source

NATIVE_TIMEOUT_S = 60.0  # spec files' own testbenches (benchmarks keep their official limits)
COCOTB_TIMEOUT_S = 240.0
Recipe = Callable[[str], Job]  # design text -> the job that simulates and judges it


class ProblemError(ValueError):
    """The input is neither a readable spec file nor a known benchmark problem; the message says why."""


@dataclass
class Problem:
    id: str
    spec: Spec
    prompt: str  # the Markdown the LLM reads
    prompt_without_header: str | None = None  # the same without the module header (None: no such section)
    job: Recipe | None = None  # None: no testbench, the agent writes its own
    testbench_kind: Literal["native", "cocotb", "self"] = "self"
    checked_against: str = "a testbench written by the agent from the spec (self-test only; no trusted testbench)"
    official: bool = False  # `job` is a benchmark's own recipe: its verdict is the benchmark's verdict
    vectors: list[dict] = field(default_factory=list)

    @property
    def top(self) -> str:
        return self.spec.name

    def spec_text(self, interface_shown: bool) -> str:
        """The prompt; without its module header when a design with the spec's interface is shown too."""
        return self.prompt_without_header if interface_shown and self.prompt_without_header else self.prompt

    @property
    def has_testbench(self) -> bool:
        return self.job is not None

    def self_test_job(self, design_text: str, testbench: str) -> CocotbJob:
        """A cocotb test module the agent wrote, run isolated against one candidate."""
        return CocotbJob(f"{self.id} (self-test)", (("design.v", design_text),), testbench, self.top, cocotb_rule,
                         parameters=tuple(self.spec.parameter_values().items()),
                         files=(("vectors.json", json.dumps(self.vectors)),),
                         env_files=((VECTORS_ENV, "vectors.json"),), timeout_s=COCOTB_TIMEOUT_S,
                         untrusted_testbench=True)


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
        data_files = tuple(spec.data_file_paths())
    except SpecError as exc:
        raise ProblemError(str(exc)) from None
    problem.checked_against = "the spec's testbench"
    if tb.kind == "cocotb":
        problem.testbench_kind = "cocotb"
        problem.job = functools.partial(_spec_cocotb_job, problem_id, spec, source, json.dumps(problem.vectors))
    else:
        if not tb.path:
            raise ProblemError("native testbenches need `testbench.path` (a file the simulator can compile)")
        problem.testbench_kind = "native"
        problem.job = functools.partial(_spec_native_job, problem_id, str(spec.base_dir / tb.path), source, tb.top,
                                        data_files)
    return problem


def _spec_native_job(task_id: str, tb_name: str, tb_text: str, top: str, data_files: tuple[Path, ...],
                     design: str) -> IcarusJob:
    sources = (Source(tb_name, tb_text, "testbench"), Source("design.v", design, "design"))
    return IcarusJob(task_id, sources, top, native_rule(), timeout_s=NATIVE_TIMEOUT_S, data_files=data_files)


def _spec_cocotb_job(task_id: str, spec: Spec, test_module: str, vectors: str, design: str) -> CocotbJob:
    return CocotbJob(task_id, (("design.v", design),), test_module, spec.name, cocotb_rule,
                     parameters=tuple(spec.parameter_values().items()), files=(("vectors.json", vectors),),
                     env_files=((VECTORS_ENV, "vectors.json"),), timeout_s=COCOTB_TIMEOUT_S)


def interface_spec(top: str, header: str, description: str, source: str) -> Spec:
    """A spec whose ports are those of the module header `header` (`module top (...);`)."""
    try:
        interface = read_interface(header.strip() + "\nendmodule\n", top, file="interface.v")
    except InterfaceError:
        raise ProblemError(f"{source}: cannot parse the interface of {top}") from None
    ports = [{"name": p.name, "direction": p.direction, "width": p.width, "signed": p.signed}
             for p in interface.ports]
    clock = next((p["name"] for p in ports if p["name"] in ("clk", "clock") and p["direction"] == "input"), None)
    data = {"name": top, "description": description, "ports": ports, "source": source}
    if clock:
        data["clock"] = {"name": clock}
    return parse_spec(data, source)
