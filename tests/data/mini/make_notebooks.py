"""Writes the mini assignment's notebooks: the otter master notebook and two plain submissions.

Run once after editing; the outputs are committed.
"""

from pathlib import Path

import nbformat

HERE = Path(__file__).parent
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
SETUP = "import torch\nimport torch.nn as nn"
DOUBLE = "def double(t):\n    return t * 2 # SOLUTION"
SCALE = ("class Scale(nn.Module):\n    def __init__(self, factor):\n        super().__init__()\n"
         "        self.factor = nn.Parameter(torch.tensor(float(factor))) # SOLUTION\n\n"
         "    def forward(self, x):\n        return x * self.factor # SOLUTION")
CONFIG = """# ASSIGNMENT CONFIG
name: mini
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


def notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    return nb


def question(name, points, prompt, solution, test):
    raw, md, code = nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    return [raw(f"# BEGIN QUESTION\nname: {name}\npoints: {points}"), md(prompt), raw("# BEGIN SOLUTION"),
            code(solution), raw("# END SOLUTION"), raw("# BEGIN TESTS"), code(test), raw("# END TESTS"),
            raw("# END QUESTION")]


def master() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_raw_cell(CONFIG), nbformat.v4.new_code_cell(SETUP)]
    cells += question("q1", 2, "Write `double(t)` returning a new tensor, twice `t`.", DOUBLE,
                      "assert torch.equal(double(torch.ones(2)), torch.full((2,), 2.0))")
    cells += question("q2", 3, "Write `Scale(factor)`, an `nn.Module` with one parameter `factor`.", SCALE,
                      "assert [n for n, _ in Scale(2.0).named_parameters()] == ['factor']")
    return notebook(cells)


def plain(cells) -> nbformat.NotebookNode:
    return notebook([nbformat.v4.new_markdown_cell("A scenario notebook.")]
                    + [nbformat.v4.new_code_cell(c) for c in cells])


if __name__ == "__main__":
    nbformat.write(master(), HERE / "solutions" / "mini" / "mini.ipynb")
    strip = lambda s: s.replace(" # SOLUTION", "")  # noqa: E731
    nbformat.write(plain([SETUP, strip(DOUBLE), strip(SCALE)]), HERE / "submissions" / "solution.ipynb")
    nbformat.write(plain([SETUP, "def double(t):\n    ...", "class Scale(nn.Module):\n    ..."]),
                   HERE / "submissions" / "blank.ipynb")
