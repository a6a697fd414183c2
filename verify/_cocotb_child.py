"""Child process for one cocotb run (kept apart so a hung or crashing simulator can be killed as a group).

Waves on Icarus are written as VCD: cocotb's runner asks vvp for FST (`-fst` after the plusargs), and vvp
takes the last dump-format flag, so `SIM_CMD_SUFFIX=-vcd` (appended by the runner) overrides it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from cocotb_tools.runner import get_runner

TIMESCALE = ("1ns", "1ps")


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    runner = get_runner(config["simulator"])
    build_args = ["--timing", "-Wno-fatal"] if config["simulator"] == "verilator" else []
    try:
        runner.build(sources=config["sources"], hdl_toplevel=config["top"], build_dir=config["build_dir"],
                     parameters=config["parameters"], timescale=TIMESCALE, waves=config["waves"],
                     build_args=build_args, always=True)
    except (SystemExit, Exception) as exc:  # noqa: BLE001 - any failing build is reported to the parent
        print(f"BUILD FAILED: {exc}", file=sys.stderr)
        return 3
    plusargs = []
    if config["waves"] and config["simulator"] == "icarus":
        os.environ["SIM_CMD_SUFFIX"] = "-vcd"
        plusargs.append(f"+dumpfile_path={Path(config['build_dir']) / (config['top'] + '.vcd')}")
    runner.test(test_module=config["module"], hdl_toplevel=config["top"], test_dir=config["test_dir"],
                build_dir=config["build_dir"], results_xml=config["results_xml"], testcase=config["testcase"],
                waves=config["waves"], timescale=TIMESCALE, plusargs=plusargs,
                extra_env={"PYTHONPATH": config["module_dir"]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
