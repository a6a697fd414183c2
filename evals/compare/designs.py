"""Find the designs to compare: agent run dirs and eval dirs, each design with its reference.

References: the expert baseline module for mfm-accel tasks and for unit specs (`hwagent spec` writes
`reference.txt` beside each unit spec; a spec naming a baseline unit gets that unit), the `verified_*` design for
RTLLM v2 and the `RefModule` for VerilogEval (both as the suite loads them, renamed to the tested module).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from agent.rundir import read_summary
from evals.run import SETTINGS_FILE
from evals.score import RESULTS, SUMMARY, read_results
from evals.suites import Problem, Suite, get_suite, resolve
from spec_templates.spec import Latency, Spec, SpecError, load_spec
from spec_templates.units import UNITS


class DesignError(ValueError):
    """A folder that holds neither an agent run nor an eval run; one line."""


@dataclass(frozen=True)
class Reference:
    label: str
    files: tuple[tuple[str, str], ...]  # (file name, text)
    top: str


@dataclass
class Design:
    """One generated design, its official verdict and what it is compared with."""

    name: str
    source: str  # run dir, or eval dir#sample key
    top: str
    code: str
    passed: bool
    verdict: str
    reference: Reference | None
    parameters: dict[str, int] = field(default_factory=dict)  # for both the design and its reference
    latency: Latency | None = None
    unit: str | None = None  # baseline module it implements (a candidate for the hybrid block)
    model: str = ""  # who wrote it (a SCRIPTED transcript is said so)


def find_designs(paths: list[Path], data: str | None = None) -> list[Design]:
    """Every design under `paths`: a run dir, an eval dir, or a folder holding run dirs."""
    designs: list[Design] = []
    for path in paths:
        if (path / "run.json").is_file():
            designs.append(run_design(path, data))
        elif (path / RESULTS).is_file():
            designs += eval_designs(path, data)
        elif path.is_dir() and (runs := sorted(p.parent for p in path.rglob("run.json"))):
            designs += [run_design(run, data) for run in runs]
        else:
            raise DesignError(f"{path} holds no agent run (run.json) or eval run ({RESULTS})")
    return designs


def run_design(run_dir: Path, data: str | None = None) -> Design:
    """The final design of an agent run (`hwagent run`) with the run's verdict."""
    meta = json.loads((run_dir / "run.json").read_text())
    summary = read_summary(run_dir)
    design = run_dir / "design.v"
    code = design.read_text() if design.is_file() else ""
    verdict = summary.get("official_verdict") or {}
    passed = bool(summary.get("passed")) and bool(code)
    text = verdict.get("result") or summary.get("status") or "no summary (run not finished)"
    source, target = str(run_dir), meta["input"]
    if Path(target).suffix in (".yaml", ".yml"):
        found = _spec_design(Path(target), code, passed, text, source)
    else:
        suite, problem = resolve(target, data or meta.get("data_dir"))
        found = benchmark_design(suite, problem, code, passed, text, source)
    found.model = models_label(meta.get("options", {}).get("models", []))
    return found


def eval_designs(eval_dir: Path, data: str | None = None) -> list[Design]:
    """Every sample of an eval dir (`hwagent eval run` or `eval score`), with its official verdict."""
    settings = eval_dir / SETTINGS_FILE
    record = json.loads((settings if settings.is_file() else eval_dir / SUMMARY).read_text())
    suite = get_suite(record["suite"], data or record.get("data"))
    label = models_label(record.get("models", [])) or "samples scored with `hwagent eval score`"
    designs = []
    for row in read_results(eval_dir):
        problem = suite.problem(row["task_id"])
        found = benchmark_design(suite, problem, _full_module(suite, problem, row["completion"]), row["passed"],
                                 row["result"], f"{eval_dir}#{row['key']}")
        found.model = label
        designs.append(found)
    return designs


def models_label(models: list[str]) -> str:
    """The models of a run, a replayed transcript named SCRIPTED or recorded as its header says."""
    from agent.llm.replay import read_transcript

    labels = []
    for model in models:
        if model.startswith("replay/"):
            path = Path(model.removeprefix("replay/"))
            header = read_transcript(path)[0] if path.is_file() else {}
            kind = "SCRIPTED transcript, not a live model" if header.get("scripted") else "recorded transcript"
            labels.append(f"replay/{path.name} ({kind})")
        else:
            labels.append(model)
    return ", ".join(labels)


def benchmark_design(suite: Suite, problem: Problem, code: str, passed: bool, verdict: str, source: str) -> Design:
    name = problem.full_id
    if suite.id == "mfm-accel":
        from evals.suites.mfm_accel import block_parameters, build_task

        built = build_task(problem.id)
        reference = Reference(f"expert baseline {problem.top_module}", _files(built.reference_files),
                              problem.top_module)
        unit = built.task.unit if built.task.unit in UNITS else None
        return Design(name, source, problem.top_module, code, passed, verdict, reference,
                      block_parameters(built.task), built.spec.latency, UNITS[unit].module if unit else None)
    label = "RTLLM verified_* design" if suite.id == "rtllm-v2" else "VerilogEval reference (RefModule)"
    reference = Reference(label, ((f"{problem.top_module}_reference.v", problem.reference),), problem.top_module)
    return Design(name, source, problem.top_module, code, passed, verdict, reference)


def _spec_design(spec_path: Path, code: str, passed: bool, verdict: str, source: str) -> Design:
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        raise DesignError(f"{source}: its spec no longer loads ({exc})") from None
    reference = spec_reference(spec, spec_path)
    unit = next((u.module for u in UNITS.values() if u.module == spec.name), None)
    return Design(f"{spec.name} ({spec_path.name})", source, spec.name, code, passed, verdict, reference,
                  spec.parameter_values(), spec.latency, unit)


def spec_reference(spec: Spec, spec_path: Path) -> Reference | None:
    """The expert implementation of a unit spec: files listed in reference.txt beside it, else the baseline
    module of the same name; None when there is none."""
    listed = spec_path.parent / "reference.txt"
    if listed.is_file():
        paths = [Path(line.strip()) for line in listed.read_text().splitlines() if line.strip()]
    else:
        unit = next((u for u in UNITS.values() if u.module == spec.name), None)
        paths = unit.paths() if unit else []
    if not paths or not all(p.is_file() for p in paths):
        return None
    return Reference(f"expert baseline {spec.name}", _files(paths), spec.name)


def _files(paths) -> tuple[tuple[str, str], ...]:
    return tuple((Path(p).name, Path(p).read_text()) for p in paths)


def _full_module(suite: Suite, problem: Problem, sample: str) -> str:
    """The design a sample stands for (VerilogEval v1 completions and bare code-complete bodies get their header)."""
    if hasattr(suite, "complete"):
        return suite.complete(problem, sample)
    if suite.id.startswith("verilog-eval-v1"):
        return problem.interface + "\n" + sample
    return sample
