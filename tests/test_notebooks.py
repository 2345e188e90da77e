"""The two editions of the notebooks: structure, generation, and what the checks say.

Executing the notebooks is nbval's job (`make test` runs it strictly on the solutions and
leniently on the student edition); these tests read the files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from crmlab.exercises import check

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402

SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
CHECK_CALL = re.compile(r"check\.(\w+)\(")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _exercise_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source]


def _output_text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def test_there_is_a_first_notebook():
    assert (ROOT / "notebooks" / "solutions" / "00_start_here.ipynb") in SOLUTIONS


def test_student_edition_is_up_to_date():
    assert make_student.main(["--check"]) == 0


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_notebook_follows_the_house_conventions(path):
    notebook = _read(path)
    first, last_markdown = (
        notebook.cells[0],
        [c for c in notebook.cells if c.cell_type == "markdown"][-1],
    )
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    for phrase in ("learn", "Prerequisites", "Time"):
        assert phrase in first.source, f"title cell lacks {phrase!r}"
    assert "Further reading" in last_markdown.source and "Summary" in last_markdown.source
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert "cl.show_versions()" in code_cells[-1].source
    assert "nbval-ignore-output" in code_cells[-1].metadata.get("tags", [])
    for cell in code_cells:
        assert "/work/" not in cell.source and "/home/" not in cell.source, "machine-specific path"
        assert cell.get("execution_count") is not None, "solution notebooks carry their outputs"
        for output in cell.get("outputs", []):
            assert "image/svg+xml" not in output.get("data", {}), "plots are PNG, not SVG"
            assert output.get("output_type") != "error", "a committed cell raised an error"
    if not path.stem.startswith("00"):
        assert len(_exercise_cells(notebook)) >= 3, "every notebook but 00 has three exercises"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_solution_answer_passes_its_check(path):
    for cell in _exercise_cells(_read(path)):
        names = CHECK_CALL.findall(cell.source.split("### END SOLUTION")[-1])
        assert names, f"exercise cell without a check call:\n{cell.source}"
        for name in names:
            assert name in check.names(), f"unknown check {name!r}"
        assert _output_text(cell).startswith("Correct"), cell.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_student_edition_hides_solutions_and_keeps_the_checks(path):
    solution = _read(path)
    student = _read(ROOT / "notebooks" / path.name)
    assert len(student.cells) == len(solution.cells)
    student_code = "\n".join(c.source for c in student.cells)
    other_solution_lines = {
        line.strip()
        for cell in solution.cells
        for line in make_student.CODE_BLOCK.sub("", cell.source).splitlines()
    }
    for cell, student_cell in zip(solution.cells, student.cells, strict=True):
        for block in make_student.CODE_BLOCK.findall(cell.source):
            for line in block.splitlines():
                line = line.strip()
                if line and not line.startswith("#") and line not in other_solution_lines:
                    assert line not in student_code, f"solution line leaked: {line!r}"
        if "### BEGIN SOLUTION" in cell.source:
            assert "= ..." in student_cell.source or "# Your code here" in student_cell.source
            assert student_cell.outputs == []
            assert CHECK_CALL.findall(student_cell.source) == CHECK_CALL.findall(
                cell.source.split("### END SOLUTION")[-1]
            )


def test_placeholders_give_friendly_feedback_not_errors():
    for name in check.names():
        feedback = check.run(name, ...)
        assert not feedback.ok
        assert feedback.message.startswith("Not answered yet")


def test_placeholder_lines_name_every_assigned_variable():
    source = (
        "x = 1\n### BEGIN SOLUTION\nanswer = x + 1\nrate, churn = 0.8, 0.2\n"
        "### END SOLUTION\ncheck.a(answer)\n"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("stream", text="Correct")]
    student = make_student.student_cell(cell)
    assert student.source == "x = 1\nanswer = ...\nrate = ...\nchurn = ...\ncheck.a(answer)\n"
    assert student.outputs == []


def test_markdown_solutions_are_removed():
    cell = nbformat.v4.new_markdown_cell(
        "Why?\n<!-- BEGIN SOLUTION -->Because.\n<!-- END SOLUTION -->\nNext."
    )
    assert make_student.student_cell(cell).source == "Why?\nNext."


def test_check_mode_reports_a_stale_student_notebook(tmp_path, monkeypatch):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\na = 1\n### END SOLUTION\n")]
    nbformat.write(notebook, solutions / "99_test.ipynb")
    monkeypatch.setattr(make_student, "SOLUTIONS", solutions)
    monkeypatch.setattr(make_student, "STUDENT", tmp_path)
    assert make_student.main(["--check"]) == 1
    assert make_student.main([]) == 0
    assert make_student.main(["--check"]) == 0
    assert "a = ..." in (tmp_path / "99_test.ipynb").read_text()
