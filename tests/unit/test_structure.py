"""The shape of the code: one-way imports, a small plugin API, functions one can read.

Read from the source with ``ast`` (nothing is imported), so these run in a second.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "seqapps"
PLUGIN_FOLDERS = [
    *sorted(p.parent for p in (ROOT / "plugins").glob("*/seqapps_*/__init__.py")),
    ROOT / "docs" / "example-plugin" / "seqapps_majority",
]
MAX_LINES, MAX_PARAMETERS = 60, 6


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, inside functions too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from seqapps import plots` imports the module seqapps.plots
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("folder", PLUGIN_FOLDERS, ids=lambda folder: folder.name)
def test_plugins_import_only_the_plugin_api(folder):
    assert any(folder.rglob("*.py")), folder
    reaching_in = []
    for path in sorted(folder.rglob("*.py")):
        for line, module in imported_modules(path):
            allowed = module in ("seqapps", "seqapps.api") or module.startswith("seqapps.api.")
            if module.split(".")[0] == "seqapps" and not allowed:
                reaching_in.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not reaching_in, "plugins may import only seqapps.api:\n" + "\n".join(reaching_in)


def test_the_plugin_test_sees_a_bad_import(tmp_path):
    bad = tmp_path / "task.py"
    bad.write_text("def f():\n    from seqapps.training import run\n")
    assert (2, "seqapps.training") in imported_modules(bad)


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in CORE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    modules = core_modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for _, module in imported_modules(path):
            if module in modules and module != name and module != "seqapps":
                graph[name].add(module)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that returns to its start, or None."""
    state = dict.fromkeys(graph, "new")
    path: list[str] = []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state[nxt] == "open":
                return [*path[path.index(nxt) :], nxt]
            if state[nxt] == "new" and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if state[node] == "new" and (cycle := visit(node)):
            return cycle
    return None


def test_core_modules_import_each_other_without_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def is_click_command(node) -> bool:
    return any(
        "command" in ast.unparse(d) or "option" in ast.unparse(d) or "argument" in ast.unparse(d)
        for d in node.decorator_list
    )


def parameter_count(node) -> int:
    """Parameters a caller can pass: not self/cls, not the **kwargs a Keras layer hands on to
    its base class."""
    arguments = node.args
    names = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    count = len(names) + bool(arguments.vararg)
    if names and names[0].arg in ("self", "cls"):
        count -= 1
    return count


def test_no_core_function_is_too_long_or_takes_too_many_parameters():
    too_big = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if is_click_command(node):
                continue  # a command's parameters are its options
            lines = node.end_lineno - node.lineno + 1
            parameters = parameter_count(node)
            if lines > MAX_LINES or parameters > MAX_PARAMETERS:
                where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                too_big.append(f"{where}: {lines} lines, {parameters} parameters")
    assert not too_big, f"over {MAX_LINES} lines or {MAX_PARAMETERS} parameters:\n" + "\n".join(
        too_big
    )
