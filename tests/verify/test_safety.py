"""verify.safety: what an untrusted design may not do, and what stays allowed."""

import pytest

from verify.safety import check_source


@pytest.mark.parametrize("statement, rule", [
    ('initial $system("rm -rf /");', "forbidden-system"),
    ("initial #5 $finish;", "forbidden-finish"),
    ("initial $stop;", "forbidden-stop"),
    ('initial $fatal(1, "bye");', "forbidden-fatal"),
    ('initial fd = $fopen("/etc/passwd", "r");', "forbidden-task"),
    ('initial fd = $fopenr("data.txt");', "forbidden-task"),
    ('initial $readmemh("../secret.hex", mem);', "file-path"),
    ('initial $readmemh("\\057etc\\057passwd", mem);', "file-path"),
    ("initial $readmemh(name, mem);", "file-path"),
    ('initial $dumpfile("w.vcd");', "forbidden-task"),
    ("initial $finish_and_return(0);", "forbidden-finish"),
])
def test_forbidden(statement, rule):
    found = check_source(f"module m;\n  integer fd; reg [7:0] mem [0:3]; reg [8*8:1] name;\n  {statement}\nendmodule\n")
    assert [d.code for d in found] == [rule]
    assert found[0].line == 3


@pytest.mark.parametrize("statement", [
    'initial $readmemh("rom.hex", mem);',
    'initial $display("calling $system is not allowed");',
    "// $finish in a comment\n  /* $system too */",
    'initial $readmemb("roms/rom.bin", mem);',
    'initial $display("%0t %d", $time, $signed(mem[0]) + $clog2(8) + $bits(mem[0]) + $random % 2);',
])
def test_allowed(statement):
    assert check_source(f"module m;\n  reg [7:0] mem [0:3];\n  {statement}\nendmodule\n") == []


def test_no_design_files_means_nothing_to_check():
    from verify.safety import check_files

    assert check_files([]) == []
