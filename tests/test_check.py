"""`grader check`, the students' command: what it says of a failed public test, the limits it runs
under (those the release carries), and where no sandbox works."""

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
import torch

from grader import api, check
from grader.errors import UsageError
from grader.student.runner import NotebookNamespace
from conftest import MINI_COURSE, ROOT, notebook_from_script


def public(names: dict, code: str) -> dict:
    """The public-test probe, run here on `names` as the student process runs it."""
    return check.run_public_tests(NotebookNamespace(names), code)


def test_a_failed_assertion_says_what_the_value_was():
    names = {"torch": torch, "norm": torch.tensor(2.0), "shape": (2, 3)}
    r = public(names, ">>> assert isinstance(norm, float)\n>>> assert shape == (3, 2)\n"
                      ">>> assert 6 == len(shape)\n>>> assert shape[0] == 2 and not shape\n"
                      ">>> assert torch.equal(norm, torch.tensor(1.0))\n>>> assert norm > 1\n")
    assert r["passed"] is False
    assert [(f["check"], f["why"]) for f in r["failures"]] == [
        ("isinstance(norm, float)", "norm is a torch.Tensor"),
        ("shape == (3, 2)", "shape is (2, 3)"),
        ("6 == len(shape)", "len(shape) is 2"),
        ("shape[0] == 2 and (not shape)", "shape is (2, 3)"),
        ("torch.equal(norm, torch.tensor(1.0))", "it returned False"),
    ]


def test_an_exception_is_its_type_and_message_with_the_students_line_and_no_frames():
    names = {}
    exec(compile("def double(t):\n    return t.doubled()\n", "<cell 4>", "exec"), names)
    r = public(names, ">>> y = double(3)\n>>> assert y == 6\n>>> assert x == 1, 'x should be one'\n"
                      ">>> x = 2\n>>> assert x == 1, 'x should be one'\n>>> x\n3\n")
    assert r["passed"] is False
    y, undefined, message, printed = r["failures"]
    assert y == {"check": "y = double(3)", "why": "AttributeError: 'int' object has no attribute 'doubled'",
                 "cell": 4, "line": 2}
    # `y == 6` fails only because `y` was never defined: it is not listed again, but the NameError
    # of a name no failed statement defines (`x`, first use) is its own failure
    assert undefined["why"] == "NameError: name 'x' is not defined"
    assert (message["check"], message["why"]) == ("x == 1", "x should be one")
    assert (printed["check"], printed["why"]) == ("x", "it printed 2, expected 3")


def test_a_passing_case_and_an_expected_exception_pass():
    r = public({}, ">>> x = [1]\n>>> x[3]\nTraceback (most recent call last):\n...\nIndexError: list index "
                   "out of range\n>>> assert x == [1]\n>>> print('hi')\nhi\n")
    assert r == {"passed": True, "failures": []}


def test_questions_are_named_by_the_notebooks_headings():
    nb = notebook_from_script(
        "import torch\n# %% [markdown]\n# Homework\n## Question 1: a norm (노름)\n### Hints\nuse torch\n"
        "# %%\ndef norm(t):\n    ...\n# %%\ngrader.check('q1')\n# %% [markdown]\n## Question 2: twice\n"
        "# %%\n# YOUR CODE HERE\ndef twice(t):\n    ...\n# %%\ngrader.check(\"q2\")\n# %%\nprint('end')")
    outline = check.Outline(nb)
    titles = [outline.title(q) for q in ("q1", "q2", "q3")]
    assert titles == ["Question 1: a norm (노름)", "Question 2: twice", ""]
    assert outline.cell(3) == "q1 (Question 1: a norm (노름)): the cell `def norm(t):`"
    assert outline.cell(6) == "q2 (Question 2: twice): the cell `def twice(t):`"
    assert outline.cell(8) == "Question 2: twice: the cell `print('end')`"
    assert sorted(["q2", "q1"], key=outline.position) == ["q1", "q2"]
    long = check.short("x" * 100, 70)
    assert long == "x" * 70 + "... (cut)"


def test_headings_and_first_lines_from_the_notebook_are_safe_text():
    nb = notebook_from_script("# %% [markdown]\n## Question 1: \x1b[31mred\x1b[0m [bold]x[/] \ud800 "
                              "\u202e\n# %%\ndef f(): pass  # \x07" + "y" * 200
                              + "\n# %%\ngrader.check('q1')")
    outline = check.Outline(nb)
    assert outline.title("q1") == "Question 1: red [bold]x[/] \ufffd"
    first = ("def f(): pass # " + "y" * 200)[:60] + "... (cut)"    # 60 characters and the marker
    assert outline.cell(2) == f"q1 (Question 1: red [bold]x[/] \ufffd): the cell `{first}`"


def test_the_release_carries_the_student_limits_of_its_assignment():
    released = json.loads((ROOT / "assignments" / "training" / "training.ipynb").read_text())
    from grader import assignment

    asg = assignment.load("training", ROOT)
    limits = released["metadata"]["torchgrader"]["limits"]
    assert limits == {k: asg.limits[k] for k in assignment.RELEASED_LIMITS}
    assert "judge_timeout" not in limits and "probe_timeout" not in limits


@pytest.mark.parametrize("meta,match", [
    ({"limits": {"cell_timeout": -1}}, "cell_timeout = -1 is not one"),
    ({"limits": {"cell_timeout": "60"}}, "cell_timeout = 60 is not one"),
    ({"limits": {"judge_timeout": 5}}, "judge_timeout = 5 is not one"),
    ({"limits": [1]}, "has no table of limits"),
])
def test_malformed_limits_in_the_notebook_are_a_usage_error(tmp_path, meta, match):
    nb = nbformat.read(MINI_COURSE / "assignments" / "mini" / "mini.ipynb", as_version=4)
    nb.metadata["torchgrader"] = meta
    nbformat.write(nb, tmp_path / "mini.ipynb")
    with pytest.raises(UsageError, match=match):
        check.check_notebook(tmp_path / "mini.ipynb", sandbox="none")


# -- end to end: the command in a sandbox --------------------------------------------------------
def filled(dest, *, extra_cell: str | None = None, course=MINI_COURSE):
    """The mini release of `course` with answers: a right q1 and the wrong q2 of a plain attribute
    (and `extra_cell` after q1's answer)."""
    nb = nbformat.read(course / "assignments" / "mini" / "mini.ipynb", as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.source.startswith("def double"):
            cell.source = "def double(t):\n    return t * 2"
            if extra_cell:
                nb.cells.insert(i + 1, nbformat.v4.new_code_cell(extra_cell))
        elif cell.source.startswith("class Scale"):
            cell.source = ("class Scale(nn.Module):\n    def __init__(self, factor):\n"
                           "        super().__init__()\n"
                           "        self.factor = torch.tensor(float(factor))\n\n"
                           "    def forward(self, x):\n        return x * self.factor")
    nbformat.write(nb, dest)
    return dest


def grader_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env)


@pytest.mark.slow
@pytest.mark.requires("root", "bwrap")
def test_check_says_one_line_per_failed_check_in_the_students_terms(tmp_path):
    path = filled(tmp_path / "mini.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("## Question 1: doubling\n\ntext"))
    nb.cells.insert(next(i for i, c in enumerate(nb.cells) if c.source.startswith("class Scale")),
                    nbformat.v4.new_markdown_cell("## Question 2: a module that scales (스케일)"))
    tests = nb.metadata["otter"]["tests"]
    same = (">>> s = Scale(2.0)\n"
            ">>> assert isinstance(s.factor, nn.Parameter), 'factor must be a Parameter'\n")
    tests["q2"]["suites"][0]["cases"] += [{"code": same, "hidden": False, "locked": False}] * 2
    grads = "".join(f">>> assert Scale({k}.0).factor.requires_grad\n" for k in range(1, 9))
    tests["q2"]["suites"][0]["cases"].append({"code": grads, "hidden": False, "locked": False})
    tests["q1"]["suites"][0]["cases"].append({"code": ">>> norm = double(torch.ones(2)).norm()\n"
                                                      ">>> assert isinstance(norm, float)\n",
                                              "hidden": False, "locked": False})
    nbformat.write(nb, path)
    r = grader_cli("check", path)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    q1 = lines.index("  q1 (Question 1: doubling): public tests fail")
    assert lines[q1 + 1] == "    `isinstance(norm, float)` failed: norm is a torch.Tensor"
    q2 = lines.index("  q2 (Question 2: a module that scales (스케일)): public tests fail")
    shown = lines[q2 + 1:q2 + 7]
    assert shown[0].startswith("    `[n for n, _ in Scale(2.0).named_parameters()] == ['factor']` failed: ")
    assert shown[1] == ("    `isinstance(s.factor, nn.Parameter)` failed: factor must be a Parameter "
                        "(and 1 more check with this message)")
    assert [s.strip() for s in shown[2:5]] == [
        f"`Scale({k}.0).factor.requires_grad` failed: Scale({k}.0).factor.requires_grad is False"
        for k in range(1, 4)]
    assert shown[5] == "    ... (cut: 5 more failed checks)"     # five lines a question at most
    for frame in ("Traceback", "doctest", "site-packages", "File "):
        assert frame not in r.stdout


@pytest.mark.slow
@pytest.mark.requires("root", "bwrap")
def test_check_runs_under_the_limits_the_release_carries(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("__pycache__"))
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text().replace("cell_timeout = 5", "cell_timeout = 1"))
    assert api.assign(["mini"], course=course) == {"mini": []}
    release = nbformat.read(course / "assignments" / "mini" / "mini.ipynb", as_version=4)
    assert release.metadata["torchgrader"]["limits"]["cell_timeout"] == 1
    path = filled(tmp_path / "mini.ipynb", extra_cell="import time\ntime.sleep(3)", course=course)
    slow = grader_cli("check", path, "-q", "q1")
    assert slow.returncode == 0, slow.stdout + slow.stderr
    assert ("warning: q1: the cell `import time` ran longer than 1 s, the assignment's limit for one cell, "
            "and was stopped (grading stops it too)") in slow.stdout, slow.stdout
    flagged = grader_cli("check", path, "--cell-timeout", "10", "-q", "q1")
    assert flagged.returncode == 0 and "q1: public tests pass" in flagged.stdout, flagged.stdout
    assert "warning" not in flagged.stdout
    # the whole notebook's limit, from the release and from the flag
    whole = grader_cli("check", path, "--cell-timeout", "10", "--timeout", "2", "-q", "q1")
    assert whole.returncode == 1, whole.stdout + whole.stderr
    assert "but it stopped: the notebook ran longer than 2 s (stopped in q1: the cell `import time`)" \
        in whole.stdout
    assert "q1: public tests fail" in whole.stdout and "not checked: the notebook stopped" in whole.stdout


@pytest.mark.slow
def test_check_on_a_students_own_machine_runs_unsandboxed_where_no_sandbox_works(tmp_path, monkeypatch,
                                                                               capsys):
    """Not root and no bubblewrap or podman (macOS, say): the student's own notebook runs as a plain
    process, and the first lines say so."""
    from grader import cli
    from grader.sandbox import bwrap, oci

    bare = tmp_path / "bin"          # a PATH with neither bubblewrap nor podman on it
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    path = filled(tmp_path / "mini.ipynb")
    probes = (bwrap._probe_bwrap, oci._probe)     # what this process found out before, forgotten
    for probe in probes:
        probe.cache_clear()
    try:
        assert cli.main(["check", str(path), "-q", "q1"]) == 0
    finally:
        for probe in probes:
            probe.cache_clear()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "mini.ipynb (mini): ran top to bottom unsandboxed"
    assert lines[1].startswith("unsandboxed: no sandbox works on this machine (bwrap: bubblewrap is not "
                               "installed"), lines
    assert "podman: podman is not installed" in lines[1] and "q1: public tests pass" in "\n".join(lines)


@pytest.mark.slow
def test_as_root_neither_check_nor_grading_runs_unsandboxed_on_its_own(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare)}
    path = filled(tmp_path / "mini.ipynb")
    r = grader_cli("check", path, "-q", "q1", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no isolating sandbox works on this machine" in r.stderr
    assert "pass --sandbox none to do so on purpose" in r.stderr and "Traceback" not in r.stderr
    none = grader_cli("check", path, "-q", "q1", "--sandbox", "none", env=env)
    assert none.returncode == 0 and "unsandboxed (--sandbox none)" in none.stdout, none.stdout
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(path, subs / "kim.ipynb")
    grade = grader_cli("--course", MINI_COURSE, "grade", subs, "-a", "mini", "-o", tmp_path / "out",
                       env=env)
    assert grade.returncode == 2, grade.stdout + grade.stderr
    assert "no isolating sandbox works on this machine" in grade.stderr
    assert not (tmp_path / "out" / "results").exists()
