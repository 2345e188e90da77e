"""Notebook 07 run by papermill on a researcher's own CSV with other column names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOK = (
    Path(__file__).resolve().parent.parent
    / "notebooks"
    / "solutions"
    / ("07_clv_noncontractual.ipynb")
)


def _own_log(path: Path) -> pd.DataFrame:
    # Buyers in the BG/NBD manner: each buys at her own rate and, after each purchase,
    # may leave for good; first purchases are spread over two months.
    rng = np.random.default_rng(2024)
    rows = []
    for client in range(400):
        rate = rng.gamma(0.5, 1 / 3.0)  # purchases per week
        dropout = rng.beta(1.0, 3.0)
        day = float(rng.integers(0, 60))
        while day <= 330:
            when = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(day))
            rows.append((f"C{client:04d}", when, round(float(rng.gamma(3.0, 15.0)), 2)))
            if len(rows) > 1 and rows[-2][0] == rows[-1][0] and rng.random() < dropout:
                break
            day += 7 * rng.exponential(1 / rate)
    log = pd.DataFrame(rows, columns=["client", "purchase_day", "value"])
    log.to_csv(path, index=False)
    return log


def test_notebook_07_runs_on_a_users_csv(tmp_path):
    log = _own_log(tmp_path / "my_log.csv")
    output = tmp_path / "clv.csv"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        parameters={
            "csv_path": str(tmp_path / "my_log.csv"),
            "customer_col": "client",
            "date_col": "purchase_day",
            "amount_col": "value",
            "calibration_end": "2023-06-30",
            "observation_end": "2023-11-26",
            "unit": "W",
            "output_path": str(output),
        },
        cwd=str(tmp_path),
        progress_bar=False,
    )
    results = pd.read_csv(output, index_col=0)
    log["purchase_day"] = pd.to_datetime(log["purchase_day"])
    acquired = log.groupby("client")["purchase_day"].min() <= "2023-06-30"
    assert sorted(results.index) == sorted(acquired[acquired].index)
    assert results["p_alive"].between(0, 1).all()
    assert np.isfinite(results["clv"]).all() and (results["clv"] >= 0).all()
    holdout = log[(log["purchase_day"] > "2023-06-30") & (log["purchase_day"] <= "2023-11-26")]
    counts = holdout.groupby("client")["purchase_day"].nunique()
    assert (results["x_holdout"] == counts.reindex(results.index, fill_value=0)).all()
