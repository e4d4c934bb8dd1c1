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
    checks = {c.notebook: c for c in api.verify(course=course, jobs=2)}
    assert checks["solution"].ok and checks["solution"].score == 5
    assert checks["blank"].ok and checks["blank"].score == 0
    assert checks["mutant-q1_hardcoded_example"].ok and checks["mutant-q2_plain_attribute"].ok
    bad = checks["mutant-q2_not_really_wrong"]
    assert not bad.ok and "keeps full marks on q2" in bad.detail


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
