"""No escape: a design cannot read or write host files, and the simulation sandbox holds even where the static
check is bypassed (a hostile module compiled as a trusted source, so unchecked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import PASSWD_LINE, hwagent
from verify import sandbox
from verify.sim import Source, run_icarus

needs_bwrap = pytest.mark.skipif(not sandbox.isolation().bwrap, reason=sandbox.isolation().description)
DESIGN = "module dut(output reg [7:0] q);\n  reg [7:0] mem [0:3];\n  integer fd;\nBODY\nendmodule\n"
TB = ('module tb; wire [7:0] q; dut d(.q(q));\n'
      '  initial begin #1 $display("Mismatches: 0 in 1 samples"); $finish; end\nendmodule\n')


def _run(body: str, tmp_path: Path, role: str = "design", keep: bool = True):
    sources = [Source("tb.v", TB, "testbench"), Source("dut.v", DESIGN.replace("BODY", body), role)]
    return run_icarus(sources, "tb", run_root=tmp_path / "runs", keep=keep)


@pytest.mark.parametrize("call", ["$fopenw", "$fopena", "$fopenr", "$fopen"])
def test_fopen_variants_are_rejected_and_write_nothing(tmp_path, call):
    target = tmp_path / f"escaped{call[1:]}.txt"
    raw = _run(f'  initial begin fd = {call}("{target}"); $fdisplay(fd, "x"); end', tmp_path)
    assert raw.rejected and not raw.compiled and not target.exists()


def test_octal_escaped_paths_are_decoded_and_rejected(tmp_path):
    octal = "".join(f"\\{ord(c):03o}" for c in str(tmp_path / "x.hex"))
    raw = _run(f'  initial $readmemh("{octal}", mem);', tmp_path)
    assert raw.rejected and "absolute paths" in raw.rejected[0].message
    raw = _run('  initial $readmemh("\\056\\056/\\056\\056/etc/passwd", mem);', tmp_path)
    assert raw.rejected and "'..'" in raw.rejected[0].message


def test_readmempath_and_dumps_are_not_allowed(tmp_path):
    raw = _run('  initial begin $readmempath("/etc"); $readmemh("passwd", mem); end', tmp_path)
    assert [d.code for d in raw.rejected] == ["forbidden-task"]
    assert _run('  initial begin $dumpfile("/tmp/w.vcd"); $dumpvars; end', tmp_path).rejected


def test_host_files_never_reach_kept_logs(tmp_path):
    raw = _run('  initial $readmemh("/etc/passwd", mem);', tmp_path)
    assert raw.rejected
    leaky = run_icarus([Source("tb.v", TB, "testbench"),
                        Source("dut.v", '`include "/etc/passwd"\n' + DESIGN.replace("BODY", ""), "design")],
                       "tb", run_root=tmp_path / "runs2", keep=True)
    assert not leaky.compiled
    for path in (tmp_path / "runs2").rglob("*"):
        if path.is_file():
            assert PASSWD_LINE not in path.read_text(errors="replace"), path


@needs_bwrap
def test_the_simulation_sandbox_holds_without_the_static_check(tmp_path):
    """Unchecked code (compiled as trusted) reads neither host files nor build/ (the token), nor writes outside work/."""
    outside = tmp_path / "escaped.txt"
    body = (f'  initial begin\n'
            f'    fd = $fopen("{outside}", "w"); $display("write-fd %0d", fd);\n'
            f'    fd = $fopen("/etc/passwd", "r"); $display("passwd-fd %0d", fd);\n'
            f'    fd = $fopen("../build/0_testbench_tb.v", "r"); $display("tb-fd %0d", fd);\n'
            f'    fd = $fopen("/tmp/hwagent-probe", "w"); $display("tmp-fd %0d", fd);\n'
            f'  end')
    raw = _run(body, tmp_path, role="trusted")
    assert raw.compiled and not raw.rejected
    seen = dict(line.split() for line in raw.sim_stdout.splitlines() if "-fd " in line)
    assert seen == {"write-fd": "0", "passwd-fd": "0", "tb-fd": "0", "tmp-fd": "0"}, seen
    assert not outside.exists() and not Path("/tmp/hwagent-probe").exists()


def test_lint_never_reads_an_include_outside(tmp_path):
    """`hwagent lint` and the agent's lint feedback (what the next prompt holds) show no line of /etc/passwd."""
    from agent.checks import run_lint

    design = tmp_path / "addsat.v"
    design.write_text('`include "/etc/passwd"\nmodule addsat(input a, output y); assign y = a; endmodule\n')
    result = hwagent("lint", str(design))
    assert result.returncode == 1 and PASSWD_LINE not in result.stdout + result.stderr
    assert "/etc/passwd" in result.stdout  # the diagnostic names the include
    summary = run_lint(design, "addsat")
    assert not summary["passed"] and PASSWD_LINE not in summary["feedback"] + str(summary["diagnostics"])
