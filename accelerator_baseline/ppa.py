"""PPA of the baseline accelerator's units and top through verify.ppa (Yosys -> OSU018 -> OpenSTA).

verify.ppa.synthesize takes no parameter overrides, so each unit is synthesized from copies of the RTL
files whose parameter defaults are rewritten (`parameter R = 16` -> `parameter R = 4`); results are cached
by verify by content hash. Technology: OSU018 0.18 um; see verify.ppa.ASSUMPTIONS for the STA assumptions.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from accelerator_baseline.sim import RTL_FILES, rtl_dir

CLOCK_MHZ = 100.0
ACTIVITY = 0.1


@dataclass(frozen=True)
class PPATarget:
    name: str
    top: str
    files: tuple[str, ...]
    parameters: tuple[tuple[str, int], ...] = ()
    note: str = ""


def targets(rows: int = 16) -> list[PPATarget]:
    """Units at the given array size (lanes = rows), one buffer bank, and the top at the smallest legal shape
    (tokens = d = d_ff = rows, one head) so that its flip-flop buffers stay synthesizable."""
    r = rows
    return [
        PPATarget("pe", "pe", ("pe.v",), note="one processing element"),
        PPATarget(f"systolic_array_{r}x{r}", "systolic_array", ("pe.v", "systolic_array.v"),
                  (("R", r), ("C", r)), note="PEs, skew, row drain, de-skew"),
        PPATarget(f"requant_{r}", "requant", ("requant.v",), (("LANES", r), ("IN_W", 40))),
        PPATarget(f"vector_unit_{r}", "vector_unit", ("vector_unit.v",), (("LANES", r),),
                  note="softmax, LayerNorm, isqrt, divider, i-GELU lanes"),
        PPATarget(f"buffer_{r * 8}b_x64", "sram_1w1r", ("buffers.v",), (("WIDTH", r * 8), ("DEPTH", 64)),
                  note="one 64-word operand buffer bank as flip-flops (no SRAM macros in OSU018)"),
        PPATarget(f"qblock_top_R{r}_min", "qblock_top", RTL_FILES,
                  (("R", r), ("L", r), ("D", r), ("H", 1), ("DFF", r)),
                  note="whole top incl. all buffers as flip-flops, smallest shape (L=d=d_ff=R, 1 head)"),
    ]


def with_parameters(source: str, parameters: dict[str, int]) -> str:
    for name, value in parameters.items():
        source = re.sub(rf"(\bparameter\s+{name}\s*=\s*)\d+", rf"\g<1>{value}", source)
    return source


def synthesize_target(t: PPATarget, clock_mhz: float = CLOCK_MHZ, activity: float = ACTIVITY,
                      timeout_s: float = 3600.0):
    """verify.ppa.synthesize on the target (raises verify.ppa.SynthesisError / ImportError if unavailable)."""
    from verify.ppa import synthesize

    params = dict(t.parameters)
    with tempfile.TemporaryDirectory(prefix="hwagent-ppa-src-") as tmp:
        files = []
        for name in t.files:
            text = (rtl_dir() / name).read_text()
            path = Path(tmp) / name
            path.write_text(with_parameters(text, params))
            files.append(path)
        report = synthesize(files, t.top, clock_mhz=clock_mhz, activity=activity, timeout_s=timeout_s)
    if report.netlist and report.fmax_mhz is None:
        retime_split_assigns(report, t.top, timeout_s)
    return report


_DECL = re.compile(r"^\s*(?:wire|input|output|reg)\s+\[(\d+):(\d+)\]\s+\\?(\S+?)\s*;", re.MULTILINE)
_CONST = re.compile(r"^(\d+)'([bhd])([0-9a-fA-FxXzZ]+)$")
_REF = re.compile(r"^\\?([^\s\[]+)\s*(?:\[(\d+)(?::(\d+))?\])?$")


def _bits(element: str, widths: dict[str, tuple[int, int]]) -> list[str] | None:
    """One concatenation element as a list of single-bit expressions, MSB first (None if not understood)."""
    element = element.strip()
    const = _CONST.match(element)
    if const:
        width, base, digits = int(const.group(1)), const.group(2), const.group(3)
        if "x" in digits.lower() or "z" in digits.lower():
            return None
        value = int(digits, {"b": 2, "h": 16, "d": 10}[base])
        return [f"1'b{(value >> i) & 1}" for i in range(width - 1, -1, -1)]
    ref = _REF.match(element)
    if not ref:
        return None
    name, hi, lo = ref.group(1), ref.group(2), ref.group(3)
    if hi is None:
        if name not in widths:
            return [name]
        hi, lo = widths[name]
        return [f"{name}[{i}]" for i in range(hi, lo - 1, -1)]
    if lo is None:
        return [f"{name}[{hi}]"]
    step = -1 if int(hi) >= int(lo) else 1
    return [f"{name}[{i}]" for i in range(int(hi), int(lo) + step, step)]


def split_concat_assigns(netlist: str) -> str:
    """Rewrite `assign { a[3:1], b } = { ... };` (which OpenSTA's Verilog reader rejects) as one assign per bit."""
    widths = {m.group(3): (int(m.group(1)), int(m.group(2))) for m in _DECL.finditer(netlist)}
    out = []
    for line in netlist.splitlines():
        m = re.match(r"^(\s*)assign\s*\{(.*)\}\s*=\s*\{(.*)\}\s*;\s*$", line)
        if m:
            lhs = [_bits(e, widths) for e in m.group(2).split(",")]
            rhs = [_bits(e, widths) for e in m.group(3).split(",")]
            if all(b is not None for b in lhs + rhs):
                lbits = [b for e in lhs for b in e]
                rbits = [b for e in rhs for b in e]
                if len(lbits) == len(rbits):
                    out += [f"{m.group(1)}assign {a} = {b};" for a, b in zip(lbits, rbits)]
                    continue
        out.append(line)
    return "\n".join(out) + "\n"


def retime_split_assigns(report, top: str, timeout_s: float) -> None:
    """Workaround for verify.ppa netlists that OpenSTA cannot parse (concatenated assign targets): split them
    and rerun verify's own STA step on the rewritten netlist; fills timing and power in `report`."""
    from verify import ppa, tools

    sta, liberty = tools.opensta(), tools.liberty()
    if not (sta.found and liberty.found):
        return
    with tempfile.TemporaryDirectory(prefix="hwagent-sta-") as tmp:
        (Path(tmp) / "netlist.v").write_text(split_concat_assigns(Path(report.netlist).read_text()))
        report.missing = [m for m in report.missing if not m.startswith(("critical_path", "power_mw"))]
        ppa._run_sta(sta, liberty, top, Path(tmp), report, None, timeout_s)
    report.assumptions.append("timing and power from the netlist with concatenated assigns split per bit "
                              "(OpenSTA cannot read them; accelerator_baseline.ppa workaround)")
