"""Golden models and vector generation for the example specs (`python -m spec_templates.examples.golden`)."""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent


def requant(acc: int, mult: int, shift: int, zp: int) -> int:
    """int32 accumulator -> int8: exact product, round half up, arithmetic shift, add zero point, saturate."""
    prod = acc * mult
    rounded = prod if shift == 0 else (prod + (1 << (shift - 1))) >> shift
    return max(-128, min(127, rounded + zp))


def requant_vectors(count: int = 200, seed: int = 1) -> list[dict[str, int]]:
    rng = random.Random(seed)
    corner = [(1000, 4096, 16, 0), (-1000, 4096, 16, 0), (100000, 4096, 16, 0), (3, 1, 1, 0),
              (-3, 1, 1, 0), (-(2**31), 65535, 31, 0), (2**31 - 1, 65535, 0, 0), (0, 0, 0, -128), (5, 3, 2, 127)]
    rows = []
    for index in range(count):
        if index < len(corner):
            acc, mult, shift, zp = corner[index]
        else:
            acc = rng.randint(-(2**31), 2**31 - 1) >> rng.randint(0, 28)
            mult, shift, zp = rng.randint(0, 65535), rng.randint(0, 31), rng.randint(-128, 127)
        valid = int(rng.random() < 0.9)
        rows.append({"in_valid": valid, "acc": acc, "mult": mult, "shift": shift, "zp": zp,
                     "out_valid": valid, "q": requant(acc, mult, shift, zp)})
    return rows


def _lane(packed: int, index: int) -> int:
    value = (packed >> (8 * index)) & 0xFF
    return value - 256 if value & 0x80 else value


def mac4x4_vectors(count: int = 120, seed: int = 2, acc_w: int = 24) -> list[dict[str, int]]:
    """Per cycle: en, clear, a, b and the packed 16 x ACC_W accumulators expected after that edge."""
    rng = random.Random(seed)
    cells = [0] * 16
    rows = []
    for index in range(count):
        en = int(index < 40 or rng.random() < 0.8)
        clear = int(index in (0, 60) or rng.random() < 0.05)
        a, b = rng.getrandbits(32), rng.getrandbits(32)
        if 20 <= index < 30:  # extreme operands: -128 * -128 sums, exercises sign extension and wrap
            a, b = 0x80808080, 0x80808080
        for cell in range(16):
            product = _lane(a, cell // 4) * _lane(b, cell % 4) if en else 0
            cells[cell] = ((0 if clear else cells[cell]) + product) % (1 << acc_w)
        packed = sum(value << (acc_w * cell) for cell, value in enumerate(cells))
        rows.append({"en": en, "clear": clear, "a": a, "b": b, "acc": packed})
    return rows


def write_all() -> None:
    (HERE / "requant_vectors.json").write_text(json.dumps(requant_vectors()) + "\n")
    (HERE / "mac4x4_vectors.json").write_text(json.dumps(mac4x4_vectors()) + "\n")


if __name__ == "__main__":
    write_all()
