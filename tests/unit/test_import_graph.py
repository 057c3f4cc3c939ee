"""No module of tunnelhunt imports itself back through others: data flows one way (ARCHITECTURE.md).

The graph is read from the source with `ast`, so a circle is caught before anything imports. Every
`from tunnelhunt... import` and `import tunnelhunt...` counts, including one inside a function: moving
an import into a function hides a circle from the interpreter but does not remove it. `from pkg import
sub` points at the submodule `pkg.sub`; at the package's `__init__` only when a name defined there is
imported.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"


def _modules(root: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
            names_from_package = any(f"{node.module}.{alias.name}" not in modules for alias in node.names)
            targets |= submodules | ({node.module} if names_from_package else set())
        elif isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
    return targets & modules.keys()


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = {name: path for name, path in _modules(root).items() if name.split(".")[0] == "tunnelhunt"}
    return {name: _imports(path, modules) for name, path in modules.items()}


def test_the_package_has_no_import_circle() -> None:
    graph = import_graph(SOURCE)
    assert len(graph) > 50 and "tunnelhunt.spl.compiler" in graph
    assert "tunnelhunt.spl.functions" in graph["tunnelhunt.spl.compiler"]
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")


def test_a_circle_is_found_even_through_a_lazy_import(tmp_path: Path) -> None:
    package = tmp_path / "tunnelhunt"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from tunnelhunt.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from tunnelhunt import a\n    return a\n")
    (package / "c.py").write_text("from tunnelhunt import a, b\n")
    graph = import_graph(tmp_path)
    assert graph == {
        "tunnelhunt": set(),
        "tunnelhunt.a": {"tunnelhunt.b"},
        "tunnelhunt.b": {"tunnelhunt.a"},
        "tunnelhunt.c": {"tunnelhunt.a", "tunnelhunt.b"},
    }
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(graph).prepare()
