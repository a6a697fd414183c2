"""Untrusted cocotb testbenches (Python an LLM wrote): no host Unix socket to connect to, no environment beyond
the allowlist."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from verify import sandbox
from verify.sim import simulate_cocotb

pytestmark = pytest.mark.skipif(not sandbox.isolation().bwrap, reason=sandbox.isolation().description)
ADDER = Path(__file__).parents[1] / "verify" / "designs" / "adder.v"
TB = """import json, os, socket
from pathlib import Path

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def probe(dut):
    await Timer(1, unit="ns")
    Path("env.json").write_text(json.dumps(sorted(os.environ)))
    client = socket.socket(socket.AF_UNIX)
    try:
        client.connect(SOCKET)
        Path("connected.txt").write_text("yes")
    except OSError as exc:
        Path("connected.txt").write_text(f"no: {exc}")
"""


def test_no_host_socket_and_no_secret_environment(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY", "SOME_SERVICE_PASSWORD_FILE"):
        monkeypatch.setenv(name, "s3cr3t")
    sock_dir, tb_dir = tmp_path / "sock", tmp_path / "tb"
    sock_dir.mkdir()
    tb_dir.mkdir()
    path = sock_dir / "host.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        server.settimeout(0.2)
        module = tb_dir / "test_probe.py"
        module.write_text(TB.replace("SOCKET", repr(str(path))))
        result = simulate_cocotb([ADDER], module, "adder", run_root=tmp_path / "run", keep="always",
                                 untrusted_testbench=True, timeout_s=120)
        with pytest.raises(TimeoutError):
            server.accept()  # nothing connected
    work = Path(result.run_dir) / "work"
    assert (work / "connected.txt").read_text().startswith("no:"), result.log_excerpt
    names = set(json.loads((work / "env.json").read_text()))
    assert not names & {"DATABASE_URL", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY", "SOME_SERVICE_PASSWORD_FILE"}
    assert not {n for n in names if n.startswith("HWAGENT_CACHE")}  # host variables are allowlisted, not guessed
