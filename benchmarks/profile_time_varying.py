"""Where the time-varying Pareto/NBD's fit spends its CPU, on the benchmark's bases.

``python benchmarks/profile_time_varying.py customer 100000`` (or ``calendar``) fits the
base of ``bench_models.py time-varying`` (or ``calendar N none``) with standard errors and
prints the CPU (``time.process_time``) of each stage, the likelihood evaluations by kind
with their cost per piece after t_x, and the log-likelihood; a third argument ``profile``
adds cProfile's top functions. ``python benchmarks/profile_time_varying.py per-piece``
times one gradient evaluation per piece on a per-customer and two calendar bases of
30,000 customers in one process (best of 7), so that their costs compare.

The stages are timed by wrapping the model's methods for this run only.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

import bench_models as bm

import crmlab as cl
import crmlab.models._time_varying_loglik as loglik
import crmlab.models.paretonbd_dynamic as dynamic

END = "2024-03-31"


def customer_base(n: int) -> tuple[Any, dict, dict]:
    names = {"purchase_covariates": ["season"], "dropout_covariates": ["mailing"]}
    truth = cl.models.ParetoNBDTimeVarying(**names).set_params(**bm.TIME_VARYING_TRUTH)
    table, first = bm._time_varying_base(n)
    log = truth.simulate(table, first, END, merge="none", seed=1)
    return cl.models.time_varying_data(log, table, END, merge="none"), names, bm.TIME_VARYING_TRUTH


def calendar_base(n: int, names: dict | None = None) -> tuple[Any, dict, dict]:
    grid = pd.date_range("2023-01-02", periods=66, freq="7D")
    week = np.arange(66)
    calendar = pd.DataFrame(
        {
            "period": grid,
            "season": (grid.month >= 11).astype(float),
            "promotion": (week % 8 == 3).astype(float),
            "competitor": ((week // 6) % 3 == 1).astype(float),
        }
    )
    full = {"purchase_covariates": ["season", "promotion"], "dropout_covariates": ["competitor"]}
    truth = cl.models.ParetoNBDTimeVarying(**full).set_params(**bm.CALENDAR_TRUTH)
    rng = np.random.default_rng(2)
    first = pd.Series(
        grid[0] + pd.to_timedelta(rng.integers(0, 26 * 7, n), "D"), index=np.arange(n)
    )
    log = truth.simulate(calendar, first, END, seed=3, merge="none")
    data = cl.models.time_varying_data(log, calendar, END, merge="none")
    return data, names or full, bm.CALENDAR_TRUTH


def stages(case: str, n: int, profile: bool) -> None:
    data, names, _ = customer_base(n) if case == "customer" else calendar_base(n)
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    model_class = dynamic.ParetoNBDTimeVarying

    def wrap(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start
                calls[label] += 1

        setattr(owner, name, timed)

    wrap(model_class, "_read_all", "layout")
    wrap(model_class, "_starts", "starts (plain Pareto/NBD)")
    wrap(model_class, "_from_subsample", "subsample start, all of it")
    wrap(model_class, "_subsample_fit", "  its fit")
    wrap(model_class, "_warm_start_at", "  its warm start's Hessian")
    wrap(model_class, "_polish_on_error_hessian", "Newton finish on the SEs' Hessian")
    wrap(model_class, "_covariance_at", "covariance (when not from the finish)")
    evaluations: dict[tuple[str, int], list] = defaultdict(lambda: [0, 0.0, 0])
    evaluate = loglik.evaluate

    def counted(params: Any, k_p: int, c: dict, weights: Any = None) -> Any:
        start = time.process_time()
        out = evaluate(params, k_p, c, weights)
        entry = evaluations[("gradient" if weights is not None else "value", len(c["x"]))]
        entry[0] += 1
        entry[1] += time.process_time() - start
        entry[2] = len(c["after"])
        return out

    dynamic.evaluate = counted
    profiler = cProfile.Profile() if profile else None
    start = time.process_time()
    if profiler:
        profiler.enable()
    model = model_class(**names).fit(data)
    model.standard_errors  # noqa: B018 - computed on first access
    if profiler:
        profiler.disable()
    cpu = time.process_time() - start
    print(f"{case}, {n:,} customers: fit + SEs {cpu:.2f} s CPU; log-likelihood {model.loglik!r}")
    for label, seconds in spent.items():
        print(f"  {label:40s} {seconds:7.2f} s ({calls[label]} calls)")
    for (kind, rows), (count, seconds, after) in sorted(evaluations.items()):
        each = seconds / count
        print(
            f"  {kind:8s} on {rows:7,d} rows ({after:9,d} pieces after t_x): {count:3d} x "
            f"{each * 1e3:7.1f} ms, {each / max(after, 1) * 1e6:5.2f} us/piece"
        )
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        print(text.getvalue())


def per_piece(n: int = 30_000) -> None:
    bases = {
        "per-customer (season; mailing)": customer_base(n),
        "calendar (season; competitor)": calendar_base(
            n, {"purchase_covariates": ["season"], "dropout_covariates": ["competitor"]}
        ),
        "calendar (season, promotion; competitor)": calendar_base(n),
    }
    prepared = {}
    for label, (data, names, truth) in bases.items():
        model = cl.models.ParetoNBDTimeVarying(**names)
        columns, weights = model._read_all(data, None, fitting=True)
        point = np.array([truth[name] for name in model.names])
        prepared[label] = (columns, weights, point, len(names["purchase_covariates"]))
    best = {label: np.inf for label in prepared}
    for _ in range(7):  # interleaved, so that the machine's load falls on all alike
        for label, (columns, weights, point, k_p) in prepared.items():
            start = time.process_time()
            loglik.evaluate(point, k_p, columns, weights)
            best[label] = min(best[label], time.process_time() - start)
    for label, (columns, weights, *_) in prepared.items():
        after = len(columns["after"])
        print(
            f"{label:42s} {len(weights):6,d} rows, {len(columns['piece_length']):8,d} pieces, "
            f"{after:8,d} after t_x: {best[label] * 1e3:6.1f} ms, "
            f"{best[label] / after * 1e6:.2f} us/piece after t_x"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["per-piece"]:
        per_piece()
    else:
        stages(sys.argv[1], int(sys.argv[2]), sys.argv[3:4] == ["profile"])
