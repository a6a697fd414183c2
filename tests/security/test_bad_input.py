"""Bad input: one clear error line and rc 2, never a traceback; a sample file with bad rows still scores the good
rows and lists the bad ones with their line numbers."""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import hwagent

BAD_ROWS = [  # (JSON line, what the error says)
    ('{"task_id": "Prob001_zero", "completion": 5}', "completion must be a string, got int"),
    ('{"task_id": "Prob001_zero", "completion": null}', "completion must be a string, got NoneType"),
    ('{"task_id": 7, "completion": "x"}', "task_id must be a string, got int"),
    ('{"task_id": ["Prob001_zero"], "completion": "x"}', "task_id must be a string, got list"),
    ('{"task_id": "Prob001_zero", "completion": "\\udcff"}', "lone surrogate"),
]


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.needs_data
def test_bad_sample_rows_are_listed_and_the_good_ones_scored(v2, data_dir, tmp_path):
    good = json.dumps({"task_id": "Prob001_zero", "completion": v2.problem("Prob001_zero").reference})
    samples = tmp_path / "s.jsonl"
    samples.write_text("\n".join([good, *(row for row, _ in BAD_ROWS)]) + "\n")
    result = hwagent("eval", "score", "--suite", "verilog-eval-v2:spec-to-rtl", "--samples", str(samples), "--out",
                     str(tmp_path / "out"), "-k", "1", env={"HWAGENT_DATA_DIR": str(data_dir)})
    line = _one_error_line(result)
    for number, (_, why) in enumerate(BAD_ROWS, 2):
        assert f"s.jsonl:{number}: " in line and why in line, line
    rows = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert len(rows) == 1 and json.loads(rows[0])["passed"]


@pytest.mark.needs_data
@pytest.mark.parametrize("where", ["file", "proc"])
def test_out_that_cannot_be_a_folder(tmp_path, data_dir, where):
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "Prob001_zero", "completion": "x"}) + "\n")
    out = tmp_path / "afile" if where == "file" else "/proc/hwagent-out"
    if where == "file":
        out.write_text("")
    result = hwagent("eval", "score", "--suite", "verilog-eval-v2:spec-to-rtl", "--samples", str(samples), "--out",
                     str(out), env={"HWAGENT_DATA_DIR": str(data_dir)})
    assert "--out" in _one_error_line(result)


def test_yaml_with_non_utf8_bytes(tmp_path):
    from spec_templates.spec import SpecError, load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b'name: "\xff\xfe"\n')
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(spec)
    profile = tmp_path / "p.json"
    assert hwagent("profile", "vit-tiny", "--no-ranges", "--out", str(profile)).returncode == 0
    budget = tmp_path / "budget.yaml"
    budget.write_bytes(b"pe_count: 256\nname: \xff\n")
    line = _one_error_line(hwagent("spec", str(profile), "--budget", str(budget), "--out", str(tmp_path / "s")))
    assert "not UTF-8" in line


@pytest.mark.parametrize("config, why", [("[1, 2]", "must hold a JSON object"),
                                         ('{"model_type": "llama"}', "lacks the key"),
                                         ("{not json", "not a JSON config")])
def test_hf_config_that_is_not_a_model(tmp_path, config, why):
    (tmp_path / "config.json").write_text(config)
    assert why in _one_error_line(hwagent("profile", "--hf", str(tmp_path), "--no-ranges"))
