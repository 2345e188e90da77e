"""The researcher's notebook (08) end to end on a generated log: time per cell, peak memory.

The log is the researcher's of ``shared/reviews/researcher-trial.md``, generated here
(numpy, seeded, written to Parquet in blocks of customers): a BG/NBD purchase process
in weeks (r 0.9, α 6, a 0.8, b 7) with Gamma–Gamma spend (p 6, q 4, γ 15), customers
acquired uniformly over 2021 at any second of the day, times to the second, the log
running two months past the observation end; ``rows`` ≈ 10 × ``customers``. (The log
of ``bench_engines.py`` has no dropout and one purchase rate for all, so a BG/NBD
fit runs to the boundary of its parameters there.) The notebook reads it through its
``data_path`` parameter, as a researcher would: calibration to 2023-06-30, holdout
to 2023-12-31. Papermill runs it in a fresh kernel
and records each cell's duration; the peak memory is the kernel's maximum resident
set (the largest child process this script waited for).

    python benchmarks/bench_notebook.py                         # 100 k customers, 1 M rows
    CRMLAB_BENCH_CUSTOMERS=3000000 nice -n 10 \\
        python benchmarks/bench_notebook.py                      # 31 M rows: the target

``CRMLAB_BENCH_LOG`` names a Parquet file to reuse (made if missing);
``CRMLAB_BENCH_DRAWS`` sets the notebook's ``n_draws``.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "solutions" / "08_spend_and_clv.ipynb"
CUSTOMERS = int(os.environ.get("CRMLAB_BENCH_CUSTOMERS", 100_000))
DRAWS = int(os.environ.get("CRMLAB_BENCH_DRAWS", 100))


def generate(path: Path, customers: int, seed: int = 2021, block: int = 250_000) -> int:
    """Write the log of ``customers`` customers to ``path``; return its number of rows."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    week = 7 * 86_400.0
    start = pd.Timestamp("2021-01-01").value // 10**9
    end = pd.Timestamp("2024-02-29").value // 10**9
    rng = np.random.default_rng(seed)
    writer, rows = None, 0
    for first_id in range(0, customers, block):
        n = min(block, customers - first_id)
        acquired = start + rng.uniform(0, 365 * 86_400.0, n)
        window = (end - acquired) / week
        rate = rng.gamma(0.9, 1 / 6.0, n)
        dropout = rng.beta(0.8, 7.0, n)
        # She may leave after each repeat purchase (the BG/NBD's story), so she makes at
        # most a geometric number of them; the cap only saves drawing gaps past the window.
        repeats = np.minimum(rng.geometric(dropout), rng.poisson(rate * window * 1.5) + 5)
        owner = np.repeat(np.arange(n), repeats)
        gaps = rng.exponential(1.0, owner.size) / rate[owner]
        cumulative = np.concatenate([[0.0], np.cumsum(gaps)])
        before = np.concatenate([[0], np.cumsum(repeats)[:-1]])  # gaps of earlier customers
        times = cumulative[1:] - np.repeat(cumulative[before], repeats)
        keep = times <= window[owner]
        owner = np.concatenate([np.arange(n), owner[keep]])
        seconds = np.concatenate([acquired, acquired[owner[n:]] + times[keep] * week])
        nu = rng.gamma(4.0, 1 / 15.0, n)
        amount = np.round(rng.gamma(6.0, 1.0, owner.size) / nu[owner], 2) + 0.01
        order = np.argsort(seconds, kind="stable")
        table = pa.table(
            {
                "customer_id": (owner[order] + first_id).astype(np.int64),
                "date": pd.to_datetime(seconds[order].astype(np.int64), unit="s"),
                "amount": amount[order],
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
        rows += table.num_rows
    assert writer is not None
    writer.close()
    return rows


def main() -> dict:
    import nbformat
    import papermill

    with tempfile.TemporaryDirectory(dir=os.environ.get("CRMLAB_BENCH_DIR")) as folder:
        log = Path(os.environ.get("CRMLAB_BENCH_LOG") or Path(folder) / "log.parquet")
        if not log.exists():
            start = time.perf_counter()
            rows = generate(log, CUSTOMERS)
            print(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s", flush=True)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(log).metadata.num_rows
        out = Path(folder) / "out.ipynb"
        start = time.perf_counter()
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(out),
            parameters={
                "data_path": str(log),
                "calibration_end": "2023-06-30",
                "observation_end": "2023-12-31",
                "n_draws": DRAWS,
                "output_path": str(Path(folder) / "clv.parquet"),
            },
            cwd=str(NOTEBOOK.parent),
            progress_bar=False,
            kernel_name="python3",
        )
        wall = time.perf_counter() - start
        notebook = nbformat.read(out, as_version=4)
    cells = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        cells.append(
            {
                "cell": number,
                "seconds": round(cell.metadata.get("papermill", {}).get("duration") or 0.0, 2),
                "first_line": first[:70],
            }
        )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {
        "rows": rows,
        "customers": CUSTOMERS,
        "draws": DRAWS,
        "wall_seconds": round(wall, 1),
        "kernel_peak_gb": round(peak_kb / 2**20, 2),
        "cells": cells,
    }
    print(
        f"{rows:,} rows, {CUSTOMERS:,} customers: {wall:.1f} s wall, "
        f"kernel peak {peak_kb / 2**20:.2f} GB"
    )
    for row in sorted(cells, key=lambda r: -r["seconds"]):
        if row["seconds"] >= 0.5:
            print(f"  cell {row['cell']:>2}: {row['seconds']:7.1f} s  {row['first_line']}")
    print("RESULT " + json.dumps(result))
    return result


if __name__ == "__main__":
    main()
