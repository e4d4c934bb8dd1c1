"""Student self-check: run the notebook top to bottom in a clean sandbox exactly as grading will,
then its public tests (the otter tests stored in the released notebook), and warn about what loses
points in practice.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.assignment import resolve_limits
from grader.judge.session import StudentSession
from grader.notebook import cell_source, code_cells, parse_notebook
from grader.sandbox import LaunchSpec, Limits, resolve_backend
from grader.testing import Probe

# a public test runs as one probe, and may train a model: longer than a hidden test's probe
CHECK_DEFAULTS = {"probe_timeout": 30.0}
SIBLING_DATA_MAX = 50 << 20


def run_public_tests(ns, code: str):
    """Probe: run one otter doctest case in the notebook's namespace; (passed, what it printed)."""
    import doctest
    import io

    out = io.StringIO()
    parser = doctest.DocTestParser()
    test = parser.get_doctest(code, ns._names, "public test", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=out.write, clear_globs=False)
    return {"passed": runner.failures == 0, "output": out.getvalue()[-3000:]}


PUBLIC = Probe(run_public_tests)


@dataclass
class QuestionCheck:
    id: str
    points: float
    passed: bool
    output: str = ""


@dataclass
class CheckReport:
    """What `grader check` found: public test results per question, and warnings."""

    notebook: Path
    assignment: str
    questions: list[QuestionCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    sandbox: str = ""         # the backend it ran in ("none": unsandboxed)

    @property
    def all_passed(self) -> bool:
        return self.status == "ok" and all(q.passed for q in self.questions)


def check_notebook(path: Path, *, questions: list[str] | None = None, sandbox: str = "auto",
                   limits: dict | None = None, data_files: list[Path] | None = None) -> CheckReport:
    """Run `path` in a sandbox, then its public tests; see CheckReport."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"notebook {path} does not exist")
    limits = resolve_limits({**CHECK_DEFAULTS, **(limits or {})})
    raw = path.read_bytes()
    try:
        nb = parse_notebook(raw)
    except SubmissionError as exc:
        raise UsageError(f"{path} cannot be graded: {exc}") from None
    otter = nb.get("metadata", {}).get("otter", {}) if isinstance(nb.get("metadata"), dict) else {}
    if not otter:
        raise UsageError(f"{path} was not made from the released notebook (it has no release metadata, so "
                         "there are no public tests to run): copy your answers into the released notebook "
                         "and check that one")
    tests = otter.get("tests") or {}
    wanted = questions or list(tests)
    unknown = [q for q in wanted if q not in tests]
    if unknown:
        raise UsageError(f"the notebook has no public tests for {', '.join(unknown)} "
                         f"(it has: {', '.join(tests) or 'none'})")
    report = CheckReport(path, str(otter.get("assignment_name") or "?"))
    report.warnings = static_warnings(path, raw, nb, otter, limits)
    backend = resolve_backend(sandbox, warm=False)   # one notebook: a zygote would not pay off
    report.sandbox = backend.name
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        workdir = Path(tmp)
        for f in data_files if data_files is not None else sibling_data(path):
            shutil.copy2(f, workdir / f.name)
        if backend.name != "none":
            workdir.chmod(0o777)
        # a student's own check of one notebook: rlimits suffice where no cgroup can be made
        session = StudentSession(backend, LaunchSpec(workdir=workdir, unsafe_no_cgroups=True, limits=Limits(
            memory_mb=int(limits["memory_mb"]), cpu_s=int(limits["cpu_seconds"]))),
            cell_timeout=limits["cell_timeout"], notebook_timeout=limits["notebook_timeout"],
            probe_timeout=limits["probe_timeout"])
        try:
            run = session.run_notebook(code_cells(nb))
            report.status, report.reason = run.status, run.reason
            report.cell_errors = [c for c in run.cells if c.status in ("error", "timeout")]
            for qid in wanted:
                report.questions.append(_check_question(session, qid, tests[qid]))
        finally:
            session.close()
    for c in report.cell_errors:
        report.warnings.append(f"cell {c.index} fails on a clean run ({c.ename}: {c.evalue[:120]}); "
                               "everything after it that needs its names will fail too")
    return report


def _check_question(session, qid: str, test: dict) -> QuestionCheck:
    outputs, passed = [], True
    for suite in test.get("suites", []):
        for case in suite.get("cases", []):
            if case.get("hidden"):
                continue
            try:
                r = session.probe(PUBLIC.name, PUBLIC.source, {"code": case.get("code", "")})
            except Exception as exc:  # noqa: BLE001 - any failure is this question's failure
                passed, r = False, {"passed": False, "output": str(exc)}
            passed &= bool(r.get("passed"))
            if not r.get("passed"):
                outputs.append(str(r.get("output", "")))
    return QuestionCheck(qid, float(test.get("points") or 0), passed, "\n".join(outputs))


def sibling_data(path: Path) -> list[Path]:
    """Small non-notebook files next to the notebook (the released data), copied into the sandbox."""
    files, total = [], 0
    for f in sorted(path.parent.iterdir()):
        if f.is_file() and f.suffix != ".ipynb" and not f.name.startswith("."):
            total += f.stat().st_size
            if total > SIBLING_DATA_MAX:
                break
            files.append(f)
    return files


def static_warnings(path: Path, raw: bytes, nb: dict, otter: dict, limits: dict) -> list[str]:
    """Problems visible without running anything."""
    out = []
    name = otter.get("assignment_name")
    if name and path.stem != name:
        out.append(f"the file is named {path.name!r} but the assignment is {name!r}: submit it as {name}.ipynb")
    size_mb = len(raw) / 2**20
    if size_mb > limits["max_notebook_mb"] * 0.5:
        out.append(f"the file is {size_mb:.1f} MiB (limit {limits['max_notebook_mb']:g} MiB): clear large "
                   "outputs with Kernel > Restart & Clear Output before saving")
    counts = [c.get("execution_count") for c in nb["cells"] if c.get("cell_type") == "code"]
    ran = [c for c in counts if isinstance(c, int)]
    if ran and ran != sorted(ran):
        out.append("cells were run out of order: the grader runs them top to bottom, so restart the "
                   "kernel and Run All before submitting")
    for index, cell in enumerate(nb["cells"], 1):
        if cell.get("cell_type") == "code" and _unfinished(cell_source(cell)):
            out.append(f"cell {index} still has a `...` placeholder or raises NotImplementedError")
    return out


def _unfinished(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis:
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False
