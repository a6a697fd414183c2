"""verify.lint on real pyslang, Verilator and Icarus runs."""

from pathlib import Path

from verify.diagnostics import Diagnostic, merge, render_feedback
from verify.lint import lint

DESIGNS = Path(__file__).parent / "designs"


def test_correct_and_buggy_adders_are_lint_clean():
    for name in ("adder.v", "adder_buggy.v"):
        report = lint([DESIGNS / name], top="adder")
        assert report.passed, report.feedback()
        assert set(report.tools_run) == {"pyslang", "verilator", "iverilog"}


def test_syntax_error_is_reported_at_its_line_with_context_and_caret():
    report = lint([DESIGNS / "adder_syntax.v"])
    assert not report.passed
    assert {d.line for d in report.errors} == {6}
    feedback = report.feedback()
    assert "adder_syntax.v:6:" in feedback
    assert "    6 |     assign sum = a + ;" in feedback
    assert "    5 | );" in feedback and "    4 |" in feedback  # two lines of context
    caret_line = feedback.splitlines()[feedback.splitlines().index("    6 |     assign sum = a + ;") + 1]
    assert caret_line.index("^") == len("    6 | ") + len("    assign sum = a + ")


def test_width_warning_from_verilator_is_summarised(tmp_path):
    design = tmp_path / "narrow.v"
    design.write_text("module narrow(input [3:0] a, b, output [3:0] s);\n  assign s = a + b + 5'd1;\nendmodule\n")
    report = lint([design])
    assert report.passed
    # Verilator 5.006 (Debian 12) says WIDTH; from 5.010 (Debian 13: 5.032) it is WIDTHTRUNC / WIDTHEXPAND
    assert any(d.tool == "verilator" and d.code.startswith("WIDTH") and d.line == 2 for d in report.warnings)
    assert "warning(s)" in report.feedback() and "WIDTH" in report.feedback()


def test_merge_deduplicates_and_sorts_by_position():
    a = Diagnostic(tool="pyslang", severity="error", file="x.v", line=9, col=3, message="expected expression")
    b = Diagnostic(tool="verilator", severity="error", file="x.v", line=9, col=3, message="syntax error")
    c = Diagnostic(tool="iverilog", severity="warning", file="x.v", line=2, message="w")
    merged = merge([a, b, c, c])
    assert merged == [c, a]


def test_feedback_is_capped():
    many = [Diagnostic(tool="t", severity="error", file="x.v", line=i, message="e" * 80) for i in range(1, 200)]
    text = render_feedback(many, max_chars=1000)
    assert len(text) <= 1000 and text.endswith("(feedback truncated)")


def test_missing_file_is_a_clear_error(tmp_path):
    try:
        lint([tmp_path / "nope.v"])
    except FileNotFoundError as exc:
        assert "nope.v" in str(exc)
    else:
        raise AssertionError("expected FileNotFoundError")
