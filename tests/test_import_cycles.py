"""No import cycle between the modules of ``vhr_conformance``, nor between its top-level packages
and modules (``vhr_conformance.X``) once each is taken as one node (issue 20): a layer below never
reaches back into a layer above, even through modules that do not import each other.

The graph is built from the source (AST), not by importing: every ``import``/``from … import``
counts, including those inside functions (they run sooner or later and tie the modules together
just the same), except those under ``if TYPE_CHECKING:``, which never run. ``from pkg import name``
is an edge to ``pkg.name`` when that is a module, else to ``pkg``; importing a module does not
count as importing each parent package's ``__init__`` (Python's own package machinery).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "vhr_conformance"
SRC = Path(__file__).resolve().parent.parent / "src" / PACKAGE


def _modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under ``root`` (``pkg/__init__.py`` is ``pkg``)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth, skipping the bodies of ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:  # the ``else:`` branch does run
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from X import …`` names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the package's modules it imports."""
    modules = _modules(root, package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve_from(name, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                # ``import a.b.c`` binds a.b.c; the nearest module of the package that it names
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def package_graph(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """The module graph collapsed onto the top-level packages and modules (``package.X``)."""

    def top(module: str) -> str:
        rest = module.removeprefix(f"{package}.")
        return package if module == package else f"{package}.{rest.split('.')[0]}"

    out: dict[str, set[str]] = {top(m): set() for m in graph}
    for module, deps in graph.items():
        out[top(module)] |= {top(d) for d in deps} - {top(module)}
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path of module names) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:  # Tarjan; the package is small enough to recurse
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_path_within(graph, g) for g in groups]


def _path_within(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest closed path through the group's first module (breadth-first inside the group)."""
    start = min(group)
    parent: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if w not in parent:
                parent[w] = v
                queue.append(w)
    return sorted(group)  # unreachable: every module of a strongly connected group leads back


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph(SRC, PACKAGE)
    assert len(graph) > 50 and f"{PACKAGE}.validator.engine" in graph  # the whole package was read
    found = cycles(graph)
    assert not found, "import cycles / vòng nhập khẩu:\n" + "\n".join(" → ".join(c) for c in found)


def test_no_import_cycle_between_the_top_level_packages() -> None:
    graph = package_graph(import_graph(SRC, PACKAGE), PACKAGE)
    assert {f"{PACKAGE}.runner", f"{PACKAGE}.catalogue", f"{PACKAGE}.pytest_plugin"} <= set(graph)
    found = cycles(graph)
    assert not found, "package import cycles / vòng nhập khẩu giữa các gói:\n" + "\n".join(
        " → ".join(c) for c in found
    )


def test_validator_layers_do_not_import_the_engine() -> None:
    """The layers are built over the run context; only the engine (and the package) drive them."""
    graph = import_graph(SRC, PACKAGE)
    engine = f"{PACKAGE}.validator.engine"
    users = sorted(m for m, deps in graph.items() if engine in deps)
    assert users == [f"{PACKAGE}.validator"], users


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def f():\n    from pkg.c import x\n    return x\n",
            "c.py": "import pkg.a\nx = 1\n",
            "d.py": "from . import a\n",
        },
    )
    found = cycles(import_graph(tmp_path, "pkg"))
    assert found == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_type_checking_imports_do_not_count_but_their_else_does(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "a.py": "from pkg.b import y\nx = 1\n",
        "b.py": (
            "import typing\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.a import x\n"
            "if typing.TYPE_CHECKING:\n    from .a import x\n"
            "y = 2\n"
        ),
    }
    _write(tmp_path, files)
    assert cycles(import_graph(tmp_path, "pkg")) == []
    _write(tmp_path, {"b.py": files["b.py"] + "if TYPE_CHECKING:\n    pass\nelse:\n    from . import a\n"})
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_a_package_cycle_without_a_module_cycle_is_found(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "__init__.py": "",
            "a/__init__.py": "",
            "a/x.py": "from pkg.b.y import f\n",
            "a/w.py": "",
            "b/__init__.py": "",
            "b/y.py": "def f():\n    return 1\n",
            "b/z.py": "from pkg.a import w\n",
            "c.py": "import pkg.a.x\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    assert cycles(graph) == []
    packages = package_graph(graph, "pkg")
    assert packages == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.a"}}
    assert cycles(packages) == [["pkg.a", "pkg.b", "pkg.a"]]


@pytest.mark.parametrize(
    ("source", "edge"),
    [
        ("from pkg.sub import mod\n", "pkg.sub.mod"),  # a submodule named in the import list
        ("from pkg.sub import name\n", "pkg.sub"),  # an attribute of the package: its __init__
        ("import pkg.sub.mod as m\n", "pkg.sub.mod"),
        ("from .sub.mod import name\n", "pkg.sub.mod"),
        ("import pkg.sub.mod.attr\n", "pkg.sub.mod"),  # not a module: the nearest one that is
    ],
)
def test_edges(tmp_path: Path, source: str, edge: str) -> None:
    _write(tmp_path, {"__init__.py": "", "top.py": source, "sub/__init__.py": "", "sub/mod.py": ""})
    assert import_graph(tmp_path, "pkg")["pkg.top"] == {edge}
