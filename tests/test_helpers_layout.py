"""The helpers package's house rules: three layers, no import cycle, no module over 400 lines, every module
says which notebook introduced it, and no notebook imports the harness."""

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELPERS = ROOT / "helpers"
MODULES = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
           for p in sorted(HELPERS.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The helpers modules ``name`` imports, at module level or inside functions (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in MODULES and m != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` (module -> modules it imports), as a path that ends where it starts."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str]:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return []
        for other in sorted(graph.get(name, ())):
            if cycle := visit(other, path + [name]):
                return cycle
        done.add(name)
        return []

    return next((cycle for name in sorted(graph) if (cycle := visit(name, []))), [])


def test_the_cycle_finder() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"p": {"p.x"}, "p.x": {"p"}}) == ["p", "p.x", "p"]


def test_no_import_cycle() -> None:
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert len(graph) > 50 and graph["helpers.data.census"] >= {"helpers.data.registry"}  # the walk sees it all
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_no_module_over_400_lines() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 400}
    assert not long, f"split these modules: {long}"


def test_every_module_names_where_it_was_introduced() -> None:
    silent = [name for name, path in MODULES.items()
              if "Introduced in" not in path.read_text() and path.name != "__init__.py"
              and not name.startswith("helpers.harness")]  # the harness serves the repository, not a lab
    assert not silent, f"say in a docstring which notebook introduced: {silent}"


def test_the_layers_and_no_notebook_imports_the_harness() -> None:
    assert {"helpers.harness.runner", "helpers.serving.wine_service", "helpers.serving.tfserving.app",
            "helpers.env", "helpers.data"} <= set(MODULES)
    for notebook in sorted(ROOT.glob("course*/**/*.ipynb")):
        if "outputs" in notebook.parts:
            continue
        code = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]
                       if c["cell_type"] == "code")
        assert "helpers.harness" not in code and "import runner" not in code, notebook.name
