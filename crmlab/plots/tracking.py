"""Figures that set a non-contractual model (BG/NBD, Pareto/NBD) against the data.

Each function returns the Axes it drew on. The x axis carries the time unit of the
summary (``summary.attrs["unit"]``), so a plot never leaves the unit to guesswork.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "plot_conditional_expectations",
    "plot_frequency_fit",
    "plot_p_alive_map",
    "plot_tracking",
    "repeat_transactions_by_period",
]

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}


def _axes(ax: Any = None, figsize: tuple[float, float] = (7, 4)) -> Any:
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette="colorblind")
    if ax is None:
        # Constrained layout keeps long axis labels and colour bars inside the figure.
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _unit(frame: pd.DataFrame) -> str:
    return _UNIT_NAMES.get(frame.attrs.get("unit", "W"), frame.attrs.get("unit", "W"))


def plot_frequency_fit(model: Any, summary: pd.DataFrame, max_x: int = 7, ax: Any = None) -> Any:
    """Bars: customers with 0, 1, ..., ``max_x``+ repeat purchases, observed and expected.

    The expectation sums the model's P(X(T) = n) over customers, each with her own T.
    """
    ax = _axes(ax)
    T = summary["T"].to_numpy()
    expected = [float(np.sum(model.probability_of_purchases(n, T))) for n in range(max_x)]
    expected.append(len(summary) - sum(expected))
    counts = np.minimum(summary["x"].to_numpy(), max_x)
    observed = np.bincount(counts.astype(int), minlength=max_x + 1)
    labels = [str(n) for n in range(max_x)] + [f"{max_x}+"]
    frame = pd.DataFrame(
        {
            "repeat purchases": labels * 2,
            "customers": np.r_[observed, expected],
            "source": ["observed"] * len(labels) + [type(model).__name__] * len(labels),
        }
    )
    import seaborn as sns

    sns.barplot(data=frame, x="repeat purchases", y="customers", hue="source", ax=ax)
    ax.set_xlabel(f"repeat purchases x in the calibration period (summary in {_unit(summary)})")
    ax.set_ylabel("customers")
    ax.set_title("How many customers made 0, 1, 2, ... repeat purchases")
    return ax


def repeat_transactions_by_period(
    transactions: pd.DataFrame,
    unit: str = "W",
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
) -> pd.Series:
    """Repeat purchase days per period since the start of the log (a customer's first day excluded).

    >>> import crmlab as cl
    >>> weekly = repeat_transactions_by_period(cl.datasets.load_cdnow("sample"))
    >>> int(weekly.sum()), len(weekly)
    (4339, 78)
    """
    from crmlab.transactions import unit_length_days

    days = pd.to_datetime(transactions[date_col]).dt.normalize()
    frame = pd.DataFrame({"customer": transactions[customer_col].to_numpy(), "day": days})
    frame = frame.drop_duplicates()
    first = frame.groupby("customer")["day"].transform("min")
    repeats = frame[frame["day"] > first]
    start = frame["day"].min()
    length = unit_length_days(unit)
    period = ((repeats["day"] - start).dt.days // length).astype(int)
    n_periods = int(((frame["day"].max() - start).days) // length) + 1
    counts = period.value_counts().reindex(range(n_periods), fill_value=0).sort_index()
    counts.index.name = f"period ({unit})"
    return counts


def plot_tracking(
    model: Any,
    transactions: pd.DataFrame,
    calibration_end: str,
    unit: str = "W",
    *,
    cumulative: bool = True,
    customer_col: str = "customer_id",
    date_col: str = "date",
    ax: Any = None,
) -> Any:
    """Observed repeat purchases per period against the model, calibration and holdout.

    The model's curve adds up, over customers, the expected purchases of a customer
    acquired on her first-purchase day: ``E[X(t - t0)]``.
    """
    from crmlab.transactions import unit_length_days

    ax = _axes(ax)
    observed = repeat_transactions_by_period(
        transactions, unit, customer_col=customer_col, date_col=date_col
    )
    days = pd.to_datetime(transactions[date_col]).dt.normalize()
    start = days.min()
    length = unit_length_days(unit)
    first = days.groupby(transactions[customer_col].to_numpy()).min()
    offsets = ((first - start).dt.days / length).to_numpy()
    edges = np.arange(1, len(observed) + 1, dtype=float)
    cumulative_expected = np.array(
        [
            float(np.sum(model.expected_purchases(np.clip(edge - offsets, 0, None))))
            for edge in edges
        ]
    )
    expected = cumulative_expected if cumulative else np.diff(np.r_[0.0, cumulative_expected])
    shown = observed.cumsum().to_numpy() if cumulative else observed.to_numpy()
    ax.plot(edges, shown, label="observed", linewidth=2)
    ax.plot(edges, expected, label=type(model).__name__, linestyle="--", linewidth=2)
    boundary = (pd.Timestamp(calibration_end) - start).days / length
    ax.axvline(boundary, color="grey", linestyle=":")
    ax.text(boundary, ax.get_ylim()[1] * 0.95, " holdout →", va="top", color="grey")
    ax.set_xlabel(f"time since the start of the log ({_UNIT_NAMES.get(unit, unit)})")
    ax.set_ylabel("repeat transactions" + (" (cumulative)" if cumulative else " per period"))
    ax.set_title("Tracking repeat purchases: calibration, then holdout")
    ax.legend()
    return ax


def plot_conditional_expectations(
    model: Any, holdout_summary: pd.DataFrame, max_x: int = 7, ax: Any = None
) -> Any:
    """Mean holdout purchases by calibration frequency: observed against the model's forecast."""
    ax = _axes(ax)
    frame = holdout_summary
    forecast = model.conditional_expected_purchases(
        frame["duration_holdout"].to_numpy(),
        frame["x"].to_numpy(),
        frame["t_x"].to_numpy(),
        frame["T"].to_numpy(),
    )
    group = np.minimum(frame["x"].to_numpy(), max_x).astype(int)
    table = (
        pd.DataFrame(
            {"group": group, "observed": frame["x_holdout"].to_numpy(), "forecast": forecast}
        )
        .groupby("group")
        .mean()
    )
    labels = [str(n) for n in table.index[:-1]] + [f"{max_x}+"]
    ax.plot(labels, table["observed"], marker="o", label="observed", linewidth=2)
    ax.plot(
        labels,
        table["forecast"],
        marker="s",
        linestyle="--",
        label=type(model).__name__,
        linewidth=2,
    )
    ax.set_xlabel(f"repeat purchases x in the calibration period (summary in {_unit(frame)})")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title("Forecast against what happened, by past frequency")
    ax.legend()
    return ax


def plot_p_alive_map(
    model: Any,
    T: float,
    max_x: int = 20,
    unit: str = "W",
    ax: Any = None,
    mark: tuple[float, float] | None = None,
) -> Any:
    """Heat map of P(alive) by repeat purchases ``x`` and recency ``t_x``, for age ``T``.

    ``mark=(x, t_x)`` draws a customer on the map.
    """
    ax = _axes(ax, figsize=(7, 5))
    x_values = np.arange(0, max_x + 1)
    t_values = np.linspace(0, T, 60)
    xx, tt = np.meshgrid(x_values, t_values)
    valid = (xx == 0) == (tt == 0)
    valid |= xx > 0
    # The model refuses impossible histories (x = 0 with t_x > 0); those cells are masked.
    tt_safe = np.where(xx == 0, 0.0, np.where(tt == 0, T / 120, tt))
    grid = np.where(xx == 0, model.p_alive(0, 0, T), model.p_alive(xx, tt_safe, T))
    grid = np.where(valid, grid, np.nan)
    image = ax.pcolormesh(
        x_values, t_values, grid, cmap="viridis", vmin=0, vmax=1, shading="nearest"
    )
    ax.figure.colorbar(image, ax=ax, label="P(alive)")
    if mark is not None:
        ax.plot(*mark, marker="*", markersize=18, color="white", markeredgecolor="black")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("repeat purchases x")
    ax.set_ylabel(f"time of the last purchase t_x ({_UNIT_NAMES.get(unit, unit)})")
    ax.set_title(f"Probability of still being active after T = {T:g} {_UNIT_NAMES.get(unit, unit)}")
    return ax
