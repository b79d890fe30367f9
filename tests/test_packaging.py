"""Packaging: a plain `pip install .` must ship every subpackage and the page."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_python_package_is_listed_in_pyproject() -> None:
    """Each folder with an __init__.py under backend/ is in [tool.setuptools] packages."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    found = {".".join(init.parent.relative_to(ROOT / "backend").parts)
             for init in (ROOT / "backend").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"
    assert "backprop_playground.frontend" in listed


def test_frontend_package_data_covers_every_page_file() -> None:
    """The page's files have extensions that the package-data patterns include."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["backprop_playground.frontend"]
    extensions = {pattern.rsplit(".", 1)[-1] for pattern in patterns if "." in pattern}
    for path in (ROOT / "frontend").rglob("*"):
        if path.is_file():
            assert path.suffix.lstrip(".") in extensions or "**/*" in patterns, path
