"""Releasing an assignment with otter assign, and building the notebooks `verify` grades.

`otter assign` turns the master notebook (solutions + public tests) into the student notebook
(solutions replaced by `...`, public tests in its metadata so `grader.check("q1")` works offline)
and an autograder notebook (solutions kept).  Cell ids are made deterministic so that a release
is reproducible and `grader assign --check` can compare byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.assignment import RELEASE_METADATA, RELEASED_LIMITS, Assignment
from grader.errors import AssignmentError
from grader.text import shorten

_HEADER = re.compile(r"^#\s*(mutant|cell|loses)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Release:
    """The notebooks otter assign produced for one assignment."""

    student: Path
    solution: Path


@dataclass(frozen=True)
class Mutant:
    """A known wrong answer: replace the solution cell containing `anchor` with `source`."""

    name: str
    description: str
    anchor: str
    loses: tuple[str, ...]
    source: str


def master_path(asg: Assignment) -> Path:
    path = asg.directory / asg.notebook
    if not path.is_file():
        raise AssignmentError(f"{asg.name}: master notebook {path} not found")
    return path


# otter assign, run in a child process; an exception of otter's is told on stderr as one line
# after _FAILED: the exception's type, its message, and the cell otter was reading when it raised
_FAILED = "grader-otter-failed: "
_RUN_OTTER = r"""
import json, sys, traceback
from otter.assign import main
try:
    main(sys.argv[1], sys.argv[2], no_pdfs=True, no_run_tests=True)
except Exception as exc:
    traceback.print_exc()
    said = [getattr(exc, "context", None), getattr(exc, "problem", None)]     # yaml's errors
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    told = {"type": type(exc).__name__,
            "message": ", ".join(s for s in said if s) or (lines[0] if lines else "")}
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_name == "_get_transformed_cells" and "cell" in frame.f_locals:
            cell = frame.f_locals["cell"]
            told.update(source=cell.get("source", ""), index=frame.f_locals.get("i"))
    print(sys.argv[3] + json.dumps(told), file=sys.stderr)
    sys.exit(1)
"""


def build_release(asg: Assignment, dest: Path) -> Release:
    """Run otter assign on the master notebook into `dest`; returns the two notebooks.
    AssignmentError (one line naming the cell and its question) where otter fails on it."""
    master = master_path(asg)
    proc = subprocess.run([sys.executable, "-c", _RUN_OTTER, str(master), str(dest), _FAILED],
                          capture_output=True, text=True, cwd=asg.directory)
    student, solution = dest / "student" / master.name, dest / "autograder" / master.name
    if proc.returncode != 0 or not student.is_file() or not solution.is_file():
        raise _otter_failure(master, proc.stderr or proc.stdout)
    for nb_path in (student, solution):
        _normalise(nb_path, asg)
    return Release(student=student, solution=solution)


def _otter_failure(master: Path, output: str) -> AssignmentError:
    """What otter assign's failure on `master` means, in one line: the master notebook's cell it
    was reading (numbered from 1, with its question's name and heading) and what otter said."""
    told = [line[len(_FAILED):] for line in output.splitlines() if line.startswith(_FAILED)]
    if not told:                 # otter did not get as far as reading the notebook
        tail = output.strip().splitlines()[-15:]
        return AssignmentError(f"otter assign failed on {master}:\n" + "\n".join(tail))
    info = json.loads(told[-1])
    message = " ".join(f"{info['type']}: {info['message']}".split()).rstrip(":")
    cell = _master_cell(master, info) if "source" in info else None
    where = f"{_cell_label(master, cell)}: " if cell else ""
    path = master.relative_to(Path.cwd()) if master.is_relative_to(Path.cwd()) else master
    return AssignmentError(f"{path}: {where}otter assign failed: {shorten(message, 300)}; fix "
                           "that cell in Jupyter and run the command again")


def _master_cell(master: Path, info: dict) -> int | None:
    """The number (from 1) of the master notebook's cell otter was reading: the cell of that
    source nearest to otter's own index (which counts after otter's fenced cells are split)."""
    cells = nbformat.read(master, as_version=4).cells
    same = [k for k, c in enumerate(cells, 1) if c.source.strip() == str(info["source"]).strip()]
    near = (info.get("index") or 0) + 1
    return min(same, key=lambda k: abs(k - near)) if same else None


_QUESTION_MARK = re.compile(r"#\s+(begin|end)\s+question", re.IGNORECASE)


def _cell_label(master: Path, cell: int) -> str:
    """`cell 14 (q2 "Question 2: indexing")`: the cell, with the question it is in, if any."""
    cells = nbformat.read(master, as_version=4).cells
    name = heading = None
    for k, c in enumerate(cells, 1):
        first = c.source.strip().splitlines()[0] if c.source.strip() else ""
        mark = _QUESTION_MARK.match(first) if c.cell_type == "raw" else None
        if mark and mark[1].lower() == "begin":
            if k > cell:
                break
            found = re.search(r"^\s*name\s*:\s*(\S+)", c.source, re.MULTILINE)
            name, heading = (found[1].strip("'\"") if found else f"(unnamed, cell {k})"), None
        elif mark:
            if k >= cell:
                break
            name = heading = None
        elif name and heading is None and c.cell_type == "markdown" and first:
            heading = first.lstrip("#").strip()                    # as grader.lint shows it
            heading = heading if len(heading) <= 60 else heading[:57] + "..."
        if k >= cell and (heading or not name):
            break
    if not name:
        config = re.match(r"#\s+assignment\s+config", cells[cell - 1].source.strip(), re.IGNORECASE)
        return f"cell {cell} (ASSIGNMENT CONFIG)" if config else f"cell {cell}"
    return f'cell {cell} ({name} "{heading}")' if heading else f"cell {cell} ({name})"


def _normalise(path: Path, asg: Assignment) -> None:
    """Deterministic cell ids (otter draws random ones) so a release is reproducible, and the
    limits the student process runs under in the metadata, for `grader check`.  What running the
    master notebook in Jupyter leaves behind (cell timings, the kernel's language_info) is dropped,
    so a release depends on the notebook's content alone."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("language_info", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = hashlib.sha1(f"{i}:{cell.cell_type}:{cell.source}".encode()).hexdigest()[:12]
        cell.metadata.pop("execution", None)
    nb.metadata[RELEASE_METADATA] = {"limits": {k: asg.limits[k] for k in RELEASED_LIMITS}}
    nbformat.write(nb, path)


def released_files(asg: Assignment, release: Release) -> dict[str, Path]:
    """What goes into assignments/<name>/: relative name -> source file."""
    files = {release.student.name: release.student}
    for f in asg.files:
        files[f.name] = f
    return files


def publish(asg: Assignment, course: Path, *, check: bool = False) -> list[str]:
    """Write (or, with `check`, compare) assignments/<name>/; returns the differences found."""
    target = course / "assignments" / asg.name
    with tempfile.TemporaryDirectory() as tmp:
        files = released_files(asg, build_release(asg, Path(tmp)))
        if check:
            return [f"{target / name} is missing or out of date; run `grader assign {asg.name}`"
                    for name, src in files.items()
                    if not (target / name).is_file() or (target / name).read_bytes() != src.read_bytes()]
        target.mkdir(parents=True, exist_ok=True)
        for name, src in files.items():
            if src.resolve() != (target / name).resolve():
                shutil.copyfile(src, target / name)
    return []


def load_mutants(asg: Assignment) -> list[Mutant]:
    """Every `mutants/*.py` of the assignment, parsed; AssignmentError on a malformed one."""
    out = []
    for path in sorted((asg.directory / "mutants").glob("*.py")):
        header, body = {}, []
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = _HEADER.match(line)
            if not m:
                body = lines[i:]
                break
            header[m.group(1)] = m.group(2)
        missing = {"mutant", "cell", "loses"} - header.keys()
        if missing:
            raise AssignmentError(f"{path}: header lacks {', '.join(sorted(missing))} "
                                  "(expected '# mutant:', '# cell:', '# loses:' lines first)")
        loses = tuple(q.strip() for q in header["loses"].split(",") if q.strip())
        unknown = set(loses) - {q.id for q in asg.questions}
        if not loses or unknown:
            raise AssignmentError(f"{path}: '# loses:' must name questions of {asg.name}; "
                                  f"unknown: {', '.join(sorted(unknown)) or '(none given)'}")
        out.append(Mutant(path.stem, header["mutant"], header["cell"], loses,
                          "\n".join(body).strip("\n") + "\n"))
    return out


def apply_mutant(solution: Path, mutant: Mutant, dest: Path) -> None:
    """Write to `dest` the solution notebook with the mutant's cell replaced."""
    nb = nbformat.read(solution, as_version=4)
    anchor = mutant.anchor.strip()
    hits = [c for c in nb.cells
            if c.cell_type == "code" and anchor in (line.strip() for line in c.source.splitlines())]
    if len(hits) != 1:
        raise AssignmentError(f"mutant {mutant.name}: the line {mutant.anchor!r} occurs in {len(hits)} code "
                              "cells of the solution notebook; it must occur in exactly one")
    hits[0].source = mutant.source
    nbformat.write(nb, dest)


def run_in_kernel(asg: Assignment, notebook: Path, *, timeout: float | None = None) -> list[str]:
    """Run `notebook` (the release with the solution's answers) top to bottom in a real Jupyter
    kernel, as a student's "Restart & Run All" would, in a folder holding only it and the
    assignment's data files; returns what went wrong: each cell that raised and each
    `grader.check(...)` cell that did not pass in place (empty when the release works)."""
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        shutil.copyfile(notebook, Path(tmp) / notebook.name)
        for f in asg.files:
            shutil.copy2(f, Path(tmp) / f.name)
        # a student's Jupyter has no cell limit, and importing otter or torch there takes a while
        limit = timeout or max(float(asg.limits["cell_timeout"]), 120.0)
        client = NotebookClient(nb, timeout=limit, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": tmp}})
        try:
            client.execute()
        except Exception as exc:  # noqa: BLE001 - a kernel that died or a cell past its time
            return [f"the notebook did not run to the end in a kernel ({type(exc).__name__}: {exc})"]
    return [problem for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for problem in _cell_problems(i, cell)]


def _cell_problems(index: int, cell) -> list[str]:
    head = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
    problems = [f"cell {index} ({head}) raised {o.ename}: {o.evalue[:200]}"
                for o in cell.outputs if o.output_type == "error"]
    checks = re.findall(r"grader\.check\(\s*['\"]([^'\"]+)['\"]", cell.source)
    if checks and not problems:
        shown = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs
                        if o.output_type == "execute_result")
        if "All test cases passed!" not in shown:
            lines = [line.strip() for line in shown.splitlines() if line.strip()]
            problems.append(f"cell {index}: grader.check({checks[0]!r}) fails in place: "
                            + " | ".join(lines[:8])[:400])
    return problems
