"""Scoring a whole base: BG/NBD + Gamma–Gamma on 10 M customers, and the tracking plot.

* ``model.score(summary, t=52, spend_model=gg)`` (P(alive), expected purchases in
  52 weeks, expected spend and a 52-week CLV discounted 10 % a year) on a simulated
  base whose times are recorded to the day, against lifetimes 0.11.3 on the same
  customers: ``conditional_probability_alive``,
  ``conditional_expected_number_of_purchases_up_to_time(52)`` and Gamma–Gamma's
  ``conditional_expected_average_profit`` (lifetimes computes no CLV here, so the peer
  does less work than we do). Target (issue 15): under 10 s in memory.
* The same scoring written to Parquet with ``output=path``: the peak resident memory
  *above the loaded base*, for two base sizes and two chunk sizes, to show that it
  follows the chunk, not the base.
* ``cl.plots.plot_tracking`` on a generated log (target: under 10 s at 30 M rows).

Every measurement runs in a fresh interpreter. The peak is the kernel's high-water
mark of the resident set, reset (``/proc/self/clear_refs``) once the base is loaded,
so that it is the scoring's own. Sizes come from the environment::

    python benchmarks/bench_scoring.py                        # 10 M customers, 30 M rows
    CRMLAB_BENCH_SCORING_CUSTOMERS=1000000 CRMLAB_BENCH_TRACKING_ROWS=1000000 \\
        python benchmarks/bench_scoring.py                    # a quick run

Run it alone, ``nice``d: it needs a few GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CUSTOMERS = int(os.environ.get("CRMLAB_BENCH_SCORING_CUSTOMERS", 10_000_000))
TRACKING_ROWS = int(os.environ.get("CRMLAB_BENCH_TRACKING_ROWS", 30_000_000))
TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}

MEASURE = r"""
import json, sys, time
import numpy as np, pandas as pd

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

kind, path = sys.argv[1], sys.argv[2]
options = json.loads(sys.argv[3])
arrays = np.load(path)
base = pd.DataFrame({name: arrays[name] for name in ("x", "t_x", "T", "monetary")})
base.attrs["unit"] = "W"
del arrays
import crmlab as cl
import lifetimes
import pyarrow.parquet
truth, spend = options["truth"], options["spend"]
out = {"base_bytes": int(base.memory_usage(deep=True).sum())}

def run(kind, base, output=None):
    if kind in ("ours", "parquet"):
        bg = cl.models.BGNBD().set_params(unit="W", **truth)
        gg = cl.models.GammaGamma().set_params(**spend)
        return bg.score(base, t=52, spend_model=gg, discount=(0.10, "Y"),
                        chunk_size=options["chunk"], output=output)
    bgf = lifetimes.BetaGeoFitter()
    bgf.params_ = pd.Series(truth)
    ggf = lifetimes.GammaGammaFitter()
    ggf.params_ = pd.Series({"p": spend["p"], "q": spend["q"], "v": spend["gamma"]})
    alive = bgf.conditional_probability_alive(base["x"], base["t_x"], base["T"])
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(
        52, base["x"], base["t_x"], base["T"])
    profit = ggf.conditional_expected_average_profit(base["x"], base["monetary"])
    return alive, expected, profit

# Warm up on a few customers, so that neither side is timed importing its modules.
warm = base.iloc[:1000].copy()
run(kind, warm, options.get("output") and options["output"] + ".warm")
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark
before = status("VmRSS:")
start, cpu = time.perf_counter(), time.process_time()
result = run(kind, base, options.get("output"))
out["seconds"] = time.perf_counter() - start
out["cpu_seconds"] = time.process_time() - cpu
out["peak_above_base"] = status("VmHWM:") - before
print("RESULT " + json.dumps(out))
"""


def simulate_base(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A base acquired over two years, observed for 104 weeks, times to the day."""
    import crmlab as cl

    rng = np.random.default_rng(seed)
    T = 104.0 - rng.integers(0, 728, n) / 7
    base = cl.models.BGNBD().set_params(**TRUTH).simulate(n, T, seed=seed + 1)
    x = base["x"]
    t_x = np.where(x > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    t_x = np.minimum(t_x, T)  # rounding must not pass T
    spend = cl.models.GammaGamma().set_params(**SPEND).simulate(x, seed=seed + 2)
    return {"x": x, "t_x": t_x, "T": T, "monetary": np.where(x > 0, spend, 0.0)}


def _run(kind: str, path: Path, **options) -> dict:
    options = {"truth": TRUTH, "spend": SPEND, "chunk": 1_000_000, **options}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, kind, str(path), json.dumps(options)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(lines[-1].removeprefix("RESULT "))


def _agreement(base: dict[str, np.ndarray], size: int = 200_000) -> str:
    """Largest difference from lifetimes on a slice of the base (same parameters)."""
    import lifetimes
    import pandas as pd

    import crmlab as cl

    part = pd.DataFrame({name: values[:size] for name, values in base.items()})
    part.attrs["unit"] = "W"
    ours = cl.models.BGNBD().set_params(unit="W", **TRUTH).score(part, t=52)
    peer = lifetimes.BetaGeoFitter()
    peer.params_ = pd.Series(TRUTH)
    alive = np.asarray(peer.conditional_probability_alive(part["x"], part["t_x"], part["T"]))
    expected = np.asarray(
        peer.conditional_expected_number_of_purchases_up_to_time(
            52, part["x"], part["t_x"], part["T"]
        )
    )
    return (
        f"on {size:,} of them, |P(alive) - lifetimes| <= "
        f"{np.abs(ours['p_alive'] - alive).max():.1e}, |E[purchases] - lifetimes| <= "
        f"{np.abs(ours['expected_purchases'] - expected).max():.1e}"
    )


def _gb(value: float) -> str:
    return f"{value / 2**30:.2f} GB"


def scoring_rows() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("CRMLAB_BENCH_DIR")) as folder:
        sizes = sorted({CUSTOMERS, max(CUSTOMERS // 5, 1)}, reverse=True)
        paths = {}
        for n in sizes:
            base = simulate_base(n)
            paths[n] = Path(folder) / f"base_{n}.npz"
            np.savez(paths[n], **base)
            if n == CUSTOMERS:
                agreement = _agreement(base)
                pairs = len(np.unique(base["x"] * 1000 + base["T"] * 7))
            del base
        path = paths[CUSTOMERS]
        ours, peer = _run("ours", path), _run("peer", path)
        label = f"{CUSTOMERS:,} customers"
        if "error" in ours or "error" in peer:
            rows.append({"benchmark": f"score, {label}", "note": f"failed: {ours} {peer}"})
        else:
            rows.append(
                {
                    "benchmark": f"score BG/NBD + Gamma-Gamma in memory, {label} "
                    "(P(alive), E[purchases, 52 W], E[spend], 52-week CLV)",
                    "ours_s": ours["seconds"],
                    "peer": "lifetimes P(alive) + E[purchases, 52 W] + GG average profit",
                    "peer_s": peer["seconds"],
                    "ratio": peer["seconds"] / ours["seconds"],
                    "note": f"target < 10 s; CPU {ours['cpu_seconds']:.1f} s, lifetimes "
                    f"{peer['cpu_seconds']:.1f} s; {pairs:,} distinct (x, T); peak above the "
                    f"{_gb(ours['base_bytes'])} base: ours {_gb(ours['peak_above_base'])}, "
                    f"lifetimes {_gb(peer['peak_above_base'])}; {agreement}",
                }
            )
        for n in sizes:
            for chunk in (250_000, 1_000_000):
                output = str(Path(folder) / f"scores_{n}_{chunk}.parquet")
                result = _run("parquet", paths[n], chunk=chunk, output=output)
                Path(output).unlink(missing_ok=True)
                if "error" in result:
                    rows.append({"benchmark": f"score to Parquet, {n:,}", "note": str(result)})
                    continue
                rows.append(
                    {
                        "benchmark": f"score to Parquet (output=path), {n:,} customers, "
                        f"chunk_size {chunk:,}",
                        "ours_s": result["seconds"],
                        "peer": None,
                        "peer_s": None,
                        "ratio": None,
                        "note": f"CPU {result['cpu_seconds']:.1f} s; peak resident memory "
                        f"above the {_gb(result['base_bytes'])} "
                        f"base: {_gb(result['peak_above_base'])}",
                    }
                )
    return rows


TRACKING = r"""
import json, sys, time
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import crmlab as cl

path, unit = sys.argv[1], sys.argv[2]
log = pd.read_parquet(path)
log["date"] = log["date"].astype("datetime64[ns]")
model = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
cl.plots.plot_tracking(model, log.iloc[:1000], "1997-09-30", unit=unit)  # imports, warm-up
plt.close("all")
out = {}
start = time.perf_counter()
table = cl.plots.tracking_table(log)
out["table_seconds"] = time.perf_counter() - start
start, cpu = time.perf_counter(), time.process_time()
cl.plots.plot_tracking(model, log, "1997-09-30", unit=unit)
out["seconds"], out["cpu_seconds"] = time.perf_counter() - start, time.process_time() - cpu
start = time.perf_counter()
cl.plots.plot_tracking(model, table, "1997-09-30", unit=unit)
out["from_table_seconds"] = time.perf_counter() - start
out["rows"] = len(log)
out["peak_rss"] = [int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                   if line.startswith("VmHWM:")][0]
print("RESULT " + json.dumps(out))
"""


def tracking_rows(n_rows: int) -> list[dict]:
    """plot_tracking on copies of CDNOW's master log (``crmlab.simulate.write_cdnow_copies``)."""
    import crmlab as cl

    rows = []
    copies = max(1, round(n_rows / 69_659))
    with tempfile.TemporaryDirectory(dir=os.environ.get("CRMLAB_BENCH_DIR")) as folder:
        path = Path(folder) / "log.parquet"
        written = cl.simulate.write_cdnow_copies(path, copies)
        for unit in ("W", "D"):
            done = subprocess.run(
                [sys.executable, "-c", TRACKING, str(path), unit],
                capture_output=True,
                text=True,
                check=False,
            )
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                error = (done.stderr.strip().splitlines() or ["failed"])[-1][:200]
                rows.append({"benchmark": f"plot_tracking, {written:,} rows", "note": error})
                continue
            result = json.loads(lines[-1].removeprefix("RESULT "))
            rows.append(
                {
                    "benchmark": f"plot_tracking, unit={unit!r}, {written:,} rows "
                    f"({copies} copies of CDNOW's master log)",
                    "ours_s": result["seconds"],
                    "peer": "target",
                    "peer_s": 10.0,
                    "ratio": 10.0 / result["seconds"],
                    "note": f"CPU {result['cpu_seconds']:.1f} s; tracking_table alone "
                    f"{result['table_seconds']:.1f} s; from that table "
                    f"{result['from_table_seconds']:.2f} s; peak resident memory "
                    f"{_gb(result['peak_rss'])} (the log included)",
                }
            )
    return rows


def main() -> list[dict]:
    rows = scoring_rows() if CUSTOMERS else []
    if TRACKING_ROWS:
        rows += tracking_rows(TRACKING_ROWS)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import format_table

    print(format_table(main()))
