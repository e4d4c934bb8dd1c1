"""Imports run one way, layer by layer, with no cycle among the grader's modules, and the code that
runs inside the sandbox loads nothing of the grader but the protocol, the errors and the version."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "grader"

# Every module of the package, by layer: a module imports grader modules of its own layer or below.
LAYERS = [
    ("grader.errors", "grader.results", "grader.version"),          # import nothing of the grader
    ("grader.protocol", "grader.text", "grader.build", "grader.notebook", "grader.jobs",
     "grader.policy"),
    ("grader.student",),                                                  # inside the sandbox
    ("grader.sandbox", "grader.assignment", "grader.store", "grader.intake", "grader.lms",
     "grader.testing", "grader.manual"),
    ("grader.judge",),
    ("grader.reports", "grader.check", "grader.forge", "grader.assign", "grader.lint",
     "grader.scheduler", "grader.worker", "grader.ray_executor", "grader.scaffold"),
    ("grader.api", "grader.verify", "grader.bench", "grader.serve"),     # serve: the service
    ("grader.platforms",),                    # a platform's container: over api, under the CLI
    ("grader.cli",),
]
# tighter than their layer: what the two sides of the sandbox boundary share
ONLY = {"grader.protocol": ("grader.errors",),
        "grader.student": ("grader.student", "grader.protocol", "grader.errors")}
# Upward imports made inside a function, and why.  The package's facade: `grader.grade` and friends
# import the API when first used, so that the sandbox (which imports grader.student.*, and so the
# package) loads none of it.  It is no cycle: no module imports the package itself.
LAZY = {("grader", "grader.api")}
# The cycles left among the grader's modules (each made by an import inside a function): the only
# ones allowed, so that a new one fails and an untangled one is taken off this list.
CYCLES = [{"grader.api", "grader.verify"},        # api.verify calls verify, which calls api.grade
          {"grader.intake", "grader.lms"},        # collect reads exports with lms, which names with
                                                  # intake's helpers
          {"grader.judge.plugin", "grader.judge.warm"}]   # plugin.run calls warm, built on plugin

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def imports_of(path: Path, *, scope: str = "all") -> set[str]:
    """The grader modules `path` imports (`from grader import x` names grader.x): in all its code,
    or in its functions only (`scope="functions"`), or outside them (`scope="top"`)."""
    tree = ast.parse(path.read_text())
    in_functions = {id(n) for f in ast.walk(tree) if isinstance(f, FUNCTIONS) for n in ast.walk(f)}
    found = set()
    for node in ast.walk(tree):
        if scope != "all" and (id(node) in in_functions) != (scope == "functions"):
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = PKG.parent / node.module.replace(".", "/")
            found |= {f"{node.module}.{a.name}"
                      if (base / a.name).exists() or (base / f"{a.name}.py").exists()
                      else node.module for a in node.names}
    return {i for i in found if i == "grader" or i.startswith("grader.")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int | None:
    if name == "grader":
        return 0                        # the package itself: its version, and the facade (LAZY)
    return next((k for k, group in enumerate(LAYERS) for p in group if _within(name, p)), None)


def test_every_module_has_a_layer_and_imports_go_down():
    problems = []
    for path in sorted(PKG.rglob("*.py")):
        name = module_name(path)
        layer = layer_of(name)
        if layer is None:
            problems.append(f"{name} has no layer in tests/test_layering.py")
            continue
        only = next((allowed for p, allowed in ONLY.items() if _within(name, p)), None)
        for imp in sorted(imports_of(path)):
            if imp == "grader":
                problems.append(f"{name} imports the package grader itself, whose facade imports "
                                "the API: import the module that defines the name")
                continue
            if (name, imp) in LAZY:
                continue
            if only is not None and not any(_within(imp, a) for a in only):
                problems.append(f"{name} imports {imp}: it may import only {', '.join(only)}")
            elif layer_of(imp) is None or layer_of(imp) > layer:
                problems.append(f"{name} (layer {layer}) imports {imp} (layer {layer_of(imp)})")
    assert problems == []


def test_the_lazy_imports_are_made_inside_functions():
    """An exception to the layers holds for an import inside a function only."""
    for name, imp in LAZY:
        path = PKG.parent / (name.replace(".", "/") + ".py")
        path = path if path.exists() else PKG.parent / name.replace(".", "/") / "__init__.py"
        assert imp in imports_of(path, scope="functions"), f"{name} no longer imports {imp}"
        assert imp not in imports_of(path, scope="top"), f"{name} imports {imp} at its top"


def test_the_layer_rules_catch_an_upward_import():
    assert (layer_of("grader.sandbox.bwrap") < layer_of("grader.judge.session")
            < layer_of("grader.api"))
    assert layer_of("grader.student.runner") < layer_of("grader.sandbox.base")
    assert layer_of("grader.nonexistent") is None


def test_student_side_needs_only_stdlib_torch_and_protocol():
    """What importing the sandbox's side loads, beyond what `import torch` loads: the standard
    library and grader.student, grader.protocol, grader.errors and grader.version, nothing else."""
    student = sorted(module_name(p) for p in (PKG / "student").glob("*.py"))
    code = ("import sys, torch\nbase = set(sys.modules)\n"
            f"import {', '.join(student)}\n"
            "print('\\n'.join(sorted(set(sys.modules) - base)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=PKG.parent).stdout.split()
    grader_modules = {m for m in loaded if m.split(".")[0] == "grader"}
    shared = ("grader", "grader.protocol", "grader.errors", "grader.version")
    assert grader_modules and all(m in shared or _within(m, "grader.student")
                                  for m in grader_modules), grader_modules
    others = [m for m in loaded if m.split(".")[0] not in ("grader", *sys.stdlib_module_names)]
    assert others == []


def import_graph() -> dict[str, set[str]]:
    """Every grader module and the grader modules it imports, at its top or in a function."""
    paths = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}

    def module(imp: str) -> str:          # grader.judge.grade.GradeOptions -> grader.judge.grade
        while imp not in paths and "." in imp:
            imp = imp.rsplit(".", 1)[0]
        return imp

    return {name: {module(i) for i in imports_of(p)} - {name} for name, p in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import one another, directly or through others (the strongly
    connected components of more than one module, or of one that imports itself)."""
    order, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        order[v] = low[v] = len(order)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            group = set()
            while v not in group:
                group.add(stack.pop())
            on_stack.difference_update(group)
            if len(group) > 1 or v in graph.get(v, ()):
                found.append(group)

    for v in sorted(graph):
        if v not in order:
            visit(v)
    return found


def test_no_import_cycles_but_the_known_ones():
    found = sorted(map(sorted, cycles(import_graph())))
    assert found == sorted(map(sorted, CYCLES))


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [{"a", "b", "c"}]),
    ({"a": {"a"}, "b": {"c"}, "c": {"b"}}, [{"a"}, {"b", "c"}]),
])
def test_the_cycle_check_finds_a_cycle_through_any_number_of_modules(graph, expected):
    assert sorted(map(sorted, cycles(graph))) == sorted(map(sorted, expected))

