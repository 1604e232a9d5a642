"""The package's private modules import one way (STYLE.md section 2 and section 3, rules 2-3).

Imports are read with `ast`, nothing is executed. Imports under `if TYPE_CHECKING:` are
left out: a back-reference for type hints only is allowed. `testing/` and the command line
(`_cli/`, `__main__`) are out of scope.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fastly_pools"

# Lowest layer: plain values, errors, paths and config. They import only each other.
FOUNDATION = frozenset({"_types", "_version", "_exceptions", "_urls", "_config", "_models"})
# The builders reach the client through the `Executor` Protocol, never by import.
BUILDERS = frozenset({"_validate", "_serde", "_fields", "_operation", "_pools"})
# The client and the modules split out of it (session lifecycle, the send loop).
CLIENT_LAYER = frozenset({"_client", "_send", "_lifecycle", "_recover"})
# The bulk runner executes builders; it never reaches into the client or the wire.
BULK = frozenset({"_fanout", "_fanout_engine", "_fanout_items", "_fanout_budget", "_fanout_report"})
# Each third-party library has its owners (STYLE.md section 3, rule 3).
OWNERS = {
    "cattrs": frozenset({"_serde"}),
    "aiohttp": frozenset({"_transport"}) | CLIENT_LAYER,
    "yarl": frozenset({"_urls", "_transport"}) | CLIENT_LAYER,
    # multidict ships with aiohttp and yarl; only the aiohttp owners may name its types.
    "multidict": frozenset({"_transport"}) | CLIENT_LAYER,
}
RUNTIME_DEPENDENCIES = frozenset({"aiohttp", "attrs", "cattrs", "yarl", "multidict"})


def modules() -> list[str]:
    names = sorted(p.stem for p in PACKAGE.glob("_*.py"))
    return [n for n in names if n not in ("__init__", "__main__", "_cli")]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those inside `if TYPE_CHECKING:` bodies (their `else` counts)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


@cache
def imports_of(module: str) -> tuple[frozenset[str], frozenset[str]]:
    """(sibling private modules, top-level external packages) imported at run time."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    siblings: set[str] = set()
    external: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _classify(alias.name, siblings, external)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                siblings.add(node.module.split(".")[0])
            elif node.level == 1:  # from . import _x
                siblings.update(alias.name for alias in node.names)
            elif node.level == 0 and node.module:
                if node.module == "fastly_pools":
                    siblings.update(alias.name for alias in node.names)
                else:
                    _classify(node.module, siblings, external)
            else:
                raise AssertionError(f"{module}: import beyond the package: {ast.dump(node)}")
    return frozenset(siblings), frozenset(external)


def _classify(dotted: str, siblings: set[str], external: set[str]) -> None:
    parts = dotted.split(".")
    if parts[0] == "fastly_pools":
        if len(parts) > 1:
            siblings.add(parts[1])
    elif parts[0] != "__future__":
        external.add(parts[0])


ALL = modules()


def test_the_scan_sees_the_core_modules() -> None:
    assert {"_client", "_operation", "_pools", "_serde", "_transport", "_models"} <= set(ALL)
    # ...and reads imports the way they are written here.
    assert "_types" in imports_of("_models")[0]
    assert "cattrs" in imports_of("_serde")[1]


@pytest.mark.parametrize("module", sorted(FOUNDATION & set(ALL)))
def test_foundation_imports_only_foundation(module: str) -> None:
    siblings, _ = imports_of(module)
    assert siblings <= FOUNDATION, f"{module} imports {sorted(siblings - FOUNDATION)}"


@pytest.mark.parametrize("module", sorted(FOUNDATION & set(ALL)))
def test_foundation_never_imports_client_pools_or_operation(module: str) -> None:
    siblings, _ = imports_of(module)
    assert not siblings & {"_client", "_pools", "_operation"}


def test_models_import_no_wire_library() -> None:
    _, external = imports_of("_models")
    assert not external & {"aiohttp", "cattrs", "yarl", "multidict"}


@pytest.mark.parametrize("module", sorted(BUILDERS & set(ALL)))
def test_builders_do_not_import_the_client(module: str) -> None:
    siblings, _ = imports_of(module)
    assert not siblings & (CLIENT_LAYER | {"_transport"}), module


@pytest.mark.parametrize("module", sorted(BULK & set(ALL)))
def test_the_bulk_runner_does_not_import_the_client_or_transport(module: str) -> None:
    siblings, external = imports_of(module)
    assert not siblings & (CLIENT_LAYER | {"_transport"}), module
    assert not external & {"aiohttp", "yarl", "multidict"}, module


def test_operation_does_not_import_its_subclasses() -> None:
    siblings, _ = imports_of("_operation")
    assert not siblings & {"_pools", "_fields", "_client"}


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_has_its_owners(library: str) -> None:
    users = {m for m in ALL if library in imports_of(m)[1]}
    assert users <= OWNERS[library], f"{library} imported by {sorted(users - OWNERS[library])}"


@pytest.mark.parametrize("module", ALL)
def test_only_runtime_dependencies_and_the_standard_library(module: str) -> None:
    _, external = imports_of(module)
    unknown = external - RUNTIME_DEPENDENCIES - set(sys.stdlib_module_names)
    assert not unknown, f"{module} imports {sorted(unknown)}"


@pytest.mark.parametrize("module", ALL)
def test_private_modules_never_import_testing_or_the_cli(module: str) -> None:
    siblings, _ = imports_of(module)
    assert "testing" not in siblings
    assert not siblings & {"_cli", "__main__"}


def test_only_the_package_root_imports_the_client() -> None:
    importers = {m for m in ALL if "_client" in imports_of(m)[0]}
    assert importers == set()


def test_no_import_cycles() -> None:
    graph = {m: sorted(imports_of(m)[0] & set(ALL)) for m in ALL}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if node in done:
            return
        for target in graph[node]:
            visit(target, [*path, node])
        done.add(node)

    for module in ALL:
        visit(module, [])
