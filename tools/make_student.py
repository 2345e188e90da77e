"""Generate the student edition (notebooks/*.ipynb) from the solutions (notebooks/solutions/).

In a code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` are
replaced by one placeholder line ``name = ...`` for every name the block assigns (or
``# Your code here`` when it assigns none), and the cell's outputs are cleared. In a
markdown cell, text between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``
is removed. A code cell tagged ``after-exercise`` (one that shows an exercise's result, such as
the comparison after a check) keeps its code but loses its outputs, so that the answer
is not on the screen before the student has worked it out. Everything else is copied as
it is, outputs included, so that the student sees the figures of the worked examples
before running anything.

    python tools/make_student.py           # write notebooks/*.ipynb
    python tools/make_student.py --check   # exit 1, naming the stale files, if any differ
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
STUDENT = ROOT / "notebooks"

CODE_BLOCK = re.compile(
    r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.M | re.S
)
MARKDOWN_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->\n?", re.S)
REVEAL_TAG = "after-exercise"


def assigned_names(code: str) -> list[str]:
    """Names bound at the top level of ``code``, in order of first assignment.

    >>> assigned_names("a = 1\\nb, c = 2, 3\\na += 1\\nfor i in []: pass")
    ['a', 'b', 'c']
    """
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name) and target.id not in names:
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                add(element)

    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            add(node.target)
    return names


def _placeholder(match: re.Match[str]) -> str:
    block = match.group(1)
    indent = re.match(r"[ \t]*", block).group(0) if block.strip() else ""
    names = assigned_names(textwrap.dedent(block))
    if not names:
        return f"{indent}# Your code here\n"
    return "".join(f"{indent}{name} = ...\n" for name in names)


def student_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of one cell."""
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code" and CODE_BLOCK.search(cell.source):
        cell.source = CODE_BLOCK.sub(_placeholder, cell.source)
        cell.outputs = []
        cell.execution_count = None
    elif cell.cell_type == "code" and REVEAL_TAG in cell.metadata.get("tags", []):
        cell.outputs = []
        cell.execution_count = None
    elif cell.cell_type == "markdown" and MARKDOWN_BLOCK.search(cell.source):
        cell.source = MARKDOWN_BLOCK.sub("", cell.source)
    return cell


def student_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of a solution notebook."""
    notebook = copy.deepcopy(solution)
    notebook.cells = [student_cell(cell) for cell in notebook.cells]
    notebook.metadata["crmlab"] = {"edition": "student", "generated_by": "tools/make_student.py"}
    return notebook


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    args = parser.parse_args(argv)
    stale = []
    solutions = sorted(SOLUTIONS.glob("*.ipynb"))
    expected_names = {path.name for path in solutions}
    for path in solutions:
        text = render(student_notebook(nbformat.read(path, as_version=4)))
        target = STUDENT / path.name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(target)
            if not args.check:
                target.write_text(text, encoding="utf-8")
    orphans = [p for p in STUDENT.glob("*.ipynb") if p.name not in expected_names]
    if args.check:
        problems = [f"out of date: {_shown(p)}" for p in stale]
        problems += [f"no solution notebook for: {_shown(p)}" for p in orphans]
        if problems:
            print("\n".join(problems))
            print("run `make student` to regenerate the student edition")
            return 1
        print(f"student edition up to date ({len(solutions)} notebooks)")
        return 0
    for path in orphans:
        print(f"warning: {_shown(path)} has no solution notebook; left as it is")
    print(f"wrote {len(stale)} of {len(solutions)} student notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
