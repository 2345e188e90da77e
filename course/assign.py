"""Generate the problem sets' student and autograder copies with ``otter assign``.

The source of each problem set is ``course/problem-sets/source/psNN_*.ipynb`` (questions,
solutions, visible and hidden tests, in otter-grader's format). From it ``otter assign``
makes

- the **student copy**, committed in ``course/problem-sets/student/``: no solutions, only
  the visible tests (stored in the notebook's metadata, so ``grader.check("q1")`` works
  from the single file);
- the **autograder**, a zip with every test, written to ``course/problem-sets/_build/``
  (ignored by git) and rebuilt whenever its source is newer.

Usage::

    python course/assign.py            # regenerate the student copies and the autograders
    python course/assign.py --check    # fail if a committed student copy is stale
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parent
PROBLEM_SETS = KIT / "problem-sets"
SOURCES = PROBLEM_SETS / "source"
STUDENT = PROBLEM_SETS / "student"
BUILD = PROBLEM_SETS / "_build"


def problem_sets() -> list[str]:
    """Names of the problem sets, from their source notebooks (``ps01_...``, sorted)."""
    return sorted(path.stem for path in SOURCES.glob("ps*.ipynb"))


def run_assign(name: str, result: Path, *, run_tests: bool = False) -> Path:
    """``otter assign`` one problem set into ``result``; returns that folder.

    The tests are not re-run here (``--no-run-tests``): ``tests/test_course_kit.py`` grades
    every solution with the autograder instead, which checks the same thing end to end.
    """
    source = SOURCES / f"{name}.ipynb"
    if not source.exists():
        raise ValueError(f"no problem set {name!r}: expected {source}; have {problem_sets()}")
    if result.exists():
        shutil.rmtree(result)
    # In process, not through the CLI: importing otter costs seconds, once is enough.
    import contextlib
    import io
    import logging

    from otter.assign import main as otter_assign

    logging.getLogger("otter").setLevel(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        otter_assign(str(source.resolve()), str(result.resolve()), no_run_tests=not run_tests)
    return result


def autograder_zip(name: str) -> Path:
    """The autograder zip of ``name``, rebuilt when missing or older than its source."""
    folder = BUILD / name
    source = SOURCES / f"{name}.ipynb"
    zips = sorted((folder / "autograder").glob("*.zip"))
    if not zips or zips[-1].stat().st_mtime < source.stat().st_mtime:
        run_assign(name, folder)
        zips = sorted((folder / "autograder").glob("*.zip"))
    return zips[-1]


def normalized(path: Path) -> dict:
    """The parts of a notebook that matter for staleness: cells and otter metadata.

    Cell ids and kernel metadata may differ between runs and machines; they are dropped.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = [
        {"cell_type": cell["cell_type"], "source": "".join(cell["source"])}
        for cell in notebook["cells"]
    ]
    return {"cells": cells, "otter": notebook.get("metadata", {}).get("otter")}


def generate(names: list[str] | None = None) -> list[Path]:
    """Regenerate student copies (and autograders) of ``names`` (default: all)."""
    STUDENT.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or problem_sets():
        folder = run_assign(name, BUILD / name)
        target = STUDENT / f"{name}.ipynb"
        shutil.copyfile(folder / "student" / f"{name}.ipynb", target)
        written.append(target)
    return written


def stale(names: list[str] | None = None) -> list[str]:
    """Problem sets whose committed student copy differs from a fresh ``otter assign``."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or problem_sets():
            committed = STUDENT / f"{name}.ipynb"
            fresh = run_assign(name, Path(tmp) / name) / "student" / f"{name}.ipynb"
            if not committed.exists() or normalized(committed) != normalized(fresh):
                out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="problem sets (default: all)")
    parser.add_argument("--check", action="store_true", help="fail if a student copy is stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.names)
        if bad:
            print(f"stale student copies: {bad}; run `python course/assign.py`", file=sys.stderr)
            return 1
        print(f"{len(args.names or problem_sets())} student copies up to date")
        return 0
    for path in generate(args.names):
        print(f"wrote {path.relative_to(KIT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
