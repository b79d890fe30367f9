"""Packaging: a plain `pip install .` must ship every subpackage and the page."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_python_package_is_listed_in_pyproject() -> None:
    """Each folder with an __init__.py under backend/ is in [tool.setuptools] packages."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    found = {".".join(init.parent.relative_to(ROOT / "backend").parts)
             for init in (ROOT / "backend").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"
    page_folders = {"backprop_playground.frontend" + "".join(
        f".{part}" for part in folder.relative_to(ROOT / "frontend").parts)
        for folder in [ROOT / "frontend", *(ROOT / "frontend").rglob("*")] if folder.is_dir()}
    assert page_folders <= listed, f"add to pyproject packages: {sorted(page_folders - listed)}"


def test_frontend_package_data_covers_every_page_file() -> None:
    """The page's files have extensions that the package-data patterns include."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]
    for path in (ROOT / "frontend").rglob("*"):
        if path.is_file():
            package = "backprop_playground.frontend" + "".join(
                f".{part}" for part in path.parent.relative_to(ROOT / "frontend").parts)
            patterns = data.get(package, [])
            assert any(fnmatch(path.name, pattern) for pattern in patterns), path


def test_test_file_basenames_are_unique() -> None:
    """Test folders have no __init__.py, so two test files with one basename would stop
    pytest's collection ("import file mismatch")."""
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
