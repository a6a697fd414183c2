"""RunOptions is the one description of a run's options: `hwagent run` flags, --config run.yaml, run.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scripted import ADDSAT_GOOD, ADDSAT_SPEC, ADDSAT_WRAPS, answer, exchange, write_transcript
from test_cli_run import hwagent

from agent.options import RunOptions

RENAMED = {"max_wall_s": "--max-wall", "sim_timeout_s": "--sim-timeout"}  # seconds fields keep short flags


def flag(field: str) -> str:
    return RENAMED.get(field, "--" + field.replace("_", "-"))


def test_every_option_is_a_run_flag_and_every_flag_an_option():
    help_text = re.sub(r"\x1b\[[0-9;]*m", "", hwagent("run", "--help", env={"COLUMNS": "200"}).stdout)
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text))
    for field in RunOptions.model_fields:
        if field != "models":  # --llm / --cascade
            assert flag(field) in flags, field
    not_options = {"--llm", "--cascade", "--config", "--out", "--data", "--json", "--help"}
    negations = {f for f in flags if f.startswith("--no-")}
    assert flags - negations - not_options == {flag(f) for f in RunOptions.model_fields if f != "models"}


def test_config_file_sets_options_and_flags_win(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_WRAPS)), exchange(answer(ADDSAT_GOOD))],
                                  "bug then fix")
    config = tmp_path / "run.yaml"
    config.write_text(f"models: [replay/{transcript}]\nmax_iters: 1\ntemperature: 0.0\ntrace: false\n")
    limited = hwagent("run", str(ADDSAT_SPEC), "--config", str(config), "--out", str(tmp_path / "a"), "--json")
    assert limited.returncode == 1 and json.loads(limited.stdout)["iterations"] == 1
    options = json.loads(next(Path(tmp_path / "a").glob("*/run.json")).read_text())["options"]
    assert options["temperature"] == 0.0 and options["trace"] is False
    more = hwagent("run", str(ADDSAT_SPEC), "--config", str(config), "--max-iters", "3", "--out", str(tmp_path / "b"),
                   "--json")
    assert more.returncode == 0 and json.loads(more.stdout)["iterations"] == 2


def test_bad_config_is_one_line_naming_the_key(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("models: [replay/x.jsonl]\nmax_iter: 3\n")
    result = hwagent("run", str(ADDSAT_SPEC), "--config", str(config))
    assert result.returncode == 2 and "unknown option 'max_iter'" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3 and "Traceback" not in result.stderr
    config.write_text("models: [replay/x.jsonl]\ncandidates: 99\n")
    result = hwagent("run", str(ADDSAT_SPEC), "--config", str(config))
    assert result.returncode == 2 and "candidates" in result.stderr and "Traceback" not in result.stderr
    config.write_bytes(b"max_iters: \xff\xfe\n")
    result = hwagent("run", str(ADDSAT_SPEC), "--config", str(config))
    assert result.returncode == 2 and "cannot read the run config" in result.stderr


def test_hidden_literals_are_options():
    options = RunOptions(models=["replay/x"])
    assert options.temperature_for(1) == 0.2 and options.temperature_for(4) == 0.7
    assert RunOptions(models=["replay/x"], temperature=0.9).temperature_for(4) == 0.9
