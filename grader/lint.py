"""The master notebook's layout, checked before `grader assign` and `grader verify` do anything.

The master notebook (`solutions/<hw>/<hw>.ipynb`, otter's format) is the one source of an
assignment's text, solutions and public tests, and it is edited in Jupyter.  `lint` reads it with
`assignment.toml` and the hidden suite and returns one line per problem, naming the cell by its
number (the first cell is cell 1) and question.  It fails on:

- a release with otter's export, check-all or PDF cells: no `# ASSIGNMENT CONFIG` raw cell (otter's
  defaults add an export cell), `export_cell` or `generate` not false, `check_all_cell`,
  `solutions_pdf` or `template_pdf` set, a question with `export`, a code cell that calls
  `grader.export(...)` or `grader.check_all()`;
- `manual: true` on a question assignment.toml does not mark `manual = true` (or the reverse), a
  manual question without an answer cell (a markdown or code cell in its SOLUTION block) or with
  hidden tests;
- points that disagree among a question's `BEGIN QUESTION` cell, `assignment.toml` and the hidden
  tests' `@question(..., points=)` marks (added up per question), or questions in another order;
- a marker (`# ASSIGNMENT CONFIG`, `# BEGIN/END QUESTION`, `SOLUTION`, `TESTS`, `PROMPT`) in a
  markdown or code cell, where otter does not see it, and a raw cell that is no marker;
- blocks that do not nest (a block outside a question, a block or question never closed, an end
  with no begin), two questions of one name, a non-code cell among the public tests;
- `SOLUTION` lines in a code cell outside a solution block (otter strips them only inside one, so
  they reach students as written), a solution cell without them (released whole, answer
  included), and unbalanced `# BEGIN SOLUTION` / `# END SOLUTION` lines in one cell.

The rules follow what otter assign does with each cell (otter/assign/notebook_transformer.py):
markers are read on the first line of raw cells only, cells whose first line is otter's `# IGNORE`
are skipped, and a markdown cell that is one fenced ```otter block counts as a raw cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import nbformat

from grader.assign import master_path
from grader.assignment import Assignment
from grader.errors import AssignmentError, LintError

# otter's own tests (otter/assign/blocks.py): a raw cell's first line opens or closes a block, or
# starts the config; a first line `# ignore` drops the cell
_RAW_MARKER = re.compile(r"#\s+(begin|end)\s+(question|solution|tests|prompt)", re.IGNORECASE)
_RAW_CONFIG = re.compile(r"#\s+assignment\s+config", re.IGNORECASE)
_IGNORE = re.compile(r"(##\s*ignore\s*##\s*|#\s*ignore\s*)", re.IGNORECASE)
# the same markers written as a whole line elsewhere: a cell of the wrong type
_LINE_MARKER = re.compile(r"#\s+(?:(begin|end)\s+(question|solution|tests|prompt)"
                          r"|(assignment\s+config))\s*$", re.IGNORECASE)
# what otter replaces in a solution cell (otter/assign/solutions.py)
_SOLUTION_LINE = re.compile(r"# ?(?:(?:BEGIN|END) )?SOLUTION")
_BEGIN_SOLUTION = re.compile(r"\s*# BEGIN SOLUTION")
_EXPORT_CALL = re.compile(r"\b(?:grader|otter\.Notebook\([^()]*\))\s*\.\s*(export|check_all)\s*\(")

# ASSIGNMENT CONFIG keys that must be given as false (otter's default turns them on)
MUST_BE_FALSE = {
    "export_cell": "without it otter adds an export cell (`grader.export`) that builds a PDF, "
                   "which needs xelatex in the student's Jupyter; students submit the .ipynb",
    "generate": "without it otter also builds its own autograder zip (and, with `pdf`, PDFs), "
                "which grading does not use",
}
# keys that may be left out (otter's default is off) but must not be turned on
MUST_NOT_BE_ON = {
    "check_all_cell": "it adds otter's check-all cell (`grader.check_all()`) to the release",
    "solutions_pdf": "it builds a PDF of the solutions with xelatex",
    "template_pdf": "it builds a Gradescope template PDF with xelatex",
}
# otter's calls a code cell of the master notebook must not make
CALLS_LEFT_OUT = {
    "export": "an export builds a PDF with xelatex; students submit the .ipynb itself",
    "check_all": "each question has its own `grader.check` cell",
}
# BEGIN QUESTION keys that put a question into otter's PDF export; `manual` is allowed on a
# question assignment.toml marks manual (grading reads its answer from the notebook)
QUESTION_PDF_KEYS = ("manual", "export")


@dataclass
class Question:
    """A question as the master notebook declares it."""

    name: str
    cell: int                        # number of its BEGIN QUESTION cell (the first is 1)
    points: float | None             # None where the cell gives no valid number
    heading: str = ""                # its first markdown line, for messages
    manual: bool = False             # `manual: true` in its BEGIN QUESTION cell
    answers: int = 0                 # markdown and code cells in its SOLUTION blocks


@dataclass
class _Walk:
    """What one pass over the cells found."""

    problems: list[tuple[int | None, str]] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    config_cells: list[int] = field(default_factory=list)
    stack: list[tuple[str, int]] = field(default_factory=list)      # open blocks: (kind, cell)
    owner: dict[int, Question] = field(default_factory=dict)        # cell -> its question
    current: Question | None = None

    def add(self, cell: int | None, text: str) -> None:
        self.problems.append((cell, text))

    @property
    def block(self) -> str | None:
        return self.stack[-1][0] if self.stack else None


def lint(asg: Assignment) -> list[str]:
    """Every problem of `asg`'s master notebook, one line each naming its cell (empty: it passes).
    Collects the hidden suite for its points (AssignmentError if the suite cannot be collected)."""
    from grader.judge import plugin

    walk = _walk(_read(master_path(asg)).cells)
    _check_config(walk)
    _check_points(walk, asg, plugin.collect(asg.tests_dir))
    ordered = sorted(walk.problems, key=lambda p: -1 if p[0] is None else p[0])
    return [_line(walk, cell, text) for cell, text in ordered]


def check(assignments: Iterable[Assignment]) -> None:
    """Raise LintError listing the problems of every one of these master notebooks, if any."""
    blocks, problems = [], []
    for asg in assignments:
        found, path = lint(asg), _shown(master_path(asg))
        if found:
            problems += [f"{path}: {p}" for p in found]
            blocks.append(f"{path}: {len(found)} problem{'s' * (len(found) > 1)} in the master "
                          "notebook:\n" + "\n".join(f"  {p}" for p in found))
    if problems:
        raise LintError("\n".join(blocks) + "\nFix each cell named in Jupyter, save, and run the "
                        "command again (docs/authoring.md, \"Editing the master notebook\").",
                        problems)


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:
        raise AssignmentError(f"{path}: not a readable notebook "
                              f"({type(exc).__name__}: {exc})") from None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _line(walk: _Walk, cell: int | None, text: str) -> str:
    """`cell 14 (q2 "Question 2: indexing"): text`, or `text` for the notebook as a whole."""
    if cell is None:
        return text
    q = walk.owner.get(cell)
    where = f' ({q.name} "{q.heading}")' if q and q.heading else f" ({q.name})" if q else ""
    return f"cell {cell}{where}: {text}"


# -- one pass over the cells --------------------------------------------------------------------
def _walk(cells: list) -> _Walk:
    walk = _Walk()
    for i, cell in enumerate(cells, 1):      # counted from 1, top to bottom
        cell_type, source = _unfenced(cell)
        lines = source.strip().splitlines()
        if lines and _IGNORE.match(lines[0]):
            continue                          # otter drops the cell from both notebooks
        if walk.current is not None:
            walk.owner[i] = walk.current
        marker = _marker(walk, i, cell_type, lines)
        if marker == "config":
            _config_cell(walk, i, source)
        elif marker:
            _boundary(walk, i, marker, source)
        else:
            _content(walk, i, cell_type, source)
    for kind, opened in reversed(walk.stack):
        _unclosed(walk, kind, opened, "is never closed")
    return walk


def _unfenced(cell) -> tuple[str, str]:
    """(cell type, source), a markdown cell that is one ```otter block counting as a raw cell."""
    lines = cell.source.strip().splitlines()
    if cell.cell_type == "markdown" and len(lines) >= 2 and lines[0].strip() == "```otter" \
            and lines[-1].strip() == "```" and all(line.strip() != "```" for line in lines[1:-1]):
        return "raw", "\n".join(lines[1:-1])
    return cell.cell_type, cell.source


def _marker(walk: _Walk, i: int, cell_type: str, lines: list[str]) -> tuple[str, str] | str | None:
    """("begin" | "end", block kind), "config", or None for a cell that is no marker.  A marker in
    a markdown or code cell is a problem, and counts as the marker its author meant."""
    first = lines[0].strip() if lines else ""
    if cell_type == "raw":
        m = _RAW_MARKER.match(first)
        if m:
            return m.group(1).lower(), m.group(2).lower()
        return "config" if _RAW_CONFIG.match(first) else None
    m = _LINE_MARKER.match(first)
    if m is None or cell_type not in ("markdown", "code"):
        return None
    if cell_type == "code" and (m.group(2) or "").lower() == "solution" and len(lines) > 1:
        return None                           # a `# BEGIN SOLUTION` block inside a solution cell
    walk.add(i, f"`{first}` is in a {cell_type} cell, and otter reads markers only in raw cells: "
                "make it a raw cell")
    return "config" if m.group(3) else (m.group(1).lower(), m.group(2).lower())


def _boundary(walk: _Walk, i: int, marker: tuple[str, str], source: str) -> None:
    edge, kind = marker
    if edge == "begin" and kind == "question":
        _begin_question(walk, i, source)
    elif edge == "begin":
        if not walk.stack:
            walk.add(i, f"BEGIN {kind.upper()} outside any question: open one with a raw cell "
                        "`# BEGIN QUESTION` (name, points) first")
        elif len(walk.stack) > 1:
            inner, opened = walk.stack.pop()
            _unclosed(walk, inner, opened, f"is not closed before BEGIN {kind.upper()} in cell {i}")
        walk.stack.append((kind, i))
    elif walk.block == kind:
        walk.stack.pop()
        walk.current = walk.current if walk.stack else None
    elif any(k == kind for k, _ in walk.stack):
        while walk.block != kind:
            inner, opened = walk.stack.pop()
            _unclosed(walk, inner, opened, f"is not closed before END {kind.upper()} in cell {i}")
        walk.stack.pop()
        walk.current = walk.current if walk.stack else None
    else:
        walk.add(i, f"END {kind.upper()} with no open BEGIN {kind.upper()} before it")


def _unclosed(walk: _Walk, kind: str, opened: int, what: str) -> None:
    label = f"question {walk.owner[opened].name}" if kind == "question" and opened in walk.owner \
        else f"the {kind.upper()} block"
    walk.add(opened, f"{label} opened here {what}: add a raw cell `# END {kind.upper()}`")


def _begin_question(walk: _Walk, i: int, source: str) -> None:
    while walk.stack:
        kind, opened = walk.stack.pop()
        _unclosed(walk, kind, opened, f"is not closed before the BEGIN QUESTION in cell {i}")
    config = _yaml(walk, i, source, "BEGIN QUESTION")
    name = config.get("name")
    if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name).strip():
        walk.add(i, "BEGIN QUESTION needs a `name:` (the question id of assignment.toml, e.g. q1)")
        name = f"(unnamed, cell {i})"
    name = str(name)
    points = config.get("points")
    if not isinstance(points, (int, float)) or isinstance(points, bool):
        walk.add(i, f"BEGIN QUESTION {name} needs `points:` as one number (its points in "
                    f"assignment.toml), not {_value(points)}")
        points = None
    for key in QUESTION_PDF_KEYS:
        if key == "manual" and config.get(key) is True:
            continue                          # checked against assignment.toml (_check_manual)
        if config.get(key):
            walk.add(i, f"`{key}: {_value(config[key])}` puts question {name} into otter's PDF "
                        "export, which needs xelatex; grading reads the notebook: remove it")
    twin = next((q for q in walk.questions if q.name == name), None)
    if twin is not None:
        walk.add(i, f"question {name} is declared twice (also in cell {twin.cell}): give each "
                    "question its own name")
    walk.current = Question(name, i, None if points is None else float(points),
                            manual=config.get("manual") is True)
    walk.questions.append(walk.current)
    walk.owner[i] = walk.current
    walk.stack.append(("question", i))


def _content(walk: _Walk, i: int, cell_type: str, source: str) -> None:
    """A cell that is no marker: where it stands decides what it may hold."""
    q, block = walk.current, walk.block
    if cell_type == "raw":
        first = source.strip().splitlines()[0][:60] if source.strip() else "(empty)"
        walk.add(i, f"raw cell `{first}` is no otter marker, so otter copies it into the student "
                    "notebook as written: make it markdown or code, or fix the marker")
    elif cell_type == "markdown":
        if q is not None and not q.heading and source.strip():
            heading = source.strip().splitlines()[0].lstrip("#").strip()
            q.heading = heading if len(heading) <= 60 else heading[:57] + "..."
        if any(line.strip() == "```otter" for line in source.splitlines()):
            walk.add(i, "a ```otter block shares this markdown cell with text: put it in a raw "
                        "cell of its own")
    if block == "solution" and q is not None and cell_type in ("markdown", "code"):
        q.answers += 1
    if block == "tests" and cell_type != "code":
        walk.add(i, f"a {cell_type} cell in the TESTS block of {_name(q)}: public tests are code "
                    "cells only")
    if cell_type == "code":
        _code(walk, i, source)


def _code(walk: _Walk, i: int, source: str) -> None:
    q, block = walk.current, walk.block
    marked = [line.strip() for line in source.splitlines() if _SOLUTION_LINE.search(line)]
    if marked and block != "solution":
        where = "outside any question" if q is None else f"in question {q.name} but outside its " \
            "BEGIN/END SOLUTION cells"
        walk.add(i, f"`{marked[0][:60]}`: SOLUTION lines {where} reach students as written; "
                    "move the cell between the raw cells `# BEGIN SOLUTION` and `# END SOLUTION` "
                    "of its question")
    elif block == "solution" and not marked:
        walk.add(i, f"solution cell of {_name(q)} has no `# SOLUTION` or `# BEGIN SOLUTION` "
                    "line: students would get it as written, answer included")
    elif block == "solution":
        problem = _solution_blocks(source)
        if problem:
            walk.add(i, problem)
    call = _EXPORT_CALL.search(source)
    if call:
        walk.add(i, f"calls otter's `{call.group(1)}`, which releases leave out "
                    f"({CALLS_LEFT_OUT[call.group(1)]}): remove the call")


def _name(q: Question | None) -> str:
    return f"question {q.name}" if q is not None else "no question"


def _solution_blocks(source: str) -> str | None:
    """What is wrong with the `# BEGIN/END SOLUTION` lines of one cell, if anything."""
    inside = None
    for n, line in enumerate(source.splitlines(), 1):
        if line.rstrip().endswith("# END SOLUTION"):
            if inside is None:
                return f"line {n}: `# END SOLUTION` with no `# BEGIN SOLUTION` above it"
            inside = None
        elif _BEGIN_SOLUTION.match(line):
            if inside is not None:
                return f"line {n}: `# BEGIN SOLUTION` inside the block opened on line {inside}"
            inside = n
    return None if inside is None else f"line {inside}: `# BEGIN SOLUTION` is never closed"


def _config_cell(walk: _Walk, i: int, source: str) -> None:
    if walk.config_cells:
        walk.add(i, f"a second ASSIGNMENT CONFIG (the first is cell {walk.config_cells[0]}): "
                    "keep one")
    walk.config_cells.append(i)
    walk.config.update(_yaml(walk, i, source, "ASSIGNMENT CONFIG"))


def _yaml(walk: _Walk, i: int, source: str, what: str) -> dict:
    """The YAML mapping of a marker cell (its first line is a comment); {} and a problem if it
    holds none."""
    import yaml

    try:
        value = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        walk.add(i, f"{what} is not valid YAML ({first})")
        return {}
    if value is None:
        return {}
    if not isinstance(value, dict):
        walk.add(i, f"{what} must hold `key: value` lines, not a {type(value).__name__}")
        return {}
    return value


# -- the notebook as a whole --------------------------------------------------------------------
def _check_config(walk: _Walk) -> None:
    if not walk.config_cells:
        walk.add(None, "no `# ASSIGNMENT CONFIG` raw cell: otter's defaults add an export cell "
                       "and build its own autograder; add one (as in solutions/tensor_basics) "
                       "with `export_cell: false` and `generate: false`")
        return
    at = walk.config_cells[0]
    for key, why in MUST_BE_FALSE.items():
        if walk.config.get(key, True) is not False:
            given = f"`{key}: {_value(walk.config[key])}`" if key in walk.config else f"no `{key}`"
            walk.add(at, f"ASSIGNMENT CONFIG has {given}: set `{key}: false` ({why})")
    for key, why in MUST_NOT_BE_ON.items():
        if walk.config.get(key, False) is not False:
            walk.add(at, f"ASSIGNMENT CONFIG has `{key}: {_value(walk.config[key])}`: set it to "
                         f"false or remove it ({why})")


def _check_points(walk: _Walk, asg: Assignment, items: list) -> None:
    """Each question's points, the same in the notebook, assignment.toml and the hidden suite."""
    from grader.judge.grade import suite_points

    notebook = {q.name: q for q in walk.questions}
    declared = {q.id: q.points for q in asg.questions}
    suite = suite_points(items)
    _check_manual(walk, asg, notebook, suite)
    for qid in dict.fromkeys([*notebook, *declared, *suite]):
        q = notebook.get(qid)
        if q is not None and q.points is None:
            continue                          # its BEGIN QUESTION cell is named already
        found = (q.points if q else None, declared.get(qid), suite.get(qid))
        if qid in {m.id for m in asg.manual} and qid not in suite:
            found = (*found[:2], found[0])    # no tests: the notebook and the toml must agree
        if None not in found and max(found) - min(found) <= 1e-9:
            continue
        tests = "" if qid in declared else " (" + ", ".join(
            o.nodeid.rsplit("/", 1)[-1] for o in items if o.question == qid)[:200] + ")"
        walk.add(q.cell if q else None,
                 f"{'' if q else f'question {qid}: '}points disagree: BEGIN QUESTION "
                 f"{_pts(found[0])}, assignment.toml {_pts(found[1])}, the hidden tests' "
                 f"@question marks {_pts(found[2])}{tests}")
    shared, listed = [n for n in notebook if n in declared], [n for n in declared if n in notebook]
    if shared != listed:
        walk.add(None, f"the questions are in another order in the notebook ({', '.join(shared)})"
                       f" than in assignment.toml ({', '.join(listed)})")


def _check_manual(walk: _Walk, asg: Assignment, notebook: dict, suite: dict) -> None:
    """A manual question is one in both the notebook and assignment.toml, with an answer cell
    and no hidden tests (its rubric is assignment.toml's own check)."""
    toml = asg.directory / "assignment.toml"
    for q in asg.manual:
        cell = notebook[q.id].cell if q.id in notebook else None
        if q.id in notebook and not notebook[q.id].manual:
            walk.add(cell, f"{toml.name} marks {q.id} manual (graded by hand): add `manual: true` "
                           "to its BEGIN QUESTION cell")
        elif q.id in notebook and not notebook[q.id].answers:
            walk.add(cell, f"manual question {q.id} has no answer cell: put a markdown (or code) "
                           "cell between raw cells `# BEGIN SOLUTION` and `# END SOLUTION`; "
                           "students get it to write their answer in")
        if q.id in suite:
            walk.add(cell, f"manual question {q.id} has hidden tests: a manual question is "
                           "graded by hand only; remove its tests or `manual` from both files")
    marked = {m.id for m in asg.manual}
    for q in notebook.values():
        if q.manual and q.name not in marked:
            walk.add(q.cell, f"`manual: true` on {q.name}, which {toml.name} does not mark manual:"
                             f" add `manual = true` and a rubric there, or remove it here")


def _value(value: object) -> str:
    """A config value as YAML writes it (`true`, not `True`), cut short."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return str(value)[:60]


def _pts(points: float | None) -> str:
    return "none" if points is None else f"{points:g}"


__all__ = ["Question", "check", "lint"]
