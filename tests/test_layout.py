"""The package's shape holds: no import circle (at import time or through deferred imports), the run-directory
layout module imports nothing above it, and nothing outside `seq2seq/tasks/` compares anything with a task's name —
the front doors ask the task (`Task.predictor()`, `Task.serving()`, its attributes) instead."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO

PACKAGE = REPO / "seq2seq"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(name: str, path: Path, node: ast.ImportFrom | ast.Import) -> set[str]:
    """The package modules an import statement loads (a name imported from a package counts as its submodule
    when there is one, else as the package)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in MODULES}
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
        if node.level else (node.module or "")
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names} & set(MODULES)


def import_graph(top_level_only: bool = False) -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if top_level_only else ast.walk(tree)
        graph[name] = {target for node in nodes if isinstance(node, (ast.Import, ast.ImportFrom))
                       for target in imported(name, path, node)} - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while component[-1:] != [module]:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_the_package_has_no_import_circle():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    graph = import_graph()
    graph["seq2seq.rundir"] = graph["seq2seq.rundir"] | {"seq2seq.inference"}   # the basement reaching up
    assert any("seq2seq.rundir" in c and "seq2seq.inference" in c for c in circles(graph))


def test_the_run_directory_layout_imports_only_the_error_type_and_the_version():
    assert import_graph()["seq2seq.rundir"] <= {"seq2seq.errors", "seq2seq.version"}


def task_names() -> set[str]:
    import seq2seq.tasks as tasks

    return set(tasks.TASKS)


def name_tests(path: Path, names: set[str]) -> list[str]:
    """Places in a file that compare with a task's name: `x == "translation"`, `x in ("speech_to_text", ...)`,
    `match x: case "text_to_speech"`."""
    found, where = [], path.relative_to(REPO) if REPO in path.parents else path.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            constants = [c for o in operands for c in ast.walk(o) if isinstance(c, ast.Constant)]
            if any(c.value in names for c in constants if isinstance(c.value, str)):
                found.append(f"{where}:{node.lineno}")
        elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
            value = node.pattern.value
            if isinstance(value, ast.Constant) and value.value in names:
                found.append(f"{where}:{value.lineno}")
    return found


def test_nothing_outside_tasks_compares_with_a_task_name():
    names = task_names()
    outside = [p for p in PACKAGE.rglob("*.py") if PACKAGE / "tasks" not in p.parents]
    assert [hit for path in outside for hit in name_tests(path, names)] == []


def test_the_task_name_check_sees_a_comparison(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('def f(config):\n    return config.task == "speech_to_text"\n', encoding="utf-8")
    assert name_tests(probe, task_names()) == ["probe.py:2"]
