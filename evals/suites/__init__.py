"""Benchmark suites, one registry row each: problems (prompt, interface, testbench, reference) and official judges.

    suite = get_suite("verilog-eval-v2:spec-to-rtl")          # data from --data / HWAGENT_DATA_DIR / cache
    problem = suite.problem("Prob050_kmap1")
    verdict = suite.judge(problem, problem.reference)          # Verdict(passed=True, result=".", ...)
    suite, problem = resolve("verilog-eval-v2:spec-to-rtl/Prob050_kmap1")

A sample is what the suite's official harness scores: a full `TopModule` for VerilogEval v2 (code-complete
also accepts a bare body, completed with the interface as upstream does), a human-eval completion for
VerilogEval v1 (`suite.as_sample(problem, full_module)` turns a full module into one) and a full module for
RTLLM v2. A new suite is one module (a `Suite` subclass) and one row in `SUITES`.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path

from evals.suites.base import Erratum, Problem, Suite, Upstream, Verdict, module_header

__all__ = ["SUITES", "Erratum", "Problem", "Suite", "SuiteEntry", "Upstream", "Verdict", "get_suite",
           "module_header", "resolve", "suite_help"]

VERILOG_EVAL_V2 = Upstream("verilog-eval-v2", "https://github.com/NVlabs/verilog-eval.git",
                           "c498220d0a52248f8e3fdffe279075215bde2da6")
VERILOG_EVAL_V1 = Upstream("verilog-eval-v1", "https://github.com/NVlabs/verilog-eval.git",
                           "4fa0ac4ed70ff1685114c25cd2e4c17cbba6a0c4")  # branch release/1.0.0
RTLLM_V2 = Upstream("rtllm-v2", "https://github.com/hkust-zhiyao/RTLLM.git", "41b26896e33b536940116a975626455eed3de65e")


@dataclass(frozen=True)
class SuiteEntry:
    id: str
    suite_class: str  # "module:Class" of its Suite subclass, imported when the suite is first used
    upstream: Upstream | None  # None: built into hwagent, nothing to fetch
    help: str

    def create(self, root: Path) -> Suite:
        module, _, name = self.suite_class.partition(":")
        return getattr(importlib.import_module(module), name)(self.id, root)


SUITES: dict[str, SuiteEntry] = {entry.id: entry for entry in (
    SuiteEntry("verilog-eval-v2:spec-to-rtl", "evals.suites.verilog_eval:VerilogEvalV2", VERILOG_EVAL_V2,
               "VerilogEval v2, 156 problems from a natural-language spec"),
    SuiteEntry("verilog-eval-v2:code-complete", "evals.suites.verilog_eval:VerilogEvalV2", VERILOG_EVAL_V2,
               "VerilogEval v2, 156 problems completed from their module header"),
    SuiteEntry("verilog-eval-v1:human", "evals.suites.verilog_eval:VerilogEvalV1", VERILOG_EVAL_V1,
               "VerilogEval v1 (release 1.0.0), 156 human-written descriptions"),
    SuiteEntry("verilog-eval-v1:machine", "evals.suites.verilog_eval:VerilogEvalV1", VERILOG_EVAL_V1,
               "VerilogEval v1 (release 1.0.0), 143 machine-written descriptions"),
    SuiteEntry("rtllm-v2", "evals.suites.rtllm:RTLLMv2", RTLLM_V2, "RTLLM v2.0, 50 designs with testbenches"),
    SuiteEntry("mfm-accel", "evals.suites.mfm_accel:MFMAccel", None,
               "hwagent's accelerator units for multimodal foundation models (18 tasks, built in)"),
)}


def suite_help() -> str:
    """The suite ids for option help texts."""
    return ", ".join(SUITES)


@functools.cache
def _cached_suite(suite_id: str, root: str) -> Suite:
    return SUITES[suite_id].create(Path(root))


def get_suite(suite_id: str, data: str | Path | None = None) -> Suite:
    """The suite `suite_id` (a key of SUITES) with data from `data`, HWAGENT_DATA_DIR or the cache.

    Raises KeyError for an unknown id and evals.data.DataMissing when the data is not there."""
    from evals.data import suite_dir

    entry = SUITES.get(suite_id)
    if entry is None:
        raise KeyError(f"unknown suite {suite_id!r}: choose one of {suite_help()}")
    if entry.upstream is None:  # built from hwagent's own sources: no data to fetch
        return _cached_suite(suite_id, str(Path(__file__).resolve().parent))
    return _cached_suite(suite_id, str(suite_dir(entry.upstream.folder, suite_id, data).resolve()))


def resolve(full_id: str, data: str | Path | None = None) -> tuple[Suite, Problem]:
    """`verilog-eval-v2:spec-to-rtl/Prob050_kmap1` -> (suite, problem)."""
    suite_id, sep, task_id = full_id.partition("/")
    if not sep or not task_id:
        raise KeyError(f"expected SUITE/TASK (e.g. verilog-eval-v2:spec-to-rtl/Prob050_kmap1), got {full_id!r}")
    suite = get_suite(suite_id, data)
    return suite, suite.problem(task_id)
