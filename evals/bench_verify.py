"""Benchmark: the cost of verify's sandboxed lint + simulation per agent iteration, against bare tool runs.

The baseline is `iverilog -g2012 -o sim.vvp ... && vvp -n sim.vvp` on the same files, timed in the same run. The
sandbox's own cost is the same hwagent simulation with and without bubblewrap (verify.sandbox.unsandboxed),
interleaved in the same run: `sandbox_ratio` and `sandbox_ms`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from verify import sandbox, tools
from verify.lint import lint
from verify.ppa import synthesize
from verify.sim import simulate_native

TARGETS = {"overhead_ratio": 1.25, "lint_plus_sim_s": 2.0, "ppa_s": 20.0}


@dataclass
class VerifyBench:
    design: str
    iterations: int
    bare_sim_s: float
    hwagent_sim_s: float
    overhead_ratio: float
    unsandboxed_sim_s: float
    sandbox_ratio: float
    sandbox_ms: float
    isolation: str
    lint_s: float
    lint_plus_sim_s: float
    ppa_s: float | None
    ppa_design: str

    def to_dict(self) -> dict:
        return asdict(self) | {"targets": TARGETS}


def verilog_eval_case(data_dir: Path | None) -> tuple[list[Path], list[Path], str, str]:
    """A VerilogEval v2 problem (reference as the design) when the data is there, else the bundled example."""
    if data_dir:
        base = data_dir / "verilog-eval-v2" / "dataset_spec-to-rtl"
        ref, test = base / "Prob050_kmap1_ref.sv", base / "Prob050_kmap1_test.sv"
        if ref.is_file() and test.is_file():
            top_module = Path(tempfile.mkdtemp(prefix="hwagent-bench-")) / "TopModule.sv"
            top_module.write_text(ref.read_text().replace("module RefModule", "module TopModule"))
            return [top_module], [test, ref], "tb", "verilog-eval-v2 Prob050_kmap1"
    example = resources.files("spec_templates") / "examples" / "mac_array"
    return ([Path(str(example / "mac_array.v"))], [Path(str(example / "mac_array_tb.v"))], "mac_array_tb",
            "bundled 4x4 MAC array")


def _bare(design: list[Path], testbench: list[Path], top: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([tools.iverilog().path, "-g2012", "-o", "sim.vvp", "-s", top, *map(str, testbench + design)],
                       cwd=tmp, check=True, capture_output=True)
        subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp, check=True, capture_output=True)
        return time.perf_counter() - start


def run(iterations: int = 10, with_ppa: bool = True, progress=None) -> VerifyBench:
    data = os.environ.get("HWAGENT_DATA_DIR")
    design, testbench, top, label = verilog_eval_case(Path(data) if data else None)
    bare, ours, unsandboxed, lint_times = [], [], [], []
    for index in range(iterations):  # interleaved, so drift in machine load hits both sides alike
        bare.append(_bare(design, testbench, top))
        start = time.perf_counter()
        result = simulate_native(design, testbench, top, keep="never")
        ours.append(time.perf_counter() - start)
        if not result.passed:
            raise RuntimeError(f"benchmark design did not pass: {result.summary()}")
        with sandbox.unsandboxed():
            start = time.perf_counter()
            simulate_native(design, testbench, top, keep="never")
            unsandboxed.append(time.perf_counter() - start)
        start = time.perf_counter()
        lint(design)
        lint_times.append(time.perf_counter() - start)
        if progress:
            progress(index + 1, iterations)
    ppa_s, mac = None, Path(str(resources.files("spec_templates") / "examples" / "mac_array" / "mac_array.v"))
    if with_ppa:
        start = time.perf_counter()
        synthesize([mac], "mac_array", use_cache=False)
        ppa_s = time.perf_counter() - start
    bare_s, ours_s, open_s, lint_s = (min(x) for x in (bare, ours, unsandboxed, lint_times))  # best of N: least noise
    return VerifyBench(design=label, iterations=iterations, bare_sim_s=bare_s, hwagent_sim_s=ours_s,
                       overhead_ratio=ours_s / bare_s, unsandboxed_sim_s=open_s, sandbox_ratio=ours_s / open_s,
                       sandbox_ms=(ours_s - open_s) * 1e3, isolation=sandbox.isolation().description,
                       lint_s=lint_s, lint_plus_sim_s=lint_s + ours_s,
                       ppa_s=ppa_s, ppa_design="bundled 4x4 int8 MAC array")
