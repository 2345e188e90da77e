"""Notebook 08, the researcher's notebook, run by papermill on a researcher's own logs.

One log is clean but uses other column names; the other is dirty (missing ids, bad dates,
currency strings, exact duplicates, returns, rows after the end, an extra column) and is
run with the cleaning options. Both are generated here with a seed, so the right table is
known row by row without asking crmlab.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOK = (
    Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "08_spend_and_clv.ipynb"
)
CALIBRATION_END = "2023-06-30"
OBSERVATION_END = "2023-11-26"


def _purchases(seed: int = 2024, customers: int = 400) -> pd.DataFrame:
    # Buyers in the BG/NBD manner: each buys at her own rate and, after each repeat
    # purchase, may leave for good; first purchases are spread over two months.
    rng = np.random.default_rng(seed)
    rows = []
    for client in range(customers):
        rate = rng.gamma(0.5, 1 / 3.0)  # purchases per week
        dropout = rng.beta(1.0, 3.0)
        day = float(rng.integers(0, 60))
        first = True
        while day <= 360:  # runs past OBSERVATION_END on purpose
            when = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(day))
            rows.append((f"C{client:04d}", when, round(float(rng.gamma(3.0, 15.0)), 2) + 1))
            if not first and rng.random() < dropout:
                break
            first = False
            day += 7 * rng.exponential(1 / rate)
    return pd.DataFrame(rows, columns=["client", "purchase_day", "value"])


def _expected(log: pd.DataFrame) -> pd.DataFrame:
    """x and x_holdout per customer, counted by hand: purchase days, same day merged."""
    days = log.assign(day=log["purchase_day"].dt.normalize())
    first = days.groupby("client")["day"].min()
    customers = first[first <= CALIBRATION_END].index
    calibration = days[days["day"] <= CALIBRATION_END].groupby("client")["day"].nunique() - 1
    holdout_rows = days[(days["day"] > CALIBRATION_END) & (days["day"] <= OBSERVATION_END)]
    holdout = holdout_rows.groupby("client")["day"].nunique()
    return pd.DataFrame(
        {
            "x": calibration.reindex(customers),
            "x_holdout": holdout.reindex(customers, fill_value=0),
        }
    )


def _run(tmp_path: Path, **parameters: object) -> nbformat.NotebookNode:
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "customer_col": "client",
            "date_col": "purchase_day",
            "amount_col": "value",
            "calibration_end": CALIBRATION_END,
            "observation_end": OBSERVATION_END,
            "unit": "W",
            "n_draws": 30,
            **parameters,
        },
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def _check_table(results: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert sorted(results.index) == sorted(expected.index)
    results = results.loc[expected.index]
    assert (results["x"] == expected["x"]).all()
    assert (results["x_holdout"] == expected["x_holdout"]).all()
    assert results["p_alive"].between(0, 1).all()
    assert np.isfinite(results["value"]).all() and (results["value"] >= 0).all()
    inside = results[["value_low", "value", "value_high"]].dropna()
    assert len(inside) == len(results)
    assert (inside["value_low"] <= inside["value_high"]).all()


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """Notebook 08 on a clean CSV with other column names, in weeks: (log, notebook, table)."""
    folder = tmp_path_factory.mktemp("clean")
    log = _purchases()
    log.to_csv(folder / "my_log.csv", index=False)
    notebook = _run(
        folder, data_path=str(folder / "my_log.csv"), output_path=str(folder / "clv.csv")
    )
    return log, notebook, pd.read_csv(folder / "clv.csv", index_col=0)


def test_notebook_08_runs_on_a_users_csv_and_its_checks_stay_silent(clean_run):
    log, notebook, results = clean_run
    printed = _printed(notebook)
    assert "Not yet" not in printed and "Not answered" not in printed
    assert "Correct" not in printed, "the CDNOW checks must stay silent on other data"
    _check_table(results, _expected(log))


def _dirty(log: pd.DataFrame, seed: int = 7) -> tuple[pd.DataFrame, dict[str, int]]:
    """The clean purchases plus known dirt; returns the dirty log and what was added."""
    rng = np.random.default_rng(seed)
    dirty = log.assign(
        value=log["value"].map(lambda v: f"{v:.2f}"),
        purchase_day=log["purchase_day"].dt.strftime("%Y-%m-%d"),
        channel=rng.choice(["paid", "organic"], size=len(log)),
    )
    # Repeat purchases written as currency strings (never a first purchase, so no T moves).
    repeat = np.flatnonzero(log.duplicated("client").to_numpy())
    currency_rows = rng.choice(repeat, size=6, replace=False)
    dirty.loc[currency_rows, "value"] = [f"${v:,.2f}" for v in log.loc[currency_rows, "value"]]
    # Returns on the day of a purchase, smaller than it: netting keeps the purchase.
    returned = rng.choice(repeat, size=4, replace=False)
    returns = dirty.loc[returned].assign(
        value=[f"{-v / 2:.2f}" for v in log.loc[returned, "value"]]
    )
    # One return before the customer's first purchase: nothing to net it against.
    early = dirty.iloc[[0]].assign(purchase_day="2022-12-01", value="-5.00")
    junk = pd.DataFrame(
        {
            "client": [None, None, "C0001", "C0002"],
            "purchase_day": ["2023-02-01", "2023-03-01", "2023-02-30", "not a date"],
            "value": ["10.00", "12.00", "9.00", "8.00"],
            "channel": "paid",
        }
    )
    duplicates = dirty.iloc[rng.choice(repeat, size=5, replace=False)]
    dirty = pd.concat([dirty, returns, early, junk, duplicates], ignore_index=True)
    dirty = dirty.sample(frac=1.0, random_state=3).reset_index(drop=True)
    added = {
        "missing ids": 2,
        "bad dates": 2,
        "currency": len(currency_rows),
        "netted": len(returns),
        "unmatched": 1,
        "duplicates": len(duplicates),
    }
    return dirty, added


def test_notebook_08_cleans_a_dirty_log_and_reports_what_it_did(tmp_path, clean_run):
    log, _, clean_results = clean_run
    dirty, added = _dirty(log)
    dirty.to_csv(tmp_path / "dirty.csv", index=False)
    notebook = _run(
        tmp_path,
        data_path=str(tmp_path / "dirty.csv"),
        unit="D",
        on_invalid="drop",
        returns="net",
        duplicates="drop",
        currency=".",
        output_path=str(tmp_path / "clv.csv"),
    )
    printed = _printed(notebook)
    assert "Not yet" not in printed and "Correct" not in printed

    # The diagnosis names every kind of dirt before anything is changed ...
    diagnosis = printed[: printed.index("rows checked, ")]
    for word in ("missing customer id", "not dates", "currency", "negative", "duplicate"):
        assert word in diagnosis, f"the diagnosis does not mention {word!r}"
    # ... and the report says what each option did, with the counts we planted.
    report = printed[printed.index("rows checked, ") :]

    def count(pattern: str) -> int:
        match = re.search(r"([\d,]+) " + pattern, report)
        assert match, f"the report has no line matching {pattern!r}:\n{report}"
        return int(match.group(1).replace(",", ""))

    assert count(r"rows dropped: missing customer id") == added["missing ids"]
    assert count(r"rows dropped: unparseable date") == added["bad dates"]
    assert count(r"amounts read from currency strings") == added["currency"]
    assert count(r"exact duplicate rows \(dropped\)") == added["duplicates"]
    assert count(r"return rows netted") == added["netted"]
    assert count(r"return rows with no earlier purchase dropped") == added["unmatched"]

    # The table is the one the clean purchases give, row by row; and counted in days
    # rather than weeks, the purchase model says the same of each customer (the returns
    # netted here change amounts only, so spend and value may differ slightly).
    results = pd.read_csv(tmp_path / "clv.csv", index_col=0)
    _check_table(results, _expected(log))
    same = clean_results.loc[results.index]
    assert np.allclose(results["p_alive"], same["p_alive"], atol=1e-4)
    assert np.allclose(results["expected_holdout"], same["expected_holdout"], rtol=1e-3)
    assert np.allclose(results["value"], same["value"], rtol=0.05)


def test_notebook_08_reads_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    log = _purchases(seed=5, customers=200)
    log.to_parquet(tmp_path / "log.parquet")
    _run(
        tmp_path,
        data_path=str(tmp_path / "log.parquet"),
        output_path=str(tmp_path / "clv.parquet"),
    )
    results = pd.read_parquet(tmp_path / "clv.parquet")
    _check_table(results, _expected(log))
    assert results.attrs.get("unit") == "W"


def _estimates(notebook: nbformat.NotebookNode, names: tuple[str, ...]) -> pd.DataFrame:
    """The first summary table printed whose rows are ``names``: estimate, lower, upper."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            shown = output.get("data", {}).get("text/plain", "")
            if "at_boundary" not in shown:
                continue
            rows = {}
            for line in shown.splitlines():
                match = re.match(r"^(\w+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", line)
                if match and match.group(1) in names:
                    estimate, _, lower, upper = map(float, match.groups()[1:])
                    rows[match.group(1)] = (estimate, lower, upper)
            if set(rows) == set(names):
                return pd.DataFrame(rows, index=["estimate", "lower", "upper"]).T
    raise AssertionError(f"no summary table with the parameters {names}")


def test_notebook_08_recovers_the_truth_of_the_researchers_dirty_log(tmp_path):
    # Issue 10's scenario, scaled down: the generated dirty log with known parameters,
    # every purchase counted (merge="none"), every kind of dirt handled by an option.
    from dirty_log import OBSERVATION_END as LOG_OBSERVATION_END
    from dirty_log import make_dirty_log

    dirty = make_dirty_log(5_000, seed=2026)
    dirty.log.to_csv(tmp_path / "log.csv", index=False)
    notebook = _run(
        tmp_path,
        data_path=str(tmp_path / "log.csv"),
        customer_col="client",
        date_col="order_ts",
        amount_col="revenue",
        calibration_end=LOG_OBSERVATION_END,
        observation_end="2024-02-29",
        on_invalid="drop",
        returns="net",
        duplicates="drop",
        currency=".",
        merge="none",
        output_path=str(tmp_path / "clv.csv"),
    )
    printed = _printed(notebook)
    assert "Not yet" not in printed and "Correct" not in printed
    report = printed[printed.index("rows checked, ") :]

    def count(pattern: str) -> int:
        match = re.search(r"([\d,]+) " + pattern, report)
        return int(match.group(1).replace(",", "")) if match else 0

    assert count(r"rows dropped: missing customer id") == dirty.dirt["missing_client"]
    assert count(r"rows dropped: unparseable date") == dirty.dirt["bad_date"]
    assert count(r"amounts read from currency strings") == dirty.dirt["dollar_strings"]
    assert count(r"exact duplicate rows \(dropped\)") == dirty.dirt["duplicates"]
    handled = count(r"return rows netted") + count(r"return rows with no earlier purchase")
    assert handled == dirty.dirt["returns"]

    estimates = _estimates(notebook, ("r", "alpha", "a", "b"))
    for name, row in estimates.iterrows():
        truth = dirty.truth[name]
        assert row["lower"] <= truth <= row["upper"], f"{name}: {truth} outside {row.tolist()}"
    results = pd.read_csv(tmp_path / "clv.csv", index_col=0)
    assert len(results) == 5_000  # every customer was acquired in 2021
