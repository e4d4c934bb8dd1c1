"""`grader new`, and the authoring tutorial (docs/authoring.md) run as written: a new assignment is
released, verified, checked as a student would and graded as a class."""

import csv
import json
import os
import re
import subprocess
import sys
import tomllib

import nbformat
import pytest

from grader import api, assign
from grader.assignment import LIMIT_KEYS, QUESTION_KEYS, TOP_KEYS, Assignment, load, resolve_limits
from grader.errors import UsageError
from grader.scaffold import OTTER_CONFIG, assignment_toml
from conftest import ROOT

TUTORIAL = ROOT / "docs" / "authoring.md"
BLOCK = re.compile(r"^```(console|sh test)\n(.*?)^```$", re.M | re.S)
# the steps the tutorial must keep, in this order
STEPS = ["grader new demo_hw", "grader assign demo_hw", "grader verify demo_hw --seeds 2",
         "grader assign demo_hw", "grader verify demo_hw", "grader check", "grader grade"]


def tutorial_steps(text: str) -> list[tuple[str, str, list[str]]]:
    """(kind, script, expected output lines) of each runnable step of the page, in order: a
    `sh test` block is one script; in a `console` block each `$ ` line is one, and the lines under
    it are its output."""
    steps = []
    for kind, body in BLOCK.findall(text):
        if kind == "sh test":
            steps.append(("sh", body, []))
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append(("console", line[2:], []))
            elif line.strip():
                assert steps and steps[-1][0] == "console", f"output before any command: {line!r}"
                steps[-1][2].append(line)
    return steps


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def unmatched(expected: list[str], output: str) -> str | None:
    """The first expected line (where `...` stands for any text) not found in `output` after the
    lines before it, whitespace runs counted as one space; None when all are found."""
    shown, at = _collapsed(output), 0
    for line in expected:
        if line.strip() == "...":
            continue
        pattern = ".*?".join(re.escape(_collapsed(piece)) for piece in line.split("..."))
        found = re.compile(pattern).search(shown, at)
        if found is None:
            return line
        at = found.end()
    return None


def test_the_tutorial_keeps_its_steps_in_order():
    commands = [script for kind, script, _ in tutorial_steps(TUTORIAL.read_text(encoding="utf-8"))
                if kind == "console"]
    at = 0
    for step in STEPS:
        at = next((i + 1 for i in range(at, len(commands)) if commands[i].startswith(step)), None)
        assert at is not None, f"the tutorial no longer runs `{step}` after the steps before it"


def test_the_tutorials_config_cell_is_the_one_grader_new_writes():
    text = TUTORIAL.read_text(encoding="utf-8")
    shown = re.search(r"^```yaml\n(# ASSIGNMENT CONFIG\n.*?)^```$", text, re.M | re.S)
    assert shown and shown[1].rstrip("\n") == OTTER_CONFIG.format(name="demo_hw")


def test_expected_lines_match_in_order_with_wildcards():
    out = ("wrote /tmp/x/solutions/demo_hw/:\n  assignment.toml\n"
           "7 of 7 checks hold (2 mutants over\n1 assignments)")
    assert unmatched(["wrote ...solutions/demo_hw/:", "assignment.toml", "...",
                      "7 of 7 checks hold (2 mutants over 1 assignments)"], out) is None
    assert unmatched(["assignment.toml", "wrote ...solutions"], out) == "wrote ...solutions"
    assert unmatched(["6 of 6 checks hold"], out) == "6 of 6 checks hold"


@pytest.mark.parametrize("name", ["hw1", "텐서_과제"])
def test_new_writes_an_assignment_whose_parts_agree(tmp_path, name):
    written = api.new(name, course=tmp_path, title="첫 과제: tensors")
    asg = load(name, tmp_path)
    assert {p.relative_to(asg.directory).as_posix() for p in written} == {
        "assignment.toml", f"{name}.ipynb", "tests/test_q1.py", "mutants/q1_unbiased_std.py"}
    assert asg.title == "첫 과제: tensors" and asg.notebook == f"{name}.ipynb"
    assert asg.gpu == "none"
    assert asg.limits == resolve_limits({}) and asg.files == ()
    nb = nbformat.read(asg.directory / asg.notebook, as_version=4)
    config = nb.cells[0].source
    assert nb.cells[0].cell_type == "raw" and config.startswith("# ASSIGNMENT CONFIG")
    assert f"name: {name}" in config
    for setting in ("export_cell: false", "check_all_cell: false", "generate: false",
                    "run_tests: false"):
        assert setting in config.splitlines()
    marked = {}
    for cell in nb.cells:
        header = cell.source.splitlines()
        if cell.cell_type == "raw" and header[0] == "# BEGIN QUESTION":
            fields = dict(line.split(": ", 1) for line in header[1:])
            marked[fields["name"]] = float(fields["points"])
    assert marked == {q.id: q.points for q in asg.questions}
    test_source = (asg.tests_dir / "test_q1.py").read_text(encoding="utf-8")
    markers = re.findall(r'@question\("(\w+)", points=(\d+)\)', test_source)
    assert {q: float(p) for q, p in markers} == marked
    mutants = assign.load_mutants(asg)
    assert [m.loses for m in mutants] == [("q1",)]
    anchor = mutants[0].anchor.strip()
    holders = [c for c in nb.cells
               if c.cell_type == "code" and anchor in map(str.strip, c.source.splitlines())]
    assert len(holders) == 1


@pytest.mark.parametrize("title", ['"Quoted" \\ back\\slash', "텐서 ① <b>[x]</b> 'q'"])
def test_a_title_is_written_as_given(tmp_path, title):
    api.new("hw1", course=tmp_path, title=title)
    assert load("hw1", tmp_path).title == title


@pytest.mark.parametrize("title", ["two\nlines", "bell\a", "del\x7f", "   ", "\ud800"])
def test_a_title_that_cannot_be_written_is_refused(tmp_path, title):
    with pytest.raises(UsageError, match="title"):
        api.new("hw1", course=tmp_path, title=title)
    assert not (tmp_path / "solutions").exists()


def test_assignment_toml_names_every_setting_and_its_default():
    text = assignment_toml("hw1", "Title")
    comments = _collapsed(" ".join(line.lstrip("#") for line in text.splitlines()
                                   if line.startswith("#")))
    for key, declared in [*TOP_KEYS.items(), *QUESTION_KEYS.items()]:
        assert _collapsed(declared[-1].replace("see LIMIT_KEYS", "each one below")) in comments, key
    for key, (_, _, meaning, flag) in LIMIT_KEYS.items():
        assert _collapsed(meaning) in comments and (flag is None or flag in comments), key
    uncommented = "\n".join(re.sub(r"^# (\w+ = )", r"\1", line) for line in text.splitlines())
    data = tomllib.loads(uncommented)
    assert data["limits"] == resolve_limits({})
    assert set(data) == set(TOP_KEYS) and set(data["questions"][0]) == set(QUESTION_KEYS)
    visibility = Assignment.__dataclass_fields__["gradescope_visibility"].default
    assert data["gradescope_visibility"] == visibility


def _grader(*args, cwd):
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("name", ["1hw", "my-hw", "class", "hw 1"])
def test_new_refuses_a_name_that_is_not_an_identifier(tmp_path, name):
    r = _grader("--course", str(tmp_path), "new", name, cwd=tmp_path)
    assert r.returncode == 2 and "is not a valid assignment name" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "solutions").exists()


def test_new_refuses_an_existing_assignment_and_a_missing_course(tmp_path):
    first = _grader("new", "hw1", cwd=tmp_path)
    assert first.returncode == 0 and "tests/test_q1.py" in first.stdout
    before = (tmp_path / "solutions" / "hw1" / "assignment.toml").read_bytes()
    again = _grader("new", "hw1", "--title", "Other", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    assert (tmp_path / "solutions" / "hw1" / "assignment.toml").read_bytes() == before
    missing = _grader("--course", str(tmp_path / "nowhere"), "new", "hw2", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def _run_step(kind: str, script: str, course) -> subprocess.CompletedProcess:
    """One step of the tutorial, as a user runs it: `grader` and `python` are this environment's."""
    path = f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=course, env=env,
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)


@pytest.mark.requires("root", "bwrap")
def test_the_tutorial_runs_and_its_assignment_grades_as_it_says(tmp_path):
    """Every runnable block of docs/authoring.md in an empty course directory: `grader new`,
    assign, verify of the scaffold, the second question, verify, `grader check` of the release with
    the solutions filled in and the class graded; then the class's scores, from the assignment's
    points and its mutants' `loses`."""
    course = tmp_path / "course"
    course.mkdir()
    outputs = []
    for kind, script, expected in tutorial_steps(TUTORIAL.read_text(encoding="utf-8")):
        r = _run_step(kind, script, course)
        assert r.returncode == 0, f"`{script[:200]}` exited {r.returncode}:\n{r.stdout[-3000:]}"
        assert unmatched(expected, r.stdout) is None, \
            f"`{script[:200]}` did not print {unmatched(expected, r.stdout)!r}:\n{r.stdout[-3000:]}"
        outputs.append((script, r.stdout))
    verified = [out for script, out in outputs if script.startswith("grader verify")]
    assert len(verified) == 2
    for out in verified:
        held = re.search(r"(\d+) of (\d+) checks hold", out)
        assert held and held[1] == held[2], out[-2000:]
    checked = next(out for script, out in outputs if script.startswith("grader check"))

    asg = load("demo_hw", course)
    assert [q.id for q in asg.questions] == ["q1", "q2"]
    assert [f.name for f in asg.files] == ["scores.csv"]
    for q in asg.questions:
        assert re.search(rf"\b{q.id}\b.*public tests pass", checked), checked
    mutants = assign.load_mutants(asg)
    assert sorted(m.name for m in mutants) == ["q1_unbiased_std", "q2_loadtxt_drops_a_dimension"]
    with open(course / "out" / "class" / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"solution", "blank", *(f"mutant-{m.name}" for m in mutants)}
    assert all(row["status"] == "graded" and float(row["max_score"]) == asg.max_score
               for row in rows.values())
    full = {q.id: q.points for q in asg.questions}
    assert {q: float(rows["solution"][q]) for q in full} == full
    assert {q: float(rows["blank"][q]) for q in full} == {q: 0 for q in full}
    for m in mutants:
        row = rows[f"mutant-{m.name}"]
        lost = {q for q, p in full.items() if float(row[q]) < p}
        kept = {q for q, p in full.items() if float(row[q]) == p}
        assert lost == set(m.loses) and kept == set(full) - lost, (m.name, row)
    record = json.loads((course / "out" / "class" / "results" / "solution.json").read_text())
    assert record["environment"]["sandbox"] != "none"
