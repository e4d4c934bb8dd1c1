"""Hostile strings and odd files: one notebook never costs the class its results.

Unit tests for the sanitiser, the per-format escaping and the id mapping, then one real batch
(bubblewrap) whose file names, cell sources, outputs, exception messages and metadata carry each
bad string, next to FIFOs, sockets, a BOM notebook, Hangul names and a correct notebook.
"""

import csv
import io
import json
import os
import random
import re
import signal
import socket
from pathlib import Path

import jsonschema
import nbformat
import pytest
from markdown_it import MarkdownIt

from grader import api, cli, intake, lms, text
from grader.errors import StoreError
from grader.reports import safe
from grader.reports.feedback import markdown
from grader.results import CellError, Result
from grader.store import Store
from conftest import MINI_COURSE

SOLUTION = (MINI_COURSE / "submissions" / "solution.ipynb").read_bytes()
BLANK = (MINI_COURSE / "submissions" / "blank.ipynb").read_bytes()
SCHEMA = json.loads((Path(api.__file__).parent / "schema" / "result.schema.json").read_text())

ESC = "\x1b[2J\x1b]0;pwned\x07"
RTL = "\u202e"
MARKDOWN = ("![t](https://evil.example/p.png) [click](https://evil.example/x) <img src=x> "
            "www.evil.example")
NASTY = f"lone \ud800 nul \x00 esc {ESC} markup [/] [bold]b rtl {RTL}gnp.exe {MARKDOWN}"


# --- the sanitiser ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    ("plain text", "plain text"),
    ("a\ud800b", "a\ufffdb"),
    (b"a\xffb", "a\ufffdb"),
    ("nul\x00here", "nulhere"),
    ("x\x1b[31mred\x1b[0m", "xred"),
    ("t\x1b]0;window title\x07t", "tt"),
    ("t\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "tlink"),
    ("c1\x9b2Jcsi", "c1csi"),
    ("move\x1b[2;5Hcursor\x1b[?25l hidden\x1b[K", "movecursor hidden"),     # not only colours
    ("st\x1b]8;;https://x\x9clink\x1b]8;;\x9c", "stlink"),
    # spelled out, as repr() shows them inside an exception's message (torch errors quote values)
    (str(KeyError("\x1b[1;31mweight\x1b[0m")), "'weight'"),
    (repr("\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\ \x1b[2J"), "'link '"),
    (r"a\033[0mb \u001b[38;5;196mc ^[[1md \e[?1049he", "ab c d e"),
    (r"C:\data\e1 and \x1 stay", r"C:\data\e1 and \x1 stay"),
    ("keep\nlines\tand tabs\r", "keep\nlines\tand tabs"),
    (f"abc{RTL}def\u2066x\u2069", "abcdefx"),
    ("김민수 [/] é", "김민수 [/] é"),
])
def test_clean_makes_any_text_safe(raw, expected):
    assert text.clean(raw) == expected
    assert text.clean(text.clean(raw)) == expected            # idempotent: records are re-read
    text.clean(raw).encode("utf-8")                            # always encodable


SPELLED_PIECES = ["\\x1b", "\\033", "\\33", "\\u001b", "\\U0000001b", "\\e", "^[", "\\x9b",
                  "\\u009b", "\\", "^", "[", "]", "P", "X", "_", "(", "+", "0;", "31m", "\\a",
                  "\\x07", "\x07", "\x1b", "\x00", "\x9c", "x1", "b", "3", "0", "u00", "e", " ",
                  "김", "\ud800", "\n"]
INTRODUCER = re.compile(r"(?i:\\x1b|\\0?33|\\u001b|\\u0000001b|\\e|\^\[)[\[\]PX^_()*+]"
                        r"|(?i:\\x9b|\\u009b)")


def test_clean_leaves_no_spelled_escape_when_removing_one_joins_another():
    nested = "\\x1b[m"
    for _ in range(9):
        nested = "\\x1" + nested + "b[m"
    once = text.clean(nested)
    assert text.clean(once) == once and not INTRODUCER.search(once)
    joined = "\\x1\x00b[31mred"                  # a control code between the pieces
    assert text.clean(joined) == "red" == text.clean(text.clean(joined))


@pytest.mark.parametrize("limit", [None, 24])
def test_clean_is_idempotent_on_mixtures_of_spelled_escapes(limit):
    rng = random.Random(20261202)
    for _ in range(3000):
        raw = "".join(rng.choice(SPELLED_PIECES) for _ in range(rng.randrange(1, 40)))
        once = text.clean(raw, limit)
        assert text.clean(once, limit) == once, raw
        assert not INTRODUCER.search(once) and "\x1b" not in once, raw


class _TooSlow(Exception):
    pass


def _alarm(signum, frame):
    raise _TooSlow("clean did not finish within its generous guard: it backtracks")


@pytest.mark.parametrize("raw,limit", [
    ("\\x1b]" * 40_000, None), ("^[]" * 66_000, None), ("\\" * 200_000, None),
    ("\\x1b[" * 40_000, None), ("\\033]0;" * 30_000, None), ("^[]" * 6_000, 8000),
])
def test_clean_of_200_kb_of_spelled_escapes_does_not_backtrack(raw, limit):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)                      # a guard against minutes, not a timing: it runs in ms
    try:
        out = text.clean(raw, limit)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert text.clean(out, limit) == out and not INTRODUCER.search(out)


def test_clean_caps_with_a_marker():
    assert text.clean("x" * 50, 10) == "x" * 10 + "... (cut: 40 more characters)"
    huge = text.clean("y" * 10_000_000, 100)
    assert huge.startswith("y" * 100) and "(cut: 9,999,900 more characters)" in huge


@pytest.mark.parametrize("raw,limit,expected", [
    ("short enough", 20, "short enough"),
    ("the notebook could not be read as JSON", 20, "the notebook could…"),
    ("a reason, with commas, cut", 16, "a reason, with…"),
    ("x" * 50, 10, "x" * 9 + "…"),                        # one word longer than the cell
    ("two\nlines\x1b[31m and\tcolour", 40, "two lines and colour"),
])
def test_shorten_cuts_at_a_word_with_a_marker(raw, limit, expected):
    assert text.shorten(raw, limit) == expected and len(expected) <= limit


def test_clean_tree_cleans_keys_and_nulls_non_finite_numbers():
    bad = []
    tree = text.clean_tree({"k\ud800": [float("nan"), 1.5, float("inf"), "v\x1b[2J"]},
                           bad_numbers=bad)
    assert tree == {"k\ufffd": [None, 1.5, None, "v"]} and len(bad) == 2


def record(**kw) -> Result:
    return Result(student="s", assignment="mini", status="graded", max_score=5, **kw)


@pytest.mark.slow
def test_a_record_is_cleaned_and_capped_once_and_stays_so():
    cells = [CellError(i, "error", "E\x1b[1m", NASTY * 100, "tb" * 100_000, "src")
             for i in range(1, 20_001)]
    r = record(reason=NASTY, flags=[NASTY] * 70, cell_errors=cells, timing={"wall_s": float("nan")})
    once = text.clean_result(r)
    assert len(once.cell_errors) == 21 and once.cell_errors[-1].evalue == "and 19,980 more"
    assert once.flags[50] == "and 20 more flags" and text.NOT_FINITE in once.flags
    assert once.timing == {"wall_s": None}
    dumped = json.dumps(once.to_dict(), allow_nan=False)
    assert len(dumped) <= text.RECORD_BYTES and "\\u001b" not in dumped and "\\ud800" not in dumped
    assert text.clean_result(once) == once


def test_a_non_finite_score_becomes_zero_with_a_flag():
    r = text.clean_result(record(score=float("nan")))
    assert r.score == 0 and any("not a finite number" in f for f in r.flags)


# --- per-format escaping ---------------------------------------------------------------------

@pytest.mark.parametrize("cell,expected", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "x"), ("ok=1", "ok=1"),
])
def test_csv_cells_are_neutralised(cell, expected):
    assert safe.csv_cell(cell) == expected


def rendered(md: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(md)


def test_markdown_shows_student_text_and_makes_nothing_of_it():
    r = record(reason=MARKDOWN, flags=[MARKDOWN],
               cell_errors=[CellError(1, "error", "ValueError", MARKDOWN + " ``` `",
                                      source="x = 1")])
    page = rendered(markdown(text.clean_result(r)))
    assert "<img" not in page and "<a " not in page and "href" not in page
    assert "&lt;img src=x&gt;" in page and "https://evil.example/p.png" in page


def test_a_multi_line_message_is_fenced_so_it_cannot_break_out():
    from grader.results import QuestionResult, TestResult

    message = "line one\n```\n</li><img src=x>\n- [a](https://evil.example)"
    t = TestResult("t", "n", "q1", "failed", 0, 1, message)
    page = rendered(markdown(record(questions=[QuestionResult("q1", "Q", 0, 1, [t])])))
    assert "<img" not in page and "<a " not in page and "&lt;/li&gt;&lt;img src=x&gt;" in page


TORCH_ANSI = ("\x1b[1m\x1b[31mRuntimeError\x1b[0m: mat1 and mat2 shapes cannot be multiplied "
              "\x1b[2;1H\x1b]8;;https://pytorch.org\x1b\\docs\x1b]8;;\x1b\\ "
              + repr("\x1b[33mKeyError: 'weight'\x1b[0m"))


def test_terminal_sequences_from_torch_errors_reach_no_report():
    from html import unescape

    from grader.reports.feedback import html
    from grader.results import QuestionResult, TestResult

    t = TestResult("t", "n", "q1", "failed", 0, 1, f"Your code raised {TORCH_ANSI}")
    cell = CellError(2, "error", "RuntimeError", TORCH_ANSI, traceback=TORCH_ANSI, source="y = m(x)")
    r = text.clean_result(record(reason=TORCH_ANSI, cell_errors=[cell],
                                 questions=[QuestionResult("q1", "Q", 0, 1, [t])]))
    for page in (markdown(r), unescape(html(r))):
        assert "shapes cannot be multiplied" in page and "KeyError: 'weight'" in page
        for trace in ("\x1b", "[31m", "[0m", "[2;1H", "x1b", "]8;;", "pytorch.org"):
            assert trace not in page, (trace, page)


def test_rich_output_shows_markup_and_no_control_codes():
    console = __import__("rich.console").console.Console(file=io.StringIO(), width=200)
    console.print(f"note: {cli.shown(NASTY)}")
    out = console.file.getvalue()
    assert "[/] [bold]b" in out and "\x1b" not in out and RTL not in out and "\x00" not in out


# --- ids -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem,expected", [
    ("김민수", "김민수"), ("e\u0301cole", "école"), ("हिन्दी", "हिन्दी"),
    ("evil name!", "evil_name"),
    ("..", "unnamed"), (".hidden", "hidden"), ("a/b", "a_b"), (ESC, "unnamed"), (f"x{RTL}y", "xy"),
])
def test_student_ids_keep_letters_and_stay_file_names(stem, expected):
    assert intake.student_id(stem) == expected


def test_long_names_are_cut_apart_and_bounded_in_bytes():
    a, b = intake.student_id("가" * 130 + "1"), intake.student_id("가" * 130 + "2")
    assert a != b and a.startswith("가" * 60) and "~" in a
    assert len(f".{a}.html.12345678.tmp".encode()) <= 255


def entry(tmp_path: Path, name: str, *, key: str | None = None, order: int = 0) -> lms.Entry:
    p = tmp_path / name
    stem = p.stem
    return lms.Entry(p, key or stem, stem, (order,), identified=key is not None)


def test_ids_of_different_students_never_merge(tmp_path):
    names = ["victim.ipynb", "victim!.ipynb", "Victim.ipynb", "a\udcff.ipynb", "a\udcfe.ipynb",
             "김민수.ipynb", "이서연.ipynb"]
    pairs, notes = lms.assign_ids([entry(tmp_path, n) for n in names], None, intake.student_id)
    ids = {e.path.name: sid for sid, e in pairs}
    assert len(pairs) == len(names) and len(set(ids.values())) == len(names)
    assert ids["victim!.ipynb"].startswith("victim~")        # never the plain id of victim.ipynb
    # apart on a case-insensitive file system too
    assert ids["Victim.ipynb"] == "Victim" and ids["victim.ipynb"].startswith("victim~")
    assert ids["김민수.ipynb"] == "김민수" and ids["이서연.ipynb"] == "이서연"
    assert ids["a\udcff.ipynb"] != ids["a\udcfe.ipynb"]
    flagged = {e.path.name for _, e in pairs if e.flags}
    assert flagged == set(names) - {"김민수.ipynb", "이서연.ipynb"}
    assert any("a\\xff.ipynb" in n and "a\\xfe.ipynb" in n for n in notes)


def test_newest_attempt_only_where_the_platform_says_it_is_one_student(tmp_path):
    found = [entry(tmp_path, "doe_1_1_a.ipynb", key="1", order=1),
             entry(tmp_path, "doe_1_2_b.ipynb", key="1", order=2),
             entry(tmp_path, "doe_2_1_a.ipynb", key="2", order=3)]
    for e in found:
        e.label = "doe"                         # the same readable name for two students
    pairs, _ = lms.assign_ids(found, None, intake.student_id)
    kept = sorted(e.path.name for _, e in pairs)
    assert kept == ["doe_1_2_b.ipynb", "doe_2_1_a.ipynb"] and len({sid for sid, _ in pairs}) == 2


# --- intake and the store --------------------------------------------------------------------

def test_intake_rejects_fifos_sockets_and_folders_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.ipynb")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.ipynb"))
    (tmp_path / "folder.ipynb").mkdir()
    (tmp_path / "bom.ipynb").write_bytes(b"\xef\xbb\xbf" + SOLUTION)
    try:
        found = intake.collect(tmp_path, max_bytes=1 << 20)
    finally:
        sock.close()
    reasons = {r.student: r.reason for r in found.rejected}
    assert "named pipe" in reasons["pipe"] and "socket" in reasons["sock"]
    assert "folder" in reasons["folder"]
    assert [s.student for s in found.submissions] == ["bom"]


def test_a_record_that_cannot_be_stored_or_read_is_graded_again(tmp_path):
    key = dict(sha256="abc", suite_hash="s", config_hash="c", grader_version="1")
    r = record(submission={"sha256": "abc"}, suite_hash="s", config_hash="c", grader_version="1")
    with Store(tmp_path / "out") as store:
        store.save(r)
        assert store.reusable("s", **key) is not None
        store.path("s").write_bytes(b'{"student": "s", "questions": 7')      # torn
        assert store.reusable("s", **key) is None
        store.path("s").write_text(json.dumps({**r.to_dict(), "questions": [{"id": 1}]}))
        assert store.reusable("s", **key) is None
        store.path("s").write_text(json.dumps({**r.to_dict(), "student": "../../x"}))
        assert store.reusable("s", **key) is None
        store.path("s").unlink()
        store.path("s").mkdir()                          # the record cannot be written
        with pytest.raises(StoreError, match="graded again"):
            store.save(r)
        assert store.reusable("s", **key) is None
        store.save(r)                                    # the obstacle was removed with it
        assert store.reusable("s", **key) is not None


# --- one real batch --------------------------------------------------------------------------

def notebook(cells: list[str], base: bytes = SOLUTION, **metadata) -> str:
    nb = nbformat.reads(base.decode(), as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata.update(metadata)
    return json.dumps(nb)                        # lone surrogates travel as \ud800 escapes


def hostile_class(subs: Path) -> dict[str, str]:
    """The class: file name -> what it tests.  Returns the ids that must keep full marks."""
    subs.mkdir()
    def w(name: str | bytes, data: str | bytes) -> None:
        path = subs / (os.fsdecode(name) if isinstance(name, bytes) else name)   # bytes: not UTF-8
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))

    w("correct.ipynb", SOLUTION)
    w("bom.ipynb", b"\xef\xbb\xbf" + SOLUTION)
    w("김민수.ipynb", SOLUTION)
    w("이서연.ipynb", BLANK)
    w("victim.ipynb", SOLUTION)
    w("victim!.ipynb", BLANK)
    w(b"bad\xff.ipynb", BLANK)
    w(b"bad\xfe.ipynb", BLANK)
    w(f"esc{ESC}{RTL}gnp.ipynb", BLANK)
    w("=cmd|' C calc'!A0.ipynb", BLANK)
    w("@SUM(1+1)cmd|calc.ipynb", BLANK)
    w("[bold]markup[.ipynb", BLANK)
    w("nbformat.ipynb", SOLUTION.decode().replace('"nbformat": 4', '"nbformat": "[/]"'))
    w("raises.ipynb", notebook([f"raise ValueError({NASTY!r})", f"print({NASTY!r})",
                                f"import torch\nsetattr(torch.Tensor, {'x' + chr(0xd800)!r}, 1)"],
                               kernelspec={"name": NASTY, "display_name": NASTY}))
    w("many_errors.ipynb", notebook([f"raise RuntimeError('{ESC}' + 'x' * 50_000)"] * 300))
    os.mkfifo(subs / "pipe.ipynb")
    return {"correct": "correct", "bom": "bom", "김민수": "김민수", "victim": "victim"}


def every_output_parses(out: Path, results: list[Result]) -> None:
    strict = dict(parse_constant=lambda c: pytest.fail(f"{c} in strict JSON"))
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student"].lstrip("'") for r in rows) == sorted(r.student for r in results)
    for row in rows:
        assert not row["student"].startswith(safe.CSV_TRIGGERS)
        assert not any(v.startswith(safe.CSV_TRIGGERS) for v in (row["reason"], row["flags"]))
    with open(out / "final_grades.csv", newline="", encoding="utf-8") as f:
        assert all(not row[0].startswith(safe.CSV_TRIGGERS) for row in csv.reader(f))
    for r in results:
        record_ = json.loads((out / "results" / f"{r.student}.json").read_text(encoding="utf-8"),
                             **strict)
        jsonschema.validate(record_, SCHEMA)
        json.loads((out / "gradescope" / r.student / "results.json").read_text(encoding="utf-8"),
                   **strict)
        md = (out / "reports" / f"{r.student}.md").read_text(encoding="utf-8")
        page = rendered(md)
        assert "<img" not in page and "<a " not in page, r.student
        assert len(md.encode()) <= safe.MARKDOWN_BYTES
        html = (out / "reports" / f"{r.student}.html").read_text(encoding="utf-8")
        assert len(html.encode()) <= safe.REPORT_BYTES and "<img" not in html
        for path in (out / "results" / f"{r.student}.json", out / "reports" / f"{r.student}.html"):
            raw = path.read_bytes()
            assert b"\x1b" not in raw and b"\x00" not in raw and RTL.encode() not in raw, path
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "\x1b" not in summary and RTL not in summary and "</html>" in summary


@pytest.mark.slow
def test_a_hostile_class_keeps_every_row_and_every_output(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    full = hostile_class(subs)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(subs / "sock.ipynb"))
    console = __import__("rich.console").console.Console(file=io.StringIO(), width=160)
    try:
        with cli.Progress(console, quiet=False) as progress:
            batch = api.grade(subs, assignment="mini", out=out, jobs=2, sandbox="bwrap",
                              course=MINI_COURSE, formats=("otter",), on_result=progress)
        cli.print_summary(console, batch)
        again = api.grade(subs, assignment="mini", out=out, jobs=1, sandbox="bwrap",
                          course=MINI_COURSE, formats=("otter",))
    finally:
        sock.close()
    by = {r.student: r for r in batch.results}
    assert len(batch.results) == 17 and len(by) == 17, sorted(by)
    for sid in full.values():
        assert by[sid].status == "graded" and by[sid].score == 5, (sid, by[sid].reason)
    assert by["이서연"].score == 0 and by["victim~" + intake.digest("victim!.ipynb")].score == 0
    for sid in ("pipe", "sock", "nbformat"):
        assert by[sid].status == "invalid" and by[sid].reason, sid
    assert "'[/]'" in by["nbformat"].reason
    raises = by["raises"]
    assert raises.score == 5 and raises.cell_errors[0].ename == "ValueError"
    assert "[/]" in raises.cell_errors[0].evalue and "\ufffd" in raises.cell_errors[0].evalue
    many = by["many_errors"]
    assert len(many.cell_errors) == 21 and many.cell_errors[-1].evalue == "and 280 more"
    assert many.score == 5 and len(many.cell_errors[0].evalue) < 2100
    every_output_parses(out, batch.results)
    shown = console.file.getvalue()
    assert "\x1b" not in shown and RTL not in shown and "\x00" not in shown, shown
    assert "'[/]'" in shown and "bad\\xfe.ipynb, bad\\xff.ipynb" in shown, shown
    assert again.reused == 14 and again.graded_now == 3       # the invalid ones are re-recorded
    scores = {r.student: r.score for r in batch.results}
    assert {r.student: r.score for r in again.results} == scores
    every_output_parses(out, again.results)
