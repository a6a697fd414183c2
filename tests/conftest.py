"""Shared pytest fixtures: benchmark data location and per-test caches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    """One torch thread per test process: tests run tiny tensors in parallel (pytest -n), where intra-op
    threads only contend for the cores (measured: a small compress run went from 85 s to 3.4 s)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own PPA/LLM cache unless it sets one itself."""
    monkeypatch.setenv("HWAGENT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Benchmark data (HWAGENT_DATA_DIR); tests that need it skip with a how-to when it is absent."""
    value = os.environ.get("HWAGENT_DATA_DIR")
    candidates = [Path(value)] if value else [REPO.parent / "shared" / "benchmarks"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    pytest.skip("benchmark data not found: set HWAGENT_DATA_DIR to a folder with verilog-eval-v2/, "
                "verilog-eval-v1/, rtllm-v2/ (or run `hwagent eval fetch SUITE`)")


def render_in_chromium(page: Path, tmp_path: Path) -> tuple[dict, Path]:
    """Open `page` in headless Chromium: the DOM after load (image natural sizes and table counts written into it
    by a probe script added to a copy of the page) and a screenshot."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed (`make test` installs it: apt-get install chromium)")
    tmp_path.mkdir(parents=True, exist_ok=True)
    probe = tmp_path.resolve() / "probe.html"
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
    done = subprocess.run([browser, *flags, "--window-size=1280,1600", f"--screenshot={shot}", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    return json.loads(marker.replace("&quot;", '"').replace("&amp;", "&")), shot


def _assert_renders(page: Path, tmp_path: Path, tables: int) -> Path:
    """The report's images decode (natural sizes > 0) and its tables are there; returns the screenshot."""
    import matplotlib.image

    found, shot = render_in_chromium(page, tmp_path)
    assert len(found["images"]) == 2 and all(w > 0 and h > 0 and ok for _, w, h, ok in found["images"]), found
    assert len(found["tables"]) >= tables and all(rows >= 2 for rows in found["tables"]), found
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (1600, 1280) and pixels.std() > 0.05  # the page drew something, not a blank
    return shot


@pytest.fixture
def assert_renders(tmp_path):
    """`assert_renders(page, tables=N)`: the HTML report opens in headless Chromium, its images decode and its N
    tables are there; returns the screenshot (PNG)."""
    return lambda page, tables: _assert_renders(page, tmp_path / "chromium", tables)
