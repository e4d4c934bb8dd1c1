"""Releases with otter assign, `assign --check`, and `verify` catching a mutant that loses nothing."""

import shutil
import subprocess
import sys

import nbformat
import pytest

from grader import api
from grader.errors import AssignmentError
from conftest import MINI_COURSE, ROOT


@pytest.fixture
def course(tmp_path):
    dest = tmp_path / "course"
    shutil.copytree(MINI_COURSE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_committed_release_matches_a_fresh_one():
    assert api.assign(["mini"], course=MINI_COURSE, check=True) == {"mini": []}


def test_release_hides_solutions_and_carries_public_tests(course):
    shutil.rmtree(course / "assignments")
    assert api.assign(None, course=course) == {"mini": []}
    nb = nbformat.read(course / "assignments" / "mini" / "mini.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "t * 2" not in code and "nn.Parameter" not in code and "..." in code
    assert 'grader.check("q1")' in code
    assert set(nb.metadata["otter"]["tests"]) == {"q1", "q2"}


def test_check_reports_an_edited_release(course):
    path = course / "assignments" / "mini" / "mini.ipynb"
    path.write_text(path.read_text().replace("Write `double(t)`", "Write double"))
    diffs = api.assign(["mini"], course=course, check=True)["mini"]
    assert len(diffs) == 1 and "out of date" in diffs[0]
    r = subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course), "assign", "--check",
                        "mini"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "out of date" in r.stdout


def test_verify_holds_and_catches_a_mutant_that_loses_nothing(course):
    mutants = course / "solutions" / "mini" / "mutants"
    (mutants / "q2_not_really_wrong.py").write_text(
        "# mutant: the same as the solution, so it cannot lose points\n# cell: class Scale(nn.Module):\n"
        "# loses: q2\nclass Scale(nn.Module):\n    def __init__(self, factor):\n        super().__init__()\n"
        "        self.factor = nn.Parameter(torch.tensor(float(factor)))\n\n"
        "    def forward(self, x):\n        return x * self.factor\n")
    (mutants / "q1_odd_sizes_only.py").write_text(
        "# mutant: doubles every tensor but an int64 one of even length, so it is caught by luck\n"
        "# cell: def double(t):\n# loses: q1\n"
        "def double(t):\n    return t if t.dtype == torch.int64 and t.numel() % 2 == 0 else t * 2\n")
    checks = {c.notebook: c for c in api.verify(course=course, jobs=2, seeds=8)}
    assert checks["solution"].ok and checks["solution"].score == 5
    assert checks["solution"].expectation == "full marks under 8 seeds"
    assert checks["blank"].ok and checks["blank"].score == 0
    assert checks["solution, public tests"].ok and checks["solution, public tests"].max_score == 2
    for sound in ("mutant-q1_hardcoded_example", "mutant-q2_plain_attribute"):
        assert checks[sound].ok and (checks[sound].score, checks[sound].max_score) == (8, 8)
    bad = checks["mutant-q2_not_really_wrong"]
    assert not bad.ok and bad.score == 0 and "under 8 of 8 seeds: keeps full marks on q2" in bad.detail
    assert checks["release, top to bottom"].ok
    lucky = checks["mutant-q1_odd_sizes_only"]           # caught under some seeds, not all
    assert not lucky.ok and 0 < lucky.score < 8 and f"under {8 - lucky.score:g} of 8 seeds" in lucky.detail


@pytest.mark.parametrize("text,match", [
    ("# mutant: x\n# loses: q1\nbody\n", "header lacks cell"),
    ("# mutant: x\n# cell: def double(t):\n# loses: q9\nbody\n", "unknown: q9"),
])
def test_malformed_mutants_are_named(course, text, match):
    (course / "solutions" / "mini" / "mutants" / "broken.py").write_text(text)
    with pytest.raises(AssignmentError, match=match):
        api.verify(course=course, jobs=1)


def test_a_mutant_anchor_must_match_one_cell(course):
    (course / "solutions" / "mini" / "mutants" / "q1_lost.py").write_text(
        "# mutant: x\n# cell: def nowhere():\n# loses: q1\ndef double(t):\n    return t\n")
    with pytest.raises(AssignmentError, match="occurs in 0 code cells"):
        api.verify(course=course, jobs=1)


def break_cell(course, anchor: str, edit) -> int:
    """Edit the master notebook's cell holding `anchor`; returns its number (from 1)."""
    path = course / "solutions" / "mini" / "mini.ipynb"
    nb = nbformat.read(path, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if anchor in c.source)
    nb.cells[i].source = edit(nb.cells[i].source)
    nbformat.write(nb, path)
    return i + 1


@pytest.mark.parametrize("anchor,edit,where,said", [
    ("named_parameters",
     lambda s: '""" # BEGIN TEST CONFIG\npoints: [1\n""" # END TEST CONFIG\n' + s,
     ' (q2 "Write `Scale(factor)`, an `nn.Module` with one parameter ...")',
     "ParserError: while parsing a flow sequence, expected ',' or ']', but got '<stream end>'"),
    ("named_parameters", lambda s: s.replace("named_parameters()", "named_parameters("),
     ' (q2 "Write `Scale(factor)`, an `nn.Module` with one parameter ...")',
     "ValueError: A test cell in question q2 contains invalid Python syntax"),
    ("ASSIGNMENT CONFIG", lambda s: s + "\nsolution_pdf: true", " (ASSIGNMENT CONFIG)",
     "ValueError: Unexpected key found in config: 'solution_pdf'"),
])
def test_otter_failing_on_the_master_notebook_names_the_cell(course, anchor, edit, where, said):
    cell = break_cell(course, anchor, edit)
    r = subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course), "assign",
                        "mini"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"mini.ipynb: cell {cell}{where}: otter assign failed: {said}; fix that cell" in r.stderr


def filled_release(dest):
    nb = nbformat.read(MINI_COURSE / "assignments" / "mini" / "mini.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.source.startswith("def double"):
            cell.source = "def double(t):\n    return t * 2"
        elif cell.source.startswith("class Scale"):
            cell.source = ("class Scale(nn.Module):\n    def __init__(self, factor):\n        super().__init__()\n"
                           "        self.factor = nn.Parameter(torch.tensor(float(factor)))\n\n"
                           "    def forward(self, x):\n        return x * self.factor")
    nbformat.write(nb, dest)
    return dest


def check_outputs(path):
    import nbclient

    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return [o.get("data", {}).get("text/plain", "") for c in nb.cells if "grader.check" in c.source
            for o in c.outputs]


def test_grader_check_in_the_released_notebook_works_offline(tmp_path):
    filled = filled_release(tmp_path / "mini.ipynb")
    assert check_outputs(filled) == ["q1 results: All test cases passed!", "q2 results: All test cases passed!"]
    blank = tmp_path / "blank" / "mini.ipynb"
    blank.parent.mkdir()
    shutil.copy(MINI_COURSE / "assignments" / "mini" / "mini.ipynb", blank)
    assert all("All test cases passed" not in o for o in check_outputs(blank))


def test_grader_check_command_for_students(tmp_path):
    filled = filled_release(tmp_path / "mini.ipynb")
    ok = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(filled)], capture_output=True,
                        text=True, cwd=ROOT)
    assert ok.returncode == 0 and "q1: public tests pass" in ok.stdout and "warning" not in ok.stdout
    renamed = tmp_path / "my_homework_final.ipynb"
    shutil.copy(MINI_COURSE / "assignments" / "mini" / "mini.ipynb", renamed)
    bad = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(renamed), "-q", "q2"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and "q2: public tests fail" in bad.stdout and "q1" not in bad.stdout
    assert "submit it as mini.ipynb" in bad.stdout and "placeholder" in bad.stdout
    missing = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(renamed), "-q", "q7"],
                             capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 2 and "no public tests for q7" in missing.stderr


def test_a_release_that_fails_top_to_bottom_is_caught(course, tmp_path):
    from grader import assign, assignment

    asg = assignment.load("mini", course)
    release = assign.build_release(asg, tmp_path / "release")
    assert assign.run_in_kernel(asg, release.solution) == []
    nb = nbformat.read(release.solution, as_version=4)
    check = next(i for i, c in enumerate(nb.cells) if 'grader.check("q1")' in c.source)
    define = next(i for i, c in enumerate(nb.cells) if "def double" in c.source)
    nb.cells.insert(define, nb.cells.pop(check))       # the check now runs before double exists
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('a broken last cell')"))
    nbformat.write(nb, release.solution)
    problems = assign.run_in_kernel(asg, release.solution)
    assert len(problems) == 2, problems
    assert "grader.check('q1') fails in place" in problems[0] and "double" in problems[0]
    assert "raised RuntimeError: a broken last cell" in problems[1]


def test_further_seeds_rerun_only_the_named_questions_on_the_same_process(tmp_path):
    """`grade(seeds=...)`, as verify uses it: the notebook runs once, then the tests of the named
    questions run again under each further seed, each with other draws, into `result.trials`."""
    import json

    import jsonschema

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(MINI_COURSE / "submissions" / "solution.ipynb", subs / "solution.ipynb")
    shutil.copy(MINI_COURSE / "submissions" / "solution.ipynb", subs / "again.ipynb")
    batch = api.grade(subs, assignment="mini", course=MINI_COURSE, out=tmp_path / "out", jobs=1,
                      seeds={"solution": (4, ("q1",))})
    by = {r.student: r for r in batch.results}
    first, plain = by["solution"], by["again"]
    assert plain.trials == [] and first.score == first.max_score == 5
    assert [t.seed for t in first.trials] == [1, 2, 3]
    assert all(t.status == "graded" and [q.id for q in t.questions] == ["q1"] for t in first.trials)
    assert all(q.score == q.max_score == 2 for t in first.trials for q in t.questions)
    assert first.timing["notebook_s"] > 0 and first.environment["warm"] is True
    schema = json.loads((ROOT / "grader" / "schema" / "result.schema.json").read_text())
    stored = json.loads((tmp_path / "out" / "results" / "solution.json").read_text())
    jsonschema.validate(stored, schema)
    assert len(stored["trials"]) == 3
    again = api.grade(subs, assignment="mini", course=MINI_COURSE, out=tmp_path / "out", jobs=1,
                      seeds={"solution": (2, ("q2",))})
    redo = {r.student: r for r in again.results}
    assert again.reused == 1 and [q.id for t in redo["solution"].trials for q in t.questions] == ["q2"]


def test_grader_check_says_where_it_ran_and_refuses_a_notebook_not_made_from_the_release(tmp_path):
    filled = filled_release(tmp_path / "mini.ipynb")
    ok = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(filled), "--sandbox", "none"],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "ran top to bottom unsandboxed (--sandbox none)" in ok.stdout, ok.stdout
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell("def double(t):\n    return t * 2")]
    nbformat.write(plain, tmp_path / "mine.ipynb")
    bad = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(tmp_path / "mine.ipynb")],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "was not made from the released notebook" in bad.stderr, bad.stderr
