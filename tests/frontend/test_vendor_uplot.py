"""The vendored uPlot (frontend/vendor/uplot/) is the version package.json pins, byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "frontend" / "vendor" / "uplot"
# vendored file → file in the npm package
FILES = {"uPlot.esm.js": "dist/uPlot.esm.js", "uPlot.min.css": "dist/uPlot.min.css",
         "uPlot.esm.d.ts": "dist/uPlot.d.ts", "LICENSE": "LICENSE"}


def _pinned() -> str:
    return str(json.loads((ROOT / "package.json").read_text())["devDependencies"]["uplot"])


def test_package_json_and_lock_pin_one_exact_uplot_version() -> None:
    """package.json pins an exact version (no range) and the lock file resolves to it."""
    pinned = _pinned()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), pinned
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/uplot"]["version"] == pinned
    assert lock["packages"][""]["devDependencies"]["uplot"] == pinned


def test_vendored_build_and_note_name_the_pinned_version() -> None:
    """The ESM build's banner and the vendor README carry the version package.json pins."""
    pinned = _pinned()
    banner = (VENDOR / "uPlot.esm.js").read_text()[:400]
    assert f"(v{pinned})" in banner, banner
    assert f"uPlot {pinned}" in (VENDOR / "README.md").read_text()


def test_vendored_files_equal_the_installed_package() -> None:
    """Each vendored file is the npm package's file (scripts/test.sh runs `npm ci` first)."""
    package = ROOT / "node_modules" / "uplot"
    assert package.is_dir(), "node_modules/uplot is missing: run `npm ci`"
    assert json.loads((package / "package.json").read_text())["version"] == _pinned()
    for vendored, original in FILES.items():
        assert (VENDOR / vendored).read_bytes() == (package / original).read_bytes(), vendored


def test_the_page_loads_the_vendored_files() -> None:
    """index.html links the vendored CSS; the charts import the vendored ES module."""
    assert 'href="/vendor/uplot/uPlot.min.css"' in (ROOT / "frontend" / "index.html").read_text()
    charts = (ROOT / "frontend" / "render" / "charts.js").read_text()
    assert "from '../vendor/uplot/uPlot.esm.js'" in charts
