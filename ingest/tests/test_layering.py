"""The ingest package is layered one way (issue 6): models → services → pipeline → the edges.

Read from the source (ASTs), not from what happens to be imported already: no import cycle
between ingest modules, no lower layer importing a higher one, and no function-local import
hiding either. A function-local import of another app is allowed only where it breaks a
genuine cycle with that app, and then carries a comment saying so ("# cycle: ...").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parent

# Lower numbers are lower layers; a module may import only its own layer or lower ones.
LAYERS = {
    "ingest.choices": 0,
    "ingest.errors": 0,
    "ingest.tus": 0,
    "ingest.filenames": 0,
    "ingest.digesters": 0,
    "ingest.streams": 0,
    "ingest.limits": 1,
    "ingest.models": 1,
    "ingest.metadata": 1,
    "ingest.selectors": 2,
    "ingest.services": 3,
    "ingest.pipeline": 4,
    "ingest.tasks": 5,
    "ingest.local": 6,
    "ingest.views": 6,
    "ingest.api": 6,
    "ingest.urls": 7,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(*, tests: bool) -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).parts
        if relative[0] == "migrations" or (relative[0] == "tests") != tests:
            continue
        found[_module_name(path)] = path
    return found


MODULES = _sources(tests=False)
TEST_MODULES = _sources(tests=True)


def _layer(module: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module} has no layer in test_layering.LAYERS: add it")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Absolute names of the modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    names = [f"{base}.{alias.name}" for alias in node.names]
    # ``from ingest import services`` loads the submodule ingest.services
    return [name for name in names if name in MODULES] or [base]


def _imports(module: str, path: Path):
    """(target, line, function-local?, comment above) for every runtime import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    is_package = path.name == "__init__.py"
    found = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue  # never executed: annotations only
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                above = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                for target in _targets(child, module, is_package):
                    found.append((target, child.lineno, in_function, above))
            inner = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            visit(child, inner)

    visit(tree, False)
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for module, path in MODULES.items():
        for target, _line, _local, _above in _imports(module, path):
            if target in MODULES and target not in ("ingest", module):
                graph[module].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_check_sees_the_package():
    assert {"ingest.services.uploads", "ingest.pipeline.steps", "ingest.tasks"} <= set(MODULES)
    assert "ingest.tests.test_layering" in TEST_MODULES
    # the cycle finder finds a planted cycle
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.req("ING-1")
def test_no_import_cycle_inside_ingest():
    cycle = _cycle(_graph())
    assert cycle is None, " → ".join(cycle)


@pytest.mark.req("ING-1")
def test_imports_go_one_way_down_the_layers():
    wrong = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert wrong == []


@pytest.mark.req("ING-1")
def test_no_function_local_import_of_an_ingest_module():
    local = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in {**MODULES, **TEST_MODULES}.items()
        for target, line, in_function, _above in _imports(module, path)
        if in_function and (target == "ingest" or target.startswith("ingest."))
    ]
    assert local == []


@pytest.mark.req("ING-1")
def test_function_local_imports_of_other_apps_explain_the_cycle_they_break():
    unexplained = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in MODULES.items()
        for target, line, in_function, above in _imports(module, path)
        if in_function and not above.startswith("# cycle:")
    ]
    assert unexplained == []
