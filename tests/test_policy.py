"""The course policy (grader.policy): lateness, extensions, attempts and feedback under a fixed
clock; submission times from Gradescope and Canvas exports; what records and reports say."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from grader import assignment, intake, policy
from grader.errors import AssignmentError, UsageError
from grader.policy import Extension, Policy
from grader.reports import write_reports
from grader import results
from grader.results import QuestionResult, Result
from grader.text import clean_result
from conftest import MINI_COURSE

KST = timezone(timedelta(hours=9))
DUE = datetime(2026, 10, 5, 23, 59, tzinfo=KST)
PER_DAY = Policy(due=DUE, late="per_day", penalty=0.1, grace=10,
                 cutoff=datetime(2026, 10, 8, 23, 59, tzinfo=KST))
SOLUTION = (MINI_COURSE / "submissions" / "solution.ipynb").read_bytes()
SCHEMA = json.loads((Path(assignment.__file__).parent / "schema" / "result.schema.json")
                    .read_text())


def after(**kw) -> datetime:
    return DUE + timedelta(**kw)


# --- lateness ---------------------------------------------------------------------------------

def test_on_time_costs_nothing():
    late = policy.lateness(PER_DAY, after(hours=-2))
    assert (late.penalty, late.periods, late.late_seconds) == (0, 0, 0)
    assert late.final(5) == 5 and late.sentence == "submitted on time"


def test_within_the_grace_period_is_on_time():
    late = policy.lateness(PER_DAY, after(minutes=9, seconds=59))
    assert late.within_grace and late.penalty == 0 and late.final(5) == 5
    assert late.sentence == ("submitted 9 min 59 s after the deadline, within the 10 min grace "
                             "period: no penalty")


def test_one_second_late_starts_a_day():
    no_grace = dataclasses.replace(PER_DAY, grace=0)
    late = policy.lateness(no_grace, after(seconds=1))
    assert (late.periods, late.penalty, late.final(5)) == (1, 0.1, 4.5)
    assert late.sentence == "submitted 1 s after the deadline: 1 day late × 10% = −10%"


def test_past_the_grace_lateness_counts_from_the_deadline():
    late = policy.lateness(PER_DAY, after(minutes=10, seconds=1))
    assert not late.within_grace and late.periods == 1 and late.final(5) == 4.5


def test_a_day_and_a_second_late_is_two_days():
    late = policy.lateness(PER_DAY, after(days=1, seconds=1))
    assert (late.periods, late.penalty, late.final(5)) == (2, 0.2, 4)
    assert late.sentence == "submitted 24 h 1 s after the deadline: 2 days late × 10% = −20%"
    assert late.late_hours == pytest.approx(24.0003, abs=1e-4)


def test_the_sentence_of_26_hours():
    late = policy.lateness(PER_DAY, after(hours=26))
    assert late.sentence == "submitted 26 h after the deadline: 2 days late × 10% = −20%"


def test_per_hour_counts_hours_started():
    hourly = Policy(due=DUE, late="per_hour", penalty=0.05)
    late = policy.lateness(hourly, after(hours=3, minutes=30))
    assert (late.periods, late.penalty) == (4, 0.2)
    assert late.sentence == "submitted 3 h 30 min after the deadline: 4 hours late × 5% = −20%"


def test_the_penalty_never_passes_the_whole_score():
    late = policy.lateness(Policy(due=DUE, late="per_day", penalty=0.3), after(days=3, hours=1))
    assert late.penalty == 1 and late.final(5) == 0
    assert late.sentence.endswith("= −100% (all of it)")


def test_past_the_cutoff_scores_zero():
    late = policy.lateness(PER_DAY, after(days=3, minutes=1))
    assert late.zeroed and late.final(5) == 0
    assert late.sentence == ("submitted 72 h 1 min after the deadline, after the cutoff "
                             "(2026-10-08 23:59 +09:00): scored 0")


def test_late_work_refused_when_late_is_none():
    late = policy.lateness(Policy(due=DUE), after(minutes=1))
    assert late.refused and late.final(5) == 0
    assert late.sentence == ("submitted 1 min after the deadline; late work is not accepted: "
                             "scored 0")


def test_an_extension_moves_the_deadline_past_the_submission():
    made = after(hours=30)
    assert policy.lateness(PER_DAY, made).penalty == 0.2
    by_hours = policy.lateness(PER_DAY, made, Extension("ann", extra_hours=48))
    assert by_hours.penalty == 0 and by_hours.due == after(hours=48)
    assert by_hours.sentence == "submitted on time (extended by 48 h)"
    to_date = policy.lateness(PER_DAY, made, Extension("ann", due=after(days=1)))
    assert to_date.periods == 1 and to_date.extension == "extended to 2026-10-06 23:59 +09:00"


def test_an_extension_moves_the_cutoff_with_the_deadline():
    made = after(days=4)                                # past the cutoff without the extension
    assert policy.lateness(PER_DAY, made).zeroed
    late = policy.lateness(PER_DAY, made, Extension("ann", extra_hours=48))
    assert not late.zeroed and late.periods == 2 and late.final(5) == 4


def test_daylight_saving_time_is_counted_in_real_hours():
    # Europe's clocks went forward on 2026-03-29: the deadline is in summer time (+02:00), the
    # submission written in winter time (+01:00) by a machine that did not change its clock
    spring = Policy(due=datetime.fromisoformat("2026-03-29T23:59:00+02:00"), late="per_hour",
                    penalty=0.1)
    on_time = policy.lateness(spring, datetime.fromisoformat("2026-03-29T22:58:00+01:00"))
    assert on_time.penalty == 0 and on_time.sentence == "submitted on time"
    late = policy.lateness(spring, datetime.fromisoformat("2026-03-29T23:30:00+01:00"))
    assert late.late_seconds == 31 * 60 and late.periods == 1
    assert late.sentence == "submitted 31 min after the deadline: 1 hour late × 10% = −10%"


def test_no_submission_time_no_penalty():
    late = policy.lateness(PER_DAY, None)
    assert late.penalty == 0 and late.final(5) == 5
    assert late.sentence == "submission time unknown: no late penalty applied"


def test_no_deadline_no_lateness():
    assert policy.applied(Policy(), 3.0, after(days=9)) == {}


def test_the_record_it_keeps_fits_the_schema():
    kept = policy.applied(PER_DAY, 5.0, after(hours=26), time_source="submitted-at",
                          extension=None)
    assert (kept["raw_score"], kept["final_score"], kept["penalty"]) == (5.0, 4.0, 0.2)
    assert kept["submitted_at"] == "2026-10-07T01:59:00+09:00" and kept["late_hours"] == 26
    record = Result(student="ann", assignment="mini", status="graded", score=4, max_score=5,
                    lateness=kept)
    jsonschema.validate(clean_result(record).to_dict(), SCHEMA)


# --- attempts ---------------------------------------------------------------------------------

ATTEMPTS = [(after(hours=-50), 2.0), (after(hours=-40), 5.0), (after(hours=-30), 3.0)]


def test_last_counts_the_latest_attempt():
    choice = policy.choose_attempt(Policy(counts="last"), ATTEMPTS)
    assert choice.counted == 2 and choice.over_limit == () and choice.too_soon == ()


def test_best_counts_the_highest_score():
    assert policy.choose_attempt(Policy(counts="best"), ATTEMPTS).counted == 1


def test_attempts_past_the_limit_do_not_count():
    shuffled = [ATTEMPTS[2], ATTEMPTS[0], ATTEMPTS[1]]         # given out of time order
    last = policy.choose_attempt(Policy(attempts=2, counts="last"), shuffled)
    assert last.counted == 2 and last.over_limit == (0,)   # the 5-point attempt, the second made
    assert "over the limit of 2" in last.notes[0]
    best = policy.choose_attempt(Policy(attempts=1, counts="best"), shuffled)
    assert best.counted == 1 and set(best.over_limit) == {0, 2}


def test_the_rate_limits_attempts_within_an_hour():
    burst = [(after(hours=-5, minutes=m), float(m)) for m in (0, 10, 20, 70)]
    choice = policy.choose_attempt(Policy(rate=2, counts="best"), burst)
    assert choice.too_soon == (2,) and choice.counted == 3
    assert "over the 2 per hour allowed" in choice.notes[0]


# --- feedback ---------------------------------------------------------------------------------

def test_feedback_before_and_after_the_deadline():
    shown = Policy(due=DUE, feedback="public", feedback_after="scores")
    assert policy.feedback_level(shown, after(seconds=-1)) == "public"
    assert policy.feedback_level(shown, after(seconds=0)) == "scores"
    assert policy.feedback_level(shown, after(hours=1), due=after(hours=2)) == "public"
    assert policy.feedback_level(Policy(feedback="scores"), after(days=100)) == "scores"
    with pytest.raises(ValueError):
        policy.feedback_level(shown, datetime(2026, 10, 6))


# --- the [policy] table -----------------------------------------------------------------------

def course_with(tmp_path: Path, table: str) -> Path:
    """A copy of the mini course whose assignment.toml ends with `table`."""
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course)
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    return course


def test_the_policy_table_is_read(tmp_path):
    course = course_with(tmp_path, '[policy]\ndue = "2026-10-05T23:59:00+09:00"\nlate = "per_day"\n'
                                   'penalty = 0.1\ngrace = 10\ncutoff = 2026-10-08T23:59:00+09:00\n'
                                   'attempts = 3\ncounts = "best"\nrate = 2\nfeedback = "scores"\n')
    asg = assignment.load("mini", course)
    assert asg.policy == dataclasses.replace(PER_DAY, attempts=3, counts="best", rate=2,
                                             feedback="scores")


@pytest.mark.parametrize("table,message", [
    ('[policy]\ndeu = "2026-10-05T23:59:00+09:00"\n',
     "unknown setting policy.'deu' (known: due, late,"),
    ('[policy]\ndue = "2026-10-05T23:59:00"\n',
     "policy.due: 2026-10-05T23:59:00 has no zone offset"),
    ("[policy]\ndue = 2026-10-05T23:59:00\n", "policy.due: 2026-10-05T23:59:00 has no zone offset"),
    ('[policy]\ndue = "next friday"\n', "is not an ISO 8601 time"),
    ('[policy]\ndue = "2026-10-05T23:59:00+09:00"\nlate = "daily"\n', "policy.late must be one of"),
    ('[policy]\ndue = "2026-10-05T23:59:00+09:00"\nlate = "per_day"\n', "needs a policy.penalty"),
    ('[policy]\nlate = "per_day"\npenalty = 0.1\n', "need policy.due"),
    ('[policy]\ndue = "2026-10-05T23:59:00+09:00"\npenalty = "10%"\n',
     "policy.penalty has the wrong type"),
    ('[policy]\ndue = "2026-10-05T23:59:00+09:00"\nfeedback_after = "public"\n',
     "policy.feedback_after must be one of full, scores"),
    ('[policy]\ndue = "2026-10-05T23:59:00+09:00"\ncutoff = "2026-10-01T00:00:00+09:00"\n',
     "policy.cutoff is before policy.due"),
])
def test_a_bad_policy_is_refused_naming_the_key(tmp_path, table, message):
    course = course_with(tmp_path, table)
    with pytest.raises(AssignmentError, match="assignment.toml") as caught:
        assignment.load("mini", course)
    assert message in str(caught.value)


def test_the_policy_is_not_part_of_what_decides_a_grade(tmp_path):
    course = course_with(tmp_path, '[policy]\ndue = "2026-10-05T23:59:00+09:00"\n')
    before = assignment.load("mini", course).suite_hash()
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text() + 'late = "per_day"\npenalty = 0.5\n')
    assignment._suite_hashes.clear()
    assert assignment.load("mini", course).suite_hash() == before
    toml.write_text(toml.read_text().replace("points = 3", "points = 4"))
    assignment._suite_hashes.clear()
    assert assignment.load("mini", course).suite_hash() != before


def test_a_change_to_the_policy_code_keeps_the_build(tmp_path):
    from grader import build

    package = tmp_path / "grader"
    shutil.copytree(Path(policy.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = build.source_digest(package)
    with open(package / "policy.py", "a") as f:
        f.write("\n# the penalty is applied to the stored raw score at every run\n")
    assert build.source_digest(package) == before
    with open(package / "serve" / "service.py", "a") as f:       # the service stores results
        f.write("\n# as the engine graded them\n")
    assert build.source_digest(package) == before
    with open(package / "assignment.py", "a") as f:
        f.write("\n# what the hidden suite is\n")
    assert build.source_digest(package) != before


# --- extension and time files -----------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extensions_by_date_or_by_hours(tmp_path):
    table = policy.load_extensions(write(tmp_path / "ext.csv", "student,due,extra_hours\n"
                                         "김민수,2026-10-07T12:00:00+09:00,\nbo,,36\n"))
    assert table["김민수"].deadline(DUE) == datetime(2026, 10, 7, 12, tzinfo=KST)
    assert table["bo"].deadline(DUE) == after(hours=36)


@pytest.mark.parametrize("text,message", [
    ("name,due\nann,2026-10-07T12:00:00+09:00\n", "needs a header with the columns"),
    ("student,due\nann,2026-10-07T12:00:00\n", "line 2: 2026-10-07T12:00:00 has no zone offset"),
    ("student,extra_hours\nann,-3\n", "line 2: extra_hours must be a number of hours"),
    ("student,extra_hours\nann,2\nann,3\n", "line 3: 'ann' is listed twice"),
    ("student,due,extra_hours\nann,2026-10-07T12:00:00+09:00,4\n",
     "either a due time or extra_hours"),
])
def test_a_bad_extensions_file_says_where(tmp_path, text, message):
    with pytest.raises(UsageError, match="ext.csv") as caught:
        policy.load_extensions(write(tmp_path / "ext.csv", text))
    assert message in str(caught.value)


@pytest.mark.parametrize("text,message", [
    ("student,extra_hours\nann,1e9\n", "line 2: extra_hours '1e9' is more than ten years"),
    ("student,extra_hours\nann,2\nbo,87841\n", "line 3: extra_hours '87841' is more than"),
    ("student,due\nann,9999-12-31T23:59:00-12:00\n", "line 2: the new deadline "
     "'9999-12-31T23:59:00-12:00' is not between 1970 and 2199"),
    ("student,due\nann,0001-01-01T00:00:00+14:00\n", "line 2: the new deadline"),
])
def test_an_extension_beyond_any_deadline_says_where(tmp_path, text, message):
    with pytest.raises(UsageError, match="ext.csv") as caught:
        policy.load_extensions(write(tmp_path / "ext.csv", text))
    assert message in str(caught.value)


def test_the_largest_extensions_accepted_still_give_a_lateness(tmp_path):
    table = policy.load_extensions(write(tmp_path / "ext.csv", "student,due,extra_hours\n"
                                         f"ann,,{policy.MAX_EXTRA_HOURS}\n"
                                         "bo,2199-12-31T23:59:00+14:00,\n"
                                         "cy,1970-01-01T00:00:00Z,\n"))
    made = after(hours=30)
    for student, late in (("ann", False), ("bo", False), ("cy", True)):
        record = policy.applied(PER_DAY, 2.0, made, time_source="submitted-at",
                                extension=table[student])
        assert (record["late_hours"] > 0) == late
        assert record["final_score"] == (0.0 if late else 2.0)


def test_submission_times_need_a_zone(tmp_path):
    times = policy.load_times(write(tmp_path / "t.csv",
                                    "student,submitted_at\nann,2026-10-06T01:00:00Z\n"))
    assert times["ann"] == datetime(2026, 10, 6, 1, tzinfo=timezone.utc)
    with pytest.raises(UsageError, match="t.csv, line 2: .* has no zone offset"):
        policy.load_times(write(tmp_path / "t.csv", "student,submitted_at\nann,2026-10-06 01:00\n"))


# --- submission times from exports ------------------------------------------------------------

def write_zip(path: Path, entries: dict) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def collect(archive: Path, tmp_path: Path) -> intake.Intake:
    return intake.collect(archive, max_bytes=1 << 20, extract_dir=tmp_path / "x")


GRADESCOPE_META = (
    "submission_1001:\n  :submitters:\n  - :name: Ann Lee\n    :sid: '42'\n"
    "  :created_at: 2026-10-06 01:59:00.123456789 +09:00\n"
    "submission_1002:\n  :submitters:\n  - :name: Bo Kim\n    :sid: '43'\n"
    "  :created_at: 2026-10-01 10:00:00\n")


def test_gradescope_export_gives_its_times(tmp_path):
    archive = write_zip(tmp_path / "export.zip", {
        "submission_metadata.yml": GRADESCOPE_META, "submission_1001/mini.ipynb": SOLUTION,
        "submission_1002/mini.ipynb": SOLUTION})
    found = collect(archive, tmp_path)
    intake.apply_times(found, needed=True)
    by = {s.student: s for s in found.submissions}
    assert by["42"].submitted_at == datetime(2026, 10, 6, 1, 59, 0, 123456, tzinfo=KST)
    assert by["42"].time_source == "gradescope" and by["42"].flags == ()
    assert by["43"].submitted_at is None
    assert by["43"].flags == ("the export's created_at (2026-10-01 10:00:00) has no zone offset; "
                              "time not used",)
    assert policy.lateness(PER_DAY, by["42"].submitted_at).periods == 1


def test_a_times_file_overrides_the_export_and_names_strangers(tmp_path):
    archive = write_zip(tmp_path / "export.zip", {
        "submission_metadata.yml": GRADESCOPE_META, "submission_1001/mini.ipynb": SOLUTION,
        "submission_1002/mini.ipynb": SOLUTION})
    found = collect(archive, tmp_path)
    times = policy.load_times(write(tmp_path / "t.csv", "student,submitted_at\n"
                                    "43,2026-10-05T20:00:00+09:00\n"
                                    "nobody,2026-10-05T20:00:00+09:00\n"))
    intake.apply_times(found, times=times, needed=True)
    by = {s.student: s for s in found.submissions}
    assert by["43"].submitted_at == datetime(2026, 10, 5, 20, tzinfo=KST)
    assert by["43"].time_source == "submitted-at" and by["43"].flags == ()
    assert found.notes == ["--submitted-at lists 1 student(s) with no submission: nobody"]


def test_canvas_marks_late_work_but_gives_no_time(tmp_path):
    archive = write_zip(tmp_path / "submissions.zip", {
        "doejane_LATE_12345_222_mini-1.ipynb": SOLUTION, "smithbob_67890_333_mini.ipynb": SOLUTION})
    found = collect(archive, tmp_path)
    intake.apply_times(found, needed=True)
    by = {s.student: s for s in found.submissions}
    assert all(s.submitted_at is None for s in found.submissions)
    assert by["doejane_12345"].flags == ("Canvas marks this submission late but gives no time; "
                                         "pass --submitted-at with its exact time",)
    assert by["smithbob_67890"].flags == ("no submission time known; pass --submitted-at",)
    times = {"doejane_12345": after(hours=26)}
    again = collect(archive, tmp_path)
    intake.apply_times(again, times=times, needed=True)
    jane = next(s for s in again.submissions if s.student == "doejane_12345")
    assert jane.submitted_at == after(hours=26) and jane.flags == ()


def test_mtimes_only_when_asked_and_with_a_warning(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "ann.ipynb").write_bytes(SOLUTION)
    found = intake.collect(folder, max_bytes=1 << 20)
    intake.apply_times(found)
    assert found.submissions[0].submitted_at is None and found.notes == []
    intake.apply_times(found, source="mtime")
    made = found.submissions[0].submitted_at
    assert made.utcoffset() == timedelta(0) and found.submissions[0].time_source == "mtime"
    assert abs(made.timestamp() - (folder / "ann.ipynb").stat().st_mtime) < 1e-3
    assert found.notes == [intake.MTIME_WARNING]
    with pytest.raises(UsageError, match="unknown --times 'ctime'"):
        intake.apply_times(found, source="ctime")


def test_mtimes_are_refused_for_a_zip_whose_extraction_sets_them(tmp_path):
    archive = write_zip(tmp_path / "submissions.zip", {"ann.ipynb": SOLUTION, "bo.ipynb": SOLUTION})
    found = collect(archive, tmp_path)
    with pytest.raises(UsageError) as caught:
        intake.apply_times(found, source="mtime", needed=True)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert "submissions.zip" in message and "modification time to now" in message
    assert "pass --submitted-at" in message
    assert all(s.submitted_at is None for s in found.submissions)


# --- records and reports ----------------------------------------------------------------------

def _record(student: str, q1: float, q2: float, made: datetime | None, pol: Policy,
            extension: Extension | None = None) -> Result:
    tests = [results.TestResult("test_double", "test_mini.py::test_double", "q1",
                        "passed" if q1 else "failed", q1, 2, "" if q1 else "double(2) gave 3"),
             results.TestResult("test_scale", "test_mini.py::test_scale", "q2",
                        "passed" if q2 else "failed", q2, 3, "" if q2 else "Scale(2) gave 5")]
    questions = [QuestionResult("q1", "double(t)", q1, 2, tests[:1]),
                 QuestionResult("q2", "Scale module", q2, 3, tests[1:])]
    late = policy.applied(pol, q1 + q2, made, time_source="submitted-at", extension=extension)
    return clean_result(Result(student=student, assignment="mini", status="graded",
                               score=late.get("final_score", q1 + q2), max_score=5,
                               questions=questions, lateness=late))


@pytest.fixture()
def late_class(tmp_path):
    asg = dataclasses.replace(assignment.load("mini", MINI_COURSE), policy=PER_DAY)
    records = [_record("on_time", 2, 3, after(hours=-1), PER_DAY),
               _record("late", 2, 3, after(hours=26), PER_DAY),
               _record("extended", 2, 0, after(hours=26), PER_DAY,
                       Extension("extended", extra_hours=48)),
               _record("cut_off", 2, 3, after(days=5), PER_DAY),
               _record("no_time", 2, 3, None, PER_DAY)]
    return asg, records, tmp_path / "out"


def _rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_grades_csv_has_the_raw_and_final_scores(late_class):
    asg, records, out = late_class
    problems: list[str] = []
    write_reports(out, records, asg, formats=("otter",), problems=problems, now=after(days=30))
    assert problems == []
    header = (out / "grades.csv").read_text().splitlines()[0]
    assert header == ("student,score,max_score,status,raw_score,late_hours,penalty,final_score,"
                      "q1,q2,reason,flags")
    rows = _rows(out / "grades.csv")
    got = {s: (r["score"], r["raw_score"], r["late_hours"], r["penalty"], r["final_score"])
           for s, r in rows.items()}
    assert got == {"on_time": ("5", "5", "0", "0", "5"), "late": ("4", "5", "26", "0.2", "4"),
                   "extended": ("2", "2", "0", "0", "2"), "cut_off": ("0", "5", "120", "1", "0"),
                   "no_time": ("5", "5", "", "", "5")}
    with open(out / "final_grades.csv", newline="") as f:
        otter = {row[0]: row for row in csv.reader(f)}
    assert otter["late.ipynb"][3] == "4"                      # total_points_earned: the final score
    gradescope = json.loads((out / "gradescope" / "late" / "results.json").read_text())
    assert gradescope["score"] == 4
    said = "Lateness: submitted 26 h after the deadline: 2 days late × 10% = −20%"
    assert said in gradescope["output"]


def test_the_student_report_says_the_lateness_in_words(late_class):
    asg, records, out = late_class
    write_reports(out, records, asg, now=after(days=30))
    md = (out / "reports" / "late.md").read_text(encoding="utf-8")
    assert md.startswith("# mini: 4 / 5\n")
    assert ("Lateness: submitted 26 h after the deadline: 2 days late × 10% = −20% (score 5 → 4)"
            in md)
    html = (out / "reports" / "late.html").read_text(encoding="utf-8")
    assert ('<p id="lateness">Lateness: submitted 26 h after the deadline: 2 days late × 10% = '
            '−20% (score 5 → 4)</p>') in html
    extended = (out / "reports" / "extended.md").read_text(encoding="utf-8")
    assert "Lateness: submitted on time (extended by 48 h)\n" in extended
    cut = (out / "reports" / "cut_off.md").read_text(encoding="utf-8")
    assert "after the cutoff (2026-10-08 23:59 +09:00): scored 0 (score 5 → 0)" in cut
    assert "submission time unknown" in (out / "reports" / "no_time.md").read_text(encoding="utf-8")


def test_no_deadline_no_lateness_columns_nor_words(tmp_path):
    asg = assignment.load("mini", MINI_COURSE)
    record = _record("ann", 2, 3, after(hours=26), Policy())
    write_reports(tmp_path, [record], asg, now=after(days=30))
    assert (tmp_path / "grades.csv").read_text().splitlines()[0] == (
        "student,score,max_score,status,q1,q2,reason,flags")
    assert "Lateness" not in (tmp_path / "reports" / "ann.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("level", ["full", "scores", "public"])
def test_reports_show_what_the_feedback_setting_allows_before_the_deadline(tmp_path, level):
    pol = dataclasses.replace(PER_DAY, feedback=level, feedback_after="scores")
    asg = dataclasses.replace(assignment.load("mini", MINI_COURSE), policy=pol)
    record = _record("ann", 2, 0, after(hours=-3), pol)
    write_reports(tmp_path / "before", [record], asg, now=after(hours=-1))
    write_reports(tmp_path / "after", [record], asg, now=after(hours=1))
    before = (tmp_path / "before" / "reports" / "ann.md").read_text(encoding="utf-8")
    html = (tmp_path / "before" / "reports" / "ann.html").read_text(encoding="utf-8")
    assert ("Scale(2) gave 5" in before) == ("Scale(2) gave 5" in html) == (level == "full")
    assert ("| q2 Scale module | 0 / 3 |" in before) == (level != "public")
    assert (before.startswith("# mini: ? / 5\n")) == (level == "public")
    assert ("shown after the deadline" in html) == (level == "public")
    later = (tmp_path / "after" / "reports" / "ann.md").read_text(encoding="utf-8")
    assert "| q2 Scale module | 0 / 3 |" in later and "Scale(2) gave 5" not in later


# --- end to end -------------------------------------------------------------------------------

BLANK = (MINI_COURSE / "submissions" / "blank.ipynb").read_bytes()
LATE_POLICY = ('[policy]\ndue = "2026-10-05T23:59:00+09:00"\nlate = "per_day"\npenalty = 0.1\n'
               'cutoff = "2026-10-08T23:59:00+09:00"\n')


def grade_cli(course: Path, *args: str):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course), "grade",
                           *args, "-a", "mini", "--sandbox", "none", "-j", "2", "--quiet"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.mark.slow
def test_a_class_graded_with_a_policy_and_regraded_under_another(tmp_path):
    course = course_with(tmp_path, LATE_POLICY)
    archive = write_zip(tmp_path / "canvas.zip", {
        "doejane_LATE_12345_222_mini.ipynb": SOLUTION, "leeann_LATE_23456_223_mini.ipynb": SOLUTION,
        "smithbob_67890_333_mini.ipynb": BLANK, "kimbo_34567_334_mini.ipynb": SOLUTION})
    times = write(tmp_path / "times.csv", "student,submitted_at\n"
                  "doejane_12345,2026-10-07T01:59:00+09:00\n"
                  "leeann_23456,2026-10-06T18:00:00+09:00\n"
                  "smithbob_67890,2026-10-05T12:00:00+09:00\nghost_1,2026-10-05T12:00:00+09:00\n")
    extensions = write(tmp_path / "ext.csv", "student,extra_hours\nleeann_23456,24\n")
    out = tmp_path / "out"
    first = grade_cli(course, str(archive), "-o", str(out), "--submitted-at", str(times),
                      "--extensions", str(extensions))
    assert first.returncode == 0, first.stdout + first.stderr
    rows = _rows(out / "grades.csv")
    got = {s: (r["score"], r["raw_score"], r["late_hours"], r["penalty"]) for s, r in rows.items()}
    assert got == {"doejane_12345": ("4", "5", "26", "0.2"), "leeann_23456": ("5", "5", "0", "0"),
                   "smithbob_67890": ("0", "0", "0", "0"), "kimbo_34567": ("5", "5", "", "")}
    assert rows["kimbo_34567"]["flags"] == "no submission time known; pass --submitted-at"
    record = json.loads((out / "results" / "doejane_12345.json").read_text())
    jsonschema.validate(record, SCHEMA)
    assert (record["score"], record["lateness"]["raw_score"]) == (4, 5)
    assert record["lateness"]["time_source"] == "submitted-at"
    md = (out / "reports" / "doejane_12345.md").read_text(encoding="utf-8")
    assert "Lateness: submitted 26 h after the deadline: 2 days late × 10% = −20% (score 5 → 4)" \
        in md
    extended = (out / "reports" / "leeann_23456.md").read_text(encoding="utf-8")
    assert "submitted on time (extended by 24 h)" in extended
    assert "--submitted-at lists 1 student(s) with no submission: ghost_1" in first.stdout

    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text().replace("penalty = 0.1", "penalty = 0.25"))
    second = grade_cli(course, str(archive), "-o", str(out), "--submitted-at", str(times))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 made in this run, 4 reused" in second.stdout
    rows = _rows(out / "grades.csv")
    assert (rows["doejane_12345"]["score"], rows["doejane_12345"]["penalty"]) == ("2.5", "0.5")
    assert (rows["leeann_23456"]["score"], rows["leeann_23456"]["penalty"]) == ("3.75", "0.25")
    record = json.loads((out / "results" / "doejane_12345.json").read_text())
    assert (record["score"], record["lateness"]["raw_score"]) == (2.5, 5)
