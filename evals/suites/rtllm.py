"""RTLLM v2 (hkust-zhiyao/RTLLM): 50 designs, each a description, a `testbench.v` and a `verified_*.v` reference.

Upstream (auto_run.py) compiles `vcs -sverilog +v2k -timescale=1ns/1ns <design>.v testbench.v`: syntax
success iff `simv` is built; functional success iff the simulation finishes in time and its output contains
"Pass" or "pass". Here: `iverilog -g2012` on the same two files, preceded by a trusted `timescale 1ns/1ns`
(Icarus carries the directive into later files, like VCS's default timescale), `vvp -n`, and the pass
string searched in the testbench's own (token-tagged) lines only. Data files next to the testbench (e.g.
reference.dat) are copied into the run directory.

The references name their module `verified_<x>` (or otherwise differ from the name the testbench
instantiates); `Problem.reference` has its top module renamed to the instantiated name.
"""

from __future__ import annotations

import re
from typing import ClassVar

from evals.suites.base import Problem, Suite, Verdict, module_header
from verify.jobs import IcarusJob
from verify.ports import defined_modules
from verify.sim import IcarusRun, Source

FAILURE_LINE = r"[Ff]ail|[Ee]rror"  # how RTLLM testbenches report a wrong output (agent feedback only)
TIMEOUT_S = 8.0  # as upstream (auto_run.py gives `make sim` 8 s); every reference needs < 0.1 s on Icarus
_SKIP = {"makefile", "testbench.v", "design_description.txt"}
_KEYWORDS = {"module", "begin", "end", "if", "else", "for", "while", "case", "assign", "always", "initial",
             "wire", "reg", "input", "output", "inout", "integer", "real", "parameter", "localparam", "genvar",
             "generate", "function", "task", "repeat", "forever", "logic", "bit", "int", "return", "default"}

RTLLM_CLASSES = {
    "passed": "testbench printed its pass message",
    "compile_error": "did not compile (upstream: syntax failure)",
    "no_pass": "simulation finished without the pass message",
    "timeout": f"simulation did not finish within {TIMEOUT_S:.0f} s",
    "rejected": "hwagent safety check rejected the design",
}


def instantiated_modules(text: str) -> list[str]:
    """Module types instantiated in `text` (`name [#(...)] inst (`), first occurrence order."""
    code = _strip_comments(text)
    found = []
    pattern = r"^\s*(\w+)\b\s*(?:#\s*\((?:[^()]|\([^()]*\))*\))?\s*\b(\w+)\s*\("
    for match in re.finditer(pattern, code, re.MULTILINE):
        name = match.group(1)
        if name not in _KEYWORDS and match.group(2) not in _KEYWORDS and name not in found:
            found.append(name)
    return found


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)


def map_reference(reference: str, dut: str) -> str:
    """Rename the reference's top module (the one no other module instantiates) to `dut`."""
    defined = defined_modules(reference)
    if dut in defined:
        return reference
    used = set(instantiated_modules(reference))
    tops = [name for name in defined if name not in used]
    if len(tops) != 1:
        raise ValueError(f"cannot tell the top module among {defined}")
    return re.sub(rf"\b{re.escape(tops[0])}\b", dut, reference)


class RTLLMv2(Suite):
    failure_classes: ClassVar[dict[str, str]] = RTLLM_CLASSES
    default_timeout_s: ClassVar[float] = TIMEOUT_S

    def load(self) -> list[Problem]:
        problems = []
        for testbench_file in sorted(self.root.rglob("testbench.v"), key=lambda p: p.parent.name):
            folder = testbench_file.parent
            testbench = testbench_file.read_text(errors="replace")
            tb_modules = defined_modules(testbench)
            dut = next(name for name in instantiated_modules(testbench) if name not in tb_modules)
            verified = sorted(folder.glob("verified_*.v"))
            reference = map_reference(verified[0].read_text(errors="replace"), dut)
            data = tuple(sorted(p for p in folder.iterdir()
                                if p.is_file() and p.name not in _SKIP and not p.name.startswith("verified_")))
            problems.append(Problem(
                id=folder.name, suite=self.id, prompt=(folder / "design_description.txt").read_text(errors="replace"),
                interface=module_header(reference, dut), testbench=testbench, reference=reference, top_module=dut,
                testbench_top=tb_modules[0], data_files=data, description=str(folder.relative_to(self.root))))
        return problems

    def job(self, problem: Problem, sample: str) -> IcarusJob:
        """auto_run.py's run on Icarus: VCS's default timescale, the design, the testbench, its data files."""
        sources = (Source("timescale.v", "`timescale 1ns/1ns\n", "trusted"),
                   Source(f"{problem.top_module}.v", sample, "design"),
                   Source("testbench.v", problem.testbench, "testbench"))
        return IcarusJob(problem.id, sources, problem.testbench_top, judge_rtllm, timeout_s=self.default_timeout_s,
                         data_files=problem.data_files, fail_pattern=FAILURE_LINE)


def judge_rtllm(task_id: str, raw: IcarusRun, text: str) -> Verdict:
    """Syntax success iff it compiled; functional success iff it finished in time printing "Pass"/"pass"."""
    if raw.rejected:
        detail = "\n".join(f"{d.position()}: {d.message}" for d in raw.rejected)
        return Verdict(task_id, False, "failed: rejected by safety check.", "rejected", detail)
    if not raw.compiled and not raw.timed_out:
        errors = [line for line in raw.compile_log.splitlines() if line.strip()][:8]
        return Verdict(task_id, False, "failed: compile error.", "compile_error", "\n".join(errors))
    if raw.timed_out:
        return Verdict(task_id, False, "timed out", "timeout", f"timed out during {raw.timed_out_in}")
    if any("Pass" in line or "pass" in line for line in raw.report_lines):
        return Verdict(task_id, True, "passed", "passed", "")
    shown = [line for line in raw.report_lines if line.strip()][-8:]
    return Verdict(task_id, False, "failed: pass message not printed.", "no_pass", "\n".join(shown))
