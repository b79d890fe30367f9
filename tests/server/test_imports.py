"""The server's modules import each other without cycles (outside the trainer, which
imports nothing of the server): an import graph with no loop, where an import inside a
function (a lazy import) counts too; only ``if TYPE_CHECKING:`` blocks do not."""

from __future__ import annotations

import ast
from pathlib import Path

import backprop_playground

PACKAGE = Path(backprop_playground.__file__).parent


def _module(path: Path) -> str:
    parts = ["backprop_playground", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    nodes: list[ast.AST] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            nodes.extend(node.orelse)
            for child in node.orelse:
                nodes.extend(_runtime_nodes(child))
            continue
        nodes.append(node)
        nodes.extend(_runtime_nodes(node))
    return nodes


def _imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports, anywhere but under TYPE_CHECKING."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("backprop_playground")}


def test_no_import_cycles_outside_the_trainer() -> None:
    """No chain of imports leads from a server module back to itself."""
    paths = [p for p in PACKAGE.rglob("*.py") if "trainer" not in p.relative_to(PACKAGE).parts]
    graph = {_module(path): _imports(path) for path in paths}
    graph = {name: {dep for dep in deps if dep in graph and dep != name}
             for name, deps in graph.items()}

    def cycle_from(start: str, node: str, trail: list[str]) -> list[str] | None:
        for dep in graph[node]:
            if dep == start:
                return [*trail, dep]
            if dep not in trail:
                found = cycle_from(start, dep, [*trail, dep])
                if found:
                    return found
        return None

    for name in graph:
        if not name.endswith("__init__") and name != "backprop_playground":
            assert cycle_from(name, name, [name]) is None, cycle_from(name, name, [name])
