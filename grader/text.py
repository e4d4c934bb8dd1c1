"""Safe text from anything a submission produced: the one sanitising layer of the records.

Every string that comes from a submission (file names, cell sources, outputs, exception messages,
metadata, attribute and type names) may hold lone surrogates, invalid UTF-8, NUL, terminal escape
sequences, markup or right-to-left overrides.  `clean` turns any str or bytes into text that every
writer can encode and every terminal can show: surrogates and invalid bytes become U+FFFD, escape
sequences (CSI, OSC and the rest) are removed whole, and so are CSI and OSC sequences spelled out
as repr() shows them (`\\x1b[31m`), other control codes except newline and tab are dropped, bidi
overrides are dropped, and the length is capped with an explicit marker.  It is idempotent, so
records can be cleaned again when they are read back.
"""

from __future__ import annotations

import math
import re

CUT = "... (cut: {n:,} more characters)"
REPLACEMENT = "\ufffd"

# whole escape sequences first (CSI, OSC/DCS/APC/PM/SOS strings, two-character ESC codes, and their
# one-byte C1 forms), so that no parameter bytes of a sequence are left behind as text
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                            # CSI ... final
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]{0,512}(?:\x07|\x1b\\|\x9c)?"  # OSC
    r"|\x1b[ -/]*[0-~]?"                                            # other ESC codes
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# the same sequences spelled out, as the repr() of a string shows them inside a message
# (`KeyError('\x1b[31mx')` reads "'\\x1b[31mx'"): ESC as \x1b, \033, \u001b, \e or ^[.  Every
# repetition is possessive and a run of backslashes is entered at its first one only, so a match
# attempt never backtracks: one pass is linear in the length of the text.
_ESC_SPELLED = r"(?:(?<!\\)\\++(?i:x1b|0?33|u001b|u0000001b|e)|\^\[)"
_SPELLED = re.compile(
    rf"(?:{_ESC_SPELLED}\[|(?<!\\)\\++(?i:x9b|u009b))[0-?]*+[ -/]*+[@-\[\]_-~]?"   # CSI
    rf"|{_ESC_SPELLED}[\]PX^_][^\\^\x07\x1b\n]{{0,512}}+"                            # OSC body
    rf"(?:\\++(?i:x07|a|007|u0007)|\x07|{_ESC_SPELLED}\\++)?"                       # BEL or ST
    rf"|{_ESC_SPELLED}[()*+][0-~]")                                                 # charset
# what is left of one once the others are gone: its introducer, an ESC (matched in any case) and
# the character after it; or a one-character CSI
_INTRODUCERS = tuple((esc, "[]PX^_()*+") for esc in
                     ("\\x1b", "\\033", "\\33", "\\u001b", "\\u0000001b", "\\e", "^[")
                     ) + (("\\x9", "bB"), ("\\u009", "bB"))
_ENDINGS = frozenset("".join(follow for _, follow in _INTRODUCERS))
_SPELLED_HINT = re.compile(r"\\(?i:x1b|0?33|u001b|u0000001b|e|x9b|u009b)|\^\[")
_CUT = re.compile(r"\.\.\. \(cut: [\d,]+ more characters\)$")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_C1 = re.compile(r"[\x90-\x9f]")


def decode(data: bytes | bytearray | memoryview) -> str:
    """Bytes as text: UTF-8, with each invalid sequence replaced by U+FFFD."""
    return bytes(data).decode("utf-8", errors="replace")


def clean(value: object, limit: int | None = None) -> str:
    """`value` (str, bytes, or anything else by its str()) as safe text of at most about `limit`
    characters: see the module docstring."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = decode(value)
    elif isinstance(value, str):
        text = value
    else:
        text = _str(value)
    total = None
    if limit is not None and len(text) > 2 * limit + 1024:
        total, text = len(text), text[:2 * limit + 1024]   # no work on what the cap drops anyway
    if not (text.isascii() and text.isprintable()):    # the common case needs none of this
        text = _SURROGATES.sub(REPLACEMENT, text)
        if "\x1b" in text or _C1.search(text):
            text = _SEQUENCES.sub("", text)
        text = _CONTROLS.sub("", text)
    if _SPELLED_HINT.search(text):                       # last: removing a control code can
        text = _unspell(text)                            # join the pieces of a spelled one
    return cap(text, limit, total)


def _unspell(text: str) -> str:
    """`text` without escape sequences spelled out, whole where they can be told, and without
    any introducer left once they are gone (removing one can join the pieces of another)."""
    text = _SPELLED.sub("", text)
    return _drop_introducers(text) if _SPELLED_HINT.search(text) else text


def _drop_introducers(text: str) -> str:
    """`text` with every spelled introducer removed, including those that removing others makes,
    in one pass: each character goes on a stack, and an introducer that ends on the stack's top
    is taken off it."""
    kept: list[str] = []
    for char in text:
        kept.append(char)
        if char in _ENDINGS:
            for head, follow in _INTRODUCERS:
                n = len(head)
                if char in follow and len(kept) > n and "".join(kept[-n - 1:-1]).lower() == head:
                    del kept[-n - 1:]
                    break
    return "".join(kept)


def _str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a value whose __str__ fails still gets a row
        return f"<{type(value).__name__} that cannot be shown>"


def file_name(name: object) -> str:
    """A file name as safe text; bytes that are not UTF-8 are shown as `\\xff` escapes, so two
    names that differ only there stay told apart."""
    text = str(name) if not isinstance(name, (bytes, bytearray)) else None
    try:
        raw = bytes(name) if text is None else text.encode("utf-8", "surrogateescape")
        return clean(raw.decode("utf-8", "backslashreplace"), 300)
    except UnicodeError:
        return clean(text, 300)


def cap(text: str, limit: int | None, total: int | None = None) -> str:
    """`text` cut to `limit` characters, with a marker saying how much was cut (of `total`, the
    length of the text `text` was taken from, when that was longer)."""
    total = max(total or 0, len(text))
    if limit is None or total <= limit:
        return text
    done = _CUT.search(text, max(0, len(text) - 60))
    if done and done.start() <= limit and total == len(text):
        return text                                 # cut before, by this cap or a tighter one
    kept = text[:limit]
    return kept + CUT.format(n=total - len(kept))


def clean_lines(text: object, limit: int | None = None) -> str:
    """Like `clean`, for text shown on one line (a table cell, a list item): newlines and tabs
    become spaces."""
    return " ".join(clean(text, limit).split()) if text else ""


ELLIPSIS = "…"


def shorten(text: object, limit: int) -> str:
    """`text` as safe text on one line of at most `limit` characters: a longer one is cut at the
    last word boundary before that and ends in "…" (mid-word only where one word is most of
    it)."""
    line = clean_lines(text, 2 * limit)
    if len(line) <= limit:
        return line
    kept = line[:limit - len(ELLIPSIS)]
    if line[len(kept)] != " ":                      # the cut falls inside a word: drop that word
        word = kept.rfind(" ")
        kept = kept[:word] if word > limit // 2 else kept
    return kept.rstrip(" ,;:") + ELLIPSIS


def finite(x: object) -> float | None:
    """`x` as a finite float, else None (NaN, inf, not a number)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def clean_tree(value: object, *, limit: int = 2000, depth: int = 8, items: int = 200,
               bad_numbers: list | None = None) -> object:
    """A JSON value with every string (dict keys included) cleaned and capped, containers cut to
    `items` entries and `depth` levels, and NaN/inf replaced by None (noted in `bad_numbers`)."""
    if isinstance(value, str) or isinstance(value, (bytes, bytearray)):
        return clean(value, limit)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            if bad_numbers is not None:
                bad_numbers.append(value)
            return None
        return value
    if depth <= 0:
        return clean(_str(value), limit)
    kw = {"limit": limit, "depth": depth - 1, "items": items, "bad_numbers": bad_numbers}
    if isinstance(value, dict):
        return {clean(k, 200): clean_tree(v, **kw) for k, v in list(value.items())[:items]}
    if isinstance(value, (list, tuple)):
        return [clean_tree(v, **kw) for v in list(value)[:items]]
    return clean(_str(value), limit)


# Caps on a record's fields, by level: a record whose JSON is still over RECORD_BYTES at one level
# is cut again at the next.  Reports are made from records, so these bound every report too.
LEVELS = (
    {"text": 2000, "detail": 8000, "traceback": 8000, "source": 1000, "cells": 20, "flags": 50},
    {"text": 500, "detail": 1000, "traceback": 1000, "source": 200, "cells": 5, "flags": 20},
    {"text": 200, "detail": 200, "traceback": 0, "source": 0, "cells": 1, "flags": 5},
)
RECORD_BYTES = 1 << 20
NOT_FINITE = "timing values that were not finite numbers (NaN or infinity) were stored as null"
NOT_FINITE_SCORE = "a score that was not a finite number was stored as 0"
NOTES = (NOT_FINITE, NOT_FINITE_SCORE)      # what the cleaning pass itself says about a record


def clean_flags(flags: object, keep: int = 50, limit: int = 1000) -> list[str]:
    """A list of flags as safe text: the first `keep`, then one "and N more flags"."""
    items = list(flags) if isinstance(flags, (list, tuple)) else ([] if flags is None else [flags])
    items = [clean(f, limit) for f in items]
    more = sum(_more(f, " flags") for f in items)
    items = [f for f in items if not _more(f, " flags")]
    more += max(0, len(items) - keep)
    return items[:keep] + ([f"and {more:,} more flags"] if more else [])


_MORE = re.compile(r"^and ([\d,]+) more(| flags)$")


def _more(text: str, kind: str = "") -> int:
    """How many entries a marker ("and 19,980 more") stands for; 0 for an ordinary entry."""
    m = _MORE.match(text) if text.startswith("and ") else None
    return int(m[1].replace(",", "")) if m and m[2] == kind else 0


def clean_result(result):
    """The record `result` with every string safe and capped, every number finite, its JSON within
    RECORD_BYTES: the pass every record goes through before it is stored or written, and again
    when it is read back."""
    import json

    for caps in LEVELS:
        out = clean_result_with(result, caps)
        if len(json.dumps(out.to_dict(), allow_nan=False)) <= RECORD_BYTES:
            break
    return out


def clean_result_with(r, caps: dict):
    """The record `r` cleaned with the caps of one of LEVELS."""
    from grader.results import STATUSES, Result

    old_flags = [clean(f, 1000) for f in (r.flags if isinstance(r.flags, list) else [r.flags])]
    notes = [n for n in NOTES if n in old_flags]        # what an earlier pass found stays said
    bad: list = []
    timing = clean_tree(r.timing if isinstance(r.timing, dict) else {}, limit=200, bad_numbers=bad)
    if bad and NOT_FINITE not in notes:
        notes.append(NOT_FINITE)
    score, max_score = _score(r.score, notes), _score(r.max_score, notes)
    status, reason = clean(r.status, 20), clean(r.reason, caps["text"])
    if status not in STATUSES:
        status, reason = "error", f"the record had an unknown status {status[:20]!r}; {reason}"
    submission = clean_tree(r.submission if isinstance(r.submission, dict) else {}, limit=1000,
                            items=20)
    submission["flags"] = clean_flags(submission.get("flags") or [], caps["flags"])
    flags = clean_flags([f for f in old_flags if f not in NOTES], caps["flags"])
    return Result(
        student=clean(r.student, 255), assignment=clean(r.assignment, 200), status=status,
        score=score, max_score=max_score, reason=reason, flags=flags + notes,
        questions=[_clean_question(q, caps, notes) for q in list(r.questions)[:200]],
        cell_errors=_clean_cells(r.cell_errors, caps), submission=submission,
        suite_hash=clean(r.suite_hash, 100), config_hash=clean(r.config_hash, 100),
        grader_version=clean(r.grader_version, 100),
        environment=clean_tree(r.environment if isinstance(r.environment, dict) else {}, limit=300,
                               items=50, bad_numbers=[]),
        timing=timing, run_id=clean(r.run_id, 100), schema_version=r.schema_version,
        trials=[_clean_trial(t, caps, notes) for t in list(getattr(r, "trials", None) or [])[:100]],
        lateness=_clean_lateness(getattr(r, "lateness", None)))


def _clean_lateness(late: object) -> dict:
    """The record's lateness (grader.policy.applied): plain JSON, its strings capped."""
    return clean_tree(late, limit=500, items=20, bad_numbers=[]) if isinstance(late, dict) else {}


def _clean_trial(t, caps: dict, notes: list[str]):
    from grader.results import STATUSES, Trial

    status = clean(t.status, 20)
    return Trial(seed=int(t.seed) if _index(t.seed) else 1, status=status if status in STATUSES else "error",
                 reason=clean(t.reason, caps["text"]),
                 questions=[_clean_question(q, caps, notes) for q in list(t.questions)[:200]])


def _score(x: object, notes: list[str]) -> float:
    value = finite(x)
    if value is None:
        if NOT_FINITE_SCORE not in notes:
            notes.append(NOT_FINITE_SCORE)
        return 0.0
    return value


def _clean_question(q, caps: dict, notes: list[str]):
    from grader.results import OUTCOMES, QuestionResult, TestResult

    tests = [TestResult(name=clean(t.name, 300), nodeid=clean(t.nodeid, 500),
                        question=clean(t.question, 100),
                        outcome=t.outcome if t.outcome in OUTCOMES else "error",
                        score=_score(t.score, notes), max_score=_score(t.max_score, notes),
                        message=clean(t.message, caps["text"]),
                        detail=clean(t.detail, caps["detail"]), duration=finite(t.duration) or 0.0)
             for t in list(q.tests)[:500]]
    manual = getattr(q, "manual", None)
    return QuestionResult(clean(q.id, 100), clean(q.title, 300), _score(q.score, notes),
                          _score(q.max_score, notes), tests,
                          clean_tree(manual, limit=caps["text"], items=20, bad_numbers=[])
                          if isinstance(manual, dict) else {})


def _clean_cells(cells: list, caps: dict) -> list:
    """The first cell errors, capped, then one entry saying how many more there were."""
    from grader.results import CellError

    keep, cells = caps["cells"], list(cells)
    markers = [c for c in cells if not c.ename and _more(clean(c.evalue, 40))]
    more = sum(_more(clean(c.evalue, 40)) for c in markers)
    cells = [c for c in cells if c not in markers]
    more += max(0, len(cells) - keep)
    out = [CellError(index=c.index if _index(c.index) else 1,
                     status=c.status if c.status in ("error", "timeout") else "error",
                     ename=clean(c.ename, 200), evalue=clean(c.evalue, caps["text"]),
                     traceback=clean(c.traceback, caps["traceback"]) if caps["traceback"] else "",
                     source=clean(c.source, caps["source"]) if caps["source"] else "")
           for c in cells[:keep]]
    if more:
        first = out[-1].index if out else 1
        out.append(CellError(index=first, status="error", ename="", evalue=f"and {more:,} more"))
    return out


def _index(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 1
