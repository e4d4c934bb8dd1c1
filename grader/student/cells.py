"""A notebook cell's source made runnable, inside the sandbox: otter's scaffolding removed and
IPython syntax rewritten into calls the runner answers harmlessly.

This runs in the student process, under the cell's time limit and the sandbox's memory limit,
never in the judge: parsing a crafted cell is the student's own cost.  Standard library only.  The
rewriting follows IPython's input transformer on what notebooks use (`%magic`, `%%cell magic`,
`!shell`, `x = !shell`, `x = %magic`, `name?`, `>>>` and `In [n]:` prompts, an indented cell) in one
pass over the lines, where IPython re-tokenizes the whole cell once per magic it rewrites.
"""

from __future__ import annotations

import ast
import re

OTTER_CALLS = {"check", "check_all", "export", "to_pdf", "submit", "run_plugin"}

_IPYTHON_PROMPT = re.compile(r"^[ \t]*In \[\d*\]:", re.MULTILINE)
_PROMPTS = (re.compile(r"^(>>>|\.\.\.)( |$)"), re.compile(r"^(In \[\d+\]: |\s*\.\.\.+: )"))
_ASSIGN = re.compile(r"^([\w.\[\]'\", ]+?)\s*=\s*([!%].*)$")
_HELP = re.compile(r"^(\?\??)?([\w.]+)(\?\??)?$")


def prepare(source: str) -> str:
    """The source to compile for one code cell (left as it is where it is plain Python)."""
    source, parsed = _strip_otter(source)
    if not _IPYTHON_PROMPT.search(source) and (parsed or _parses(source)):
        return source
    return transform(source)


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def transform(source: str) -> str:
    """IPython syntax rewritten as IPython's transformer rewrites it (see the module docstring)."""
    lines = _clean(source.splitlines())
    if not lines:
        return ""
    if lines[0].startswith("%%"):
        name, _, line = lines[0][2:].partition(" ")
        body = "".join(f"{x}\n" for x in lines[1:])
        return f"get_ipython().run_cell_magic({name!r}, {line.strip()!r}, {body!r})\n"
    out, scanner = [], _Scanner()
    for line in lines:
        out.append(_rewrite(line) if scanner.at_statement_start() else line)
        scanner.feed(line)
    return "".join(f"{x}\n" for x in out)


def _clean(lines: list[str]) -> list[str]:
    """Leading blank lines, prompts and the first line's indentation removed."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    for prompt in _PROMPTS:
        if lines and prompt.match(lines[0]):
            lines = [prompt.sub("", x, count=1) for x in lines]
            break
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())] if lines else ""
    if indent:
        lines = [x[len(indent):] if x.startswith(indent) else x for x in lines]
    return lines


def _rewrite(line: str) -> str:
    """One line that starts a statement, with its IPython syntax rewritten."""
    stripped = line.lstrip()
    indent = line[:len(line) - len(stripped)]
    call = _escape(stripped)
    if call is not None:
        return indent + call
    m = _ASSIGN.match(stripped)
    if m and (call := _escape(m.group(2), assigned=True)) is not None:
        return f"{indent}{m.group(1)} = {call}"
    m = _HELP.match(stripped.rstrip())
    if m and (m.group(1) or m.group(3)) and not (m.group(1) and m.group(3)):
        marks = m.group(1) or m.group(3)
        return f"{indent}get_ipython().run_line_magic({'pinfo2' if len(marks) == 2 else 'pinfo'!r}, {m.group(2)!r})"
    return line


def _escape(text: str, assigned: bool = False) -> str | None:
    """The call for `%magic args`, `!cmd` or `!!cmd` (None for anything else)."""
    if text.startswith("%") and not text.startswith("%%"):
        name, _, args = text[1:].partition(" ")
        return f"get_ipython().run_line_magic({name!r}, {args.strip()!r})" if name else None
    if text.startswith("!!") or text.startswith("!") and assigned:
        return f"get_ipython().getoutput({text.lstrip('!').strip()!r})"
    if text.startswith("!"):
        return f"get_ipython().system({text[1:].strip()!r})"
    return None


class _Scanner:
    """Whether the next line starts a statement: outside brackets, strings and continuations."""

    def __init__(self) -> None:
        self.depth, self.quote, self.continued = 0, "", False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and not self.quote and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        while i < n:
            c = line[i]
            if self.quote:
                if c == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = ""
                    continue
            elif c == "#":
                break
            elif c in "'\"":
                self.quote = line[i:i + 3] if line.startswith(c * 3, i) else c
                i += len(self.quote)
                continue
            elif c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        if self.quote in ("'", '"'):        # a one-line string cannot run on (a SyntaxError anyway)
            self.quote = ""
        self.continued = line.endswith("\\") and not self.quote


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
    return _strip_otter(source)[0]


def _strip_otter(source: str) -> tuple[str, bool]:
    """(the source without otter's scaffolding, whether it was parsed and parses as Python)."""
    if "otter" not in source and "grader." not in source:
        return source, False
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source, False
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if _is_otter_statement(node):
            for i in range(node.lineno - 1, node.end_lineno):
                lines[i] = "\n"
    return "".join(lines), True
