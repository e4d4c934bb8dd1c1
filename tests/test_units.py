"""Assignment configuration, notebook reading, and the results store."""

import json
import shutil
import time
from pathlib import Path

import pytest

from grader import assignment, intake
from grader.errors import AssignmentError, StoreError, SubmissionError
from grader.judge.grade import check_suite
from grader.notebook import code_cells, parse_notebook
from grader.student.cells import prepare, strip_otter
from grader.results import Result
from grader.store import Store
from conftest import MINI_COURSE


def make_course(tmp_path: Path, toml: str) -> Path:
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE / "solutions", course / "solutions")
    (course / "solutions" / "mini" / "assignment.toml").write_text(toml)
    return course


BASE = (MINI_COURSE / "solutions" / "mini" / "assignment.toml").read_text()


@pytest.mark.parametrize("toml,match", [
    ("bogus = 1\n" + BASE, "unknown setting 'bogus'"),
    (BASE.replace("cell_timeout = 5", "cell_timout = 5"), "unknown setting limits.'cell_timout'"),
    (BASE.replace('gpu = "none"', 'gpu = "sometimes"'), "gpu must be one of"),
    (BASE.replace("probe_timeout = 3", "probe_timeout = -3"),
     "limits.probe_timeout must be positive"),
    (BASE.replace('id = "q2"', 'id = "q1"'), "declared twice"),
    (BASE.replace("points = 3", 'points = "3"'), "points has the wrong type"),
    ("title = [", "not valid TOML"),
])
def test_bad_assignment_toml_is_named_precisely(tmp_path, toml, match):
    course = make_course(tmp_path, toml)
    with pytest.raises(AssignmentError, match=match.replace("(", r"\(")):
        assignment.load("mini", course)


def test_points_of_tests_must_match_the_declaration(tmp_path):
    course = make_course(tmp_path, BASE.replace("points = 3", "points = 4"))
    with pytest.raises(AssignmentError, match="add up to 3 points but assignment.toml gives it 4"):
        check_suite(assignment.load("mini", course))


def test_unknown_assignment_lists_the_known_ones(tmp_path):
    with pytest.raises(AssignmentError, match=r"unknown assignment 'nope'.*mini"):
        assignment.load("nope", MINI_COURSE)


def test_suite_hash_changes_with_the_hidden_tests(tmp_path):
    course = make_course(tmp_path, BASE)
    before = assignment.load("mini", course).suite_hash()
    test_file = course / "solutions" / "mini" / "tests" / "test_mini.py"
    test_file.write_text(test_file.read_text() + "\n# changed\n")
    assert assignment.load("mini", course).suite_hash() != before


@pytest.mark.slow
def test_suite_hash_reads_a_settled_suite_once_and_sees_every_later_edit(tmp_path, monkeypatch):
    course = make_course(tmp_path, BASE)
    asg = assignment.load("mini", course)
    test_file = course / "solutions" / "mini" / "tests" / "test_mini.py"
    first = asg.suite_hash()
    text = test_file.read_text()
    test_file.write_text(text.replace("1", "2", 1))          # the same size, at once: still seen
    assert len(test_file.read_text()) == len(text) and asg.suite_hash() != first
    test_file.write_text(text)
    assert asg.suite_hash() == first
    time.sleep(2.1)
    assert asg.suite_hash() == first                          # settled: remembered from here on
    reads = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real_read(self))
    assert asg.suite_hash() == first and reads == []
    test_file.write_text(text + "\n")
    assert asg.suite_hash() != first and test_file in reads


def test_otter_scaffolding_is_removed_and_the_rest_kept():
    src = ('import otter\ngrader = otter.Notebook("hw.ipynb")\nx = 1\ngrader.check("q1")\n'
           'y = grader.check\n')
    out = strip_otter(src)
    assert "otter" not in out.replace("grader.check\n", "")
    assert "x = 1" in out and "y = grader.check" in out
    assert out.count("\n") == src.count("\n")


def test_magics_become_harmless_calls_and_cells_keep_their_position():
    nb = {"nbformat": 4, "cells": [
        {"cell_type": "markdown", "source": "# title"},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "!ls\n", "x = 1"]},
        {"cell_type": "code", "source": "   "},
        {"cell_type": "code", "source": "%%time\ny = 2"}]}
    cells = code_cells(nb)
    assert [c["index"] for c in cells] == [2, 4]
    assert cells[0]["source"] == "%matplotlib inline\n!ls\nx = 1"   # the judge sends it as written
    first, second = (prepare(c["source"]) for c in cells)          # the student process rewrites it
    assert "run_line_magic('matplotlib'" in first and "system('ls')" in first
    assert "run_cell_magic('time'" in second


@pytest.mark.parametrize("source,rewritten", [
    ('print("%d%%" % 5)\nassert 1 != 2, "why?"\n', False),      # %, ! and ? inside plain Python
    ("   \nx = 1\n", False),
    ("files = !ls\n", True),
    ("t = %timeit -o sum(range(3))\n", True),
    ("len?\n", True),
    ("    x = 1\n    y = 2\n", True),
    (">>> x = 1\n", True),
    ("In [3]: x = 1\n", True),                                  # valid Python, still a prompt
    ("%matplotlib inline\n!ls\nx = 1", True),
    ("%%capture out\nprint(1)\n", True),
    ("??len\nx.y?\n", True),
    ("!!ls -l\na = %env\n", True),
    (">>> x = 1\n... y\n", True),
    ("In [3]: x = 1\n   ...: y=2\n", True),
    ("\n\nif 1:\n    %time x = 1\n", True),
    ("x = (1,\n%2)\n", False),                                  # inside brackets: left as it is
    ("s = '''\n%foo\n'''\n%time x = 'a\\'b'\n", True),   # inside a string: left as it is
    ("x = 1 \\\n  %2\n", False),                               # a continued line: left as it is
])
def test_only_ipython_syntax_is_rewritten_and_as_ipython_does(source, rewritten):
    """The student process's rewriting (grader.student.cells, standard library only) gives what
    IPython's own transformer gives."""
    from IPython.core.inputtransformer2 import TransformerManager

    out = prepare(source)
    assert (out != source) is rewritten
    assert out == (TransformerManager().transform_cell(source) if rewritten else source)


def test_rewriting_a_cell_is_linear_in_its_magics():
    """600 magics and a 3 MB expression: IPython's transformer took seconds on the first, and
    parsing the second in the judge cost it a GiB; the student process now does both, quickly."""
    import time

    started = time.process_time()
    out = prepare("".join(f"%time v{i} = {i}\n" for i in range(600)))
    assert out.count("run_line_magic('time'") == 600 and time.process_time() - started < 2


@pytest.mark.parametrize("raw,match", [
    (b"\xff\xfe", "not valid UTF-8"),
    (b"[1, 2", "not valid JSON"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply|not a Jupyter notebook"),
    (b'{"nbformat": 4, "cells": []}', "no cells"),
    (b'{"nbformat": 4, "cells": [{"source": "x"}]}', "cell 1 of the notebook is malformed"),
    (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}', "malformed source"),
    (b'{"some": "json"}', "not a Jupyter notebook"),
])
def test_bad_notebooks_get_a_reason_a_student_understands(raw, match):
    with pytest.raises(SubmissionError, match=match):
        parse_notebook(raw)


def test_intake_turns_bad_files_into_rows_and_ids_into_safe_names(tmp_path):
    good = (MINI_COURSE / "submissions" / "solution.ipynb").read_bytes()
    (tmp_path / "../evil name!.ipynb".replace("../", "")).write_bytes(good)
    (tmp_path / "big.ipynb").write_bytes(b" " * 2048 + good)
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "big.ipynb")
    found = intake.collect(tmp_path, max_bytes=2000)
    assert [s.student for s in found.submissions] == ["evil_name"]
    reasons = {b.student: b.reason for b in found.rejected}
    assert "over the" in reasons["big"] and "symbolic link" in reasons["link"]


def test_store_writes_atomically_and_reuses_only_identical_inputs(tmp_path):
    r = Result(student="s1", assignment="mini", status="graded", score=3, max_score=5,
               submission={"sha256": "abc"}, suite_hash="suite", config_hash="cfg",
               grader_version="1")
    with Store(tmp_path / "out") as store:
        store.save(r)
        assert json.loads(store.path("s1").read_text())["score"] == 3
        assert not list((tmp_path / "out" / "results").glob(".*.tmp"))
        key = dict(sha256="abc", suite_hash="suite", config_hash="cfg", grader_version="1")
        assert store.reusable("s1", **key).score == 3
        for field in key:
            assert store.reusable("s1", **{**key, field: "other"}) is None
        with pytest.raises(StoreError, match="another grading batch"):
            Store(tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        Store(tmp_path / "file")


@pytest.mark.slow
@pytest.mark.parametrize("warm", [True, False])
def test_a_sandbox_that_cannot_start_is_the_graders_error_not_the_students(tmp_path, warm):
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend

    session = StudentSession(resolve_backend("bwrap", warm=warm),
                             LaunchSpec(workdir=tmp_path / "missing"),
                             cell_timeout=5, notebook_timeout=10, probe_timeout=5)
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing").rmdir()
    run = session.run_notebook([{"index": 1, "source": "x = 1"}])
    session.close()
    assert run.status == "error"
    assert "the bwrap sandbox" in run.reason and "start" in run.reason and "missing" in run.reason
    with pytest.raises(Exception, match="could not run"):
        session.probe("p", "def p(ns):\n    return 1\n", {})


def test_a_worker_grades_only_the_bytes_intake_saw(tmp_path):
    import hashlib
    import os

    from grader import assignment
    from grader.judge.grade import GradeOptions, grade_one

    asg = assignment.load("mini", MINI_COURSE)
    nb = tmp_path / "swapped.ipynb"
    nb.write_bytes((MINI_COURSE / "submissions" / "blank.ipynb").read_bytes())
    seen = hashlib.sha256(nb.read_bytes()).hexdigest()
    nb.write_bytes(nb.read_bytes() + b"\n")
    r = grade_one(asg, "swapped", nb, seen, GradeOptions(sandbox="none"))
    assert r.status == "invalid" and "changed after it was handed in" in r.reason
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    r = grade_one(asg, "fifo", fifo, seen, GradeOptions(sandbox="none"))     # never blocks
    assert r.status == "invalid" and "named pipe" in r.reason


@pytest.mark.slow
def test_a_change_to_what_scores_regrades_every_stored_result(tmp_path, monkeypatch):
    import grader
    from grader import api, build

    package = tmp_path / "grader"
    shutil.copytree(Path(grader.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = build.source_digest(package)
    with open(package / "reports" / "summary.py", "a") as f:
        f.write("\n# how a report looks never changes a score\n")
    assert build.source_digest(package) == before
    with open(package / "testing.py", "a") as f:
        f.write("\n# a fix in a scoring helper\n")
    assert build.source_digest(package) != before

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copyfile(MINI_COURSE / "submissions" / "blank.ipynb", subs / "blank.ipynb")
    grade = dict(assignment="mini", out=tmp_path / "out", sandbox="none", course=MINI_COURSE,
                 jobs=1)
    first = api.grade(subs, **grade)
    assert first.graded_now == 1 and first.results[0].grader_version == build.build_id()
    assert build.build_id().startswith(grader.__version__ + "+") and " torch " in build.build_id()
    assert api.grade(subs, **grade).reused == 1
    monkeypatch.setattr(api, "build_id", lambda: "0.1.0+another torch 2.13.0")
    assert api.grade(subs, **grade).reused == 0


def test_a_corpus_expectation_nothing_checks_is_an_error(tmp_path):
    import corpus

    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "expected.toml").write_text('status = "graded"\nscore_at_mots = 0\n')
    with pytest.raises(ValueError, match="unknown keys score_at_mots"):
        corpus.expected(tmp_path, "case")
    (tmp_path / "case" / "expected.toml").write_text(
        'status = "graded"\nnever_in_output = ["secret"]\n')
    assert corpus.expected(tmp_path, "case")["never_in_output"] == ["secret"]


def test_what_a_test_needs_comes_from_its_marks_backend_and_browser():
    from types import SimpleNamespace

    import conftest

    def item(marks=(), backend=None, fixtures=(), module="test_units"):
        return SimpleNamespace(
            iter_markers=lambda name: [m for m in marks if m.name == name],
            get_closest_marker=lambda name: next((m for m in marks if m.name == name), None),
            callspec=SimpleNamespace(params={"backend": backend}) if backend else None,
            fixturenames=list(fixtures), module=SimpleNamespace(__name__=f"tests.{module}"))

    assert conftest.needs(item()) == []
    assert conftest.needs(item(backend="podman", fixtures=["browser"])) == ["podman", "chromium"]
    assert conftest.needs(item([pytest.mark.requires("root").mark],
                               backend="bwrap-cold")) == ["root", "bwrap"]
    assert conftest.needs(item(backend="none")) == []
    assert conftest.needs(item(module="test_demo")) == ["root", "bwrap"]   # grades with the default
    assert conftest.needs(item(module="test_lms")) == []                    # a fast test there
    assert conftest.needs(item([pytest.mark.slow.mark], module="test_lms")) == ["root", "bwrap"]


def test_limits_defaults_help_and_flags_come_from_one_table():
    from grader.cli import _limit_flags

    assert assignment.resolve_limits({})["cpu_seconds"] == 300 * 2 + 120
    assert assignment.resolve_limits({"notebook_timeout": 10})["cpu_seconds"] == 140
    assert assignment.resolve_limits({"cpu_seconds": 7})["cpu_seconds"] == 7
    flags = {key: (flag, what) for flag, key, _, what in _limit_flags()}
    assert set(flags) == {"cell_timeout", "memory_mb", "cpu_seconds", "processes", "disk_mb",
                          "output_kb"}
    for key, (flag, what) in flags.items():
        assert flag == assignment.LIMIT_KEYS[key][3]
        assert what.lower() == assignment.LIMIT_KEYS[key][2].lower()


def test_the_record_schema_knows_exactly_the_statuses_and_outcomes():
    from grader import results

    schema = json.loads((Path(results.__file__).parent / "schema" / "result.schema.json")
                        .read_text())
    tests = schema["properties"]["questions"]["items"]["properties"]["tests"]["items"]["properties"]
    assert schema["properties"]["status"]["enum"] == [s.value for s in results.Status]
    assert tests["outcome"]["enum"] == [o.value for o in results.Outcome]
    assert json.dumps(results.Status.GRADED) == '"graded"' and "graded" in results.STATUSES


@pytest.mark.parametrize("tags", [True, False], ids=["version-tags", "no-version-tags"])
def test_the_pristine_snapshot_catches_every_patch_with_and_without_dict_version_tags(monkeypatch,
                                                                                    tags):
    """The student process's check before each probe: a patched torch function, module constant or
    tensor method is put back and named, whether CPython's dict version tags can be read (the fast
    path, PEP 509) or not."""
    import math

    import torch

    from grader.student import snapshot

    if tags:
        assert snapshot._dict_version is not None, "this CPython should expose dict version tags"
    else:
        monkeypatch.setattr(snapshot, "_dict_version", None)
    snap = snapshot.Snapshot()
    assert any(check.real is not None for check in snap.checks) is tags    # the fast path, or not
    assert snap.restore() == [] and snap.restore() == []
    assert all(check.tag is not None for check in snap.checks if check.real is not None)
    real_equal, real_pi, real_sum = torch.equal, math.pi, torch.Tensor.sum
    try:
        torch.equal = lambda *args: True
        math.pi = 3
        torch.Tensor.sum = lambda self, *args, **kwargs: 0
        changed = snap.restore()
        assert torch.equal is real_equal and math.pi is real_pi and torch.Tensor.sum is real_sum
    finally:
        if torch.equal is not real_equal or math.pi is not real_pi:   # never leave this patched
            torch.equal, math.pi = real_equal, real_pi
        if "sum" in vars(torch.Tensor):
            del torch.Tensor.sum
    assert {"torch.equal", "math.pi", "Tensor.sum"} <= set(changed)
    assert snap.restore() == []
    torch.Tensor.shiny = lambda self: 1                 # a method added, not replaced
    assert "Tensor.shiny" in snap.restore() and not hasattr(torch.Tensor, "shiny")


def test_a_worker_request_crosses_as_one_json_line_and_back():
    from grader import jobs

    req = jobs.GradeRequest(assignment="/c/solutions/mini", course="/c", student="학생-1",
                            path="/s/a.ipynb", sha256="ab" * 32, seeds=4, questions=["q1"],
                            options={"sandbox": "bwrap"})
    line = jobs.dumps(req)
    assert "\n" not in line and jobs.parse(line) == req and jobs.parse(line.encode()) == req
    inv = jobs.InventoryRequest(assignment="/c/solutions/mini", course="/c", warm=False)
    assert jobs.parse(jobs.dumps(inv)) == inv
    for bad in ('{"op": "format_disk"}', "[]", '{"op": "grade", "student": "x"}',
                jobs.dumps(req)[:-1] + ', "extra": 1}'):
        with pytest.raises(ValueError):
            jobs.parse(bad)


def test_a_folder_without_notebooks_is_a_usage_error_and_skipped_files_are_named(tmp_path):
    from grader.errors import UsageError

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no notebooks .* found in .*empty, which is empty"):
        intake.collect(empty, max_bytes=1 << 20)
    (tmp_path / "papers").mkdir()
    for name in ("readme.txt", "data.csv", "숙제.pdf"):
        (tmp_path / "papers" / name).write_text("x")
    with pytest.raises(UsageError, match="it holds data.csv, readme.txt, 숙제.pdf"):
        intake.collect(tmp_path / "papers", max_bytes=1 << 20)
    shutil.copy(MINI_COURSE / "submissions" / "solution.ipynb", tmp_path / "papers" / "kim.ipynb")
    (tmp_path / "papers" / ".DS_Store").write_text("x")
    found = intake.collect(tmp_path / "papers", max_bytes=1 << 20)
    assert [s.student for s in found.submissions] == ["kim"]
    assert found.notes == ["not graded, as not notebooks (.ipynb) or hidden: .DS_Store, data.csv, "
                           "readme.txt, 숙제.pdf"]
    roster = tmp_path / "roster.csv"
    roster.write_text("student\nkim\nlee\n")
    assert intake.collect(empty, max_bytes=1 << 20, roster=roster).missing == ["kim", "lee"]


def test_summary_histogram_counts_every_value_once_and_escapes_its_labels():
    from grader.reports import histogram

    values = [0, 0.1, 2.5, 2.5, 5, 5, 7, -1, 99]       # out-of-range values land in the end bins
    assert histogram.counts(values, 5, 0, 5) == [3, 0, 2, 0, 4]
    assert sum(histogram.counts(values, 7, 0, 5)) == len(values)
    doc = histogram.svg(values, bins=5, lo=0, hi=5, title="<b>점수</b> & co", xlabel="score")
    assert "<b>" not in doc and "&lt;b&gt;점수&lt;/b&gt; &amp; co" in doc
    assert doc.count("<rect") == 1 + 3            # the background and the three non-empty bins
    assert histogram.data_uri(doc).startswith("data:image/svg+xml;base64,")


@pytest.mark.slow
def test_a_notebook_with_more_code_than_a_run_may_send_is_invalid_and_says_why(tmp_path):
    """Intake accepts up to max_notebook_mb (20 MiB), but the runner reads at most 16 MiB of
    code: such a notebook is refused with that reason, not reported as a crash."""
    import nbformat

    from grader import api

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("data = '" + "y" * (17 << 20) + "'")]
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nb, subs / "big_literal.ipynb")
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", sandbox="none", course=MINI_COURSE)
    [r] = batch.results
    assert r.status == "invalid" and r.score == 0
    assert "more than the 16 MiB of code a notebook may run" in r.reason
