"""`grader new`: a new assignment's starting point, `solutions/<name>/`, that passes `assign` and
`verify` as written.

It holds `assignment.toml` (every setting, each with its meaning, written from the declarations in
grader/assignment.py), the master notebook `<name>.ipynb` with one question in otter's layout, a
hidden test `tests/test_q1.py` and one mutant under `mutants/`.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import textwrap
from pathlib import Path

from grader.assignment import LIMIT_KEYS, QUESTION_KEYS, TOP_KEYS, Assignment, resolve_limits
from grader.errors import UsageError

WIDTH = 100

QUESTION = {"id": "q1", "title": "normalising the rows of a tensor", "points": 2}

# otter assign's settings as every assignment of the course has them: no export cell, no
# check-all cell, no PDF, no autograder zip; the public tests live in the notebook's metadata
OTTER_CONFIG = """\
# ASSIGNMENT CONFIG
name: {name}
requirements: null
export_cell: false
generate: false
run_tests: false
init_cell: true
check_all_cell: false
environment: null
files: []
tests:
  files: false"""

INTRO = """\
# {title}

Fill in every cell marked `...`, then restart the kernel and run all cells from top to bottom.

* Keep the names and signatures each question asks for: the grader calls them.
* The tests under each answer check one small example. Hidden tests check other sizes and random
  inputs, so write code that works in general.
* A float tensor is compared with the grader's reference as
  `torch.allclose(result, reference, rtol=1e-4, atol=1e-5)`, and it must have the reference's
  shape and dtype."""

SETUP = "import torch"

PROMPT = """\
## Question 1: normalising the rows of a tensor

Write `normalize(x)`. `x` is a float tensor of shape `(N, D)` with `N >= 1` and `D >= 2`, and no
row of it is constant. Return a **new** tensor of the same shape and dtype in which every row has
mean 0 and standard deviation 1: subtract the row's mean, then divide by the row's *population*
standard deviation (`x.std(..., unbiased=False)`, which divides by `D`, not `D - 1`).
Do not change `x` itself."""

SOLUTION = """\
def normalize(x):
    # BEGIN SOLUTION
    mean = x.mean(dim=1, keepdim=True)
    std = x.std(dim=1, keepdim=True, unbiased=False)
    return (x - mean) / std
    # END SOLUTION"""

PUBLIC_TESTS = """\
x = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
y = normalize(x)
assert y.shape == (2, 3) and y.dtype == torch.float32
assert torch.allclose(y, torch.tensor([[-1.2247, 0.0, 1.2247]] * 2), atol=1e-4)
assert torch.equal(x, torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])), 'normalize changed x'"""

HIDDEN_TEST = '''\
"""Hidden tests of question 1: normalize(x)."""

import torch

from grader.testing import probe, question, tensors_close, tensors_equal


@probe
def normalized(ns, x):
    """Runs in the student process: the notebook's answer for the judge's `x`, and `x` again (an
    answer that changes its input in place shows it there)."""
    return {"y": ns.normalize(x), "x": x}


def reference(x):
    """The judge's own answer, computed with its own torch."""
    return (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True, unbiased=False)


@question("q1", points=2)
def test_normalize(student):
    # the smallest legal sizes, the notebook's example, then two drawn far from it
    for n, d in student.cases((1, 2), (2, 3),
                              draw=lambda rng: (rng.randint(5, 40), rng.randint(5, 40))):
        x = torch.randn(n, d, generator=student.generator) * 3 + 1
        r = student.probe(normalized, x=x)
        name = f"normalize(x) of a {n}x{d} x"
        tensors_close(r["y"], reference(x), rtol=1e-4, atol=1e-5, name=name)
        tensors_equal(r["x"], x, name=f"x after {name}")
'''

MUTANT_NAME = "q1_unbiased_std"
MUTANT = """\
# mutant: normalize divides by the unbiased standard deviation (x.std's default)
# cell: def normalize(x):
# loses: q1
def normalize(x):
    return (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True)
"""


def new_assignment(name: str, *, course: Path | str | None = None,
                   title: str | None = None) -> list[Path]:
    """Write `course`/solutions/`name`/ (see the module docstring); returns the files written.

    Raises UsageError when `name` is not a Python identifier, when the title cannot be written,
    when `course` is not a directory, or when the assignment's directory already exists."""
    root = Path(course) if course is not None else Path.cwd()
    directory = _target(name, root)
    title = _title(name if title is None else title)
    files = {
        "assignment.toml": assignment_toml(name, title),
        f"{name}.ipynb": master_notebook(name, title),
        "tests/test_q1.py": HIDDEN_TEST,
        f"mutants/{MUTANT_NAME}.py": MUTANT,
    }
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _target(name: str, root: Path) -> Path:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"{name!r} is not a valid assignment name: use a Python identifier "
                         "(letters, digits and underscores, not starting with a digit), e.g. hw1")
    if not root.is_dir():
        raise UsageError(f"course directory {root} does not exist")
    directory = root / "solutions" / name
    if directory.exists():
        raise UsageError(f"{directory} already exists: pick another name, or edit that assignment")
    return directory


def _title(title: str) -> str:
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the title is not valid text (it holds a lone surrogate)") from None
    if not title.strip() or any(ord(c) < 32 or ord(c) == 127 for c in title):
        raise UsageError("the title must be one line of text, without control characters")
    return title


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# ", subsequent_indent="#   ")


def _value(value) -> str:
    """A TOML value: strings, numbers and lists of strings are what the settings hold."""
    return json.dumps(value, ensure_ascii=False)


def _policy_table() -> list[str]:
    """The [policy] table, every key commented out: at its default, or (a key unset by
    default) at an example value that says so."""
    from grader.policy import POLICY_EXAMPLES, POLICY_KEYS

    lines = ["", *_comment(TOP_KEYS["policy"][1]), "[policy]"]
    for key, (_, default, what) in POLICY_KEYS.items():
        lines += _comment(what)
        if default is None:
            example = _value(POLICY_EXAMPLES[key])
            lines.append(f"# {key} = {example}    # an example: unset by default")
        else:
            lines.append(f"# {key} = {_value(default)}")
    return lines


def _visibility_default() -> str:
    fields = {f.name: f.default for f in dataclasses.fields(Assignment)}
    return fields["gradescope_visibility"]


# a manual question's keys, shown commented out: `manual = true` and a rubric make a written answer
MANUAL_EXAMPLE = {"manual": "false",
                  "rubric": '[{points = 1, text = "says what a correct answer says"}, '
                            '{points = -1, text = "a common misconception"}]'}


def assignment_toml(name: str, title: str) -> str:
    """assignment.toml for a new assignment: every key of TOP_KEYS, LIMIT_KEYS and QUESTION_KEYS
    with its meaning as a comment; the limits commented out at their defaults."""
    values = {"title": title, "notebook": f"{name}.ipynb", "gpu": "none", "files": []}
    lines = [f"# The settings of the assignment {name}. Unknown keys are errors; a commented-out",
             "# setting shows its default.", ""]
    for key, (_, meaning) in TOP_KEYS.items():
        if key in ("limits", "questions", "policy"):
            continue
        lines += _comment(meaning)
        if key in values:
            lines.append(f"{key} = {_value(values[key])}")
        elif key == "gradescope_visibility":
            lines.append(f"# {key} = {_value(_visibility_default())}")
    limits = TOP_KEYS["limits"][1].replace("see LIMIT_KEYS", "each one below")
    lines += ["", *_comment(limits), "[limits]"]
    defaults = resolve_limits({})
    for key, (_, _, meaning, flag) in LIMIT_KEYS.items():
        lines += _comment(meaning + (f" (`grader grade {flag}` overrides it)" if flag else ""))
        lines.append(f"# {key} = {_value(defaults[key])}")
    lines += _policy_table()
    lines += ["", *_comment(TOP_KEYS["questions"][1] + "; copy the table for each further one")]
    lines.append("[[questions]]")
    for key, (_, meaning) in QUESTION_KEYS.items():
        lines += _comment(meaning)
        if key in QUESTION:
            lines.append(f"{key} = {_value(QUESTION[key])}")
        else:                          # a written question's keys (docs/authoring.md)
            lines.append(f"# {key} = {MANUAL_EXAMPLE[key]}")
    return "\n".join(lines) + "\n"


def master_notebook(name: str, title: str) -> str:
    """The master notebook, as JSON text: otter's config, an introduction, a setup cell and one
    question (its prompt, solution and public tests between otter's markers)."""
    import nbformat

    v4 = nbformat.v4
    raw, md, code = v4.new_raw_cell, v4.new_markdown_cell, v4.new_code_cell
    header = f"# BEGIN QUESTION\nname: {QUESTION['id']}\npoints: {QUESTION['points']}"
    cells = [raw(OTTER_CONFIG.format(name=name)), md(INTRO.format(title=title)), code(SETUP),
             raw(header), md(PROMPT),
             raw("# BEGIN SOLUTION"), code(SOLUTION), raw("# END SOLUTION"),
             raw("# BEGIN TESTS"), code(PUBLIC_TESTS), raw("# END TESTS"), raw("# END QUESTION")]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:03d}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"
