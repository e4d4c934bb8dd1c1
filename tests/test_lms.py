"""Submissions from learning platforms: Canvas and Gradescope zips, rosters, duplicates, unsafe zips."""

import csv
import stat
import zipfile
from datetime import datetime, timezone

import pytest

from grader import api, intake
from grader.errors import UsageError
from conftest import MINI_COURSE

SOLUTION = (MINI_COURSE / "submissions" / "solution.ipynb").read_bytes()
BLANK = (MINI_COURSE / "submissions" / "blank.ipynb").read_bytes()


def write_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_canvas_zip_with_roster_duplicates_and_exports(tmp_path):
    archive = write_zip(tmp_path / "submissions.zip", {
        "doejane_12345_111_mini.ipynb": BLANK,
        "doejane_LATE_12345_222_mini-1.ipynb": SOLUTION,
        "smithbob_67890_333_mini.ipynb": SOLUTION,
        "strangerx_99999_444_mini.ipynb": BLANK,
    })
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,canvas_id,sis_user_id,sis_login_id,section\n"
                      "jane,Jane Doe,12345,S1,jdoe,A\nbob,Bob Smith,67890,S2,bsmith,A\n"
                      "carol,Carol Lee,55555,S3,clee,B\n")
    out = tmp_path / "out"
    batch = api.grade(archive, assignment="mini", out=out, jobs=2, sandbox="none", course=MINI_COURSE,
                      roster=roster, formats=("otter", "canvas"))
    by = {r.student: r for r in batch.results}
    assert sorted(by) == ["bob", "carol", "jane", "strangerx_99999"]
    assert by["jane"].score == 5 and "newer of 2 submissions" in by["jane"].all_flags()[0]
    assert by["carol"].status == "missing" and by["carol"].score == 0
    assert by["strangerx_99999"].all_flags() == ["not on the roster"]
    assert any("kept doejane_LATE_12345_222_mini-1.ipynb" in n for n in batch.notes)
    grades = read_csv(out / "grades.csv")
    assert [row[0] for row in grades[1:]] == ["bob", "carol", "jane", "strangerx_99999"]
    canvas = read_csv(out / "canvas_grades.csv")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Mini: the engine's own test assignment"]
    assert canvas[1][-1] == "5"
    assert canvas[2:] == [["Jane Doe", "12345", "S1", "jdoe", "A", "5"], ["Bob Smith", "67890", "S2", "bsmith", "A", "5"],
                          ["Carol Lee", "55555", "S3", "clee", "B", "0"]]
    otter = read_csv(out / "final_grades.csv")
    assert otter[0] == ["file", "q1", "q2", "total_points_earned", "percent_correct", "grading_status"]
    assert otter[1] == ["points-per-question", "2", "3", "5", "1", "--"]
    assert ["doejane_LATE_12345_222_mini-1.ipynb", "2", "3", "5", "1", "Completed"] in otter
    assert all(p.is_relative_to(out) for p in out.rglob("*"))


@pytest.mark.slow
def test_gradescope_export(tmp_path):
    meta = ("submission_1001:\n  :submitters:\n  - :name: Ann Lee\n    :sid: '42'\n    :email: ann@example.edu\n"
            "  :created_at: 2026-10-01 10:00:00\n"
            "submission_1002:\n  :submitters:\n  - :name: Bo Kim\n    :sid: '43'\n  - :name: Cy Park\n    :sid: '44'\n"
            "  :created_at: 2026-10-01 11:00:00\n"
            "submission_1003:\n  :submitters:\n  - :name: Di Ho\n    :sid: '45'\n")
    archive = write_zip(tmp_path / "export.zip", {
        "submission_metadata.yml": meta, "submission_1001/mini.ipynb": SOLUTION,
        "submission_1002/mini.ipynb": BLANK, "submission_1003/notes.txt": "forgot the notebook"})
    batch = api.grade(archive, assignment="mini", out=tmp_path / "out", jobs=2, sandbox="none", course=MINI_COURSE)
    by = {r.student: r for r in batch.results}
    assert by["42"].score == 5 and by["43"].score == 0
    assert by["43"].all_flags() == ["group submission, also for: 44"]
    assert by["45"].status == "invalid" and "no notebook" in by["45"].reason


@pytest.mark.parametrize("created", ["2026-13-01 10:00:00 -07:00", "2026-10-01 25:00:00 -07:00",
                                     "2026-10-01 10:00:00 +99:99"])
def test_a_malformed_gradescope_time_is_noted_on_its_submission_alone(tmp_path, created):
    meta = ("submission_1001:\n  :submitters:\n  - :name: Ann Lee\n    :sid: '42'\n"
            f"  :created_at: {created}\n"
            "submission_1002:\n  :submitters:\n  - :name: Bo Kim\n    :sid: '43'\n"
            f"  :created_at: '{created}'\n"
            "submission_1003:\n  :submitters:\n  - :name: Cy Park\n    :sid: '44'\n"
            "  :created_at: 2026-10-01 10:00:00.5 -07:00\n")
    archive = write_zip(tmp_path / "export.zip", {
        "submission_metadata.yml": meta, **{f"submission_{n}/mini.ipynb": SOLUTION
                                            for n in (1001, 1002, 1003)}})
    found = intake.collect(archive, max_bytes=1 << 20, extract_dir=tmp_path / "x")
    intake.apply_times(found, needed=True)
    by = {s.student: s for s in found.submissions}
    note = f"the export's created_at ({created}) is not a valid time; time not used"
    for sid in ("42", "43"):                        # unquoted (YAML's own timestamp) or quoted
        assert by[sid].submitted_at is None and by[sid].flags == (note,)
    assert by["44"].submitted_at == datetime(2026, 10, 1, 17, 0, 0, 500000, tzinfo=timezone.utc)
    assert by["44"].time_source == "gradescope" and by["44"].flags == ()


def test_a_metadata_file_that_is_not_yaml_is_a_usage_error(tmp_path):
    archive = write_zip(tmp_path / "export.zip", {
        "submission_metadata.yml": "submission_1001: [unclosed\n",
        "submission_1001/mini.ipynb": SOLUTION})
    with pytest.raises(UsageError, match="submission_metadata.yml is not valid YAML") as caught:
        intake.collect(archive, max_bytes=1 << 20, extract_dir=tmp_path / "x")
    assert caught.value.exit_code == 2


def zip_with_mode(path, name, mode, data=b"x"):
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize("make,match", [
    (lambda p: write_zip(p, {"../escape.ipynb": SOLUTION}), "points outside the archive"),
    (lambda p: write_zip(p, {"/etc/evil.ipynb": SOLUTION}), "points outside the archive"),
    (lambda p: zip_with_mode(p, "link.ipynb", stat.S_IFLNK | 0o777, b"/etc/passwd"), "link or special file"),
    (lambda p: write_zip(p, {"bomb.ipynb": b"\0" * (50 << 20)}), "decompression bomb"),
    (lambda p: (p.write_bytes(b"PK not really"), p)[1], "not a readable zip"),
])
def test_unsafe_zips_are_refused_and_nothing_escapes(tmp_path, make, match):
    archive = make(tmp_path / "class.zip")
    before = set(tmp_path.parent.iterdir())
    with pytest.raises(UsageError, match=match):
        api.grade(archive, assignment="mini", out=tmp_path / "out", jobs=1, sandbox="none", course=MINI_COURSE)
    assert set(tmp_path.parent.iterdir()) == before
    assert not (tmp_path / "escape.ipynb").exists()
    intake_dir = tmp_path / "out" / ".intake"
    assert not intake_dir.exists() or not any(intake_dir.rglob("*.ipynb"))


def test_roster_problems_are_usage_errors(tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("name,email\nA,a@x\n")
    with pytest.raises(UsageError, match="needs a header with a 'student' column"):
        api.grade(MINI_COURSE / "submissions", assignment="mini", out=tmp_path / "o", sandbox="none",
                  course=MINI_COURSE, roster=bad)
    with pytest.raises(UsageError, match="--format canvas needs --roster"):
        api.grade(MINI_COURSE / "submissions", assignment="mini", out=tmp_path / "o", sandbox="none",
                  course=MINI_COURSE, formats=("canvas",))
