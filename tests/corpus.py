"""Shared by the scenario and adversarial corpora: build a class from case directories, check results.

A case directory holds `notebook.py` (cells separated by `# %%`), or `submission.bin`, or a
`generate` key in its `expected.toml`; and the expectations (see tests/scenarios/README.md).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import nbformat

from conftest import notebook_from_script


# what an expected.toml may say (tests/scenarios/README.md): how the case is built, then what is checked
BUILD_KEYS = {"generate", "folder", "backends"}
CHECK_KEYS = {"status", "status_in", "score", "score_at_most", "reason_contains", "cell_errors", "flags_contain",
              "outcomes_absent", "messages_contain", "never_in_output"}


def expected(root: Path, name: str) -> dict:
    """A case's expectations; a key that nothing checks (a misspelt one) is an error, not a pass."""
    path = root / name / "expected.toml"
    exp = tomllib.loads(path.read_text())
    unknown = sorted(set(exp) - BUILD_KEYS - CHECK_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown keys {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(BUILD_KEYS | CHECK_KEYS))}")
    return exp


def cases(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / "expected.toml").is_file())


def generated(kind: str) -> bytes:
    """Submissions too big or too odd to keep in the repository."""
    if kind == "huge":
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="y" * (50 << 20))]
        return nbformat.writes(nb).encode()
    if kind == "nested":
        return b'{"nbformat": 4, "cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    if kind == "many_cells":
        solution = (Path(__file__).parent / "scenarios" / "solution" / "notebook.py").read_text()
        nb = notebook_from_script(solution)
        nb.cells = [nbformat.v4.new_code_cell(f"v{i} = {i}") for i in range(10_000)] + nb.cells
        return nbformat.writes(nb).encode()
    if kind in ("big_cell", "many_magics", "many_outputs"):
        nb = notebook_from_script((Path(__file__).parent / "scenarios" / "solution" / "notebook.py").read_text())
        nb.cells += _extra_cells(kind)
        return nbformat.writes(nb).encode()
    raise ValueError(kind)


def _extra_cells(kind: str) -> list:
    """Cells appended to the solution: a 3 MB cell of a million list items (a comment naming otter
    made the judge parse it), 600 `%time` magics in two cells, or 20,000 cells printing 8 KiB each."""
    cell = nbformat.v4.new_code_cell
    if kind == "big_cell":
        return [cell("# otter\nbig = [" + "1, " * 1_000_000 + "]\n")]
    if kind == "many_magics":
        return [cell("".join(f"%time v{i} = {i}\n" for i in range(j, j + 300))) for j in (0, 300)]
    return [cell("line = 'x' * 8192")] + [cell("print(line)") for _ in range(20_000)]


def build_class(root: Path, dest: Path, backend: str, default_backends: list[str],
                only: list[str] | None = None, values: dict[str, str] | None = None) -> list[str]:
    """The class of `root`'s cases for `backend`, written to `dest`; each `{{KEY}}` of `values` in a
    notebook.py is replaced by its value (a port chosen when the test runs)."""
    dest.mkdir(parents=True)
    names = []
    for name in only or cases(root):
        exp, src = expected(root, name), root / name
        if backend not in exp.get("backends", default_backends):
            continue
        target = dest / f"{name}.ipynb"
        if exp.get("folder"):
            target.mkdir()
        elif exp.get("generate"):
            target.write_bytes(generated(exp["generate"]))
        elif (src / "submission.bin").exists():
            target.write_bytes((src / "submission.bin").read_bytes())
        else:
            script = (src / "notebook.py").read_text()
            for key, value in (values or {}).items():
                script = script.replace("{{" + key + "}}", value)
            if missing := re.findall(r"\{\{([A-Z_]+)\}\}", script):
                raise ValueError(f"{src / 'notebook.py'} needs values for {', '.join(missing)}")
            nbformat.write(notebook_from_script(script), target)
        names.append(name)
    return names


def check(r, exp: dict, max_score: float) -> None:
    """Assert one result against its expectations."""
    if "status" in exp:
        assert r.status == exp["status"], (r.status, r.reason)
    if "status_in" in exp:
        assert r.status in exp["status_in"], (r.status, r.reason)
    if "score" in exp:
        assert r.score == exp["score"], [(t.name, t.outcome, t.message) for q in r.questions for t in q.tests]
    if "score_at_most" in exp:
        assert r.score <= exp["score_at_most"]
    assert exp.get("reason_contains", "") in r.reason
    if "cell_errors" in exp:
        assert [c.ename for c in r.cell_errors] == exp["cell_errors"], r.cell_errors
    for text in exp.get("flags_contain", []):
        assert any(text in f for f in r.all_flags()), r.all_flags()
    for outcome in exp.get("outcomes_absent", []):
        assert all(t.outcome != outcome for q in r.questions for t in q.tests), \
            [(t.name, t.outcome, t.message, t.detail[-300:]) for q in r.questions for t in q.tests]
    messages = [t.message for q in r.questions for t in q.tests]
    for text in exp.get("messages_contain", []):
        assert any(text in m for m in messages), messages
    shown = [r.reason, *messages, *(t.detail for q in r.questions for t in q.tests),
             *(part for c in r.cell_errors for part in (c.evalue, c.traceback, c.source))]
    for text in exp.get("never_in_output", []):
        assert not any(text in s for s in shown), f"{text!r} reached the result"
    assert r.max_score == max_score


def processes_of(run_id: str) -> list[str]:
    """Processes of the batch `run_id` still alive (workers and student processes carry GRADER_RUN)."""
    marker, found = f"GRADER_RUN={run_id}".encode(), []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(environ.parent.name)
        except OSError:
            pass
    return found


def records_on_disk(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def cgroups_of(run_id: str) -> list[Path]:
    """Cgroups of the batch `run_id` still there: a cold sandbox's (`torchgrader-<run>-...`) and a
    warm slot's, with its submissions' groups inside (`torchgrader-slot-<pid>-<run>-...`)."""
    root = Path("/sys/fs/cgroup")
    return [*root.glob(f"*/**/torchgrader-{run_id}-*"), *root.glob(f"*/**/torchgrader-slot-*-{run_id}-*")]
