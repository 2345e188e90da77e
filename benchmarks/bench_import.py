"""How long ``import crmlab`` takes, against ``import pandas``, each in a fresh interpreter.

Target (CONTRIBUTING.md §6): at most 1.5 times ``import pandas`` measured in the same run, and
seaborn, matplotlib.pyplot and ipywidgets load only when a plot or widget is asked for.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

REPEATS = 7


def _import_seconds(statement: str) -> float:
    code = (
        f"import time; start = time.perf_counter(); {statement}; print(time.perf_counter() - start)"
    )
    times = []
    for _ in range(REPEATS):
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        times.append(float(output))
    return statistics.median(times)


def main() -> list[dict]:
    pandas_s = _import_seconds("import pandas")
    rows = []
    for label, statement, target in [
        ("import crmlab", "import crmlab", "target (CONTRIBUTING.md §6) ours <= 1.5 x pandas"),
        (
            "import crmlab + transactions, models, clv",
            "import crmlab, crmlab.transactions, crmlab.models, crmlab.clv",
            # Every model needs pandas and scipy.special; no target, shown for scale.
            "for scale: pandas + scipy.special, which the models need",
        ),
    ]:
        ours = _import_seconds(statement)
        rows.append(
            {
                "benchmark": label,
                "ours_s": ours,
                "peer": "import pandas",
                "peer_s": pandas_s,
                "ratio": pandas_s / ours,
                "note": f"median of {REPEATS} fresh interpreters; {target}",
            }
        )
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from run import format_table

    print(format_table(main()))
