"""The master notebook's lint (grader/lint.py): each rule broken by a master notebook written in a
temp dir, with the line that names it, and `grader assign` / `grader verify` stopping on it with
exit status 2 before they run anything; the course's own master notebooks pass."""

import shutil
import subprocess
import sys

import nbformat
import pytest

from grader import api, assignment, lint
from grader.errors import AssignmentError, LintError
from conftest import MINI_COURSE, ROOT

raw, md, code = nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
# the mini master notebook's cells by list index (the lint numbers them from 1): 0 config, 1 setup,
# 2-10 question q1 and 11-19 question q2, each BEGIN QUESTION, prompt, BEGIN SOLUTION, solution,
# END SOLUTION, BEGIN TESTS, test, END TESTS, END QUESTION
Q1 = 'q1 "Write `double(t)` returning a new tensor, twice `t`."'
Q2 = 'q2 "Write `Scale(factor)`, an `nn.Module` with one parameter ..."'
SUITE = "the hidden tests' @question marks"


@pytest.fixture
def course(tmp_path):
    dest = tmp_path / "course"
    shutil.copytree(MINI_COURSE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def edit_notebook(course, change) -> None:
    """Apply `change` to the list of cells of the course's master notebook, and save it."""
    path = course / "solutions" / "mini" / "mini.ipynb"
    nb = nbformat.read(path, as_version=4)
    change(nb.cells)
    nbformat.write(nb, path)


def edit_file(path, old, new) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def lint_after(course, change) -> list[str]:
    edit_notebook(course, change)
    return lint.lint(assignment.load("mini", course))


# changes to the list of cells
def sub(at, old, new):
    """Replace `old` (found once) by `new` in the cell at list index `at`."""
    def change(cells):
        assert cells[at].source.count(old) == 1
        cells[at].source = cells[at].source.replace(old, new)
    return change


def put(at, make):
    """Replace the cell at `at` by `make(its source)`."""
    return lambda cells: cells.__setitem__(at, make(cells[at].source))


def add(at, *new):
    return lambda cells: cells.__setitem__(slice(at, at), list(new))


def drop(at):
    return lambda cells: cells.pop(at)


def swap_questions(cells):
    cells[2:20] = cells[11:20] + cells[2:11]


def both(*changes):
    return lambda cells: [change(cells) for change in changes]


# (rule, change to the cells, [(start of the line, what it says)] for every line expected)
CASES = [
    # otter's export, check-all and PDF cells
    ("minimal config", put(0, lambda _: raw("# ASSIGNMENT CONFIG\nname: mini")),
     [("cell 1: ", "has no `export_cell`: set `export_cell: false`"),
      ("cell 1: ", "has no `generate`: set `generate: false`")]),
    ("export cell", sub(0, "export_cell: false", "export_cell:\n  pdf: false"),
     [("cell 1: ", "has `export_cell: {'pdf': False}`: set `export_cell: false`")]),
    ("generate with a pdf", sub(0, "generate: false", "generate:\n  pdf: true"),
     [("cell 1: ", "ASSIGNMENT CONFIG has `generate: {'pdf': True}`: set `generate: false`")]),
    ("check-all cell", sub(0, "check_all_cell: false", "check_all_cell: true"),
     [("cell 1: ", "ASSIGNMENT CONFIG has `check_all_cell: true`: set it to false or remove it")]),
    ("solutions pdf", sub(0, "run_tests: false", "run_tests: false\nsolutions_pdf: true"),
     [("cell 1: ", "`solutions_pdf: true`: set it to false or remove it (it builds a PDF")]),
    ("no config cell", drop(0),
     [("no `# ASSIGNMENT CONFIG` raw cell: ", "otter's defaults add an export cell")]),
    ("export call", sub(1, "import torch\n", "import torch\ngrader.export(pdf=False)\n"),
     [("cell 2: ", "calls otter's `export`")]),
    ("check_all call", add(19, code("grader.check_all()")),
     [(f"cell 20 ({Q2}): ", "calls otter's `check_all`")]),
    ("manual question not manual in the toml", sub(2, "points: 2", "points: 2\nmanual: true"),
     [(f"cell 3 ({Q1}): ", "`manual: true` on q1, which assignment.toml does not mark manual")]),
    ("export question", sub(2, "points: 2", "points: 2\nexport: true"),
     [(f"cell 3 ({Q1}): ", "`export: true` puts question q1 into otter's PDF export")]),
    # points: the notebook, assignment.toml and the hidden tests
    ("notebook points", sub(2, "points: 2", "points: 4"),
     [(f"cell 3 ({Q1}): ", f"points disagree: BEGIN QUESTION 4, assignment.toml 2, {SUITE} 2")]),
    ("points not a number", sub(2, "points: 2", "points: [1, 1]"),
     [(f"cell 3 ({Q1}): ", "BEGIN QUESTION q1 needs `points:` as one number")]),
    ("question missing", lambda c: c.__delitem__(slice(11, 20)),
     [("question q2: ", f"points disagree: BEGIN QUESTION none, assignment.toml 3, {SUITE} 3")]),
    ("order", swap_questions,
     [("the questions are in another order ", "(q2, q1) than in assignment.toml (q1, q2)")]),
    # markers in the wrong cell type, raw cells that are no marker
    ("BEGIN QUESTION in markdown", put(2, md),
     [(f"cell 3 ({Q1}): ", "`# BEGIN QUESTION` is in a markdown cell, and otter reads markers only "
                           "in raw cells: make it a raw cell")]),
    ("END TESTS in code", put(9, code),
     [(f"cell 10 ({Q1}): ", "`# END TESTS` is in a code cell")]),
    ("BEGIN SOLUTION in code", put(13, code),
     [(f"cell 14 ({Q2}): ", "`# BEGIN SOLUTION` is in a code cell")]),
    ("config in markdown", put(0, md),
     [("cell 1: ", "`# ASSIGNMENT CONFIG` is in a markdown cell")]),
    ("raw cell no marker", add(1, raw("# BEGIN QUESTOIN\nname: q0")),
     [("cell 2: ", "raw cell `# BEGIN QUESTOIN` is no otter marker")]),
    # blocks that do not nest, names, public tests
    ("question never closed", drop(19),
     [(f"cell 12 ({Q2}): ", "question q2 opened here is never closed: add a raw cell `# END")]),
    ("question not closed before the next", drop(10),
     [(f"cell 3 ({Q1}): ", "question q1 opened here is not closed before the BEGIN QUESTION in "
                           "cell 11")]),
    ("tests never closed", drop(9),
     [(f"cell 8 ({Q1}): ", "the TESTS block opened here is not closed before END QUESTION in "
                           "cell 10")]),
    ("end with no begin", add(1, raw("# END TESTS")),
     [("cell 2: ", "END TESTS with no open BEGIN TESTS before it")]),
    ("block outside a question",
     add(1, raw("# BEGIN TESTS"), code("assert True"), raw("# END TESTS")),
     [("cell 2: ", "BEGIN TESTS outside any question")]),
    ("markdown among the tests", add(8, md("Run this:")),
     [(f"cell 9 ({Q1}): ", "a markdown cell in the TESTS block of question q1")]),
    ("duplicate name", sub(11, "name: q2", "name: q1"),
     [("question q2: ", f"BEGIN QUESTION none, assignment.toml 3, {SUITE} 3"),
      ('cell 12 (q1 "Write `Scale', "question q1 is declared twice (also in cell 3)"),
      ('cell 12 (q1 "Write `Scale', f"BEGIN QUESTION 3, assignment.toml 2, {SUITE} 2")]),
    # SOLUTION lines
    ("solution outside a question", sub(1, "import torch\n", "import torch\nk = 2  # SOLUTION\n"),
     [("cell 2: ", "`k = 2  # SOLUTION`: SOLUTION lines outside any question reach students")]),
    ("solution among the tests", lambda c: setattr(c[8], "source", c[8].source + "  # SOLUTION"),
     [(f"cell 9 ({Q1}): ", "SOLUTION lines in question q1 but outside its BEGIN/END SOLUTION")]),
    ("solution block outside", add(1, code("# BEGIN SOLUTION\nk = 2\n# END SOLUTION")),
     [("cell 2: ", "`# BEGIN SOLUTION`: SOLUTION lines outside any question")]),
    ("solution with no marker", sub(5, " # SOLUTION", ""),
     [(f"cell 6 ({Q1}): ", "solution cell of question q1 has no `# SOLUTION` or `# BEGIN")]),
    ("solution block unclosed",
     sub(5, "    return t * 2 # SOLUTION", "    # BEGIN SOLUTION\n    t * 2"),
     [(f"cell 6 ({Q1}): ", "line 2: `# BEGIN SOLUTION` is never closed")]),
]


@pytest.mark.parametrize("change,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_the_cell(course, change, expected):
    problems = lint_after(course, change)
    assert len(problems) == len(expected), problems
    for line, (start, says) in zip(problems, expected):
        assert line.startswith(start) and says in line, (line, start, says)


@pytest.mark.parametrize("name", assignment.list_names(ROOT))
def test_the_course_master_notebooks_pass(name):
    assert lint.lint(assignment.load(name, ROOT)) == []


def test_the_mini_master_notebook_passes():
    assert lint.lint(assignment.load("mini", MINI_COURSE)) == []


def test_a_fenced_otter_block_and_an_ignored_cell_are_read_as_otter_reads_them(course):
    fenced = put(0, lambda source: md("```otter\n" + source + "\n```"))
    ignored = add(8, md("## ignore ##\nnotes for the staff, dropped by otter"))
    assert lint_after(course, both(fenced, ignored)) == []


def test_points_of_the_toml_and_of_the_hidden_tests_are_compared(course):
    """The copy's hidden suite is read from its own file, though the mini suite's module of the
    same name was collected first in this process."""
    assert lint.lint(assignment.load("mini", MINI_COURSE)) == []
    edit_file(course / "solutions" / "mini" / "assignment.toml", "points = 3", "points = 4")
    edit_file(course / "solutions" / "mini" / "tests" / "test_mini.py",
              '("q1", points=1)\ndef test_double_int', '("q9", points=1)\ndef test_double_int')
    problems = lint.lint(assignment.load("mini", course))
    assert problems[0].startswith("question q9: points disagree: BEGIN QUESTION none, "
                                  f"assignment.toml none, {SUITE} 1 (test_mini.py::")
    assert problems[1:] == [
        f"cell 3 ({Q1}): points disagree: BEGIN QUESTION 2, assignment.toml 2, {SUITE} 1",
        f"cell 12 ({Q2}): points disagree: BEGIN QUESTION 3, assignment.toml 4, {SUITE} 3"]


def test_assign_stops_before_otter_with_every_problem(course):
    shutil.rmtree(course / "assignments" / "mini")
    edit_notebook(course, both(drop(19), sub(0, "check_all_cell: false", "check_all_cell: true")))
    with pytest.raises(LintError) as caught:
        api.assign(["mini"], course=course)
    assert isinstance(caught.value, AssignmentError) and caught.value.exit_code == 2
    assert [p.split(": ", 1)[1] for p in caught.value.problems] == [
        "cell 1: ASSIGNMENT CONFIG has `check_all_cell: true`: set it to false or remove it (it "
        "adds otter's check-all cell (`grader.check_all()`) to the release)",
        f"cell 12 ({Q2}): question q2 opened here is never closed: add a raw cell `# END QUESTION`"]
    assert not (course / "assignments" / "mini").exists()


@pytest.mark.parametrize("command", [["assign", "mini"], ["assign", "--check", "--all"],
                                     ["verify", "mini", "-o", "OUT"]])
def test_the_cli_exits_2_naming_the_cell(course, tmp_path, command):
    edit_notebook(course, put(9, code))
    released = (course / "assignments" / "mini" / "mini.ipynb").read_bytes()
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course),
                        *[str(out) if a == "OUT" else a for a in command]],
                       capture_output=True, text=True, cwd=course)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == ("grader: LintError: solutions/mini/mini.ipynb: 1 problem in the master "
                        "notebook:")
    assert lines[1] == (f"  cell 10 ({Q1}): `# END TESTS` is in a code cell, and otter reads "
                        "markers only in raw cells: make it a raw cell")
    assert r.stdout == "" and not out.exists()
    assert (course / "assignments" / "mini" / "mini.ipynb").read_bytes() == released
