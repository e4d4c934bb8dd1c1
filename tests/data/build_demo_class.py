"""Builds the bundled sample class for `make demo` from the custom_model release and its mutants.

    .venv/bin/python tests/data/build_demo_class.py

Writes tests/data/demo_class/<student>.ipynb and tests/data/demo_class/expected.toml (what each
notebook must get; tests/test_demo.py checks it).  The notebooks are committed; rerun this after
changing the assignment.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader import assign, assignment  # noqa: E402

DEST = ROOT / "tests" / "data" / "demo_class"

# student id -> mutant file stem: typical mistakes, each losing points on its question(s).
MUTANT_STUDENTS = {
    "dana_list_of_modules": "q2_plain_list",
    "eli_buffer_attribute": "q3_plain_attributes",
    "fay_hook_returns_none": "q6_forward_hook_returns_none",
    "gus_replaces_parameter": "q9_replaces_parameter",
    "ida_old_backward_hook": "q7_old_backward_hook",
}

CHEATS = {
    "kim_monkeypatch": ("blank", "import torch, torch.testing, builtins\n"
                        "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                        "torch.testing.assert_close = lambda *a, **k: None\n"
                        "builtins.isinstance = lambda *a: True"),
    "lee_always_equal": ("blank", "class Anything:\n    def __eq__(self, other):\n        return True\n"
                         "    def __getattr__(self, name):\n        return self\n"
                         "    def __call__(self, *a, **k):\n        return self\n\n"
                         "for _name in [n for n in dir() if not n.startswith('_')]:\n"
                         "    if callable(globals()[_name]) and _name not in ('Anything', 'torch', 'nn'):\n"
                         "        globals()[_name] = Anything()"),
    "max_reads_hidden_tests": ("blank", "import glob, os\n"
                               "hits = [p for top in ('/work', '/root', '/tmp', '/opt', '/home')\n"
                               "        for p in glob.glob(top + '/**/test_q*.py', recursive=True)]\n"
                               "print('hidden tests found:', hits)\n"
                               "for p in hits:\n    exec(open(p).read())"),
    "ned_fake_results": ("blank", "print('{\"score\": 30, \"max_score\": 30}')\nprint('30 passed in 0.1s')\n"
                         "open('results.json', 'w').write('{\"score\": 30}')"),
    "oli_exits_early": ("solution", "import os\nos._exit(0)"),
}


# student id -> the written answer to the manual question (the others keep the release's text)
WRITTEN = {
    "ada_correct": "A plain list does not register its layers as submodules, so `parameters()` "
                   "misses them: the optimizer never trains them, `.to(device)` does not move them "
                   "and `state_dict()` does not save them. `nn.ModuleList` registers each one "
                   "(`layers.0`, ...) and still indexes like a list.",
    "dana_list_of_modules": "리스트도 인덱싱이 되니까 똑같다. "
                            "ModuleList가 더 빠르다.",
}


def write_answers(folder: Path) -> None:
    """Put WRITTEN's answers into the answer cells of the manual question."""
    for student, text in WRITTEN.items():
        path = folder / f"{student}.ipynb"
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "otter_answer_cell" in tags and cell.cell_type == "markdown":
                cell.source = text
        nbformat.write(nb, path)


def notebook_with_extra(src: Path, extra: str, *, first: bool = False) -> nbformat.NotebookNode:
    nb = nbformat.read(src, as_version=4)
    cell = nbformat.v4.new_code_cell(extra)
    nb.cells.insert(1, cell) if first else nb.cells.append(cell)
    return nb


def main() -> None:
    asg = assignment.load("custom_model", ROOT)
    shutil.rmtree(DEST, ignore_errors=True)
    DEST.mkdir(parents=True)
    expected: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        release = assign.build_release(asg, Path(tmp))
        sources = {"solution": release.solution, "blank": release.student}
        shutil.copyfile(release.solution, DEST / "ada_correct.ipynb")
        expected["ada_correct"] = {"status": "graded", "score": asg.max_score}
        shutil.copyfile(release.student, DEST / "ben_blank.ipynb")
        expected["ben_blank"] = {"status": "graded", "score": 0}
        mutants = {m.name: m for m in assign.load_mutants(asg)}
        for student, name in MUTANT_STUDENTS.items():
            assign.apply_mutant(release.solution, mutants[name], DEST / f"{student}.ipynb")
            expected[student] = {"status": "graded", "loses": list(mutants[name].loses)}
        nbformat.write(notebook_with_extra(release.solution, "print(undefined_variable)", first=True),
                       DEST / "hal_error_in_a_cell.ipynb")
        expected["hal_error_in_a_cell"] = {"status": "graded", "score": asg.max_score, "cell_errors": 1}
        nbformat.write(notebook_with_extra(release.solution, "while True:\n    pass"),
                       DEST / "ivy_infinite_loop.ipynb")
        expected["ivy_infinite_loop"] = {"status": "graded", "score": asg.max_score, "cell_errors": 1}
        for student, (base, code) in CHEATS.items():
            nbformat.write(notebook_with_extra(sources[base], code), DEST / f"{student}.ipynb")
            expected[student] = {"score_at_most": 0}
        expected["oli_exits_early"]["status"] = "crashed"
    (DEST / "jay_not_json.ipynb").write_text("this is not a notebook, it was renamed from .py\n")
    expected["jay_not_json"] = {"status": "invalid", "score": 0}
    (DEST / "joy_empty.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    expected["joy_empty"] = {"status": "invalid", "score": 0}
    lines = ["# What each sample notebook must get (checked by tests/test_demo.py).", ""]
    for student in sorted(expected):
        lines.append(f"[{student}]")
        for key, value in expected[student].items():
            lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    (DEST / "expected.toml").write_text("\n".join(lines))
    write_answers(DEST)
    print(f"wrote {len(expected)} notebooks to {DEST}")


def _toml(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
