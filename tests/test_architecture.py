"""The package's import graph has no cycles: every import counts, at the top of a module, inside
a function or under ``TYPE_CHECKING`` (a cycle hidden by a late import is still a cycle)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def package_modules() -> dict[str, Path]:
    """Every module of the installed package by dotted name, from pyproject's package mapping."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    roots = {"decide": ROOT / "decide"}
    roots |= {
        name: ROOT / path for name, path in config["tool"]["setuptools"]["package-dir"].items()
    }
    modules = {}
    for prefix, folder in roots.items():
        for file in folder.glob("*.py"):
            name = prefix if file.stem == "__init__" else f"{prefix}.{file.stem}"
            modules[name] = file
    for prefix, folder in roots.items():  # sub-packages not mapped on their own
        for file in folder.rglob("*.py"):
            parts = file.relative_to(folder).with_suffix("").parts
            if len(parts) > 1:
                inner = parts[:-1] if parts[-1] == "__init__" else parts
                modules.setdefault(".".join((prefix, *inner)), file)
    return modules


def imported(name: str, file: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its source."""
    package = name if file.stem == "__init__" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                        for a in node.names}  # fmt: skip
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            child = next(successors, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while (member := stack.pop()) != node:
                        component.append(member)
                        on_stack.discard(member)
                    on_stack.discard(node)
                    if component:
                        found.append(sorted([node, *component]))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_import_graph_has_no_cycles():
    modules = package_modules()
    assert (
        "decide.envs.fisheries.studies.batch.stock" in modules
        and "decide.pomdp._kernels.bounds" in modules
    )
    graph = {name: imported(name, file, modules) for name, file in modules.items()}
    assert "decide.pomdp.model" in graph["decide.pomdp.pointbased.solver"]
    assert cycles(graph) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_cycles_are_found(graph, expected):
    assert sorted(cycles(graph)) == expected


def test_late_and_type_only_imports_count(tmp_path):
    (tmp_path / "x.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.y import Y\n"
    )
    (tmp_path / "y.py").write_text("def f():\n    from . import x\n")
    modules = {"pkg.x": tmp_path / "x.py", "pkg.y": tmp_path / "y.py"}
    graph = {name: imported(name, file, modules) for name, file in modules.items()}
    assert graph == {"pkg.x": {"pkg.y"}, "pkg.y": {"pkg.x"}}
    assert cycles(graph) == [["pkg.x", "pkg.y"]]
