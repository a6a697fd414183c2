"""VerilogEval v2 (spec-to-rtl, code-complete) and v1 (human, machine), judged as the upstream harnesses do.

v2 (NVlabs/verilog-eval main, Makefile + scripts/sv-iv-analyze): `iverilog -Wall -Winfloop -Wno-timescale
-g2012 -s tb -o X sample.sv test.sv ref.sv`, then the simulation under `timeout 30` ("TIMEOUT" appended on
expiry). The compile and simulation log is scanned line by line; the first line that matches a failure
marker decides the class (letters as upstream), otherwise a `Mismatches: 0 in M samples` line passes.

v1 (release/1.0.0, verilog_eval/execution.py): one file `test + "\\n" + prompt + "\\n" + completion`, the same
iverilog command, `vvp -n`, 30 s for both. Any stderr fails the sample; result strings as upstream.

Differences kept on purpose (forged-report protection): only the testbench's own token-tagged lines can
supply the `Mismatches:` line, `Mismatches: 0 in 0 samples` (a run that ended early) is never a pass, and
designs that fail verify.safety are class `rejected` (`X`). v1's single
file is written as two (test, then prompt + completion) so that only the untrusted part is safety-checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

from evals.suites.base import Problem, Suite, Verdict, module_header
from verify.jobs import IcarusJob
from verify.sim import IcarusRun, Source

IVERILOG_FLAGS = ("-Wall", "-Winfloop", "-Wno-timescale", "-g2012")
TIMEOUT_S = 30.0

# sv-iv-analyze's letters, in the order it tests them on each log line, and our names for them.
V2_CLASSES = {
    ".": ("passed", "testbench reported 0 mismatches"),
    "S": ("syntax_error", "iverilog: syntax error"),
    "e": ("explicit_cast", "iverilog: assignment requires an explicit cast"),
    "0": ("zero_width_constant", "iverilog: sized numeric constant of size zero"),
    "n": ("no_sensitivities", "always block / always_comb that never triggers"),
    "w": ("declared_as_wire", "procedural assignment to a wire"),
    "m": ("unknown_module", "unknown module type"),
    "p": ("unbound_signal", "unable to bind wire/reg"),
    "c": ("unbound_clk", "unable to bind clk"),
    "T": ("timeout", "a TIMEOUT line: the 30 s limit expired, or the testbench's own cycle guard fired"),
    "C": ("compile_error", "other compile error"),
    "r": ("runtime_reset", "wrong output; the design uses an asynchronous reset (posedge/negedge reset)"),
    "R": ("runtime", "wrong output, or no Mismatches line"),
    "X": ("rejected", ("hwagent safety check rejected the design ($finish/$stop/$system, outside references, "
                      "unsafe file paths)")),
}
_V2_LINE_MARKERS = (  # (substring, letter) checked in this order; a hit ends the scan
    ("error: This assignment requires an explicit cast", "e"),
    ("error: Sized numeric constant must have a size greater than zero", "0"),
    ("warning: always_comb process has no sensitivities", "n"),
    ("found no sensitivities so it will never trigger", "n"),
    ("is declared here as wire", "w"),
    ("Unknown module type", "m"),
)
_V2_MISMATCH = re.compile(r"^Mismatches: (\d+) in (\d+) samples$")
_V1_MISMATCH = re.compile(r"Mismatches: ([0-9]*) in ([0-9]*) samples")
_HINT = re.compile(r"Hint: Output '[^']+' has \d+ mismatches")


def _first_lines(text: str, pattern: str = r"error|warning|sorry|syntax", limit: int = 8) -> str:
    lines = [line for line in text.splitlines() if re.search(pattern, line, re.IGNORECASE)]
    return "\n".join(lines[:limit])


def analyze_v2(log_lines: list[tuple[str, bool]], sample_text: str) -> tuple[str, int | None, int | None]:
    """sv-iv-analyze's decision for one sample. `log_lines`: (line, from the trusted testbench).

    Returns (letter, mismatches, samples)."""
    letter, error_c, error_p, no_mismatch = "?", False, False, False
    mismatches = samples = None
    for line, trusted in log_lines:
        if "syntax error" in line:
            letter = "S"
            break
        if "error" in line:
            error_c = True
        hit = next((code for marker, code in _V2_LINE_MARKERS if marker in line), None)
        if hit:
            letter = hit
            break
        if "Unable to bind wire/reg" in line:
            error_p = True
        if "Unable to bind wire/reg/memory `clk'" in line:
            letter = "c"
            break
        if "TIMEOUT" in line:
            letter = "T"
            break
        match = _V2_MISMATCH.match(line) if trusted else None
        if match:
            mismatches, samples = int(match[1]), int(match[2])
            no_mismatch = no_mismatch or (mismatches == 0 and samples > 0)  # 0 samples: the run ended early
    if letter == "?" and error_p:
        letter = "p"
    if letter == "?" and error_c:
        letter = "C"
    if letter == "?" and no_mismatch:
        letter = "."
    if letter == "?":
        resets = ("posedge reset", "negedge reset", "posedge r)")
        letter = "r" if any(marker in line for line in sample_text.splitlines() for marker in resets) else "R"
    return letter, mismatches, samples


def _v2_log(raw: IcarusRun) -> list[tuple[str, bool]]:
    lines = [(line, False) for line in raw.compile_log.splitlines()]
    lines += raw.sim_lines
    lines += [(line, False) for line in raw.sim_stderr.splitlines()]
    if raw.timed_out:
        lines.append(("TIMEOUT", False))
    return lines


class VerilogEvalV2(Suite):
    failure_classes: ClassVar[dict[str, str]] = {name: text for name, text in V2_CLASSES.values()}
    default_timeout_s: ClassVar[float] = TIMEOUT_S

    @property
    def task(self) -> str:
        return self.id.split(":")[1]

    @property
    def folder(self) -> Path:
        return self.root / ("dataset_spec-to-rtl" if self.task == "spec-to-rtl"
                            else "dataset_code-complete-iccad2023")

    def load(self) -> list[Problem]:
        problems = []
        for prompt_file in sorted(self.folder.glob("Prob*_prompt.txt")):
            task_id = prompt_file.name.removesuffix("_prompt.txt")
            ref = (self.folder / f"{task_id}_ref.sv").read_text()
            reference = re.sub(r"\bRefModule\b", "TopModule", ref)
            ifc_file = self.folder / f"{task_id}_ifc.txt"
            interface = ifc_file.read_text() if ifc_file.is_file() else module_header(reference, "TopModule")
            problems.append(Problem(
                id=task_id, suite=self.id, prompt=prompt_file.read_text(), interface=interface,
                testbench=(self.folder / f"{task_id}_test.sv").read_text(), reference=reference,
                top_module="TopModule", testbench_top="tb", trusted=((f"{task_id}_ref.sv", ref),)))
        return problems

    def complete(self, problem: Problem, sample: str) -> str:
        """Upstream code-complete convention: a completion without `module TopModule` gets the interface."""
        if self.task == "code-complete" and not re.search(r"^\s*module\s+TopModule\b", sample, re.MULTILINE):
            return problem.interface + "\n\n" + sample
        return sample

    def job(self, problem: Problem, sample: str) -> IcarusJob:
        """The Makefile's run: the sample first, then the testbench and the reference (`timescale` order)."""
        sources = (Source(f"{problem.id}_sample.sv", self.complete(problem, sample), "design"),
                   Source(f"{problem.id}_test.sv", problem.testbench, "testbench"),
                   *(Source(name, body, "trusted") for name, body in problem.trusted))
        return IcarusJob(problem.id, sources, problem.testbench_top, judge_v2, flags=IVERILOG_FLAGS,
                         timeout_s=self.default_timeout_s)


def judge_v2(task_id: str, raw: IcarusRun, text: str) -> Verdict:
    """sv-iv-analyze's class of one finished run, with the detail lines that explain it."""
    if raw.rejected:
        detail = "\n".join(f"{d.position()}: {d.message}" for d in raw.rejected)
        return Verdict(task_id, False, "X", "rejected", detail)
    letter, mismatches, samples = analyze_v2(_v2_log(raw), text)
    name = V2_CLASSES[letter][0]
    if letter in "rR":
        hints = [line for line in raw.report_lines if _HINT.search(line)]
        detail = "\n".join(hints[:6]) or _first_lines(raw.sim_log, r".", 12)
    elif letter == "T":
        detail = "simulation timed out" if raw.timed_out else _first_lines(raw.sim_log, "TIMEOUT")
    else:
        detail = _first_lines(raw.compile_log + raw.sim_log)
    return Verdict(task_id, letter == ".", letter, name, detail, mismatches, samples)


V1_CLASSES = {
    "passed": "passed",
    "syntax_error": "failed: syntax error.",
    "compile_error": "failed: compile error. (anything on stderr, warnings included)",
    "mismatch": "failed: N out of M samples.",
    "no_result": "failed: info string not matched.",
    "timeout": "timed out",
    "rejected": "hwagent safety check rejected the design",
}


class VerilogEvalV1(Suite):
    failure_classes: ClassVar[dict[str, str]] = V1_CLASSES
    default_timeout_s: ClassVar[float] = TIMEOUT_S

    def load(self) -> list[Problem]:
        kind = "Human" if self.id.endswith(":human") else "Machine"
        descriptions = {}
        description_file = self.root / "descriptions" / f"VerilogDescription_{kind}.jsonl"
        if description_file.is_file():
            for line in description_file.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    descriptions[row["task_id"]] = row["detail_description"]
        problems = []
        for line in (self.root / "data" / f"VerilogEval_{kind}.jsonl").read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            description = descriptions.get(row["task_id"], "")
            problems.append(Problem(
                id=row["task_id"], suite=self.id, prompt=description, interface=row["prompt"],
                testbench=row["test"], reference=row["canonical_solution"], top_module="top_module",
                testbench_top="tb", description=description))
        return problems

    def as_sample(self, problem: Problem, module_text: str) -> str:
        """A human-eval completion: the module without its `module top_module (...);` header."""
        match = re.search(r"^\s*module\s+top_module\b.*?\);", module_text, re.DOTALL | re.MULTILINE)
        return module_text[match.end():] if match else module_text

    def job(self, problem: Problem, sample: str) -> IcarusJob:
        """execution.py's run: test, then prompt + completion (two files, so only the latter is checked)."""
        sources = (Source(f"{problem.id}_test.sv", problem.testbench + "\n", "testbench"),
                   Source(f"{problem.id}.sv", problem.interface + "\n" + sample, "design"))
        return IcarusJob(problem.id, sources, problem.testbench_top, judge_v1, flags=IVERILOG_FLAGS,
                         timeout_s=self.default_timeout_s)


def judge_v1(task_id: str, raw: IcarusRun, text: str) -> Verdict:
    """execution.py's decision, in its order: timeout, syntax error, any stderr, the Mismatches line."""
    if raw.rejected:
        detail = "\n".join(f"{d.position()}: {d.message}" for d in raw.rejected)
        return Verdict(task_id, False, "failed: rejected by safety check.", "rejected", detail)
    err = raw.compile_stderr + raw.sim_stderr
    if not raw.compiled and not err:  # upstream then runs vvp on a missing file, which prints on stderr
        err = "vvp: Unable to open input file."
    if raw.timed_out:
        return Verdict(task_id, False, "timed out", "timeout", f"timed out during {raw.timed_out_in}")
    if "syntax error" in err:
        return Verdict(task_id, False, "failed: syntax error.", "syntax_error", _first_lines(err))
    if err:
        return Verdict(task_id, False, "failed: compile error.", "compile_error", _first_lines(err, "."))
    match = next((m for line in raw.report_lines if (m := _V1_MISMATCH.search(line))), None)
    if not match:
        return Verdict(task_id, False, "failed: info string not matched.", "no_result",
                       _first_lines(raw.sim_log, ".", 12))
    wrong, total = int(match[1] or 0), int(match[2] or 0)
    if wrong == 0 and total > 0:  # "0 in 0 samples": the run ended before the testbench checked anything
        return Verdict(task_id, True, "passed", "passed", "", wrong, total)
    hints = "\n".join(line for line in raw.report_lines if _HINT.search(line))
    return Verdict(task_id, False, f"failed: {wrong} out of {total} samples.", "mismatch", hints, wrong, total)
