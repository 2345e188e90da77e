"""Write the sample submissions of problem set 2 that the grading tests use.

Each sample is the student copy with its answer cells filled in as a student might:

- ``full``: every answer from the solution, so full marks (13 of 13);
- ``empty``: the student copy as handed out, so zero;
- ``partial``: q1 and q2 right; q3 the right forecast but its error as a fraction, not in
  percent (2 of 3); q4 without discounting (passes the visible test only: 1 of 2); q5
  unanswered: 9 of 13;
- ``crash``: full, but the q3 cell raises before it answers: 10 of 13;
- ``loop``: full, but the q5 cell never ends: the grader stops it, 11 of 13;
- ``broken``: a notebook cut off halfway through its JSON, as a failed upload leaves it.

Run ``python course/problem-sets/samples/make_samples.py`` after changing problem set 2.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
KIT = HERE.parent
NAME = "ps02_subscription_sbg"
EXPECTED = {"full": 13, "empty": 0, "partial": 9, "crash": 10, "loop": 11, "broken": 0}


def _solutions() -> list[str]:
    """Solution code of each answer cell, in order, from the source notebook."""
    cells = json.loads((KIT / "source" / f"{NAME}.ipynb").read_text(encoding="utf-8"))["cells"]
    out, inside = [], False
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.strip() == "# BEGIN SOLUTION":
            inside = True
        elif cell["cell_type"] == "raw" and text.strip() == "# END SOLUTION":
            inside = False
        elif inside and cell["cell_type"] == "code":
            out.append(text.replace("  # SOLUTION", ""))
    return out


def _filled(answers: list[str | None]) -> dict:
    notebook = json.loads((KIT / "student" / f"{NAME}.ipynb").read_text(encoding="utf-8"))
    index = 0
    for cell in notebook["cells"]:
        if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            if answers[index] is not None:
                cell["source"] = answers[index]
            index += 1
    return notebook


def main() -> None:
    solved = _solutions()
    partial = list(solved)
    partial[2] = partial[2].replace(
        "error_pct = 100 * (forecast_12 - survivors[12]) / survivors[12]",
        "error_pct = (forecast_12 - survivors[12]) / survivors[12]",
    )
    partial[3] = partial[3].replace(
        "sbg.discounted_expected_lifetime(monthly_discount)", "sbg.expected_lifetime()"
    )
    partial[4] = None
    crash = list(solved)
    crash[2] = 'raise RuntimeError("I will finish this later")\n' + crash[2]
    loop = list(solved)
    loop[4] = "while True:  # waiting for inspiration\n    pass\n" + loop[4]
    samples = {
        "full": _filled(solved),
        "empty": _filled([None] * len(solved)),
        "partial": _filled(partial),
        "crash": _filled(crash),
        "loop": _filled(loop),
    }
    for name, notebook in samples.items():
        path = HERE / NAME / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", "utf-8")
    text = json.dumps(samples["full"], indent=1)
    (HERE / NAME / "broken.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    print(f"wrote {len(samples) + 1} samples to {HERE / NAME}")


if __name__ == "__main__":
    main()
