"""Each suite's upstream generation convention: the messages of one sample and how its code is taken from the
answer (prompts/eval/README.md names the source of every convention).

    convention = convention_for(suite)
    messages = convention.messages(task)          # (system, user)
    sample = convention.sample(task, answer)      # what the suite's judge scores (suite.as_sample applied)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.extract import extract_verilog
from evals.suites import Problem, Suite
from prompts import render


class ConventionError(ValueError):
    """A convention cannot be applied (e.g. in-context examples asked for but not available)."""


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float | None
    max_tokens: int


def default_sampling(samples: int, temperature: float | None = None, top_p: float | None = None,
                     max_tokens: int = 1024) -> Sampling:
    """VerilogEval v2's two settings: n = 1 greedy (0 / 0.01), n > 1 sampled (0.85 / 0.95); overrides win."""
    greedy = samples == 1
    return Sampling(temperature if temperature is not None else (0.0 if greedy else 0.85),
                    top_p if top_p is not None else (0.01 if greedy else 0.95), max_tokens)


class Convention:
    name = "hwagent"

    def __init__(self, suite: Suite, examples: int = 0, rules: bool = False):
        self.suite, self.examples, self.rules = suite, examples, rules

    def messages(self, task: Problem) -> tuple[str, str]:
        raise NotImplementedError

    def sample(self, task: Problem, answer: str) -> str:
        """The sample the suite scores, from the model's answer."""
        extraction = extract_verilog(answer, task.top_module)
        return self.suite.as_sample(task, extraction.code or "")


class VerilogEvalV2(Convention):
    name = "NVlabs/verilog-eval scripts/sv-generate"

    @property
    def task_kind(self) -> str:
        return self.suite.id.split(":")[1]

    def messages(self, task: Problem) -> tuple[str, str]:
        system = render("eval/verilog_eval_v2_system.j2", task=self.task_kind)
        examples = self._examples()
        if self.task_kind == "spec-to-rtl":
            return system, render("eval/verilog_eval_v2_spec_to_rtl.j2", examples=examples, prompt=task.prompt,
                                  rules=self.rules)
        description, header = _split_at_module(task.prompt, task.top_module)
        return system, render("eval/verilog_eval_v2_code_complete.j2", examples=examples, description=description,
                              header=header)

    def _examples(self) -> str:
        if not self.examples:
            return ""
        task = "spec-to-rtl" if self.task_kind == "spec-to-rtl" else "code-complete-iccad2023"
        path = Path(self.suite.root) / "scripts" / f"verilog-example-prefix_{task}_{self.examples}-shot.txt"
        if not path.is_file():
            raise ConventionError(f"--examples {self.examples} needs upstream's in-context examples ({path}): "
                                  f"`hwagent eval fetch verilog-eval-v2` clones them")
        return path.read_text()

    def sample(self, task: Problem, answer: str) -> str:
        if self.task_kind == "spec-to-rtl":
            marked = _between_markers(answer)
            if marked is not None:
                return marked
        return _fenced_completion(answer, task.top_module, task.interface if self.task_kind == "code-complete" else "")


class VerilogEvalV1(Convention):
    name = "VerilogEval v1 completion (header given), with sv-generate's code-complete convention"

    def messages(self, task: Problem) -> tuple[str, str]:
        system = render("eval/verilog_eval_v2_system.j2", task="code-complete")
        return system, render("eval/verilog_eval_v1.j2", description=task.prompt.strip().splitlines(),
                              header=task.interface)

    def sample(self, task: Problem, answer: str) -> str:
        return self.suite.as_sample(task, _fenced_completion(answer, task.top_module, task.interface))


class RTLLMv2(Convention):
    name = "hkust-zhiyao/RTLLM design_description.txt"

    def messages(self, task: Problem) -> tuple[str, str]:
        return render("system.j2"), render("eval/rtllm_v2.j2", description=task.prompt)


class MFMAccel(Convention):
    name = "hwagent mfm-accel spec"

    def messages(self, task: Problem) -> tuple[str, str]:
        return render("system.j2"), render("eval/mfm_accel.j2", prompt=task.prompt, top=task.top_module)


CONVENTIONS: dict[str, type[Convention]] = {"verilog-eval-v2": VerilogEvalV2, "verilog-eval-v1": VerilogEvalV1,
                                            "rtllm-v2": RTLLMv2, "mfm-accel": MFMAccel}


def convention_for(suite: Suite, examples: int = 0, rules: bool = False) -> Convention:
    family = suite.id.split(":")[0]
    if examples and family != "verilog-eval-v2":
        raise ConventionError(f"--examples applies to VerilogEval v2 only, not {suite.id}")
    if rules and family != "verilog-eval-v2":
        raise ConventionError(f"--rules applies to VerilogEval v2 only, not {suite.id}")
    return CONVENTIONS[family](suite, examples, rules)


def _split_at_module(prompt: str, top: str) -> tuple[list[str], str]:
    """A code-complete prompt: the description lines before `module <top>`, and the rest."""
    lines = prompt.splitlines()
    start = next((i for i, line in enumerate(lines) if f"module {top}" in line), len(lines))
    return lines[:start], "\n".join(lines[start:])


def _between_markers(answer: str) -> str | None:
    """sv-generate's spec-to-rtl extraction: the lines from `[BEGIN]` to `[DONE]`; None when there is no
    `[BEGIN]` at all (the fence fallback applies), "" when it is not closed."""
    lines, inside, done = [], False, False
    for line in answer.splitlines():
        if not inside:
            if line.lstrip().startswith("[BEGIN]"):
                inside = True
                rest = line.lstrip().replace("[BEGIN]", "")
                if line.strip() != "[BEGIN]":
                    lines.append(rest)
        elif not done:
            if line.strip() == "[DONE]":
                done = True
            elif line.rstrip().endswith("[DONE]"):
                lines.append(line.rstrip().replace("[DONE]", ""))
                done = True
            else:
                lines.append(line)
    if not inside:
        return None
    return "\n".join(lines) + "\n" if done else ""


def _fenced_completion(answer: str, top: str, interface: str) -> str:
    """sv-generate's fence extraction: with two or more fence lines, the lines inside the first fence; else the
    lines up to the first `endmodule` (from `module <top>` on when the answer has one). `interface` (a
    completion task) is put in front when the answer does not declare the module itself."""
    lines = answer.splitlines()
    fences = sum(1 for line in lines if line.startswith("```"))
    declares = _declares_module(lines, top)
    out, opened, closed, seen_module, seen_end = [], False, False, False, False
    for line in lines:
        keep = True
        seen_module = seen_module or line.strip().startswith(f"module {top}")
        if fences >= 2:
            keep = opened and not closed
        elif seen_end or (declares and not seen_module):
            keep = False
        if line.startswith("```"):
            closed, opened, keep = opened, True, False
        elif line.strip().startswith("endmodule"):
            seen_end = True
        if keep:
            out.append(line)
    body = "\n".join(out) + "\n"
    return (interface.strip() + "\n\n" + body) if interface and not declares else body


def _declares_module(lines: list[str], top: str) -> bool:
    """A line starting `module <top>` that is not preceded by an `endmodule` line."""
    for line in lines:
        if line.startswith("endmodule"):
            return False
        if line.startswith(f"module {top}"):
            return True
    return False

