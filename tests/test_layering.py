"""Imports run one way (cli -> api -> scheduler/judge -> sandbox -> protocol), and the code that
runs inside the sandbox imports nothing of the grader but the protocol."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "grader"

# module prefix -> grader modules it must never import
FORBIDDEN = {
    "grader.protocol": ["grader."],          # but grader.errors, which imports nothing
    "grader.student": ["grader.api", "grader.cli", "grader.judge", "grader.sandbox", "grader.store",
                       "grader.scheduler", "grader.testing", "grader.assignment", "grader.intake"],
    "grader.sandbox": ["grader.api", "grader.cli", "grader.judge", "grader.scheduler", "grader.store"],
    "grader.judge": ["grader.api", "grader.cli", "grader.scheduler"],
    "grader.results": ["grader.api", "grader.cli", "grader.judge", "grader.reports", "grader.sandbox"],
    "grader.reports": ["grader.api", "grader.cli", "grader.judge", "grader.sandbox", "grader.scheduler"],
    "grader.scheduler": ["grader.api", "grader.cli"],
    "grader.api": ["grader.cli"],
}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_imports_go_one_way():
    problems = []
    for path in PKG.rglob("*.py"):
        name = module_name(path)
        for prefix, banned in FORBIDDEN.items():
            if name == prefix or name.startswith(prefix + "."):
                for imp in imports_of(path):
                    if any(imp.startswith(b) for b in banned) and not imp.startswith(prefix):
                        if not (prefix == "grader.student" and imp == "grader.protocol"
                                or prefix in ("grader.student", "grader.protocol") and imp.startswith("grader.errors")):
                            problems.append(f"{name} imports {imp}")
    assert problems == []


def test_student_side_needs_only_stdlib_torch_and_protocol():
    third_party = set()
    for path in (PKG / "student").rglob("*.py"):
        for imp in imports_of(path):
            top = imp.split(".")[0]
            if top not in ("grader", "torch", "__future__") and top not in __import__("sys").stdlib_module_names:
                third_party.add(imp)
    assert third_party == set()
