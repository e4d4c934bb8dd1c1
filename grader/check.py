"""Student self-check: run the notebook top to bottom in a clean sandbox exactly as grading will,
then its public tests (the otter tests stored in the released notebook), and warn about what loses
points in practice.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import LIMIT_KEYS, RELEASE_METADATA, RELEASED_LIMITS, resolve_limits
from grader.errors import SandboxError, SubmissionError, UsageError
from grader.judge.session import StudentSession
from grader.notebook import cell_source, code_cells, parse_notebook
from grader.sandbox import BACKENDS, LaunchSpec, Limits, resolve_backend
from grader.sandbox.none import NoSandbox
from grader.testing import Probe
from grader.text import clean

# a public test runs as one probe, and may train a model: longer than a hidden test's probe
CHECK_DEFAULTS = {"probe_timeout": 30.0}
SIBLING_DATA_MAX = 50 << 20
SHOWN_PER_QUESTION = 5        # failed checks shown per question; the rest are counted
CUT = "... (cut)"


def short(text: object, width: int) -> str:
    """`text` as safe text on one line, at most `width` characters and an explicit cut marker."""
    line = " ".join(clean(text, 4 * width).split())
    return line if len(line) <= width else line[:width] + CUT


# -- the public-test probe and the helpers it takes into the student process ---------------------
def _one_line(text, width):
    """`text` on one line of at most `width` characters and a cut marker (student side)."""
    try:
        text = " ".join(str(text).split())
    except Exception:  # noqa: BLE001 - a message whose __str__ fails is still a failure
        text = "(a message that cannot be shown)"
    return text if len(text) <= width else text[:width] + "... (cut)"


def _type_name(t):
    """A class by the name a student writes: "torch.Tensor", "int", "MyLinear"."""
    module = getattr(t, "__module__", "") or ""
    if module in ("builtins", "__main__"):
        return t.__qualname__
    return f"{module}.{t.__qualname__}"


def _kind(value):
    """`value`'s type in words: "a torch.Tensor", "an int"."""
    name = _type_name(type(value))
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _shown(value):
    """`value` as a short repr (a class by its name)."""
    if isinstance(value, type):
        return _type_name(value)
    try:
        return _one_line(repr(value), 80)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still named
        return _kind(value) + " that cannot be shown"


def _why_false(node, names):
    """Why the asserted expression `node` is false, from the values of its parts; None where
    its parts say nothing more than "it is false"."""
    import ast

    def value(part):
        return eval(compile(ast.Expression(part), "<public test>", "eval"), names)

    def said(part):
        return _one_line(ast.unparse(part), 60)

    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        for part in node.values:
            if not value(part):
                return _why_false(part, names) or f"{said(part)} is false"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "isinstance" and len(node.args) == 2:
        return f"{said(node.args[0])} is {_kind(value(node.args[0]))}"
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        side = node.comparators[0] if isinstance(node.left, ast.Constant) else node.left
        return f"{said(side)} is {_shown(value(side))}"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f"{said(node.operand)} is {_shown(value(node.operand))}"
    if isinstance(node, ast.Call):
        return f"it returned {_shown(value(node))}"
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        return f"{said(node)} is {_shown(value(node))}"
    return None


def _failure(exc, stmt, names):
    """{"why", "cell", "line"} of a statement that raised `exc`: the student's own terms, never
    doctest's or torch's frames; cell and line: where in the notebook's code it was raised."""
    import ast
    import re
    import traceback

    if isinstance(exc, AssertionError) and not exc.args and isinstance(stmt, ast.Assert):
        try:
            why = _why_false(stmt.test, names)
        except Exception:  # noqa: BLE001 - the explanation is a courtesy; the failure stands
            why = None
        why = why or "it is false"
    elif isinstance(exc, AssertionError) and exc.args:
        why = _one_line(exc.args[0], 200)
    else:
        why = _one_line("".join(traceback.format_exception_only(type(exc), exc)).strip(), 200)
    cell = line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        m = re.fullmatch(r"<cell (\d+)>", frame.filename or "")
        if m:
            cell, line = int(m.group(1)), frame.lineno
    return {"why": why, "cell": cell, "line": line}


def run_public_tests(ns, code: str):
    """Probe: run one otter doctest case in the notebook's namespace, a statement at a time as
    doctest does; {"passed", "failures": [{"check", "why", "cell", "line"}]}.  A statement that
    fails only because an earlier failed one did not define a name is not listed again."""
    import ast
    import contextlib
    import doctest
    import io
    import traceback

    names, flags = ns._names, doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    checker, failures, undefined, passed = doctest.OutputChecker(), [], set(), True
    for example in doctest.DocTestParser().get_examples(code):
        try:
            body = ast.parse(example.source).body
        except SyntaxError:
            body = []
        stmt = body[0] if len(body) == 1 else None
        check = ast.unparse(stmt.test) if isinstance(stmt, ast.Assert) else example.source
        printed, failure, failed = io.StringIO(), None, False
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(example.source, "<public test>", "single"), names)
        except Exception as exc:  # noqa: BLE001 - the student's code may raise anything
            said = traceback.format_exception_only(type(exc), exc)[-1]
            failed = example.exc_msg is None or \
                not checker.check_output(example.exc_msg, said, flags)
            follows = isinstance(exc, NameError) and getattr(exc, "name", None) in undefined
            if failed and not follows:
                failure = _failure(exc, stmt, names)
        else:
            got = printed.getvalue()
            if example.exc_msg is not None:
                failure = {"why": f"it raised nothing; expected {_one_line(example.exc_msg, 80)}"}
            elif not checker.check_output(example.want, got, flags):
                failure = {"why": f"it printed {_one_line(got, 80) or 'nothing'}, expected "
                                  f"{_one_line(example.want, 80)}"}
            failed = failure is not None
        if failed:
            passed = False
            undefined |= {n.id for node in body for n in ast.walk(node)
                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if failure is not None:
            failures.append({"check": _one_line(check, 100), **failure})
    return {"passed": passed, "failures": failures[:40]}


PUBLIC = Probe(run_public_tests, uses=(_one_line, _type_name, _kind, _shown, _why_false, _failure))


@dataclass
class QuestionCheck:
    """One question's public tests: `problems` has a line per failed check, a message repeated
    verbatim once."""

    id: str
    points: float
    passed: bool
    title: str = ""           # the notebook's heading of the question ("Question 1: ...")
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.title})" if self.title else self.id


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
    unsandboxed: str = ""     # why it ran unsandboxed where --sandbox auto found no sandbox
    limits: dict = field(default_factory=dict)

    @property
    def all_passed(self) -> bool:
        return self.status == "ok" and all(q.passed for q in self.questions)


class Outline:
    """Where each cell of a notebook sits: under which heading, and before which question's
    `grader.check` cell, so that messages name questions and cells as the student sees them."""

    _CHECK = re.compile(r"""grader\.check\(\s*["']([^"']+)["']""")
    _HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
    _QUESTION = re.compile(r"(?i)^(question|q\s*\d|problem|exercise|문제|과제)")

    def __init__(self, nb: dict) -> None:
        headings, self.checks, self.first_lines = [], [], {}
        for index, cell in enumerate(nb["cells"], 1):
            source = cell_source(cell)
            if cell.get("cell_type") == "markdown":
                matches = map(self._HEADING.match, source.splitlines())
                headings += [(index, m.group(1)) for m in matches if m]
            elif cell.get("cell_type") == "code":
                self.checks += [(index, qid) for qid in self._CHECK.findall(source)]
                self.first_lines[index] = _first_line(source)
        questions = [h for h in headings if self._QUESTION.match(h[1])]
        self.headings = questions or headings

    def position(self, qid: str) -> int:
        """Where question `qid` is checked in the notebook (past the end where it is not)."""
        return next((i for i, q in self.checks if q == qid), len(self.first_lines) + 10**6)

    def heading(self, index: int) -> str:
        """The heading the cell at `index` (1-based, among all cells) sits under."""
        above = [text for i, text in self.headings if i < index]
        return short(above[-1], 70) if above else ""

    def title(self, qid: str) -> str:
        """The heading of question `qid`: the one above its `grader.check` cell."""
        return next((self.heading(i) for i, q in self.checks if q == qid), "")

    def qid_at(self, index: int) -> str | None:
        """The id of the question the cell at `index` belongs to: the next one checked under its
        heading; None for a cell before or after every question."""
        heading = self.heading(index)
        return next((q for i, q in self.checks if i >= index and self.heading(i) == heading), None)

    def question_at(self, index: int) -> str:
        """The question the cell at `index` belongs to ("q1 (Question 1: ...)"), or its heading."""
        heading, qid = self.heading(index), self.qid_at(index)
        if qid is None:
            return heading
        return f"{qid} ({heading})" if heading else qid

    def cell(self, index: int) -> str:
        """The cell at `index` as the student finds it: its question and its first line."""
        where = self.question_at(index)
        first = self.first_lines.get(index)
        name = f"the cell `{first}`" if first else f"cell {index}"
        return f"{where}: {name}" if where else name

    def code_line(self, index: object, line: object) -> str:
        """" (in your cell `def f(x):`, line 3)": where a public test's failure was raised."""
        if type(index) is not int or index not in self.first_lines:
            return ""
        at = f", line {line}" if type(line) is int else ""
        return f" (in your cell `{self.first_lines[index]}`{at})"


def _first_line(source: str) -> str:
    lines = [ln.strip() for ln in source.splitlines() if ln.strip()]
    code = [ln for ln in lines if not ln.startswith("#")]
    return short((code or lines or [""])[0], 60)


def released_limits(nb: dict, path: Path) -> dict:
    """The limits `grader assign` wrote into the released notebook (assignment.RELEASED_LIMITS);
    {} for a release made before it did; UsageError naming a malformed one."""
    meta = nb.get("metadata", {}).get(RELEASE_METADATA)
    if meta is None:
        return {}
    limits = meta.get("limits") if isinstance(meta, dict) else None
    if not isinstance(limits, dict):
        raise UsageError(f"{path}: the notebook's metadata {RELEASE_METADATA!r} has no table of "
                         "limits; copy your answers into the released notebook and check that one")
    for key, value in limits.items():
        types = LIMIT_KEYS[key][0] if key in RELEASED_LIMITS else None
        if types is None or isinstance(value, bool) or not isinstance(value, types) or value <= 0:
            raise UsageError(f"{path}: the notebook's limit {short(key, 40)} = "
                             f"{short(value, 40)} is not one this grader knows "
                             f"({', '.join(RELEASED_LIMITS)}, each a positive number): update "
                             "torchgrader, or check the notebook as it was released")
    return dict(limits)


def check_notebook(path: Path, *, questions: list[str] | None = None, sandbox: str = "auto",
                   limits: dict | None = None, data_files: list[Path] | None = None) -> CheckReport:
    """Run `path` in a sandbox, then its public tests; see CheckReport.

    Limits: those the release carries (as the assignment grades), overridden by `limits`.
    `sandbox="auto"` runs it unsandboxed, and says why, where no sandbox works (macOS, Windows):
    a student's own notebook on their own machine; grading never falls back."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"notebook {path} does not exist")
    raw = path.read_bytes()
    try:
        nb = parse_notebook(raw)
    except SubmissionError as exc:
        raise UsageError(f"{path} cannot be graded: {exc}") from None
    otter = nb.get("metadata", {}).get("otter", {}) if isinstance(nb.get("metadata"), dict) else {}
    if not otter:
        raise UsageError(f"{path} was not made from the released notebook (it has no release "
                         "metadata, so there are no public tests to run): copy your answers into "
                         "the released notebook and check that one")
    limits = resolve_limits({**CHECK_DEFAULTS, **released_limits(nb, path), **(limits or {})})
    tests = otter.get("tests") or {}
    outline = Outline(nb)
    wanted = questions or sorted(tests, key=outline.position)
    unknown = [q for q in wanted if q not in tests]
    if unknown:
        raise UsageError(f"the notebook has no public tests for {', '.join(unknown)} "
                         f"(it has: {', '.join(tests) or 'none'})")
    report = CheckReport(path, str(otter.get("assignment_name") or "?"), limits=limits)
    report.warnings = static_warnings(path, raw, nb, otter, limits, outline, questions)
    backend, report.unsandboxed = _backend(sandbox)
    report.sandbox = backend.name
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        workdir = Path(tmp)
        for f in data_files if data_files is not None else sibling_data(path):
            shutil.copy2(f, workdir / f.name)
        if backend.name != "none":
            workdir.chmod(0o777)
        session = StudentSession(backend, _launch_spec(workdir, limits),
                                 cell_timeout=limits["cell_timeout"],
                                 notebook_timeout=limits["notebook_timeout"],
                                 probe_timeout=limits["probe_timeout"])
        try:
            run = session.run_notebook(code_cells(nb))
            report.status, report.reason = run.status, _named_cells(run.reason, outline)
            report.cell_errors = [c for c in run.cells if c.status in ("error", "timeout")]
            for qid in wanted:
                check = QuestionCheck(qid, float(tests[qid].get("points") or 0), False,
                                      outline.title(qid))
                if run.status == "ok":
                    _check_question(session, check, tests[qid], outline)
                else:
                    check.problems = ["not checked: the notebook stopped before its end (above)"]
                report.questions.append(check)
        finally:
            session.close()
    report.warnings += [_cell_warning(c, outline, limits) for c in report.cell_errors]
    return report


def _cell_warning(cell, outline: Outline, limits: dict) -> str:
    if cell.status == "timeout":
        what = (f"ran longer than {limits['cell_timeout']:g} s, the assignment's limit for one "
                "cell, and was stopped (grading stops it too)")
    else:
        what = f"fails on a clean run ({short(f'{cell.ename}: {cell.evalue}', 120)})"
    return (f"{outline.cell(cell.index)} {what}; everything after it that needs its names will "
            "fail too")


def _backend(sandbox: str):
    """(backend, why it is unsandboxed): `auto` falls back to no sandbox, with the reasons, on a
    student's own machine; never as root, where a notebook run so could change the machine."""
    try:
        return resolve_backend(sandbox, warm=False), ""   # one notebook: a zygote would not pay off
    except SandboxError as exc:
        if sandbox != "auto":
            raise
        if os.geteuid() == 0:
            raise SandboxError(f"{exc} As root, grader check never runs a notebook unsandboxed "
                               "on its own: pass --sandbox none to do so on purpose.") from None
    reasons = "; ".join(f"{name}: {BACKENDS[name].unavailable_reason()}"
                        for name in ("bwrap", "podman"))
    return NoSandbox(), f"no sandbox works on this machine ({short(reasons, 240)})"


def _launch_spec(workdir: Path, limits: dict) -> LaunchSpec:
    """The student process's limits, as grading sets them (grader.judge.grade.launch_spec); a
    student's own check of one notebook: rlimits suffice where no cgroup can be made."""
    return LaunchSpec(workdir=workdir, unsafe_no_cgroups=True, output_kb=int(limits["output_kb"]),
                      limits=Limits(memory_mb=int(limits["memory_mb"]),
                                    cpu_s=int(limits["cpu_seconds"]),
                                    nproc=int(limits["processes"]),
                                    fsize_mb=int(limits["disk_mb"]), tmp_mb=int(limits["disk_mb"])))


def _named_cells(reason: str, outline: Outline) -> str:
    """A run's reason with "cell N" replaced by the question and first line of that cell."""
    return re.sub(r"\bcell (\d+)\b", lambda m: outline.cell(int(m.group(1))), reason or "")


def _check_question(session, check: QuestionCheck, test: dict, outline: Outline) -> None:
    """Run the question's public cases; a line per failed check, a message repeated verbatim
    shown once with a count, at most SHOWN_PER_QUESTION lines and a cut marker."""
    seen: dict[str, list] = {}           # why -> [line, further occurrences]
    check.passed = True
    for suite in test.get("suites", []):
        for case in suite.get("cases", []):
            if case.get("hidden"):
                continue
            try:
                r = session.probe(PUBLIC.name, PUBLIC.source, {"code": case.get("code", "")})
                failures = r.get("failures") if isinstance(r, dict) else None
                failures = failures if isinstance(failures, list) else []
                ok = isinstance(r, dict) and r.get("passed") is True
            except Exception as exc:  # noqa: BLE001 - any failure is this question's failure
                failures, ok = [{"check": "", "why": str(exc)}], False
            check.passed &= ok
            for f in failures:
                if not isinstance(f, dict):
                    continue
                why = short(f.get("why", ""), 200)
                if why in seen:
                    seen[why][1] += 1
                    continue
                what = short(f.get("check", ""), 100)
                seen[why] = [(f"`{what}` failed: {why}" if what else why)
                             + outline.code_line(f.get("cell"), f.get("line")), 0]
    lines = [line + (f" (and {_checks(more)} with this message)" if more else "")
             for line, more in seen.values()]
    if len(lines) > SHOWN_PER_QUESTION:
        rest = len(lines) - SHOWN_PER_QUESTION
        lines = lines[:SHOWN_PER_QUESTION] + [f"... (cut: {_checks(rest, 'failed ')})"]
    check.problems = lines


def _checks(n: int, what: str = "") -> str:
    return f"{n} more {what}check{'s' * (n > 1)}"


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


def static_warnings(path: Path, raw: bytes, nb: dict, otter: dict, limits: dict,
                    outline: Outline | None = None,
                    questions: list[str] | None = None) -> list[str]:
    """Problems visible without running anything (placeholders: in the cells of `questions`, and
    of no question, where it is given)."""
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
    outline = outline or Outline(nb)
    for index, cell in enumerate(nb["cells"], 1):
        if questions and outline.qid_at(index) not in (None, *questions):
            continue
        if cell.get("cell_type") == "code" and _unfinished(cell_source(cell)):
            out.append(f"{outline.cell(index)} still has a `...` placeholder or raises "
                       "NotImplementedError")
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
