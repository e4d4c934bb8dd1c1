"""Reading a submitted notebook and turning its code cells into what the student process runs.

IPython syntax (magics, `!shell`) is rewritten by IPython's own transformer into calls the student
process answers harmlessly; otter's scaffolding (`import otter`, `grader = otter.Notebook(...)`,
`grader.check(...)`, `grader.export(...)`) is removed, because the hidden suite is the grade.
"""

from __future__ import annotations

import ast
import json
import re

from grader.errors import SubmissionError

OTTER_CALLS = {"check", "check_all", "export", "to_pdf", "submit", "run_plugin"}


def parse_notebook(raw: bytes) -> dict:
    """Decode and check a notebook file's bytes; raises SubmissionError with a student-facing reason."""
    try:
        text = raw.decode("utf-8")
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
    """[{index, source}] for each code cell (index: 1-based position among all cells)."""
    from IPython.core.inputtransformer2 import TransformerManager

    tm = TransformerManager()
    out = []
    for index, cell in enumerate(nb["cells"], 1):
        if cell.get("cell_type") != "code":
            continue
        source = strip_otter(cell_source(cell))
        if not source.strip():
            continue
        if not _plain_python(source):
            source = _transform(tm, source)
        out.append({"index": index, "source": source})
    return out


_IPYTHON_PROMPT = re.compile(r"^[ \t]*In \[\d*\]:", re.MULTILINE)


def _plain_python(source: str) -> bool:
    """Whether IPython's input transformer would leave `source` as it is.  Everything it rewrites
    (magics, shell escapes, help `?`, `>>>` prompts, leading indentation) is a SyntaxError in plain
    Python, except an `In [1]:` prompt, which parses as an annotation: so source that parses, and
    has no such prompt, needs no transformer (which tokenizes every line in Python)."""
    if "In [" in source and _IPYTHON_PROMPT.search(source):
        return False
    if not source.lstrip("\n")[:1].isspace() and not any(c in source for c in "%!?") and ">>>" not in source:
        return True
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _transform(tm, source: str) -> str:
    try:
        return tm.transform_cell(source)
    except Exception:  # noqa: BLE001 - leave it to the student process to report the SyntaxError
        return source


def _is_otter_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return all(a.name == "otter" or a.name.startswith("otter.") for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "otter"
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return False
    func = value.func
    if isinstance(node, ast.Assign):
        return isinstance(func.value, ast.Name) and func.value.id == "otter" and func.attr == "Notebook"
    return isinstance(func.value, ast.Name) and func.value.id == "grader" and func.attr in OTTER_CALLS


def strip_otter(source: str) -> str:
    """Remove otter's top-level scaffolding statements, keeping everything else line for line."""
    if "otter" not in source and "grader." not in source:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if _is_otter_statement(node):
            for i in range(node.lineno - 1, node.end_lineno):
                lines[i] = "\n"
    return "".join(lines)
