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
# the mini master notebook: 0 config, 1 setup, 2-10 question q1, 11-19 question q2, each question
# BEGIN QUESTION, prompt, BEGIN SOLUTION, solution, END SOLUTION, BEGIN TESTS, test, END TESTS, END
Q1 = 'q1 "Write `double(t)` returning a new tensor, twice `t`."'
Q2 = 'q2 "Write `Scale(factor)`, an `nn.Module` with one parameter ..."'


@pytest.fixture
def course(tmp_path):
    dest = tmp_path / "course"
    shutil.copytree(MINI_COURSE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def master(course):
    return course / "solutions" / "mini" / "mini.ipynb"


def edit_notebook(course, change) -> None:
    """Apply `change` to the list of cells of the course's master notebook, as Jupyter would save it."""
    nb = nbformat.read(master(course), as_version=4)
    change(nb.cells)
    nbformat.write(nb, master(course))


def edit_file(path, old, new) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def lint_after(course, change) -> list[str]:
    edit_notebook(course, change)
    return lint.lint(assignment.load("mini", course))


def config_of(cell, old, new):
    assert cell.source.count(old) == 1
    cell.source = cell.source.replace(old, new)


def config(cells, old, new):
    config_of(cells[0], old, new)


def insert(cells, at, *new):
    cells[at:at] = list(new)


def swap_questions(cells):
    cells[2:20] = cells[11:20] + cells[2:11]


# (rule, change to the cells, [(start of the line, what it says)] for every line expected)
CASES = [
    # otter's export, check-all and PDF cells
    ("minimal config", lambda c: setattr(c[0], "source", "# ASSIGNMENT CONFIG\nname: mini"),
     [("cell 0: ", "has no `export_cell`: set `export_cell: false`"),
      ("cell 0: ", "has no `generate`: set `generate: false`")]),
    ("export cell", lambda c: config(c, "export_cell: false", "export_cell:\n  pdf: false"),
     [("cell 0: ", "ASSIGNMENT CONFIG has `export_cell: {'pdf': False}`: set `export_cell: false`")]),
    ("generate with a pdf", lambda c: config(c, "generate: false", "generate:\n  pdf: true"),
     [("cell 0: ", "ASSIGNMENT CONFIG has `generate: {'pdf': True}`: set `generate: false`")]),
    ("check-all cell", lambda c: config(c, "check_all_cell: false", "check_all_cell: true"),
     [("cell 0: ", "ASSIGNMENT CONFIG has `check_all_cell: true`: set it to false or remove it")]),
    ("solutions pdf", lambda c: config(c, "run_tests: false", "run_tests: false\nsolutions_pdf: true"),
     [("cell 0: ", "`solutions_pdf: true`: set it to false or remove it (it builds a PDF")]),
    ("no config cell", lambda c: c.pop(0),
     [("no `# ASSIGNMENT CONFIG` raw cell: ", "otter's defaults add an export cell")]),
    ("export call", lambda c: setattr(c[1], "source", c[1].source + "\ngrader.export(pdf=False)"),
     [("cell 1: ", "calls otter's `export`")]),
    ("check_all call", lambda c: c.insert(19, code("grader.check_all()")),
     [(f"cell 19 ({Q2}): ", "calls otter's `check_all`")]),
    ("manual question", lambda c: setattr(c[2], "source", c[2].source + "\nmanual: true"),
     [(f"cell 2 ({Q1}): ", "`manual: true` puts question q1 into otter's PDF export")]),
    # points: the notebook, assignment.toml and the hidden tests
    ("notebook points", lambda c: config_of(c[2], "points: 2", "points: 4"),
     [(f"cell 2 ({Q1}): ", "points disagree: BEGIN QUESTION 4, assignment.toml 2, the hidden tests' "
                           "@question marks 2")]),
    ("points not a number", lambda c: config_of(c[2], "points: 2", "points: [1, 1]"),
     [(f"cell 2 ({Q1}): ", "BEGIN QUESTION q1 needs `points:` as one number")]),
    ("question missing", lambda c: c.__delitem__(slice(11, 20)),
     [("question q2: ", "points disagree: BEGIN QUESTION none, assignment.toml 3, the hidden tests' "
                        "@question marks 3")]),
    ("order", swap_questions,
     [("the questions are in another order ", "in the notebook (q2, q1) than in assignment.toml (q1, q2)")]),
    # markers in the wrong cell type
    ("BEGIN QUESTION in markdown", lambda c: c.__setitem__(2, md(c[2].source)),
     [(f"cell 2 ({Q1}): ", "`# BEGIN QUESTION` is in a markdown cell, and otter reads markers only in "
                           "raw cells: make it a raw cell")]),
    ("END TESTS in code", lambda c: c.__setitem__(9, code("# END TESTS")),
     [(f"cell 9 ({Q1}): ", "`# END TESTS` is in a code cell")]),
    ("BEGIN SOLUTION in code", lambda c: c.__setitem__(13, code("# BEGIN SOLUTION")),
     [(f"cell 13 ({Q2}): ", "`# BEGIN SOLUTION` is in a code cell")]),
    ("config in markdown", lambda c: c.__setitem__(0, md(c[0].source)),
     [("cell 0: ", "`# ASSIGNMENT CONFIG` is in a markdown cell")]),
    ("raw cell no marker", lambda c: c.insert(1, raw("# BEGIN QUESTOIN\nname: q0")),
     [("cell 1: ", "raw cell `# BEGIN QUESTOIN` is no otter marker")]),
    # blocks that do not nest, names
    ("question never closed", lambda c: c.pop(19),
     [(f"cell 11 ({Q2}): ", "question q2 opened here is never closed: add a raw cell `# END QUESTION`")]),
    ("question not closed before the next", lambda c: c.pop(10),
     [(f"cell 2 ({Q1}): ", "question q1 opened here is not closed before the BEGIN QUESTION in cell 10")]),
    ("tests never closed", lambda c: c.pop(9),
     [(f"cell 7 ({Q1}): ", "the TESTS block opened here is not closed before END QUESTION in cell 9")]),
    ("end with no begin", lambda c: c.insert(1, raw("# END TESTS")),
     [("cell 1: ", "END TESTS with no open BEGIN TESTS before it")]),
    ("block outside a question",
     lambda c: insert(c, 1, raw("# BEGIN TESTS"), code("assert True"), raw("# END TESTS")),
     [("cell 1: ", "BEGIN TESTS outside any question")]),
    ("markdown among the tests", lambda c: c.insert(8, md("Run this:")),
     [(f"cell 8 ({Q1}): ", "a markdown cell in the TESTS block of question q1")]),
    ("duplicate name", lambda c: config_of(c[11], "name: q2", "name: q1"),
     [("question q2: ", "BEGIN QUESTION none, assignment.toml 3, the hidden tests' @question marks 3"),
      ('cell 11 (q1 "Write `Scale', "question q1 is declared twice (also in cell 2)"),
      ('cell 11 (q1 "Write `Scale', "BEGIN QUESTION 3, assignment.toml 2, the hidden tests' "
                                    "@question marks 2")]),
    # SOLUTION lines
    ("solution outside a question", lambda c: setattr(c[1], "source", c[1].source + "\nk = 2  # SOLUTION"),
     [("cell 1: ", "`k = 2  # SOLUTION`: SOLUTION lines outside any question reach students as written")]),
    ("solution among the tests", lambda c: setattr(c[8], "source", c[8].source + "  # SOLUTION"),
     [(f"cell 8 ({Q1}): ", "SOLUTION lines in question q1 but outside its BEGIN/END SOLUTION cells")]),
    ("solution block outside", lambda c: c.insert(1, code("# BEGIN SOLUTION\nk = 2\n# END SOLUTION")),
     [("cell 1: ", "`# BEGIN SOLUTION`: SOLUTION lines outside any question")]),
    ("solution with no marker", lambda c: setattr(c[5], "source", "def double(t):\n    return t * 2"),
     [(f"cell 5 ({Q1}): ", "solution cell of question q1 has no `# SOLUTION` or `# BEGIN SOLUTION` line")]),
    ("solution block unclosed", lambda c: setattr(c[5], "source",
                                                  "def double(t):\n    # BEGIN SOLUTION\n    return t * 2"),
     [(f"cell 5 ({Q1}): ", "line 2: `# BEGIN SOLUTION` is never closed")]),
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
    def change(cells):
        cells[0] = md("```otter\n" + cells[0].source + "\n```")
        cells.insert(8, md("## ignore ##\nnotes for the staff, dropped by otter"))
    assert lint_after(course, change) == []


def test_points_of_the_toml_and_of_the_hidden_tests_are_compared(course):
    """The copy's hidden suite is read from its own file, though the mini suite's module of the
    same name was collected first in this process."""
    assert lint.lint(assignment.load("mini", MINI_COURSE)) == []
    edit_file(course / "solutions" / "mini" / "assignment.toml", "points = 3", "points = 4")
    edit_file(course / "solutions" / "mini" / "tests" / "test_mini.py",
              '@question("q1", points=1)\ndef test_double_int', '@question("q9", points=1)\ndef test_double_int')
    problems = lint.lint(assignment.load("mini", course))
    assert problems[0].startswith("question q9: points disagree: BEGIN QUESTION none, assignment.toml "
                                  "none, the hidden tests' @question marks 1 (test_mini.py::")
    assert problems[1:] == [
        f"cell 2 ({Q1}): points disagree: BEGIN QUESTION 2, assignment.toml 2, the hidden tests' "
        "@question marks 1",
        f"cell 11 ({Q2}): points disagree: BEGIN QUESTION 3, assignment.toml 4, the hidden tests' "
        "@question marks 3"]


def test_assign_stops_before_otter_with_every_problem(course):
    shutil.rmtree(course / "assignments" / "mini")
    edit_notebook(course, lambda c: (c.pop(19), config(c, "check_all_cell: false", "check_all_cell: true")))
    with pytest.raises(LintError) as caught:
        api.assign(["mini"], course=course)
    assert isinstance(caught.value, AssignmentError) and caught.value.exit_code == 2
    assert [p.split(": ", 1)[1] for p in caught.value.problems] == [
        "cell 0: ASSIGNMENT CONFIG has `check_all_cell: true`: set it to false or remove it (it adds "
        "otter's check-all cell (`grader.check_all()`) to the release)",
        f"cell 11 ({Q2}): question q2 opened here is never closed: add a raw cell `# END QUESTION`"]
    assert not (course / "assignments" / "mini").exists()


@pytest.mark.parametrize("command", [["assign", "mini"], ["assign", "--check", "--all"],
                                     ["verify", "mini", "-o", "OUT"]])
def test_the_cli_exits_2_naming_the_cell(course, tmp_path, command):
    edit_notebook(course, lambda c: c.__setitem__(9, code("# END TESTS")))
    released = (course / "assignments" / "mini" / "mini.ipynb").read_bytes()
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course),
                        *[str(out) if a == "OUT" else a for a in command]],
                       capture_output=True, text=True, cwd=course)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == "grader: LintError: solutions/mini/mini.ipynb: 1 problem in the master notebook:"
    assert lines[1] == (f"  cell 9 ({Q1}): `# END TESTS` is in a code cell, and otter reads markers only "
                        "in raw cells: make it a raw cell")
    assert r.stdout == "" and not out.exists()
    assert (course / "assignments" / "mini" / "mini.ipynb").read_bytes() == released
