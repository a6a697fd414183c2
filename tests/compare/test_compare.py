"""`hwagent compare` on real designs: RTLLM v2 samples judged by the suite and priced against the references with
the same flow (ratios equal to what `hwagent ppa` gives for each side), bad input, and the report in Chromium."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evals.suites import get_suite

REPO = Path(__file__).resolve().parents[2]
ADDER = """module adder_8bit(input [7:0] a, b, input cin, output [7:0] sum, output cout);
    assign {cout, sum} = a + b + cin;
endmodule
"""
BROKEN_ADDER = ADDER.replace("a + b + cin", "a - b + cin")


def hwagent(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwagent.cli", *args], check=False, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def ppa_json(path: Path, top: str) -> dict:
    done = hwagent("ppa", str(path), "--top", top, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.needs_data
def test_rtllm_ratios_equal_hwagent_ppa_of_each_side(data_dir, tmp_path):
    suite = get_suite("rtllm-v2", data_dir)
    counter = suite.problem("counter_12")
    samples = [{"task_id": "adder_8bit", "completion": ADDER}, {"task_id": "counter_12",
                                                                "completion": counter.reference},
               {"task_id": "adder_8bit", "completion": BROKEN_ADDER}]
    samples_file = tmp_path / "samples.jsonl"
    samples_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
    scored = hwagent("eval", "score", "--suite", "rtllm-v2", "--samples", str(samples_file), "--out",
                     str(tmp_path / "eval"), "--data", str(data_dir))
    assert scored.returncode == 0, scored.stderr
    done = hwagent("compare", str(tmp_path / "eval"), "--out", str(tmp_path / "cmp"), "--data", str(data_dir),
                   "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["designs"]
    assert len(rows) == 3
    failed = [r for r in rows if not r["passed"]]
    assert len(failed) == 1 and failed[0]["status"] == "failed its verdict (not priced)"
    assert "design_ppa" not in failed[0] and failed[0]["verdict"].startswith("failed")
    priced = [r for r in rows if r["status"] == "priced"]
    assert {r["name"] for r in priced} == {"rtllm-v2/adder_8bit", "rtllm-v2/counter_12"}
    for row in priced:
        task = suite.problem(row["name"].split("/")[1])
        design, reference = tmp_path / f"{task.id}.v", tmp_path / f"{task.id}_reference.v"
        design.write_text(ADDER if task.id == "adder_8bit" else counter.reference)
        reference.write_text(task.reference)
        mine, theirs = ppa_json(design, task.top_module), ppa_json(reference, task.top_module)
        for key in ("area_um2", "fmax_mhz", "power_mw"):
            assert row["design_ppa"][key] == mine[key] and row["reference_ppa"][key] == theirs[key], key
            assert row["ratios"][key] == pytest.approx(mine[key] / theirs[key], rel=1e-12), key
    own = next(r for r in priced if r["name"] == "rtllm-v2/counter_12")
    assert own["ratios"]["area_um2"] == 1.0  # the reference against itself
    again = hwagent("compare", str(tmp_path / "eval"), "--out", str(tmp_path / "cmp2"), "--data", str(data_dir),
                    "--json")
    assert json.loads(again.stdout)["designs"] == rows  # the PPA cache answers: same figures, no synthesis
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "OSU018 0.18 um" in markdown and "relative figures only" in markdown


def test_bad_input_is_one_line_with_exit_2(tmp_path):
    missing = hwagent("compare", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "no such folder" in missing.stderr
    empty = hwagent("compare", str(tmp_path), "--out", str(tmp_path / "out"))
    assert empty.returncode == 2 and "holds no agent run" in empty.stderr
    config = hwagent("compare", str(tmp_path), "--out", str(tmp_path / "out"), "--block", "huge")
    assert config.returncode == 2 and "unknown block config 'huge'" in config.stderr


def render_in_chromium(page: Path, tmp_path: Path) -> tuple[dict, Path]:
    """Open `page` in headless Chromium: the DOM after load (image natural sizes and table counts written into it
    by a probe script added to a copy of the page) and a screenshot."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed (`make test` installs it: apt-get install chromium)")
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", """<script>
window.addEventListener('load', () => {
  const images = [...document.images].map(i => [i.alt, i.naturalWidth, i.naturalHeight, i.complete]);
  const tables = [...document.querySelectorAll('table')].map(t => t.rows.length);
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify({images, tables, title: document.title});
  document.body.appendChild(out);
});
</script></body>"""))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                         timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    marker = dom.stdout.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]
    shot = tmp_path / "compare.png"
    done = subprocess.run([browser, *flags, "--window-size=1280,1600", f"--screenshot={shot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    return json.loads(marker.replace("&quot;", '"').replace("&amp;", "&")), shot


def assert_renders(page: Path, tmp_path: Path, tables: int) -> Path:
    """The report's images decode (natural sizes > 0) and its tables are there; returns the screenshot."""
    import matplotlib.image

    found, shot = render_in_chromium(page, tmp_path)
    assert len(found["images"]) == 2 and all(w > 0 and h > 0 and ok for _, w, h, ok in found["images"]), found
    assert len(found["tables"]) >= tables and all(rows >= 2 for rows in found["tables"]), found
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (1600, 1280) and pixels.std() > 0.05  # the page drew something, not a blank
    return shot
