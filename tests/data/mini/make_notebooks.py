"""Writes the mini assignment's scenario notebooks (run once; the notebooks are committed)."""

from pathlib import Path

import nbformat

HERE = Path(__file__).parent
SOLUTION = [
    "import torch\nimport torch.nn as nn",
    "def double(t):\n    return t * 2",
    "class Scale(nn.Module):\n    def __init__(self, factor):\n        super().__init__()\n"
    "        self.factor = nn.Parameter(torch.tensor(float(factor)))\n\n"
    "    def forward(self, x):\n        return x * self.factor",
]


def write(name: str, cells: list[str], markdown: str = "A scenario notebook.") -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, HERE / "submissions" / f"{name}.ipynb")


if __name__ == "__main__":
    write("solution", SOLUTION)
    write("blank", ["import torch\nimport torch.nn as nn", "def double(t):\n    ...",
                    "class Scale(nn.Module):\n    ..."])
