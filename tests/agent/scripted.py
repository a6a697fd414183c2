"""Helpers for SCRIPTED LLM transcripts (test fixtures, not real model output) and the fixture designs."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
ADDSAT_SPEC = FIXTURES / "addsat.yaml"

ADDSAT_GOOD = """module addsat (
    input [7:0] a,
    input [7:0] b,
    output [7:0] y
);
    wire [8:0] sum = a + b;
    assign y = sum[8] ? 8'hff : sum[7:0];
endmodule
"""
ADDSAT_SYNTAX_ERROR = ADDSAT_GOOD.replace("wire [8:0] sum = a + b;", "wire [8:0] sum = a + b")
ADDSAT_WRAPS = """module addsat (
    input [7:0] a,
    input [7:0] b,
    output [7:0] y
);
    wire [7:0] sum = a + b;
    assign y = sum;
endmodule
"""
ADDSAT_WASTEFUL = """module addsat (
    input [7:0] a,
    input [7:0] b,
    output [7:0] y
);
    wire [15:0] wide_a = a * 16'd3;
    wire [15:0] wide_b = b * 16'd3;
    wire [15:0] total = wide_a + wide_b;
    assign y = (total > 16'd765) ? 8'hff : total / 3;
endmodule
"""
ADDSAT_WRONG_PORTS = ADDSAT_GOOD.replace("output [7:0] y", "output [8:0] y")


def answer(code: str, prose: str = "Here is the module.") -> str:
    return f"{prose}\n\n```verilog\n{code}```\n"


def exchange(text: str | None = None, expect: list[str] = (), error: str | None = None,
             texts: list[str] | None = None) -> dict:
    record: dict = {"expect": list(expect)}
    if error:
        record["error"] = {"kind": error, "message": f"scripted {error} (provider outage)"}
    else:
        record["response"] = {"texts": texts or [text], "usage": {"prompt_tokens": 1000, "completion_tokens": 200}}
    return record


def write_transcript(path: Path, exchanges: list[dict], description: str, keyed: bool = False) -> Path:
    header = {"transcript": "hwagent", "version": 1, "scripted": True,
              "description": f"SCRIPTED TEST FIXTURE (not real model output): {description}"}
    if keyed:
        header["order"] = "keyed"
    path.write_text("\n".join(json.dumps(r) for r in [header, *exchanges]) + "\n")
    return path
