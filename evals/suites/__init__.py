"""Benchmark suites: problems (prompt, interface, testbench, reference) and official-method judges.

    suite = get_suite("verilog-eval-v2:spec-to-rtl")          # data from --data / HWAGENT_DATA_DIR / cache
    problem = suite.problem("Prob050_kmap1")
    verdict = suite.judge(problem, problem.reference)          # Verdict(passed=True, result=".", ...)
    suite, problem = resolve("verilog-eval-v2:spec-to-rtl/Prob050_kmap1")

A sample is what the suite's official harness scores: a full `TopModule` for VerilogEval v2 (code-complete
also accepts a bare body, completed with the interface as upstream does), a human-eval completion for
VerilogEval v1 (`suite.as_sample(problem, full_module)` turns a full module into one) and a full module for
RTLLM v2.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar

import yaml

from verify import tools

SUITE_IDS = ("verilog-eval-v2:spec-to-rtl", "verilog-eval-v2:code-complete", "verilog-eval-v1:human",
             "verilog-eval-v1:machine", "rtllm-v2",
             "mfm-accel")


@dataclass(frozen=True)
class Problem:
    """One benchmark task. `reference` is a complete sample that the judge accepts (module names mapped)."""

    id: str
    suite: str
    prompt: str
    interface: str
    testbench: str
    reference: str
    top_module: str
    testbench_top: str
    trusted: tuple[tuple[str, str], ...] = ()  # (file name, text) of trusted sources besides the testbench
    data_files: tuple[Path, ...] = ()
    description: str = ""  # short label or description (v1: the task description; RTLLM: its category path)

    @property
    def full_id(self) -> str:
        return f"{self.suite}/{self.id}"


@dataclass
class Verdict:
    """The official verdict on one sample: `result` is the upstream string or code, `reason` its class."""

    task_id: str
    passed: bool
    result: str
    reason: str
    detail: str = ""
    mismatches: int | None = None
    samples: int | None = None
    wall_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Erratum:
    problem: str
    tool: str
    reason: str


class Suite:
    """Base of the suite families; subclasses load problems and judge samples the upstream way."""

    failure_classes: ClassVar[dict[str, str]] = {}  # class -> what it means
    default_timeout_s: ClassVar[float] = 30.0

    def __init__(self, suite_id: str, root: Path):
        self.id, self.root = suite_id, root

    def __repr__(self) -> str:
        return f"<Suite {self.id} at {self.root}>"

    def problems(self) -> list[Problem]:
        return list(self._problems().values())

    def problem(self, task_id: str) -> Problem:
        problems = self._problems()
        if task_id not in problems:
            raise KeyError(f"{self.id} has no problem {task_id!r}")
        return problems[task_id]

    @functools.cached_property
    def _by_id(self) -> dict[str, Problem]:
        return {p.id: p for p in self.load()}

    def _problems(self) -> dict[str, Problem]:
        return self._by_id

    def load(self) -> list[Problem]:
        raise NotImplementedError

    def judge(self, problem: Problem, sample: str, timeout_s: float | None = None) -> Verdict:
        raise NotImplementedError

    def as_sample(self, problem: Problem, module_text: str) -> str:
        """The sample this suite scores, from a full module implementation of the problem."""
        return module_text

    def errata(self) -> dict[str, Erratum]:
        """Known problems whose reference cannot pass with the installed tools (see errata/*.yaml)."""
        return _errata(self.id, tools.iverilog().version or "")


def _errata(suite_id: str, iverilog_version: str) -> dict[str, Erratum]:
    name = suite_id.replace(":", "_") + ".yaml"
    file = resources.files("evals.suites").joinpath("errata", name)
    if not file.is_file():
        return {}
    found = {}
    for entry in yaml.safe_load(file.read_text()) or []:
        measured = str(entry["iverilog"])
        if measured == "any" or iverilog_version.split(".")[0] == measured.split(".")[0]:
            found[entry["problem"]] = Erratum(entry["problem"], f"iverilog {measured}", entry["reason"])
    return found


@functools.cache
def _cached_suite(suite_id: str, root: str) -> Suite:
    from evals.suites import mfm_accel, rtllm, verilog_eval

    if suite_id == mfm_accel.SUITE_ID:
        return mfm_accel.MFMAccel(suite_id, Path(root))
    if suite_id.startswith("verilog-eval-v2:"):
        return verilog_eval.VerilogEvalV2(suite_id, Path(root))
    if suite_id.startswith("verilog-eval-v1:"):
        return verilog_eval.VerilogEvalV1(suite_id, Path(root))
    return rtllm.RTLLMv2(suite_id, Path(root))


def get_suite(suite_id: str, data: str | Path | None = None) -> Suite:
    """The suite `suite_id` (one of SUITE_IDS) with data from `data`, HWAGENT_DATA_DIR or the cache.

    Raises KeyError for an unknown id and evals.data.DataMissing when the data is not there."""
    from evals.data import suite_dir

    if suite_id not in SUITE_IDS:
        raise KeyError(f"unknown suite {suite_id!r}: choose one of {', '.join(SUITE_IDS)}")
    if suite_id == "mfm-accel":  # built from spec_templates and the baseline RTL: no data to fetch
        return _cached_suite(suite_id, str(Path(__file__).resolve().parent))
    folder = suite_id.split(":")[0]
    return _cached_suite(suite_id, str(suite_dir(folder, suite_id, data).resolve()))


def resolve(full_id: str, data: str | Path | None = None) -> tuple[Suite, Problem]:
    """`verilog-eval-v2:spec-to-rtl/Prob050_kmap1` -> (suite, problem)."""
    suite_id, sep, task_id = full_id.partition("/")
    if not sep or not task_id:
        raise KeyError(f"expected SUITE/TASK (e.g. verilog-eval-v2:spec-to-rtl/Prob050_kmap1), got {full_id!r}")
    suite = get_suite(suite_id, data)
    return suite, suite.problem(task_id)


def module_header(text: str, name: str) -> str:
    """`module name ... );` of a module declaration, or "" when it is not found."""
    match = re.search(rf"^\s*module\s+{re.escape(name)}\b.*?\);", text, re.DOTALL | re.MULTILINE)
    return match.group(0).strip() + "\n" if match else ""
