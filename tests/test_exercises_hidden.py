"""No exercise's answer is on the student's screen before she has worked it out.

CONTRIBUTING.md, recipe 5: "An exercise whose answer is already on the screen teaches
nothing." The student edition (``notebooks/*.ipynb``) carries the committed outputs of every
cell but the exercises', so a cell that prints an exercise's result right after the check
shows the answer to anyone who scrolls down. These tests read the committed student
notebooks, run nothing, and ask every numeric check whether any number the student can read
(prose, or the text outputs of any cell) is one it would accept as the answer. A cell that
shows an exercise's result is tagged ``after-exercise``: ``tools/make_student.py`` keeps its
code and drops its outputs, so the student sees the result when she runs it, after the
exercise. Plots, and numbers of fewer than three significant digits, are beyond such a scan.

The second half asks the same of the checks' own messages: a wrong answer or a hint must
not be told the expected value.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import nbformat
import pytest

from crmlab.exercises import check

ROOT = Path(__file__).resolve().parent.parent
STUDENT = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CALL = re.compile(r"check\.([a-z][a-z0-9_]*)\(")
NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?%?")
METHODS = {"reset", "hint", "run", "attempts", "names", "spec", "solved"}

#: Numbers a check accepts that are on screen on purpose, each with the reason.
SHOWN_ON_PURPOSE = {
    # Exercise 2 of notebook 07 asks for a function; the cell evaluates it on a line
    # outside the solution block, and its target is the paper's published figure, which
    # the notebook quotes (the point of the exercise is to reproduce it).
    ("07_purchase_models.ipynb", "purchase_loglik_published"): "published figure",
    # "row 892" of the diagnosis of CDNOW's duplicates is a row label, not the count.
    ("08_spend_and_clv.ipynb", "spend_sure_to_pay", "row 892"): "a row label",
}


def _visible_text(cell: nbformat.NotebookNode) -> str:
    if cell.cell_type == "markdown":
        return cell.source
    if cell.cell_type != "code":
        return ""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            data = output.get("data", {})
            parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def _values(token: str) -> list[tuple[float, int]]:
    """The numbers a displayed token may stand for, each with its displayed decimals (a
    percentage also as a fraction, two decimals finer). Trailing zeros are not counted:
    pandas shows a column rounded to whole dollars as 196.0."""
    text = token.replace("−", "-").replace(",", "").rstrip("%")
    decimals = len(text.split(".")[1].rstrip("0")) if "." in text else 0
    value = float(text)
    return (
        [(value, decimals), (value / 100, decimals + 2)]
        if token.endswith("%")
        else [(value, decimals)]
    )


def _rounds_to(value: float, decimals: int, expected: float) -> bool:
    """Whether ``value``, shown with ``decimals`` decimals, is ``expected`` rounded.

    A check accepts anything within half a unit of its own last decimal, so an integer
    answer would "accept" 3.75 or 6.11; only a display of the expected value itself
    counts as showing it.
    """
    return abs(value - expected) <= 0.5 * 10.0 ** (-decimals) + 1e-9 * abs(expected)


def _significant(token: str) -> int:
    """Significant digits of a displayed number (leading zeros and trailing ones after the
    point not counted): small integers such as 4 or 1.0 are on every page and show nothing."""
    text = token.rstrip("%").replace(",", "").lstrip("-−")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return len(text.replace(".", "").lstrip("0"))


def _expected(name: str) -> float | None:
    """The exact value a numeric check expects: its first declared right answer."""
    spec = check.spec(name)
    if not spec.scalar:
        return None
    answers = spec.right_answers()
    if not answers:
        return None
    first = answers[0]
    if isinstance(first, (bool, str)) or not hasattr(first, "__float__"):
        return None
    try:
        value = float(first)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _shown_answers(name: str, texts: list[tuple[str, str]]) -> list[str]:
    """Where the texts ``(where, text)`` show a number check ``name`` accepts as its answer."""
    expected = _expected(name)
    if expected is None:
        return []
    found = []
    for where, text in texts:
        for match in NUMBER.finditer(text):
            token = match.group(0).rstrip(",")
            if _significant(token) < 3:
                continue
            for value, decimals in _values(token):
                if not _rounds_to(value, decimals, expected):
                    continue
                check.reset(name)
                if check.run(name, value).ok:
                    context = text[max(0, match.start() - 50) : match.end() + 30]
                    found.append(f"{where} shows {token!r}: …{' '.join(context.split())}…")
    check.reset(name)
    return found


def _exercises(path: Path) -> list[tuple[int, str]]:
    notebook = nbformat.read(path, as_version=4)
    return [
        (index, name)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for name in CALL.findall(cell.source)
        if name not in METHODS
    ]


def _allowed(notebook: str, name: str, finding: str) -> bool:
    for key in SHOWN_ON_PURPOSE:
        if key[:2] == (notebook, name) and (len(key) == 2 or key[2] in finding):
            return True
    return False


@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.stem)
def test_no_exercise_answer_is_on_the_student_screen(path):
    notebook = nbformat.read(path, as_version=4)
    texts = [(f"cell {i}", _visible_text(cell)) for i, cell in enumerate(notebook.cells)]
    problems = []
    for index, name in _exercises(path):
        shown = [
            finding
            for finding in _shown_answers(name, texts[:index] + texts[index + 1 :])
            if not _allowed(path.name, name, finding)
        ]
        problems += [f"check.{name} (cell {index}): {finding}" for finding in shown]
    assert not problems, (
        "the student edition shows an exercise's answer; tag the cell that shows it "
        "'after-exercise' (tools/make_student.py then drops its outputs) or rephrase the prose:\n"
        + "\n".join(problems)
    )


def test_the_scan_finds_an_answer_printed_after_its_check():
    # Notebook 12's exercise 1 as it was: the cell after the check printed the answer.
    shown = "381 overdue customers: truly active 0.139, BG/CNBD-k 0.159, BG/NBD 0.801"
    texts = [("cell 14", shown)]
    assert _shown_answers("beyond_overdue_p_alive", texts)
    # Its discussion, in words and other numbers, is not the answer.
    words = "keeps four in five alive; in truth 0.139, the BG/NBD 0.801; 381 customers"
    texts = [("cell 15", words)]
    assert not _shown_answers("beyond_overdue_p_alive", texts)


def test_a_percentage_display_of_a_fraction_answer_is_found():
    expected = _expected("purchase_holdout_error")
    shown = f"error {expected:+.1%}"
    assert _shown_answers("purchase_holdout_error", [("cell", shown)])


def test_make_student_drops_the_outputs_of_after_exercise_cells_only():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_student
    finally:
        sys.path.remove(str(ROOT / "tools"))
    output = nbformat.v4.new_output("stream", name="stdout", text="truly active 0.139\n")
    reveal = nbformat.v4.new_code_cell("print(truth)", metadata={"tags": ["after-exercise"]})
    reveal.outputs, reveal.execution_count = [output], 3
    plain = nbformat.v4.new_code_cell("print(truth)")
    plain.outputs, plain.execution_count = [output], 4
    assert make_student.student_cell(reveal).outputs == []
    assert make_student.student_cell(reveal).source == "print(truth)"
    assert make_student.student_cell(plain).outputs == [output]


@pytest.mark.parametrize("name", [n for n in check.names() if _expected(n) is not None])
def test_no_check_tells_a_wrong_answer_or_a_hint_the_expected_value(name):
    spec = check.spec(name)
    messages = []
    for answer, _ in spec.wrong_answers():
        check.reset(name)
        feedback = check.run(name, answer)
        if not feedback.ok:
            messages.append((f"the message for {answer!r}", feedback.message))
    messages += [(f"hint {i + 1}", hint) for i, hint in enumerate(spec.hints)]
    check.reset(name)
    shown = _shown_answers(name, messages)
    assert not shown, "\n".join(shown)


def test_solved_waits_for_a_right_answer_and_reset_forgets_it():
    from crmlab.exercises._core import Checks, exercise, number

    demo = Checks()

    @exercise(
        "demo_half", hints=["a", "b", "c"], right=[0.5], wrong=[(2, "inverse")], registry=demo
    )
    def _half(answer):
        "One half."
        return number(answer, 0.5, decimals=2, mistakes=[(2, "that is the inverse.")])

    for answer in (..., 2, 0.9):
        demo.run("demo_half", answer)
        assert not demo.solved("demo_half")
    demo.run("demo_half", 0.5)
    assert demo.solved("demo_half")
    demo.run("demo_half", 0.9)  # a later wrong try does not take a solved exercise back
    assert demo.solved("demo_half")
    demo.reset("demo_half")
    assert not demo.solved("demo_half")
    with pytest.raises(AttributeError, match="no exercise check"):
        demo.solved("demo_missing")


def test_notebook_12_discussion_waits_for_exercise_1():
    # The student edition's cell after the check shows nothing until run, and on running it
    # shows the comparison only once the check has accepted an answer.
    notebook = nbformat.read(ROOT / "notebooks" / "12_beyond_pareto_nbd.ipynb", as_version=4)
    index = next(
        i
        for i, name in _exercises(ROOT / "notebooks" / "12_beyond_pareto_nbd.ipynb")
        if name == "beyond_overdue_p_alive"
    )
    reveal = notebook.cells[index + 1]
    assert "after-exercise" in reveal.metadata.get("tags", []) and reveal.outputs == []
    assert 'check.solved("beyond_overdue_p_alive")' in reveal.source
