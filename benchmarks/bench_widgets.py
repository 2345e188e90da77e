"""Widget update speed: compute + redraw (PNG with Agg) vs compute alone.

For each widget, a control is moved through a cycle of values; the update time is
the time from setting the value to the readout and image being rewritten (the
callback runs synchronously in the kernel, as it does in a notebook). Compute
alone calls the widget's ``compute`` with the same values. Targets (CONTRIBUTING.md §6):
update median < 100 ms, compute median < 20 ms. No peer: the ``peer`` columns
stay empty.

    python benchmarks/bench_widgets.py
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

REPEATS = 3


def _cases() -> list[tuple[str, Callable[[], Any], str, list[Any]]]:
    from crmlab import widgets

    return [
        ("CLV calculator", widgets.clv_calculator, "retention", [0.5, 0.7, 0.8, 0.9, 0.95]),
        (
            "firm simulator",
            widgets.firm_simulator,
            "customer_retention",
            [0.7, 0.8, 0.85, 0.9, 0.95],
        ),
        ("sBG explorer", widgets.sbg_explorer, "alpha", [0.5, 0.7, 1.0, 1.5, 2.0]),
        ("BG/NBD explorer", widgets.bgnbd_explorer, "x", [1, 2, 4, 8, 12]),
        ("CLV targeting", widgets.clv_targeting, "uplift", [0.05, 0.1, 0.2, 0.3, 0.5]),
        (
            "cohort explorer",
            widgets.cohort_explorer,
            "cohort",
            ["all cohorts", "1997-01", "1997-02", "1997-03"],
        ),
    ]


def _median_ms(samples: list[float]) -> float:
    return 1e3 * statistics.median(samples)


def measure(build: Callable[[], Any], control: str, values: list[Any]) -> dict[str, float]:
    """Median update and compute times (seconds) of one widget."""
    widget = build()
    slider = widget.controls[control]
    slider.value = values[-1]  # warm caches, fonts and the figure's renderer
    updates, computes = [], []
    for _ in range(REPEATS):
        for value in values:
            if slider.value == value:
                continue
            start = time.perf_counter()
            slider.value = value
            updates.append(time.perf_counter() - start)
            arguments = widget.values()
            start = time.perf_counter()
            widget.compute(**arguments)
            computes.append(time.perf_counter() - start)
    if widget.error:
        raise RuntimeError(f"{control}: {widget.error}")
    return {
        "update_s": statistics.median(updates),
        "compute_s": statistics.median(computes),
        "n": len(updates),
    }


def main() -> list[dict]:
    rows = []
    for name, build, control, values in _cases():
        result = measure(build, control, values)
        update_ms, compute_ms = 1e3 * result["update_s"], 1e3 * result["compute_s"]
        verdict = (
            f"{'ok' if update_ms < 100 else 'OVER'} (<100 ms) / "
            f"compute {compute_ms:.1f} ms {'ok' if compute_ms < 20 else 'OVER'} (<20 ms)"
        )
        rows.append(
            {
                "benchmark": f"widget update: {name} ({control}, median of {result['n']})",
                "ours_s": result["update_s"],
                "peer": "",
                "peer_s": None,
                "ratio": None,
                "note": verdict,
            }
        )
        rows.append(
            {
                "benchmark": f"widget compute: {name}",
                "ours_s": result["compute_s"],
                "peer": "",
                "peer_s": None,
                "ratio": None,
                "note": "crmlab compute functions only",
            }
        )
    return rows


if __name__ == "__main__":
    print(f"{'benchmark':62s} {'median ms':>10s}  note")
    for row in main():
        print(f"{row['benchmark']:62s} {1e3 * row['ours_s']:10.1f}  {row['note']}")
