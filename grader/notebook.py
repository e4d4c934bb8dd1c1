"""Reading a submitted notebook and listing the code cells the student process runs.

Nothing here parses student code: the student process itself rewrites IPython syntax (magics,
`!shell`) into calls it answers harmlessly and removes otter's scaffolding (`import otter`,
`grader = otter.Notebook(...)`, `grader.check(...)`), because the hidden suite is the grade
(see grader.student.cells).
"""

from __future__ import annotations

import codecs
import json

from grader.errors import SubmissionError


def parse_notebook(raw: bytes) -> dict:
    """Decode and check a notebook file's bytes; raises SubmissionError with a reason for the
    student.  A UTF-8 byte order mark (some editors save one) is accepted and dropped."""
    try:
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"the file is not valid UTF-8 text (bad byte at position {exc.start}); "
                              "re-save the notebook from Jupyter") from None
    try:
        nb = json.loads(text)
    except RecursionError:
        raise SubmissionError("the file's JSON is nested too deeply to be a notebook") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"the file is not a notebook: it is not valid JSON ({exc.msg} at line "
                              f"{exc.lineno}); re-download or re-save it from Jupyter") from None
    if not isinstance(nb, dict) or "cells" not in nb and "worksheets" not in nb:
        raise SubmissionError("the file is JSON but not a Jupyter notebook (it has no cells)")
    if nb.get("nbformat") != 4:
        raise SubmissionError(f"the notebook uses format version {nb.get('nbformat')!r}; only version 4 "
                              "(any Jupyter, JupyterLab or Colab of the last years) is accepted")
    cells = nb.get("cells")
    if not isinstance(cells, list) or not cells:
        raise SubmissionError("the notebook has no cells")
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise SubmissionError(f"cell {i} of the notebook is malformed")
        source = cell.get("source", "")
        if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(s, str) for s in source)):
            raise SubmissionError(f"cell {i} of the notebook has malformed source")
    return nb


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def code_cells(nb: dict) -> list[dict]:
    """[{index, source}] for each code cell with source (index: 1-based position among all cells).

    The source is sent as the student wrote it: the student process prepares it (otter's
    scaffolding removed, IPython syntax rewritten: grader.student.cells), so the judge never
    parses student code."""
    out = []
    for index, cell in enumerate(nb["cells"], 1):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        if source.strip():
            out.append({"index": index, "source": source})
    return out
