"""The trainer is pure NumPy and the standard library: no web framework comes with it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import backprop_playground.trainer

TRAINER_DIR = Path(backprop_playground.trainer.__file__).parent
WEB_MODULES = ("fastapi", "starlette", "pydantic", "uvicorn", "websockets", "httpx")


def _absolute_imports(path: Path) -> list[str]:
    """Top-level module names of every absolute import in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return names


def test_trainer_sources_import_only_numpy_and_the_standard_library() -> None:
    """Every absolute import under trainer/ is numpy or a standard-library module."""
    files = sorted(TRAINER_DIR.glob("**/*.py"))
    assert len(files) >= 10
    foreign = {
        f"{path.name}: {name}"
        for path in files
        for name in _absolute_imports(path)
        if name != "numpy" and name not in sys.stdlib_module_names
    }
    assert not foreign, sorted(foreign)


def test_importing_the_trainer_loads_no_web_module() -> None:
    """A fresh interpreter importing backprop_playground.trainer loads no web framework."""
    code = (
        "import sys, backprop_playground.trainer\n"
        f"print(','.join(m for m in {WEB_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == ""
