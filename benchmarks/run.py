"""Run every benchmark in this folder and write the table to benchmarks/results.md.

Each ``bench_<topic>.py`` defines ``main() -> list[dict]`` whose rows carry
``benchmark``, ``ours_s``, ``peer``, ``peer_s``, ``ratio`` and ``note``. Ratios are
peer time over ours, measured in the same run on the same machine, so that they mean
something wherever the table is regenerated.

    python benchmarks/run.py                 # all benchmarks
    python benchmarks/run.py summarize models  # only bench_summarize.py and bench_models.py
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
COLUMNS = ["benchmark", "ours_s", "peer", "peer_s", "ratio", "note"]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_table(rows: list[dict]) -> str:
    """Render benchmark rows as a Markdown table."""
    header = "| " + " | ".join(COLUMNS) + " |"
    rule = "| " + " | ".join("---" for _ in COLUMNS) + " |"
    body = ["| " + " | ".join(_cell(row.get(column)) for column in COLUMNS) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def main(selected: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    paths = sorted(HERE.glob("bench_*.py"))
    if selected:
        paths = [path for path in paths if path.stem.removeprefix("bench_") in selected]
    sections = []
    for path in paths:
        print(f"== {path.name}", flush=True)
        rows = _load(path).main()
        table = format_table(rows)
        print(table, flush=True)
        sections.append(f"## {path.stem.removeprefix('bench_')}\n\n{table}\n")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` on {dt.date.today().isoformat()} ({machine}).\n"
        "`ratio` is the peer's time divided by ours, both measured in the same run "
        "(above 1: crmlab is faster). Regenerate with `make bench`.\n\n"
    )
    if not selected or not RESULTS.exists():
        RESULTS.write_text(header + "\n".join(sections), encoding="utf-8")
    else:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write("\n" + "\n".join(sections))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
