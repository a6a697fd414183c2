"""Accelerator units as spec recipes: behaviour text, interface (read from the baseline RTL header), latency
contract, and golden test vectors computed with the shared golden model (accelerator_baseline.golden).

A recipe + parameter values + a workload context gives one `Spec` (spec_templates.spec), its vectors and a
cocotb testbench rendered from stream_tb.py.j2. The baseline module is the reference implementation.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from accelerator_baseline import golden as G
from spec_templates.spec import Clock, Latency, Parameter, Port, PPABudget, Reset, Spec, Testbench
from spec_templates.templates import render, render_text
from verify.ports import InterfaceError, read_interface

RTL_DIR = Path(str(resources.files("accelerator_baseline").joinpath("rtl")))  # the expert baseline
OWN_RTL_DIR = Path(str(resources.files("spec_templates").joinpath("rtl")))  # small units it lacks


def rtl_header(module: str, path: Path) -> tuple[list[Parameter], list[Port]]:
    """Parameters and ports of `module` as declared in `path` (widths kept as expressions over parameters)."""
    try:
        interface = read_interface(path.read_text(), module, file=str(path))
    except InterfaceError:
        raise ValueError(f"{path.name}: no module {module}") from None
    params = [Parameter(name=name, default=value) for name, value in interface.parameters.items()]
    ports = [Port(name=p.name, direction=p.direction, width=p.width_expr, signed=p.signed) for p in interface.ports]
    return params, ports


def rtl_latency(path: Path) -> int:
    """The pipeline latency stated in a baseline module's header comment ("N-cycle latency")."""
    match = re.search(r"(\d+)-cycle latency", path.read_text())
    if match is None:
        raise ValueError(f"{path.name}: no 'N-cycle latency' in its header comment")
    return int(match.group(1))


def requant_latency() -> int:
    return rtl_latency(RTL_DIR / "requant.v")


def gelu_latency() -> int:
    return rtl_latency(RTL_DIR / "igelu.v")


def pack(values, width: int) -> int:
    """Lanes (lane 0 in the low bits) into one unsigned integer."""
    mask = (1 << width) - 1
    return sum((int(v) & mask) << (width * i) for i, v in enumerate(values))


@dataclass
class Unit:
    """A spec recipe for one baseline module."""

    key: str
    module: str
    files: tuple[str, ...]
    title: str
    behaviour: str  # Jinja Markdown over `p` (parameter values) and `ctx` (workload constants)
    port_notes: dict[str, str]
    latency: Callable[[dict[str, int]], Latency]
    vectors: Callable[[dict[str, int], dict, random.Random], list[dict[str, int]]]
    outputs: Callable[[dict[str, int]], list[tuple[str, int, int, bool]]]  # (port, lane width, lanes, signed)
    one_to_one_latency: Callable[[dict[str, int]], int | None] = lambda p: None
    timeout_cycles: Callable[[dict[str, int]], int] = lambda p: 2000
    out_valid: str = "out_valid"
    serial: bool = False  # one operation at a time (start ... out_valid)
    custom_tb: Callable[[dict[str, int]], str] | None = None  # instead of the streaming testbench
    rtl_dir: Path = RTL_DIR
    extra_files: tuple[str, ...] = field(default=())

    def paths(self) -> list[Path]:
        return [self.rtl_dir / name for name in self.files]

    def header(self) -> tuple[list[Parameter], list[Port]]:
        return rtl_header(self.module, self.rtl_dir / self.files[0])

    def build(self, params: dict[str, int], ctx: dict, *, seed: int = 1, ppa: PPABudget | None = None,
              source: str = "", tb_path: str = "tb.py", vectors_path: str = "vectors.json",
              clock_ns: float = 10.0) -> tuple[Spec, list[dict[str, int]], str]:
        """(spec, golden vectors, cocotb testbench source) for these parameter values."""
        declared, ports = self.header()
        unknown = set(params) - {p.name for p in declared}
        if unknown:
            raise ValueError(f"{self.key}: unknown parameter(s) {', '.join(sorted(unknown))}")
        values = {p.name: p.default for p in declared} | params
        parameters = [Parameter(name=p.name, default=values[p.name], description=self.port_notes.get(p.name, ""))
                      for p in declared]
        ports = [port.model_copy(update={"description": self.port_notes.get(port.name, "")}) for port in ports]
        latency = self.latency(values)
        description = render_text(self.behaviour, p=values, ctx=ctx | {"latency": latency.cycles})
        rst = next(p.name for p in ports if p.name in ("rst", "rst_n"))
        spec = Spec(name=self.module, title=self.title, description=description, parameters=parameters, ports=ports,
                    clock=Clock(name="clk"), reset=Reset(name=rst, active_low=rst == "rst_n", synchronous=True),
                    latency=latency, ppa=ppa,
                    testbench=Testbench(kind="cocotb", path=tb_path, vectors_path=vectors_path), source=source)
        vectors = self.vectors(values, ctx, random.Random(seed))
        inputs = [p.name for p in ports if p.direction == "input" and p.name not in ("clk", rst)]
        if self.custom_tb is not None:
            return spec, vectors, self.custom_tb(values)
        tb = render_testbench(self.module, inputs, self.outputs(values), self.out_valid, rst, rst != "rst_n",
                              self.one_to_one_latency(values), self.timeout_cycles(values), clock_ns,
                              self.serial)
        return spec, vectors, tb


def render_testbench(module: str, inputs: list[str], outputs: list[tuple[str, int, int, bool]], out_valid: str,
                     reset: str, reset_active_high: bool, latency: int | None, timeout_cycles: int,
                     clock_ns: float, serial: bool = False) -> str:
    return render("stream_tb.py.j2", trim=False, module=module, clock="clk", clock_ns=clock_ns, reset=reset,
                                        reset_active=1 if reset_active_high else 0, inputs=repr(inputs),
                                        outputs=repr(outputs), out_valid=out_valid, latency=repr(latency),
                                        timeout_cycles=timeout_cycles, serial=serial)


# --- golden vector generators ------------------------------------------------------------------------
def _requant_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    lanes, in_w = p["LANES"], p["IN_W"]
    max_shift = 63
    workload = [tuple(pair) for pair in ctx.get("requant_params", [])] or [(16384, 20)]
    rows: list[dict[str, int]] = []
    expected: list[dict[str, int]] = []
    corner = [(2 ** (in_w - 1) - 1, 32767, 1), (-(2 ** (in_w - 1)), 32767, 1), (1000, 16384, 15), (-3, 16384, 15)]
    for beat in range(48):
        if beat < len(corner):
            value, mult, shift = corner[beat]
            xs = [value] * lanes
        else:
            mult, shift = workload[beat % len(workload)] if beat % 2 else (rng.randint(0, 32767), rng.randint(1, max_shift))
            span = rng.randint(4, in_w - 1)
            xs = [rng.randint(-(2**span), 2**span - 1) for _ in range(lanes)]
        res_en = int(beat % 3 == 0)
        res = [rng.randint(-128, 127) for _ in range(lanes)]
        y = G.requant(np.array(xs), G.RequantParams(mult, shift), out_bits=16 if res_en else 8,
                      residual=np.array(res) if res_en else None)
        rows.append({"in_valid": 1, "in_vec": pack(xs, in_w), "res_vec": pack(res, 8), "res_en": res_en,
                     "mult": mult, "shift": shift})
        expected.append({"out_vec": pack(y, 16)})
    return rows + expected


def _gemm_tile_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    rows_n, cols_n = p["R"], p["C"]
    ks = [cols_n, cols_n + 3, 2 * cols_n, max(cols_n, ctx.get("k", cols_n) % 97 or cols_n)]
    beats: list[dict[str, int]] = []
    expected: list[dict[str, int]] = []
    for tile, k in enumerate(ks):
        if tile == 0:  # extreme operands: every product is (-128) * (-128)
            a = np.full((rows_n, k), -128)
            b = np.full((k, cols_n), -128)
        else:
            a = np.array([[rng.randint(-128, 127) for _ in range(k)] for _ in range(rows_n)])
            b = np.array([[rng.randint(-128, 127) for _ in range(cols_n)] for _ in range(k)])
        c = G.gemm_int(a, b)
        for step in range(k):
            beats.append({"in_valid": 1, "in_first": int(step == 0), "in_last": int(step == k - 1),
                          "a_vec": pack(a[:, step], 8), "b_vec": pack(b[step, :], 8)})
        expected += [{"out_vec": pack(c[:, col], 32)} for col in range(cols_n)]
    return beats + expected


UNITS: dict[str, Unit] = {}


def register(unit: Unit) -> Unit:
    UNITS[unit.key] = unit
    return unit


register(Unit(
    key="requant", module="requant", files=("requant.v",), title="Multi-lane requantiser (int accumulator to int8/int16)",
    behaviour="""\
Rescales {{ p.LANES }} signed {{ p.IN_W }}-bit values (GEMM accumulators plus bias, or i-GELU outputs) by the
fixed-point factor `mult / 2**shift` and saturates, as after every quantised GEMM of the transformer block.

For every lane l, on an input beat (`in_valid` = 1):

    x        = signed in_vec[l*{{ p.IN_W }} +: {{ p.IN_W }}]
    scaled   = (x * mult + 2**(shift-1)) >>> shift        (exact product, round half up, arithmetic shift)
    res_en=0: y = saturate(scaled, -128, 127)              (sign-extended to 16 bits)
    res_en=1: y = saturate(scaled + signed res_vec[l*8 +: 8], -32768, 32767)   (residual add before LayerNorm)
    out_vec[l*16 +: 16] = y

All inputs of a beat (in_vec, res_vec, res_en, mult, shift) are sampled on the same rising edge; the result
appears on `out_vec` with `out_valid` = 1 exactly {{ ctx.latency }} rising edges later (one beat per cycle, fully
pipelined). `shift` is 1..63 and `mult` is an unsigned 15-bit multiplier; the product needs IN_W+16 bits and
the rounding constant 2**(shift-1) up to 63 bits, so size the intermediates for both.
{% if ctx.get("requant_params") %}

Workload constants (from the profiled activation ranges, `(mult, shift)` per GEMM output):
{% for name, pair in ctx.requant_table %}
- `{{ name }}`: mult = {{ pair[0] }}, shift = {{ pair[1] }}
{% endfor %}
{% endif %}
""",
    port_notes={"LANES": "parallel lanes", "IN_W": "input width per lane", "clk": "clock",
                "rst": "synchronous active-high reset (clears the valid pipeline)", "in_valid": "input beat valid",
                "in_vec": "LANES signed IN_W-bit inputs, lane 0 in the low bits",
                "res_vec": "LANES signed int8 residuals", "res_en": "add the residual and saturate to int16",
                "mult": "unsigned multiplier", "shift": "right shift, 1..63", "out_valid": "out_vec holds a result",
                "out_vec": "LANES signed 16-bit results"},
    latency=lambda p: Latency(kind="fixed", cycles=requant_latency(), initiation_interval=1,
                              description=f"out_valid is in_valid delayed by {requant_latency()} cycles; "
                                          "cleared by rst."),
    vectors=_requant_vectors, outputs=lambda p: [("out_vec", 16, p["LANES"], True)],
    one_to_one_latency=lambda p: requant_latency(), timeout_cycles=lambda p: 64,
))


register(Unit(
    key="systolic_array", module="systolic_array", files=("systolic_array.v", "pe.v"),
    title="Output-stationary int8 systolic array (GEMM engine)",
    behaviour="""\
An {{ p.R }} x {{ p.C }} output-stationary systolic array computing int32 tiles of C = A x B for int8 A and B.
{% if ctx.get("mapping") %}
Chosen for the workload `{{ ctx.model }}` ({{ ctx.mapping.phase }}): {{ ctx.mapping.rows }} x {{ ctx.mapping.cols }}
{{ ctx.mapping.dataflow }}, predicted {{ ctx.mapping.total_cycles }} cycles per inference at
{{ "%.1f" | format(100 * ctx.mapping.utilization) }}% array utilisation.
{% endif %}

Input: one beat per cycle while `in_valid` = 1, unskewed: `a_vec` is column k of the {{ p.R }} x K A tile
(lane r = row r, signed int8, lane r at bits [8r+7:8r]) and `b_vec` is row k of the K x {{ p.C }} B tile
(lane c = column c). `in_first` marks k = 0 and `in_last` marks k = K-1 of a tile; tiles follow each other
back to back. K >= {{ p.C }} for every tile (a tile must occupy at least {{ p.C }} input cycles).

Output: for every tile, {{ p.C }} consecutive beats with `out_valid` = 1, column 0 first; beat c carries
column c of the result tile on `out_vec` (lane r = C[r][c], signed int32, lane r at bits [32r+31:32r]).
Tiles come out in input order. The accumulators are exact: sum over k of a[r][k] * b[k][c] in int32.
The skew of rows and columns is done inside the array (row r starts r cycles late, column c starts c late).
A tile's first output beat appears {{ 2 * p.R + p.C }} cycles after its last input beat.
""",
    port_notes={"R": "array rows", "C": "array columns", "clk": "clock",
                "rst": "synchronous active-high reset (clears valid flags)", "in_valid": "input beat valid",
                "in_first": "first beat (k = 0) of a tile", "in_last": "last beat (k = K-1) of a tile",
                "a_vec": "R signed int8 lanes: column k of A", "b_vec": "C signed int8 lanes: row k of B",
                "out_valid": "out_vec holds one result column", "out_vec": "R signed int32 lanes: one column of C"},
    latency=lambda p: Latency(kind="fixed", cycles=2 * p["R"] + p["C"], initiation_interval=1,
                              description=f"Streaming, valid only (no ready): a tile of K beats gives {p['C']} "
                                          f"output beats; the first comes {2 * p['R'] + p['C']} cycles after the "
                                          "tile's last input beat, the others on the following cycles."),
    vectors=_gemm_tile_vectors, outputs=lambda p: [("out_vec", 32, p["R"], True)],
    timeout_cycles=lambda p: 8 * (p["R"] + p["C"]) + 64,
))


# --- vector unit (softmax and LayerNorm row operations) ----------------------------------------------------
VECTOR_CONTROL = ("op", "count", "sm_pre_shift", "sm_qln2", "sm_qb", "sm_qc", "sm_zmul", "sm_xmax", "ln_shift")


def _vector_tb(p: dict[str, int]) -> str:
    return render("vector_tb.py.j2", trim=False, module="vector_unit", lanes=p["LANES"], control=repr(list(VECTOR_CONTROL)),
                                        timeout_cycles=4000)


def _softmax_rows(lanes: int, count: int, c: G.SoftmaxConstants, rng: random.Random) -> list[np.ndarray]:
    step = c.q_ln2 << c.pre_shift  # one ln 2 in raw score units
    rows = [np.full((lanes, count), 1234), np.zeros((lanes, count), dtype=np.int64)]
    rows[1][:, 0] = 40 * step  # one dominant score, the rest flushed to 0
    for _ in range(3):
        spread = rng.choice([2, 8, 24])
        rows.append(np.array([[rng.randint(-spread * step, spread * step) for _ in range(count)]
                              for _ in range(lanes)]))
    return rows


def _vector_vectors(p: dict[str, int], ctx: dict, rng: random.Random, op: int) -> list[dict[str, int]]:
    lanes, count = p["LANES"], ctx.get("count", 16)
    records: list[dict[str, int]] = []
    if op == 0:
        c = G.softmax_constants(ctx.get("softmax_scale", 0.004))
        control = {"op": 0, "count": count, "sm_pre_shift": c.pre_shift, "sm_qln2": c.q_ln2, "sm_qb": c.q_b,
                   "sm_qc": c.q_c, "sm_zmul": c.z_mul, "sm_xmax": c.x_max}
        for scores in _softmax_rows(lanes, count, c, rng):
            probs = G.softmax_int(scores, c)
            records.append({"start": 1, **control})
            records += [{"word": j, "rd_data": pack(scores[:, j], 32)} for j in range(count)]
            records += [{"wr_idx": j, "wr_data": pack(probs[:, j], 8)} for j in range(count)]
        return records
    gamma = np.array([rng.uniform(0.5, 1.5) for _ in range(count)])
    beta = np.array([rng.uniform(-0.2, 0.2) for _ in range(count)])
    c = G.layernorm_constants(gamma, beta, ctx.get("ln_out_scale", 4.0 / 127))
    control = {"op": 1, "count": count, "ln_shift": c.shift}
    pm = [((gq & 0xFFFF) << 16) | (bq & 0xFFFF) for gq, bq in zip(c.gamma_q, c.beta_q)]
    inputs = [np.full((lanes, count), -77)]  # zero variance: y = sat8(beta_q)
    inputs.append(np.array([[(32767 if j % 2 else -32768) for j in range(count)] for _ in range(lanes)]))
    for _ in range(3):
        span = rng.choice([60, 2000, 30000])
        inputs.append(np.array([[rng.randint(-span, span) for _ in range(count)] for _ in range(lanes)]))
    for x in inputs:
        y = G.layernorm_int(x, c)
        records.append({"start": 1, **control})
        records += [{"word": j, "rd_data": pack(x[:, j], 32), "pm_data": pm[j]} for j in range(count)]
        records += [{"wr_idx": j, "wr_data": pack(y[:, j], 8)} for j in range(count)]
    return records


VECTOR_BEHAVIOUR = """\
A {{ p.LANES }}-lane vector unit for the non-linear kernels of an integer transformer block (I-BERT style);
lane l processes row l of a block of {{ p.LANES }} rows. It talks to a row buffer: it issues reads
(`rd_en`, word index `rd_idx`), the buffer answers on the next cycle with `rd_data` (lane l = row l, 32 bits
per lane) and `pm_data` (per-word LayerNorm parameters), and it writes results with `wr_en`, `wr_idx`,
`wr_data` (lane l = int8 result of row l). A one-cycle `start` pulse (inputs `op`, `count` and the constants
held stable) begins an operation on `count` words; `busy` is high while it runs and `done` pulses once at
its end, after the last write. Each word index 0..count-1 is written exactly once per operation.

Operation `op` = 0, softmax (per row, scores s_j signed int32, constants from `softmax_constants`):

    m   = max_j s_j
    x_j = min(-((s_j - m) >>> sm_pre_shift), sm_xmax)
    z_j = (x_j * sm_zmul) >> 24;   r_j = x_j - z_j * sm_qln2
    e_j = ((sm_qb - r_j)**2 + sm_qc) >> z_j
    f   = floor(2**31 / sum_j e_j)      (restoring division, one quotient bit per cycle)
    p_j = min((e_j * f + 2**23) >> 24, 127)     written as int8

Operation `op` = 1, LayerNorm over `count` channels (x_j = signed low 16 bits of the lane, gamma_q = signed
pm_data[31:16], beta_q = signed pm_data[15:0] of word j):

    S1 = sum x_j, S2 = sum x_j**2, var_n = count * S2 - S1**2
    std = max(isqrt(var_n), 1)  (digit-by-digit, exact floor square root)
    inv = floor(2**31 / std)
    norm_j = ((count * x_j - S1) * inv + 2**15) >>> 16
    y_j = saturate(((norm_j * gamma_q + 2**(ln_shift-1)) >>> ln_shift) + beta_q, -128, 127)

All rounding is exact as written (>>> is an arithmetic shift). The results must be bit-identical to
`softmax_int` and `layernorm_int` of the golden model.
{% if ctx.get("softmax_constants") %}

Workload constants ({{ ctx.model }}): softmax over rows of {{ ctx.count }} scores at scale
{{ "%.3g" | format(ctx.softmax_scale) }}: {{ ctx.softmax_constants }}.
{% endif %}
{% if ctx.ln_shift is defined %}
LayerNorm over {{ ctx.count }} channels, ln_shift = {{ ctx.ln_shift }}.
{% endif %}
"""

VECTOR_NOTES = {"LANES": "rows processed in parallel", "clk": "clock", "rst": "synchronous active-high reset",
                "start": "one-cycle pulse: begin an operation", "op": "0 softmax, 1 LayerNorm",
                "count": "words per row (row length / channels)", "rd_en": "read request",
                "rd_idx": "word index to read", "rd_data": "LANES x 32-bit words, one cycle after the read",
                "pm_data": "LayerNorm gamma_q (31:16) and beta_q (15:0) of the word read",
                "wr_en": "write strobe", "wr_idx": "word index written", "wr_data": "LANES int8 results",
                "busy": "an operation is running", "done": "one-cycle pulse after the last write"}

for _key, _op, _title in (("softmax", 0, "Vector unit: softmax row operation (i-exp)"),
                          ("layernorm", 1, "Vector unit: LayerNorm row operation (integer sqrt)")):
    register(Unit(
        key=_key, module="vector_unit", files=("vector_unit.v",), title=_title,
        behaviour=VECTOR_BEHAVIOUR + f"\nThe testbench of this task exercises operation `op` = {_op}.\n",
        port_notes=VECTOR_NOTES,
        latency=lambda p: Latency(kind="handshake", initiation_interval=1,
                                  description="start/done: an operation runs until its done pulse (busy while "
                                              "running); reads are answered one cycle later."),
        vectors=lambda p, ctx, rng, op=_op: _vector_vectors(p, ctx, rng, op),
        outputs=lambda p: [], custom_tb=_vector_tb))


# --- streaming i-GELU ---------------------------------------------------------------------------------------
def _gelu_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    lanes = p["LANES"]
    c = G.gelu_constants(ctx.get("gelu_scale", 1e-3))
    beats, expected = [], []
    corner = [2**33 - 1, -(2**33), 0, 1, -1]
    for beat in range(40):
        enable = int(beat % 5 != 4)
        if beat < len(corner):
            xs = [corner[beat]] * lanes
        else:
            span = rng.randint(4, 33)
            xs = [rng.randint(-(2**span), 2**span - 1) for _ in range(lanes)]
        ys = G.gelu_int(np.array(xs), c) if enable else np.array(xs)
        beats.append({"in_valid": 1, "gelu_en": enable, "pre_shift": c.pre_shift, "qb": c.q_b, "qc": c.q_c,
                      "in_vec": pack(xs, 34)})
        expected.append({"out_vec": pack(ys, 40)})
    return beats + expected


register(Unit(
    key="igelu", module="igelu", files=("igelu.v",),
    title="Streaming integer GELU (I-BERT i-GELU)",
    behaviour="""\
Applies the I-BERT integer GELU to {{ p.LANES }} signed 34-bit lanes per beat (the int32 MLP accumulator plus
bias), fully pipelined, one beat per cycle. For lane l of an input beat (`in_valid` = 1):

    x = signed in_vec[l*34 +: 34]
    q = saturate(x >>> pre_shift, -32768, 32767)
    a = min(|q|, qb) - qb
    erf = sgn(q) * (qc - a*a)                 (0 when q = 0)
    gelu_en = 1: y = q * (erf + qc)           (fits in 40 bits)
    gelu_en = 0: y = x                        (bypass, sign-extended)
    out_vec[l*40 +: 40] = y

All inputs of a beat are sampled on the same rising edge; `out_valid` and `out_vec` follow exactly
{{ ctx.latency }} rising edges later. The constants come from `gelu_constants(scale)` of the golden model{% if ctx.get("gelu_constants") %}
(workload {{ ctx.model }}: {{ ctx.gelu_constants }}){% endif %}; the result has scale
s * 0.2888 * s_erf**2 / 2 and is requantised afterwards.
""",
    port_notes={"LANES": "parallel lanes", "clk": "clock", "rst": "synchronous active-high reset",
                "in_valid": "input beat valid", "gelu_en": "apply GELU (else pass x through)",
                "pre_shift": "arithmetic right shift before the 16-bit clamp", "qb": "q_b = floor(1.769 / s_erf)",
                "qc": "q_c = floor(1 / (0.2888 s_erf^2))", "in_vec": "LANES signed 34-bit inputs",
                "out_valid": "out_vec holds a result", "out_vec": "LANES signed 40-bit results"},
    latency=lambda p: Latency(kind="fixed", cycles=gelu_latency(), initiation_interval=1,
                              description=f"out_valid is in_valid delayed by {gelu_latency()} cycles; cleared by rst."),
    vectors=_gelu_vectors, outputs=lambda p: [("out_vec", 40, p["LANES"], True)],
    one_to_one_latency=lambda p: gelu_latency(), timeout_cycles=lambda p: 64,
))


# --- small kernels: i-exp, integer square root, reciprocal -------------------------------------------------
def _iexp_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    beats, expected = [], []
    for scale in (ctx.get("softmax_scale", 0.004), 1e-5, 0.08):
        c = G.softmax_constants(scale)
        consts = {"q_ln2": c.q_ln2, "q_b": c.q_b, "q_c": c.q_c, "z_mul": c.z_mul, "x_max": c.x_max}
        xs = [0, 1, c.q_ln2 - 1, c.q_ln2, c.x_max, c.x_max + 1, 65535]
        xs += [rng.randint(0, c.x_max) for _ in range(25)]
        for x in xs:
            beats.append({"in_valid": 1, "x": x, **consts})
            expected.append({"e": int(G.iexp(np.array(-x), c))})
    return beats + expected


def _isqrt_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    width = p["W"]
    top = (1 << width) - 1
    values = [0, 1, 2, 3, 4, 15, 16, 17, top, top - 1, (1 << (width - 2)), ((1 << (width // 2)) - 1) ** 2]
    values += [rng.randint(0, top) >> rng.randint(0, width - 1) for _ in range(20)]
    beats = [{"start": 1, "v": v} for v in values]
    return beats + [{"root": int(G.isqrt_digits(np.array(v), width))} for v in values]


def _recip_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    values = [1, 2, 3, 7, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1]
    values += [rng.randint(1, 2**32 - 1) >> rng.randint(0, 31) or 1 for _ in range(20)]
    beats = [{"start": 1, "d": d} for d in values]
    return beats + [{"q": int(G.recip_floor(31, np.array(d)))} for d in values]


register(Unit(
    key="iexp", module="iexp", files=("iexp.v",), rtl_dir=OWN_RTL_DIR, title="I-BERT integer exp (i-exp)",
    behaviour="""\
The integer exponential of I-BERT, used for the softmax numerator. On an input beat (`in_valid` = 1) with
x = -(s - max) >= 0 (the pre-shifted distance of a score below its row maximum) and the constants of
`softmax_constants` (the golden model):

    xc = min(x, x_max)
    z  = (xc * z_mul) >> 24          (equals floor(xc / q_ln2) for these constants; z <= 30)
    r  = xc - z * q_ln2               (0 <= r < q_ln2)
    e  = ((q_b - r)**2 + q_c) >> z    (unsigned, below 2**22)

All inputs are sampled on the same rising edge; `e` and `out_valid` follow exactly 2 rising edges later,
one beat per cycle.
""",
    port_notes={"clk": "clock", "rst": "synchronous active-high reset", "in_valid": "input beat valid",
                "x": "non-negative distance below the row max", "q_ln2": "floor(ln2 / s)",
                "q_b": "floor(1.353 / s)", "q_c": "floor(0.344 / (0.3585 s^2))", "z_mul": "ceil(2^24 / q_ln2)",
                "x_max": "clamp: 30 * q_ln2", "out_valid": "e holds a result", "e": "exp numerator"},
    latency=lambda p: Latency(kind="fixed", cycles=2, initiation_interval=1,
                              description="out_valid is in_valid delayed by two cycles; cleared by rst."),
    vectors=_iexp_vectors, outputs=lambda p: [("e", 32, 1, False)],
    one_to_one_latency=lambda p: 2, timeout_cycles=lambda p: 64,
))

register(Unit(
    key="isqrt", module="isqrt", files=("isqrt.v",), rtl_dir=OWN_RTL_DIR, serial=True,
    title="Digit-by-digit integer square root", behaviour="""\
Computes root = floor(sqrt(v)) of an unsigned {{ p.W }}-bit integer with the restoring digit-by-digit method,
one result bit per clock cycle (the LayerNorm standard deviation of an integer transformer block).

A `start` pulse (while not `busy`) loads `v`. The unit then runs {{ p.W // 2 }} iterations, from the top
pair of bits of v down: rem = (rem << 2) | next two bits of v; trial = (root << 2) | 1; if rem >= trial
then rem -= trial and the next root bit is 1, else 0. `busy` is high while iterating; `out_valid` pulses for
one cycle with the {{ p.W // 2 }}-bit `root` on the cycle after the last iteration ({{ p.W // 2 + 1 }} rising
edges after the start edge). `start` while busy is ignored. The result equals Python's `math.isqrt(v)`.
""",
    port_notes={"W": "input width (even)", "clk": "clock", "rst": "synchronous active-high reset",
                "start": "load v and begin", "v": "radicand", "out_valid": "one-cycle pulse: root is valid",
                "root": "floor(sqrt(v))", "busy": "iterating"},
    latency=lambda p: Latency(kind="fixed", cycles=p["W"] // 2 + 1, initiation_interval=p["W"] // 2 + 1,
                              description="one operation at a time: start, then out_valid after W/2+1 edges."),
    vectors=_isqrt_vectors, outputs=lambda p: [("root", p["W"] // 2, 1, False)],
    timeout_cycles=lambda p: 4 * p["W"] + 16,
))

register(Unit(
    key="recip", module="recip", files=("recip.v",), rtl_dir=OWN_RTL_DIR, serial=True,
    title="Reciprocal by restoring division, floor(2^31 / d)", behaviour="""\
Computes q = floor(2**31 / d) for an unsigned 32-bit divisor d >= 1 (the softmax normalisation factor and the
LayerNorm inverse standard deviation), one quotient bit per clock cycle by restoring division.

A `start` pulse (while not `busy`) loads `d`. The unit then produces the 32 quotient bits from the most
significant down: rem = (rem << 1) | next numerator bit (numerator 2**31, so the first bit is 1 and the rest
0); if rem >= d then rem -= d and the quotient bit is 1. `busy` is high while dividing; `out_valid` pulses
for one cycle with `q` after the last bit (33 rising edges after the start edge). `start` while busy is
ignored. d = 1 gives 2**31; d = 0 is not allowed.
""",
    port_notes={"clk": "clock", "rst": "synchronous active-high reset", "start": "load d and begin",
                "d": "divisor, >= 1", "out_valid": "one-cycle pulse: q is valid", "q": "floor(2^31 / d)",
                "busy": "dividing"},
    latency=lambda p: Latency(kind="fixed", cycles=33, initiation_interval=33,
                              description="one operation at a time: start, then out_valid after 33 edges."),
    vectors=_recip_vectors, outputs=lambda p: [("q", 32, 1, False)], timeout_cycles=lambda p: 200,
))


# --- processing element of the baseline array ---------------------------------------------------------------
def _pe_vectors(p: dict[str, int], ctx: dict, rng: random.Random) -> list[dict[str, int]]:
    beats, expected = [], []
    for tile, k in enumerate((1, 4, 9, 3, 300)):
        acc = 0
        for step in range(k):
            a, b = (-128, -128) if tile == 4 else (rng.randint(-128, 127), rng.randint(-128, 127))
            acc += a * b
            first, last = int(step == 0), int(step == k - 1)
            beats.append({"a_in": a, "b_in": b, "v_in": 1, "first_in": first, "last_in": last})
            row = {"a_out": a, "b_out": b, "first_out": first, "last_out": last}
            if last:
                row["result"] = acc
            expected.append(row)
    return beats + expected


register(Unit(
    key="pe", module="pe", files=("pe.v",), title="Systolic-array processing element (int8 MAC, int32)",
    behaviour="""\
One processing element of an output-stationary int8 systolic array. Every rising edge it forwards its
operands to its neighbours (`a_out` <= `a_in`, `b_out` <= `b_in`, `first_out` <= `first_in`,
`last_out` <= `last_in`, `v_out` <= `v_in`, with `v_out` cleared by reset) and, on a valid beat
(`v_in` = 1), accumulates the signed product:

    sum = (first_in ? 0 : acc) + a_in * b_in      (int8 x int8 -> int32)
    acc <= sum
    if last_in: result <= sum                      (the finished dot product; holds until the next last beat)

`first_in` marks the first beat of a dot product, `last_in` its last (both on the same beat for K = 1).
The accumulator wraps modulo 2**32.
""",
    port_notes={"clk": "clock", "rst": "synchronous active-high reset (clears v_out)", "a_in": "int8 operand A",
                "b_in": "int8 operand B", "v_in": "valid beat", "first_in": "first beat of a dot product",
                "last_in": "last beat of a dot product", "a_out": "a_in delayed one cycle",
                "b_out": "b_in delayed one cycle", "v_out": "v_in delayed one cycle",
                "first_out": "first_in delayed", "last_out": "last_in delayed",
                "result": "the last finished dot product (int32)"},
    latency=lambda p: Latency(kind="fixed", cycles=1, initiation_interval=1,
                              description="outputs are registered: they show the beat of the previous edge."),
    vectors=_pe_vectors, out_valid="v_out",
    outputs=lambda p: [("a_out", 8, 1, True), ("b_out", 8, 1, True), ("first_out", 1, 1, False),
                       ("last_out", 1, 1, False), ("result", 32, 1, True)],
    one_to_one_latency=lambda p: 1, timeout_cycles=lambda p: 64,
))
