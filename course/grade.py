"""Grade a folder of problem-set submissions into a CSV gradebook, offline, without Docker.

Each submission is executed and tested by otter-grader's own non-container grader
(``otter.api.grade_submission``, the engine of ``otter run``) in a child process, so that
nothing a student writes can stop the run:

- a cell that raises scores zero on the questions that need it; the rest still count;
- a cell that runs longer than ``--cell-timeout`` seconds is stopped (``TimeoutError``
  inside the kernel) and the notebook goes on; a submission that still exceeds
  ``--timeout`` seconds in total is stopped and scores zero, with that reason;
- a file that is not a notebook scores zero, with that reason.

The gradebook has one row per submission (the student: the file's path inside the folder,
without ``.ipynb``), one column per question, ``total``, ``possible`` and ``reason``, which
says in words where each lost point went.

Usage::

    python course/grade.py SUBMISSIONS [--assignment ps01_master_rfm_cohorts]
                           [--out SUBMISSIONS/gradebook.csv] [--jobs 2]

Which problem set a notebook answers is read from its metadata (``otter.assignment_name``,
written by ``otter assign``), else from its file name, else ``--assignment``. Submissions of
several problem sets give one gradebook each (``gradebook_<name>.csv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assign import autograder_zip, problem_sets

DEFAULT_CELL_TIMEOUT = 60
DEFAULT_TIMEOUT = 600
REASON_LENGTH = 240

# Runs first in the graded copy: any cell still running after N seconds raises in the
# kernel, so a loop costs the question it is in, not the whole notebook.
CELL_GUARD = textwrap.dedent(
    """\
    import signal as _grader_signal

    def _grader_stop(signum, frame):
        raise TimeoutError("the grader stopped this cell after {seconds} s")

    _grader_signal.signal(_grader_signal.SIGALRM, _grader_stop)
    get_ipython().events.register("pre_run_cell", lambda *a: _grader_signal.alarm({seconds}))
    get_ipython().events.register("post_run_cell", lambda *a: _grader_signal.alarm(0))
    """
)


@dataclass
class Grade:
    """One row of a gradebook."""

    student: str
    file: str
    assignment: str | None
    scores: dict[str, float] = field(default_factory=dict)
    possible: float = 0.0
    reasons: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


def _short(text: str, length: int = REASON_LENGTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def read_notebook(path: Path) -> tuple[dict | None, str | None]:
    """The notebook at ``path`` as JSON, or ``None`` and why it is not a valid notebook."""
    import nbformat

    try:
        notebook = nbformat.read(str(path), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # any unreadable file is a reason, never a crash
        return None, f"not a valid notebook ({type(error).__name__}: {_short(error, 120)})"
    return notebook, None


def identify(path: Path, notebook: dict | None, default: str | None) -> str | None:
    """The problem set a submission answers: metadata, then file name, then ``default``."""
    known = problem_sets()
    if notebook is not None:
        name = notebook.get("metadata", {}).get("otter", {}).get("assignment_name")
        if name in known:
            return name
    # LMS downloads name files after the student, folders after the assignment: look at both.
    for part in reversed(path.parts[-3:]):
        for name in known:
            if name in part or part.startswith(name.split("_")[0] + "_"):
                return name
    return default


def question_names(name: str) -> list[str]:
    """Questions of a problem set, in order, from its source notebook's markers."""
    from assign import SOURCES

    names = []
    for cell in json.loads((SOURCES / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            for line in text.splitlines():
                if line.startswith("name:"):
                    names.append(line.split(":", 1)[1].strip())
    return names


def _grade_child(
    submission: Path, assignment: str, zip_path: Path, cell_timeout: int, out: Path
) -> None:
    """Child process: grade one notebook with otter and write the result as JSON."""
    import nbformat
    from otter.api import grade_submission

    notebook = nbformat.read(str(submission), as_version=4)
    guard = nbformat.v4.new_code_cell(CELL_GUARD.format(seconds=int(cell_timeout)))
    notebook.cells.insert(0, guard)
    with tempfile.TemporaryDirectory() as tmp:
        # The student copy's first cell opens the notebook by the problem set's file name.
        graded = Path(tmp) / f"{assignment}.ipynb"
        nbformat.write(notebook, str(graded))
        results = grade_submission(str(graded), str(zip_path), quiet=True)
    questions = {}
    for name in results.test_files:
        test_file = results.get_result(name)
        failures = [
            _failure_reason(r.message or "", r.test_case.failure_message)
            for r in test_file.test_case_results
            if not r.passed
        ]
        questions[name] = {
            "score": float(test_file.score),
            "possible": float(test_file.possible),
            "failures": failures,
        }
    errors = []
    executed = results.notebook or {"cells": []}
    for cell in executed.get("cells", []):
        if _is_otter_cell("".join(cell.get("source", ""))):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and "ellipsis" not in output.get("evalue", ""):
                errors.append(f"a cell raised {output.get('ename')}: {output.get('evalue')}")
    catastrophic = results.catastrophic_error
    out.write_text(
        json.dumps(
            {
                "questions": questions,
                "errors": errors,
                "catastrophic": None if catastrophic is None else repr(catastrophic),
            }
        )
    )


def _is_otter_cell(source: str) -> bool:
    """Cells that otter writes into the student copy (they fail harmlessly when grading)."""
    return source.startswith(("# Initialize Otter", "grader.check", "# Save your notebook"))


def _failure_reason(message: str, failure_message: str | None = None) -> str:
    """The hint a failed test gives the student, not the doctest transcript around it."""
    # Doctest goes on after a failed line; a test's first assertion is its most specific
    # diagnosis, so the first failure is the one to report.
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if any("ellipsis" in line for line in lines):
        return "not answered (the ... placeholder is still there)"
    for line in lines:
        if line.startswith("AssertionError:"):
            return _short(line.removeprefix("AssertionError:").strip(), 140)
    for line in lines:
        missing = re.match(r"^NameError: name '(\w+)' is not defined", line)
        if missing:
            return f"{missing.group(1)} is not defined (its cell raised an error or was not run)"
        if re.match(r"^[A-Za-z]+(Error|Exception):", line):
            return _short(line, 140)
    return _short(failure_message or "a test failed", 140)


def grade_one(
    path: Path,
    student: str,
    assignment: str | None,
    *,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    timeout: int = DEFAULT_TIMEOUT,
) -> Grade:
    """Grade one file; every failure becomes a zero and a reason, never an exception."""
    notebook, problem = read_notebook(path)
    assignment = identify(path, notebook, assignment)
    grade = Grade(student=student, file=str(path), assignment=assignment)
    if assignment is None:
        grade.reasons.append(problem or "cannot tell which problem set this answers")
        return grade
    questions = question_names(assignment)
    grade.scores = dict.fromkeys(questions, 0.0)
    if problem is not None:
        grade.reasons.append(problem)
        grade.possible = float("nan")
        return grade
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            str(path.resolve()),
            assignment,
            str(autograder_zip(assignment)),
            str(cell_timeout),
            str(out),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, cwd=tmp, env=_env()
            )
        except subprocess.TimeoutExpired:
            grade.reasons.append(f"stopped after {timeout} s in total (an endless loop?)")
            return grade
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            grade.reasons.append(f"could not be graded: {_short(last, 160)}")
            return grade
        result = json.loads(out.read_text())
    if result["catastrophic"]:
        grade.reasons.append(f"grading error: {_short(result['catastrophic'], 160)}")
    possible = 0.0
    for name, info in result["questions"].items():
        grade.scores[name] = info["score"]
        possible += info["possible"]
        if info["score"] < info["possible"]:
            hints = list(dict.fromkeys(info["failures"])) or ["a test failed"]
            grade.reasons.append(f"{name}: {' / '.join(hints)}")
    grade.possible = possible
    seen = set()
    for error in result["errors"]:
        if error not in seen:
            seen.add(error)
            grade.reasons.append(_short(error, 160))
    return grade


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # A headless backend: submissions that plot must not look for a display.
    env.setdefault("MPLBACKEND", "agg")
    return env


def submissions_in(folder: Path) -> list[Path]:
    """Every file in ``folder`` (recursively) except gradebooks and checkpoints."""
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        if path.name.startswith("gradebook") and path.suffix == ".csv":
            continue
        if path.name.startswith("."):
            continue
        files.append(path)
    return files


def grade_folder(
    folder: Path,
    *,
    assignment: str | None = None,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    timeout: int = DEFAULT_TIMEOUT,
    jobs: int = 1,
) -> list[Grade]:
    """Grade every file of ``folder``; one :class:`Grade` per file, in file order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder of notebooks; {folder} is not a folder")
    files = submissions_in(folder)
    if not files:
        raise ValueError(f"no submissions in {folder}: put the students' .ipynb files there")
    if assignment is not None and assignment not in problem_sets():
        raise ValueError(f"unknown assignment {assignment!r}; have {problem_sets()}")

    def one(path: Path) -> Grade:
        student = str(path.relative_to(folder).with_suffix(""))
        return grade_one(path, student, assignment, cell_timeout=cell_timeout, timeout=timeout)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, files))


def write_gradebooks(grades: list[Grade], out: Path) -> list[Path]:
    """One CSV per problem set (``out`` itself when there is only one)."""
    by_assignment: dict[str, list[Grade]] = {}
    unknown = [g for g in grades if g.assignment is None]
    for grade in grades:
        if grade.assignment is not None:
            by_assignment.setdefault(grade.assignment, []).append(grade)
    if len(by_assignment) == 1:
        # An unreadable file in a one-problem-set folder belongs to that problem set.
        only = next(iter(by_assignment))
        for grade in unknown:
            grade.assignment = only
            grade.scores = dict.fromkeys(question_names(only), 0.0)
            grade.possible = float("nan")
        by_assignment[only].extend(unknown)
        unknown = []
    if unknown:
        by_assignment["unidentified"] = unknown
    written = []
    for name, rows in sorted(by_assignment.items()):
        path = out if len(by_assignment) == 1 else out.with_name(f"{out.stem}_{name}{out.suffix}")
        questions = question_names(name) if name != "unidentified" else []
        full = next((g.possible for g in rows if g.possible == g.possible and g.possible), None)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", *questions, "total", "possible", "reason"])
            for grade in sorted(rows, key=lambda g: g.student):
                possible = grade.possible if grade.possible == grade.possible else full
                writer.writerow(
                    [
                        grade.student,
                        *(f"{grade.scores.get(q, 0.0):g}" for q in questions),
                        f"{grade.total:g}",
                        "" if possible is None else f"{possible:g}",
                        "; ".join(grade.reasons),
                    ]
                )
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        submission, name, zip_path, cell_timeout, out = argv[1:6]
        _grade_child(Path(submission), name, Path(zip_path), int(cell_timeout), Path(out))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks")
    parser.add_argument("--assignment", help=f"problem set, one of {problem_sets()}")
    parser.add_argument("--out", type=Path, help="gradebook (default SUBMISSIONS/gradebook.csv)")
    parser.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT)
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    args = parser.parse_args(argv)
    try:
        grades = grade_folder(
            args.submissions,
            assignment=args.assignment,
            cell_timeout=args.cell_timeout,
            timeout=args.timeout,
            jobs=args.jobs,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = args.out or args.submissions / "gradebook.csv"
    for path in write_gradebooks(grades, out):
        print(f"wrote {path}")
    for grade in grades:
        print(f"  {grade.student}: {grade.total:g}  {'; '.join(grade.reasons)[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
