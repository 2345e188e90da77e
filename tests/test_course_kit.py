"""The instructor's kit (course/): problem sets, the autograder, the gradebook, the capstone.

The grading tests run otter-grader for real on the sample submissions shipped in
``course/problem-sets/samples/`` (full, empty, partial, crash, loop, broken) and on the
solution of every problem set, in one ``course/grade.py`` run, offline and without
Docker.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
KIT = REPO / "course"
PROBLEM_SETS = KIT / "problem-sets"
SAMPLES = PROBLEM_SETS / "samples" / "ps02_subscription_sbg"

pytest.importorskip("otter", reason="the course extra (pip install -e '.[course]') is needed")


def _load(path: Path):
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"_course_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


assign = _load(KIT / "assign.py")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _solution_lines(source: Path) -> list[str]:
    """Lines of code that only the solution has: marked ``# SOLUTION`` or in a block."""
    lines, in_cell_block, in_raw_block = [], False, False
    for cell in _cells(source):
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw":
            if text.strip() == "# BEGIN SOLUTION":
                in_raw_block = True
            elif text.strip() == "# END SOLUTION":
                in_raw_block = False
            continue
        if cell["cell_type"] != "code" or not in_raw_block:
            continue
        for line in text.splitlines():
            if line.strip() == "# BEGIN SOLUTION":
                in_cell_block = True
            elif line.strip() == "# END SOLUTION":
                in_cell_block = False
            elif in_cell_block:
                lines.append(line.strip())
            elif line.rstrip().endswith("# SOLUTION"):
                # `name = value  # SOLUTION` becomes `name = ...`: the value is the secret
                lines.append(line.split("=", 1)[1].rsplit("#", 1)[0].strip())
    return [line for line in lines if line]


def _hidden_tests(source: Path) -> list[str]:
    return [
        "".join(c["source"]).split("# END TEST CONFIG", 1)[1].strip()
        for c in _cells(source)
        if c["cell_type"] == "code" and "hidden: true" in "".join(c["source"])
    ]


def test_five_problem_sets_with_the_notebook_conventions() -> None:
    names = assign.problem_sets()
    assert len(names) >= 5
    for name in names:
        cells = _cells(PROBLEM_SETS / "student" / f"{name}.ipynb")
        markdown = [("".join(c["source"])) for c in cells if c["cell_type"] == "markdown"]
        first = markdown[0]
        assert first.startswith("# Problem set"), name
        assert "You will practise" in first and "**Time:**" in first, name
        assert "**Prerequisites:**" in first, name
        closing = next(m for m in markdown if m.startswith("## Summary"))
        assert "## Further reading" in closing and re.search(r"\(\d{4}\)\.", closing), name
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        assert any("show_versions()" in c for c in code), name


def test_every_question_has_visible_and_hidden_tests() -> None:
    for name in assign.problem_sets():
        source = PROBLEM_SETS / "source" / f"{name}.ipynb"
        student = json.loads((PROBLEM_SETS / "student" / f"{name}.ipynb").read_text("utf-8"))
        tests = student["metadata"]["otter"]["tests"]
        questions = [
            line.split(":", 1)[1].strip()
            for c in _cells(source)
            if c["cell_type"] == "raw" and "".join(c["source"]).startswith("# BEGIN QUESTION")
            for line in "".join(c["source"]).splitlines()
            if line.startswith("name:")
        ]
        assert questions and sorted(tests) == sorted(questions), name
        for question, test in tests.items():
            cases = [case for suite in test["suites"] for case in suite["cases"]]
            assert cases, f"{name} {question} has no visible test"
            assert not any(case["hidden"] for case in cases), f"{name} {question}"
        assert len(_hidden_tests(source)) >= len(questions), name


def test_student_copies_hold_no_solution_and_no_hidden_test() -> None:
    for name in assign.problem_sets():
        source = PROBLEM_SETS / "source" / f"{name}.ipynb"
        student_path = PROBLEM_SETS / "student" / f"{name}.ipynb"
        text = student_path.read_text(encoding="utf-8")
        code = "\n".join(
            "".join(c["source"]) for c in _cells(student_path) if c["cell_type"] == "code"
        )
        secrets = _solution_lines(source)
        assert secrets, f"found no solution lines in {source.name}: the check would be empty"
        leaked = [line for line in secrets if line in code]
        assert leaked == [], f"{name}: solution code in the student copy: {leaked[:3]}"
        for hidden in _hidden_tests(source):
            for line in hidden.splitlines():
                if line.strip().startswith("assert"):
                    assert line.strip() not in text, f"{name}: hidden test in student copy"
        assert "BEGIN SOLUTION" not in text and "hidden: true" not in text


def test_the_leak_check_would_see_a_leak() -> None:
    name = assign.problem_sets()[0]
    source = PROBLEM_SETS / "source" / f"{name}.ipynb"
    code = "\n".join("".join(c["source"]) for c in _cells(source) if c["cell_type"] == "code")
    assert any(line in code for line in _solution_lines(source))


def test_committed_student_copies_are_up_to_date() -> None:
    stale = assign.stale()
    assert stale == [], f"regenerate with `python course/assign.py`: {stale}"


def test_staleness_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "ps02_subscription_sbg"
    student = tmp_path / "student"
    student.mkdir()
    notebook = json.loads((PROBLEM_SETS / "student" / f"{name}.ipynb").read_text("utf-8"))
    notebook["cells"][1]["source"] = "# An edited title that the source does not have"
    (student / f"{name}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    monkeypatch.setattr(assign, "STUDENT", student)
    assert assign.stale([name]) == [name]


# ------------------------------------------------------------------------------ grading


@pytest.fixture(scope="module")
def gradebooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Grade the samples and every problem set's solution in one run of course/grade.py."""
    folder = tmp_path_factory.mktemp("submissions")
    # As an LMS download would have them: one folder per problem set.
    shutil.copytree(SAMPLES, folder / SAMPLES.name)
    (folder / "notes.txt").write_text("my answers are in the other file\n")
    solutions = folder / "solutions"
    solutions.mkdir()
    for name in assign.problem_sets():
        built = assign.autograder_zip(name).parent / f"{name}.ipynb"
        shutil.copy(built, solutions / f"{name}.ipynb")
    out = folder / "gradebook.csv"
    done = subprocess.run(
        [
            sys.executable,
            str(KIT / "grade.py"),
            str(folder),
            "--out",
            str(out),
            "--cell-timeout",
            "20",
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    books = {}
    for path in folder.glob("gradebook_*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            books[path.stem.removeprefix("gradebook_")] = {
                row["student"]: row for row in csv.DictReader(handle)
            }
    return books


def _samples(gradebooks: dict[str, dict[str, dict]]) -> dict[str, dict]:
    prefix = f"{SAMPLES.name}/"
    return {
        student.removeprefix(prefix): row
        for student, row in gradebooks[SAMPLES.name].items()
        if student.startswith(prefix)
    }


def test_gradebook_has_a_row_per_student_and_a_column_per_question(gradebooks) -> None:
    book = _samples(gradebooks)
    assert set(book) == {"full", "empty", "partial", "crash", "loop", "broken"}
    row = book["full"]
    assert list(row)[:1] == ["student"] and list(row)[-3:] == ["total", "possible", "reason"]
    assert [c for c in row if re.fullmatch(r"q\d+", c)] == ["q1", "q2", "q3", "q4", "q5"]
    for student, row in book.items():
        scores = sum(float(row[q]) for q in ("q1", "q2", "q3", "q4", "q5"))
        assert float(row["total"]) == scores, student
        assert row["possible"] == "13", student


def test_full_marks_zero_and_the_right_partial_score(gradebooks) -> None:
    book = _samples(gradebooks)
    assert float(book["full"]["total"]) == 13 and book["full"]["reason"] == ""
    assert float(book["empty"]["total"]) == 0
    assert "not answered" in book["empty"]["reason"]
    partial = book["partial"]
    assert [float(partial[q]) for q in ("q1", "q2", "q3", "q4", "q5")] == [3, 3, 2, 1, 0]
    assert "in percent" in partial["reason"] and "discounted_expected_lifetime" in partial["reason"]


def test_a_crash_or_a_loop_costs_only_its_question(gradebooks) -> None:
    book = _samples(gradebooks)
    crash, loop = book["crash"], book["loop"]
    assert float(crash["total"]) == 10 and float(crash["q3"]) == 0
    assert "RuntimeError: I will finish this later" in crash["reason"]
    assert float(loop["total"]) == 11 and float(loop["q5"]) == 0
    assert "TimeoutError" in loop["reason"]


def test_files_that_are_not_notebooks_get_zero_and_a_reason(gradebooks) -> None:
    unidentified = gradebooks["unidentified"]
    assert float(unidentified["notes"]["total"]) == 0
    assert "not a valid notebook" in unidentified["notes"]["reason"]
    broken = _samples(gradebooks)["broken"]
    assert float(broken["total"]) == 0 and "not a valid notebook" in broken["reason"]


def test_every_solution_scores_full_marks(gradebooks) -> None:
    for name in assign.problem_sets():
        row = gradebooks[name][f"solutions/{name}"]
        assert row["total"] == row["possible"] and float(row["total"]) > 0, (name, row)


def test_grade_rejects_a_missing_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(KIT / "grade.py"), str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "must be a folder" in done.stderr


# ------------------------------------------------------------------------------ capstone


def test_capstone_starter_runs_the_researchers_notebook_on_a_generated_log(
    tmp_path: Path,
) -> None:
    pytest.importorskip("papermill")
    starter = _load(KIT / "capstone" / "starter.py")
    assert starter.researcher_notebook().name in (
        "08_spend_and_clv.ipynb",
        "07_clv_noncontractual.ipynb",
    )
    log = starter.generate_log(300, seed=11)
    log = log.rename(columns={"customer_id": "client", "date": "day", "amount": "value"})
    csv_path = tmp_path / "my_log.csv"
    log.to_csv(csv_path, index=False)
    executed = starter.run(
        csv_path,
        tmp_path / "out",
        customer_col="client",
        date_col="day",
        amount_col="value",
        extra={"margin": 0.25},
    )
    assert executed.exists()
    import pandas as pd

    results = pd.read_csv(tmp_path / "out" / "clv.csv", index_col=0)
    assert len(results) == log["client"].nunique()
    # the value column is "value" in 08 (with an interval), "clv" in the notebook before it
    value = next(c for c in ("value", "clv") if c in results.columns)
    assert results[value].notna().all() and (results[value] >= 0).all()
    with pytest.raises(ValueError, match="no column"):
        starter.run(csv_path, tmp_path / "bad", customer_col="customer_id")


def test_capstone_starter_finds_the_notebook_by_its_parameters(tmp_path: Path) -> None:
    starter = _load(KIT / "capstone" / "starter.py")
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "outputs": [],
                "execution_count": None,
                "source": "csv_path = None\nunit = 'W'\n",
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "11_renamed_researcher.ipynb").write_text(json.dumps(notebook))
    found = starter.researcher_notebook(tmp_path)
    assert found.name == "11_renamed_researcher.ipynb"
    with pytest.raises(ValueError, match="no researcher's notebook"):
        starter.researcher_notebook(tmp_path / "empty")


def test_students_run_the_visible_tests_from_the_single_file(tmp_path: Path) -> None:
    """What a student sees: grader.check works offline from the notebook alone."""
    import nbformat
    from nbclient import NotebookClient

    name = SAMPLES.name
    results = {}
    for sample in ("full", "partial"):
        path = tmp_path / sample / f"{name}.ipynb"
        path.parent.mkdir()
        shutil.copy(SAMPLES / f"{sample}.ipynb", path)
        notebook = nbformat.read(str(path), as_version=4)
        NotebookClient(
            notebook,
            timeout=300,
            allow_errors=True,
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        results[sample] = {
            cell.source: " ".join(
                str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell.outputs
            )
            for cell in notebook.cells
            if cell.cell_type == "code" and cell.source.startswith('grader.check("')
        }
    assert len(results["full"]) == 5
    assert all("All test cases passed" in out for out in results["full"].values())
    # q4 without discounting passes its visible test: only the hidden one catches it
    assert "All test cases passed" in results["partial"]['grader.check("q4")']
    assert "All test cases passed" not in results["partial"]['grader.check("q5")']


def test_guide_gives_the_points_of_each_problem_set() -> None:
    guide = (KIT / "instructor-guide.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) \| .+ \| (\d+) \|$", guide, flags=re.MULTILINE)
    points = {}
    for name in assign.problem_sets():
        student = json.loads((PROBLEM_SETS / "student" / f"{name}.ipynb").read_text("utf-8"))
        total = 0
        for cell in _cells(PROBLEM_SETS / "source" / f"{name}.ipynb"):
            text = "".join(cell["source"])
            if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
                total += int(re.search(r"points: (\d+)", text).group(1))
        assert student["metadata"]["otter"]["assignment_name"] == name
        points[str(int(name[2:4]))] = str(total)
    assert dict(rows) == points


def test_syllabus_names_the_course_notebooks_and_real_readings() -> None:
    syllabus = (KIT / "syllabus.md").read_text(encoding="utf-8")
    for name in (
        "00_start_here",
        "01_origins_of_crm",
        "02_phases_and_ecrm",
        "03_product_to_customer_focus",
        "04_customer_data_rfm",
        "05_retention",
        "06_clv_contractual",
        "07_purchase_models",
        "08_spend_and_clv",
        "09_discrete_time_bgbb",
        "10_customer_centric_crm",
    ):
        assert f"../notebooks/{name}.ipynb" in syllabus, name
    # the researchers' appendices, after the ten-week plan, each a notebook that exists
    appendices = syllabus.split("Problem sets (each")[0].split("## Ten-week plan")[1]
    for name in ("11_large_logs", "12_beyond_pareto_nbd"):
        assert f"../notebooks/{name}.ipynb" in appendices, name
        assert (KIT.parent / "notebooks" / f"{name}.ipynb").exists(), name
    plan_table = syllabus.split("## Ten-week plan")[1].split("Problem sets (each")[0]
    weeks = re.findall(r"^\| (\d+) \| ", plan_table, re.M)
    assert [int(w) for w in weeks] == list(range(1, 11))
    # every author-year cited in the plan is in the reading list
    plan, readings = syllabus.split("## Readings")
    for author in re.findall(r"([A-Z][a-z]+) \(\d{4}", plan.split("## Ten-week plan")[1]):
        assert author in readings, author
