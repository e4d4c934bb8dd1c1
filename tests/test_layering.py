"""Imports run one way, layer by layer, and the code that runs inside the sandbox loads nothing of
the grader but the protocol and the errors."""

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "grader"

# Every module of the package, by layer: a module imports grader modules of its own layer or below.
LAYERS = [
    ("grader.errors", "grader.results"),                                  # import nothing of the grader
    ("grader.protocol", "grader.text", "grader.build", "grader.notebook", "grader.jobs"),
    ("grader.student",),                                                  # inside the sandbox
    ("grader.sandbox", "grader.assignment", "grader.store", "grader.intake", "grader.lms", "grader.testing"),
    ("grader.judge",),
    ("grader.reports", "grader.check", "grader.forge", "grader.assign", "grader.lint", "grader.scheduler",
     "grader.worker", "grader.ray_executor", "grader.scaffold"),
    ("grader.api", "grader.verify", "grader.bench"),
    ("grader.cli",),
]
# tighter than their layer: what the two sides of the sandbox boundary share
ONLY = {"grader.protocol": ("grader.errors",),
        "grader.student": ("grader.student", "grader.protocol", "grader.errors")}
# the package's facade: `grader.grade` and friends import the API when first used
LAZY = {("grader", "grader.api")}


def imports_of(path: Path) -> set[str]:
    """The grader modules `path` imports (`from grader import x` names grader.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{a.name}" if (PKG.parent / node.module.replace(".", "/") / a.name).exists()
                      or (PKG.parent / (node.module.replace(".", "/") + f"/{a.name}.py")).exists()
                      else node.module for a in node.names}
    return {i for i in found if i == "grader" or i.startswith("grader.")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int | None:
    if name == "grader":
        return -1                       # the package itself: __version__, no imports of its own
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
            if imp == "grader" or (name, imp) in LAZY:
                continue
            if only is not None and not any(_within(imp, a) for a in only):
                problems.append(f"{name} imports {imp}: it may import only {', '.join(only)}")
            elif layer_of(imp) is None or layer_of(imp) > layer:
                problems.append(f"{name} (layer {layer}) imports {imp} (layer {layer_of(imp)})")
    assert problems == []


def test_the_layer_rules_catch_an_upward_import():
    assert layer_of("grader.sandbox.bwrap") < layer_of("grader.judge.session") < layer_of("grader.api")
    assert layer_of("grader.student.runner") < layer_of("grader.sandbox.base")
    assert layer_of("grader.nonexistent") is None


def test_student_side_needs_only_stdlib_torch_and_protocol():
    """What importing the sandbox's side loads, beyond what `import torch` loads: the standard
    library and grader.student, grader.protocol and grader.errors, nothing else."""
    code = ("import sys, torch\nbase = set(sys.modules)\n"
            "import grader.student.boot, grader.student.runner, grader.student.zygote, grader.student.cells\n"
            "print('\\n'.join(sorted(set(sys.modules) - base)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PKG.parent).stdout.split()
    grader_modules = {m for m in loaded if m.split(".")[0] == "grader"}
    assert grader_modules and all(m in ("grader", "grader.protocol", "grader.errors") or _within(m, "grader.student")
                                  for m in grader_modules), grader_modules
    others = [m for m in loaded if m.split(".")[0] not in ("grader", *sys.stdlib_module_names)]
    assert others == []
