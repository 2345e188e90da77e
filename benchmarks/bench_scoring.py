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

``python benchmarks/bench_scoring.py spark`` measures, instead, a covariate Pareto/NBD
with a Gamma–Gamma (every score, CLV included) on ``CRMLAB_BENCH_SCORING_CUSTOMERS``
customers (default 1,000,000 here) three ways in one interpreter: in memory, in Spark
(``local[2]``) as ``score`` does it now (a partition's batches joined up to
``chunk_size`` and grouped by (x, T, z)), and in Spark as it did before (each Arrow
batch scored on its own by ``_scores`` without tables, the old ``_score_chunk``).
The Spark runs are timed to Spark's ``noop`` sink, which computes every row and
writes nothing; ``CRMLAB_BENCH_SCORING_CHECKED=after,before`` compares both Spark
runs with memory, customer by customer (default: ``after``). Run it under
``flock /work/wt/bigmem.lock nice -n 10``.
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


SPARK = r"""
import json, os, sys, time
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[2])
from bench_scoring import simulate_base
import crmlab as cl
from crmlab import scoring
from crmlab.targeting import _value_schedule

n = int(sys.argv[1])
arrays = simulate_base(n)
rng = np.random.default_rng(7)
base = pd.DataFrame(arrays)
base.insert(0, "customer_id", np.arange(n))
base["g"] = rng.integers(0, 2, n)               # e.g. a channel dummy, on both processes
base["h"] = rng.integers(0, 2, n).astype(float)  # e.g. a second dummy, on purchasing
base.attrs["unit"] = "W"
model = cl.models.ParetoNBD(purchase_covariates=["g", "h"], dropout_covariates=["g"]).set_params(
    r=0.55, alpha=10.58, s=0.61, beta=11.67, unit="W",
    **{"purchase.g": 0.6, "purchase.h": -0.3, "dropout.g": -0.8})
gg = cl.models.GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
options = {"t": 52, "spend_model": gg, "discount": (0.10, "Y")}
out = {"distinct": int(len(base.groupby(["x", "T", "g", "h"]).size()))}
model.score(base.iloc[:1000], **options)
start, cpu = time.perf_counter(), time.process_time()
memory = model.score(base, **options)
out["memory_s"], out["memory_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu

from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, StructField, StructType
os.environ["PYSPARK_PYTHON"] = sys.executable
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.memory", "2g")
         .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
frame = spark.createDataFrame(base).cache()
out["partitions"] = frame.rdd.getNumPartitions()
frame.count()
wanted = list(scoring.COLUMNS)
edges, weights = _value_schedule("W", 52, (0.10, "Y"), 1.0, 1.0)
plan = {"edges": edges, "weights": weights, "margin": 1.0}
schema = StructType(list(frame.schema.fields) + [StructField(c, DoubleType()) for c in wanted])

def before(frames):
    for batch in frames:  # the old _score_chunk: one Arrow batch at a time, no tables
        yield batch.assign(**scoring._scores(batch, model, 52, wanted, gg, plan))

runs = {"after": lambda: model.score(frame, **options),
        "before": lambda: frame.mapInPandas(before, schema=schema)}
runs["after"]().limit(1000).write.format("noop").mode("overwrite").save()  # warm the workers
for name in ("after", "before", "after"):
    start = time.perf_counter()
    runs[name]().write.format("noop").mode("overwrite").save()
    out.setdefault(name + "_s", []).append(time.perf_counter() - start)
    print(name, out[name + "_s"][-1], file=sys.stderr, flush=True)
out["load"] = os.getloadavg()[0]
out["scored_partitions"] = runs["after"]().rdd.getNumPartitions()
print("RESULT " + json.dumps(out), flush=True)  # the times, should a comparison fail
expected = memory.set_index("customer_id")[wanted]
import tempfile
for name in sys.argv[3].split(","):
    # Through Parquet: collecting a million scored rows to the driver is what fails.
    folder = tempfile.mkdtemp()
    runs[name]().select("customer_id", *wanted).write.mode("overwrite").parquet(folder)
    back = pd.read_parquet(folder).set_index("customer_id").loc[expected.index]
    out[name + "_rel"] = float(max(
        np.max(np.abs(back[c] - expected[c]) / np.maximum(np.abs(expected[c]), 1e-300))
        for c in wanted))
spark.stop()
print("RESULT " + json.dumps(out))
"""


def spark_rows(n: int, checked: str = "after") -> list[dict]:
    """A covariate Pareto/NBD + Gamma–Gamma scored in memory and in Spark, before and after.

    ``checked``: which Spark runs are compared with memory, customer by customer
    (``"after,before"`` for both; each comparison computes the scores once more).
    """
    done = subprocess.run(
        [sys.executable, "-c", SPARK, str(n), str(Path(__file__).resolve().parent), checked],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        error = (done.stderr.strip().splitlines() or ["failed"])[-1][:300]
        return [{"benchmark": f"score in Spark, {n:,} customers", "note": f"failed: {error}"}]
    out = json.loads(lines[-1].removeprefix("RESULT "))
    if done.returncode != 0:
        checked = ""
    after, before = min(out["after_s"]), out["before_s"][0]
    label = (
        f"{n:,} customers, covariate Pareto/NBD + Gamma-Gamma (P(alive), E[purchases, 52 W], "
        "E[spend], 52-week CLV)"
    )
    common = (
        f"{out['distinct']:,} distinct (x, T, z); the frame in {out['partitions']} partitions; "
        f"load {out['load']:.1f}"
    )
    return [
        {
            "benchmark": f"score in Spark local[2], now, {label}",
            "ours_s": after,
            "peer": "Spark, before (each Arrow batch on its own)",
            "peer_s": before,
            "ratio": before / after,
            "note": f"after runs {', '.join(f'{s:.1f}' for s in out['after_s'])} s; largest "
            "relative difference from memory: "
            + (", ".join(f"{k} {out[k + '_rel']:.1e}" for k in checked.split(",")) or "failed")
            + f"; scored in {out['scored_partitions']} partitions; {common}",
        },
        {
            "benchmark": f"score in memory, same {n:,} customers",
            "ours_s": out["memory_s"],
            "peer": "Spark local[2], now",
            "peer_s": after,
            "ratio": after / out["memory_s"],
            "note": f"CPU {out['memory_cpu_s']:.1f} s; {common}",
        },
    ]


def main() -> list[dict]:
    rows = scoring_rows() if CUSTOMERS else []
    if TRACKING_ROWS:
        rows += tracking_rows(TRACKING_ROWS)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import format_table

    if sys.argv[1:] == ["spark"]:
        customers = int(os.environ.get("CRMLAB_BENCH_SCORING_CUSTOMERS", 1_000_000))
        checked = os.environ.get("CRMLAB_BENCH_SCORING_CHECKED", "after")
        print(format_table(spark_rows(customers, checked)))
    else:
        print(format_table(main()))
