"""What every suite is made of: problems, the run recipe of one sample (verify.jobs), the official verdict, errata.

A `Suite` subclass loads its problems and builds, for one sample, the job that its upstream harness would run
(`job(problem, sample)`); `judge` is that job's verdict. The agent runs the very same job in its loop
(evals.problems maps a benchmark id to an agent problem), so the loop's verdict is the official one.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar

import yaml

from verify import tools
from verify.jobs import Job, Verdict

__all__ = ["Erratum", "Job", "Problem", "Suite", "Upstream", "Verdict", "module_header"]


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


@dataclass(frozen=True)
class Upstream:
    """Where a suite's data comes from: the data folder name, the repository and the pinned commit."""

    folder: str
    url: str
    commit: str


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
            near = ([i for i in problems if i.startswith(task_id)] or [i for i in problems if task_id in i]
                    or difflib.get_close_matches(task_id, problems, 3))[:3]
            hint = f" (did you mean {', '.join(near)}?)" if near else f" (`hwagent eval list {self.id}` lists them)"
            raise KeyError(f"{self.id} has no problem {task_id!r}{hint}")
        return problems[task_id]

    @functools.cached_property
    def _by_id(self) -> dict[str, Problem]:
        return {p.id: p for p in self.load()}

    def _problems(self) -> dict[str, Problem]:
        return self._by_id

    def load(self) -> list[Problem]:
        raise NotImplementedError

    def job(self, problem: Problem, sample: str) -> Job:
        """How the upstream harness runs `sample` (what `as_sample` makes of a module) for `problem`."""
        raise NotImplementedError

    def judge(self, problem: Problem, sample: str, timeout_s: float | None = None) -> Verdict:
        """The official verdict on one sample."""
        return self.job(problem, sample).run(timeout_s=timeout_s).verdict

    def as_sample(self, problem: Problem, module_text: str) -> str:
        """The sample this suite scores, from a full module implementation of the problem."""
        return module_text

    def weak_testbenches(self) -> dict[str, str]:
        """Problems whose testbench passes designs that do not implement them (weak_testbenches.yaml)."""
        return _weak_testbenches().get(self.id, {})

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
def _weak_testbenches() -> dict[str, dict[str, str]]:
    return yaml.safe_load(resources.files("evals.suites").joinpath("weak_testbenches.yaml").read_text()) or {}


def module_header(text: str, name: str) -> str:
    """`module name ... );` of a module declaration, or "" when it is not found."""
    match = re.search(rf"^\s*module\s+{re.escape(name)}\b.*?\);", text, re.DOTALL | re.MULTILINE)
    return match.group(0).strip() + "\n" if match else ""
