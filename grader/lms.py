"""Submissions from learning platforms: safe zip extraction, Canvas and Gradescope exports, rosters.

A zip is checked entry by entry before anything is written: `..` or absolute paths, links, device
files, too many entries or too many bytes once uncompressed refuse the whole archive with a clear
message.  Files are then written under the batch's own output directory only.
"""

from __future__ import annotations

import csv
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.errors import UsageError
from grader.text import clean, file_name

MAX_ENTRIES = 20_000
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200

# Canvas "Download Submissions": lastfirst[_LATE]_userid_attemptid_original-name.ipynb.  The
# name marks a submission made after Canvas's due date (_LATE) but carries no time: exact times
# come from `grader grade --submitted-at`.
CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+?)(?P<late>_late)?"
                    r"_(?P<user>\d+)_(?P<attempt>\d+)_(?P<file>.+)$", re.IGNORECASE)


@dataclass
class Entry:
    """One submitted notebook found in an export, before ids are resolved against a roster."""

    path: Path
    key: str                      # the platform's id of the student (user id, sid, file stem)
    label: str                    # a readable id (name_userid, sid, stem)
    order: tuple = ()             # larger = newer, to keep the newest of two submissions
    flags: list[str] = field(default_factory=list)
    identified: bool = False      # `key` names the student (platform metadata), not only a file
    student: str | None = None    # the roster's id, once resolved
    submitted_at: datetime | None = None     # when the platform says it was submitted
    marked_late: bool = False     # Canvas's _LATE marker (Canvas gives no time)
    time_note: str = ""           # why the platform's time could not be used


def safe_extract(archive: Path, dest: Path) -> None:
    """Extract `archive` into `dest`, refusing the whole zip if any entry is unsafe."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"{archive} is not a readable zip file: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise UsageError(f"{archive} has {len(infos)} entries, more than the {MAX_ENTRIES} accepted")
        total = 0
        for info in infos:
            _check_entry(archive, info)
            total += info.file_size
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1 << 20:
                raise UsageError(f"{archive}: {info.filename} expands {info.file_size // info.compress_size}x; "
                                 "the zip looks like a decompression bomb and was refused")
        if total > MAX_TOTAL_BYTES:
            raise UsageError(f"{archive} would expand to {total / 2**30:.1f} GiB, over the "
                             f"{MAX_TOTAL_BYTES / 2**30:g} GiB accepted; nothing was extracted")
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for info in infos:
            target = dest.joinpath(*PurePosixPath(info.filename).parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)


def _check_entry(archive: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise UsageError(f"{archive}: entry {name!r} points outside the archive (absolute or '..' path); "
                         "the zip was refused and nothing was extracted")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise UsageError(f"{archive}: entry {name!r} is a link or special file; the zip was refused "
                         "and nothing was extracted")


def entries(root: Path) -> list[Entry]:
    """The notebooks of an extracted export (Gradescope, Canvas, or plain files), with their keys."""
    meta = root / "submission_metadata.yml"
    if meta.is_file():
        return _gradescope(root, meta)
    found = sorted(p for p in root.rglob("*.ipynb") if not any(x.startswith((".", "__MACOSX")) for x in
                                                             p.relative_to(root).parts))
    out = []
    for p in found:
        m = CANVAS.match(p.name)
        if m:
            out.append(Entry(p, m["user"], f"{m['name']}_{m['user']}", (int(m["attempt"]),),
                             identified=True, marked_late=bool(m["late"])))
        else:
            out.append(Entry(p, p.stem, p.stem, (mtime(p),)))
    return out


def mtime(p: Path) -> float:
    """When `p` itself (not a file it links to) last changed; 0 when that cannot be read."""
    try:
        return p.lstat().st_mtime
    except OSError:
        return 0.0


def _gradescope(root: Path, meta: Path) -> list[Entry]:
    data = _metadata(meta)
    out = []
    for folder, info in sorted(data.items()):
        info = info if isinstance(info, dict) else {}
        people = info.get(":submitters") or info.get("submitters") or []
        person = people[0] if people and isinstance(people[0], dict) else {}
        sid = str(person.get(":sid") or person.get("sid") or person.get(":email") or person.get("email") or folder)
        notebooks = sorted((root / str(folder)).glob("*.ipynb")) if (root / str(folder)).is_dir() else []
        created = info.get(":created_at") or info.get("created_at")
        when, problem = gradescope_time(created)
        entry = Entry(notebooks[0] if notebooks else root / str(folder) / "(no notebook)", sid, sid,
                      (when.timestamp() if when else 0.0, str(created or "")), identified=True,
                      submitted_at=when, time_note=problem)
        if len(people) > 1:
            others = ", ".join(clean(p.get(":sid") or p.get(":email") or p.get(":name"), 200)
                               for p in people[1:] if isinstance(p, dict))
            entry.flags.append(f"group submission, also for: {others}")
        if len(notebooks) > 1:
            entry.flags.append(f"{len(notebooks)} notebooks in the submission; graded "
                               f"{file_name(notebooks[0].name)}")
        out.append(entry)
    return out


def _metadata(meta: Path) -> dict:
    """A Gradescope export's submission_metadata.yml, read safely; a timestamp YAML cannot make
    into a time is kept as its text, for `gradescope_time` to note on that submission alone."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
        try:
            return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
        except (ValueError, OverflowError):
            return loader.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    try:
        data = yaml.load(meta.read_text(encoding="utf-8"), Loader=Loader) or {}
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise UsageError(f"{meta} is not valid YAML: {clean(str(exc), 300)}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{meta} is not a Gradescope submission metadata file: expected one "
                         "entry per submission folder")
    return data


# Gradescope writes `:created_at: 2026-10-01 10:00:00.123456000 -07:00` (YAML reads it as a time)
_GRADESCOPE_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*"
                              r"(Z|[+-]\d\d:?\d\d)?$")


def gradescope_time(value: object) -> tuple[datetime | None, str]:
    """The time of a Gradescope `:created_at:` value, and a note when it has none usable."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            return None, f"the export's created_at ({value}) has no zone offset; time not used"
        return value, ""
    m = _GRADESCOPE_TIME.match(str(value).strip()) if value else None
    if not m:
        return None, (f"the export's created_at ({clean(str(value), 60)}) is not a time; "
                      "time not used" if value else "")
    if not m[4]:
        return None, (f"the export's created_at ({clean(str(value), 60)}) has no zone offset; "
                      "time not used")
    zone = "+00:00" if m[4] == "Z" else m[4][:3] + ":" + m[4][-2:]
    try:
        return datetime.fromisoformat(f"{m[1]}T{m[2]}.{(m[3] or '0')[:6]:0<6}{zone}"), ""
    except ValueError:               # month 13, hour 25, offset +99:99
        return None, (f"the export's created_at ({clean(str(value), 60)}) is not a valid time; "
                      "time not used")


@dataclass
class Roster:
    """Who is enrolled: our student id, and how each platform names them."""

    rows: list[dict]

    @classmethod
    def load(cls, path: Path) -> "Roster":
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                rows = list(csv.DictReader(f))
        except OSError as exc:
            raise UsageError(f"cannot read roster {path}: {exc.strerror}") from None
        if not rows or "student" not in rows[0]:
            raise UsageError(f"roster {path} needs a header with a 'student' column (optional: name, email, "
                             "canvas_id, sis_user_id, sis_login_id, section)")
        ids = [r["student"].strip() for r in rows]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes or "" in ids:
            raise UsageError(f"roster {path}: student ids must be unique and non-empty "
                             f"(repeated: {', '.join(dupes) or 'an empty id'})")
        return cls([{k: (v or "").strip() for k, v in r.items() if k} for r in rows])

    def resolve(self, key: str) -> str | None:
        """Our student id for a platform key (student id, Canvas user id, SIS id, email)."""
        for r in self.rows:
            if key in (r.get("student"), r.get("canvas_id"), r.get("sis_user_id"), r.get("sis_login_id"),
                       r.get("email")):
                return r["student"]
        return None

    def ids(self) -> list[str]:
        return [r["student"] for r in self.rows]

    def row(self, student: str) -> dict:
        return next((r for r in self.rows if r["student"] == student), {})


def assign_ids(found: list[Entry], roster: Roster | None,
               make_id) -> tuple[list[tuple[str, Entry]], list[str]]:
    """Pair each entry with a distinct student id; returns (pairs to grade, notes to read).

    Of several entries for one student (one roster id, or one platform id in the export's
    metadata) the newest is graded and the others are flagged.  Entries of different students
    are never merged: when their names give the same id (`victim!` and `victim`, names that
    differ only in case, in an invalid byte or after their first characters), each keeps a
    distinct id, the one whose name is the id itself unchanged, the others with a suffix, and
    all are flagged.
    """
    notes: list[str] = []
    chosen = [_newest(group, notes) for group in _by_person(found, roster).values()]
    by_id: dict[str, list[tuple[str, Entry]]] = {}
    for e in chosen:
        sid = make_id(e.student or e.label)
        by_id.setdefault(sid.casefold(), []).append((sid, e))
    pairs: list[tuple[str, Entry]] = []
    taken = {group[0][0] for group in by_id.values() if len(group) == 1}
    for _, group in sorted(by_id.items()):
        pairs += group if len(group) == 1 else _apart(group, taken, notes)
    return pairs, notes


def _by_person(found: list[Entry], roster: Roster | None) -> dict[tuple, list[Entry]]:
    people: dict[tuple, list[Entry]] = {}
    for e in found:
        e.student = (roster.resolve(e.key) or roster.resolve(e.label)) if roster else None
        if roster and e.student is None:
            e.flags.append("not on the roster")
        who = ("roster", e.student) if e.student else (
            ("platform", e.key) if e.identified else ("file", str(e.path)))
        people.setdefault(who, []).append(e)
    return people


def _newest(group: list[Entry], notes: list[str]) -> Entry:
    """The newest of one student's entries; the others are flagged on it and noted."""
    group.sort(key=lambda e: e.order, reverse=True)
    keep = group[0]
    for older in group[1:]:
        keep.flags.append(f"newer of {len(group)} submissions; ignored "
                          f"{file_name(older.path.name)}")
        notes.append(f"{clean(keep.student or keep.label)}: kept {file_name(keep.path.name)}, "
                     f"ignored older {file_name(older.path.name)}")
    return keep


def _apart(group: list[tuple[str, Entry]], taken: set[str], notes: list[str]):
    """Distinct ids for entries of different students whose names give one id."""
    import unicodedata

    from grader.intake import digest, with_suffix

    def exact(item):
        sid, e = item
        return unicodedata.normalize("NFC", e.student or e.label) == sid

    group = sorted(group, key=lambda item: (not exact(item), str(item[1].path)))
    names = ", ".join(file_name(e.path.name) for _, e in group)
    out = []
    for i, (sid, e) in enumerate(group):
        new = sid
        if i or not exact((sid, e)):
            new = with_suffix(sid, digest(e.path.name))
            if new in taken:
                new = with_suffix(sid, digest(str(e.path)))
        taken.add(new)
        e.flags.append(f"{len(group)} submissions of different students ({names}) give the id "
                       f"{sid}; this one ({file_name(e.path.name)}) is graded as {new}")
        out.append((new, e))
    notes.append(f"{group[0][0]}: {len(group)} submissions of different students share this id "
                 f"({names}); each is graded under its own id: {', '.join(n for n, _ in out)}")
    return out
