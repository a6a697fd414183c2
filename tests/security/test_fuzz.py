"""Fuzz-style: forged-pass attempts mutated (macro pastes, string escapes, ifdef branches, comments) are all
rejected by the checks on the preprocessed text, and harmless variants of the same shapes are all accepted.
Seeded, so a failure reproduces."""

from __future__ import annotations

import random

import pytest

from verify import tools
from verify.safety import check_files

pytestmark = pytest.mark.skipif(not tools.iverilog().found, reason="needs Icarus Verilog")
MODULE = "module TopModule(input a, input b, input c, output out);\n  reg [7:0] mem [0:3];\n  integer fd;\n{body}\nendmodule\n"
ATTACKS = [  # statements that must never get through, written plainly
    "initial $finish;", "initial $finish_and_return(0);", "initial $stop;", "initial $fatal;",
    'initial $system("id");', 'initial fd = $fopen("x.txt", "w");', 'initial fd = $fopenr("PATH");',
    'initial $readmemh("PATH", mem);', "initial force tb.stats1.errors = 0;", "final tb.stats1.errors = 0;",
    "assign out = tb.good1.out;", 'initial $dumpfile("w.vcd");', 'initial $readmempath("/etc");',
]
HARMLESS = ['initial $display("%0t", $time);', 'initial $readmemh("PATH", mem);', "assign out = a | b | c;"]
PATHS = ["/etc/passwd", "../build/1_testbench_test.sv", "/tmp/x"]


def _octal(text: str) -> str:
    return "".join(f"\\{ord(c):03o}" for c in text)


def _hexa(text: str) -> str:
    return "".join(f"\\x{ord(c):02x}" if i % 2 else c for i, c in enumerate(text))


def mutate(rng: random.Random, statement: str, path: str) -> str:
    """One disguise of `statement`: a path encoding, then one or two wrappers."""
    statement = statement.replace("PATH", rng.choice([path, _octal(path), _hexa(path)]))
    for _ in range(rng.randint(1, 2)):
        how = rng.randrange(6)
        if how == 0 and "$" in statement:  # paste the system task's name together from two macro arguments
            name = statement.split("$", 1)[1].split("(")[0].split(";")[0]
            cut = rng.randint(1, max(1, len(name) - 1))
            statement = ("`define HW_P(x, y) $``x``y\n" + statement.replace(f"${name}", f"`HW_P({name[:cut]}, "
                                                                                       f"{name[cut:]})", 1))
        elif how == 1:
            statement = f"`ifdef __ICARUS__\n{statement}\n`endif"
        elif how == 2:
            statement = f"`ifndef VERILATOR\n{statement}\n`else\nassign out = a;\n`endif"
        elif how == 3 and "`define" not in statement:  # (a define inside a define compiles to nothing)
            statement = f"`define HW_S {statement.replace(chr(10), ' ')}\n`HW_S"
        elif how == 4:
            statement = f"/* look away */ {statement} // nothing here"
        else:
            statement = f"`ifdef HW_NEVER\nassign out = 0;\n`else\n{statement}\n`endif"
    return statement


def _check(tmp_path, body: str, index: int):
    design = tmp_path / f"d{index}.sv"
    design.write_text(MODULE.format(body=body))
    return check_files([design])


def test_mutated_attacks_are_all_rejected(tmp_path):
    rng = random.Random(11)
    cases = [mutate(rng, rng.choice(ATTACKS), rng.choice(PATHS)) for _ in range(40)]
    passed = [case for index, case in enumerate(cases) if not _check(tmp_path, case, index)]
    assert not passed, passed


def test_mutated_harmless_code_is_accepted(tmp_path):
    rng = random.Random(12)
    cases = [mutate(rng, rng.choice(HARMLESS), "rom.hex").replace("assign out = a;", "") for _ in range(12)]
    rejected = {case: [d.message for d in found] for index, case in enumerate(cases)
                if (found := _check(tmp_path, case, index))}
    assert not rejected, rejected
