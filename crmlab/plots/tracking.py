"""Figures that set a non-contractual model (BG/NBD, Pareto/NBD) against the data.

Each function returns the Axes it drew on. The x axis carries the time unit of the
summary (``summary.attrs["unit"]``), so a plot never leaves the unit to guesswork.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.plots._common import new_axes as _axes
from crmlab.plots._common import unit_name
from crmlab.plots._tracking_data import (
    daily_counts,
    observed_by_period,
    tracking_curves,
    tracking_table,
)

__all__ = [
    "draw_p_alive_map",
    "p_alive_grid",
    "plot_conditional_expectations",
    "plot_frequency_fit",
    "plot_p_alive_map",
    "plot_tracking",
    "repeat_transactions_by_period",
    "tracking_table",
    "update_p_alive_map",
]


def _unit(frame: pd.DataFrame) -> str:
    return unit_name(frame.attrs.get("unit", "W"))


def _require_columns(frame: Any, needed: tuple[str, ...], builder: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"expected a pandas DataFrame, got {type(frame).__name__}: collect a Spark or "
            "DuckDB summary first (.toPandas() / .df())"
        )
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise ValueError(
            f"the summary lacks column(s) {missing}; it has {list(map(str, frame.columns))}. "
            f"Build it with {builder}"
        )


def plot_frequency_fit(model: Any, summary: pd.DataFrame, max_x: int = 7, ax: Any = None) -> Any:
    """Bars: customers with 0, 1, ..., ``max_x`` or more repeat purchases, observed and expected.

    The expectation sums the model's P(X(T) = n) over customers, each with her own T
    (once per distinct T, weighted by its customers). ``summary`` is any per-customer
    table with ``x`` and ``T``, e.g. built by a DuckDB or Spark engine and collected.
    """
    _require_columns(summary, ("x", "T"), "crmlab.transactions.summarize")
    ax = _axes(ax)
    ages, customers = np.unique(summary["T"].to_numpy(dtype=float), return_counts=True)
    expected = [
        float(np.dot(customers, model.probability_of_purchases(n, ages))) for n in range(max_x)
    ]
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
    observation_end: str | pd.Timestamp | None = None,
) -> pd.Series:
    """Repeat purchase days per period since the start of the log (a customer's first day excluded).

    With ``observation_end`` only purchases on or before that day count, and the
    periods run up to it (not to the last purchase of the log). ``transactions``
    may also be a tracking table (:func:`tracking_table`) built elsewhere.

    >>> import crmlab as cl
    >>> weekly = repeat_transactions_by_period(cl.datasets.load_cdnow("sample"))
    >>> int(weekly.sum()), len(weekly)
    (4339, 78)
    >>> len(repeat_transactions_by_period(cl.datasets.load_cdnow("sample"),
    ...                                   observation_end="1997-09-30"))
    39
    """
    from crmlab.transactions import _day_number, unit_length_days

    counts = daily_counts(transactions, customer_col, date_col)
    last = (
        int(counts.day[-1])
        if observation_end is None
        else _day_number(observation_end, "observation_end")
    )
    observed = observed_by_period(counts, unit_length_days(unit), last)
    return pd.Series(
        observed, index=pd.RangeIndex(len(observed), name=f"period ({unit})"), name="count"
    )


def plot_tracking(
    model: Any,
    transactions: pd.DataFrame,
    calibration_end: str,
    unit: str = "W",
    *,
    observation_end: str | pd.Timestamp | None = None,
    show_after: bool = False,
    cumulative: bool = True,
    customer_col: str = "customer_id",
    date_col: str = "date",
    ax: Any = None,
) -> Any:
    """Observed repeat purchases per period against the model, calibration and holdout.

    The model's curve adds up, over customers, the expected purchases of a customer
    acquired on her first-purchase day: ``E[X(t - t0)]``, computed once per
    acquisition day and period (never per customer).

    Parameters
    ----------
    model : fitted BG/NBD, Pareto/NBD, ...
        Anything with ``expected_purchases(t)``, in the unit of ``unit``.
    transactions : pandas.DataFrame
        The raw log (one row per transaction), or its tracking table: one row per
        day with ``day``, ``new_customers`` and ``repeat_transactions``, from
        :func:`tracking_table` or built in SQL or Spark where a large log lives
        (that function's docstring gives the query). Both give the same figure.
    calibration_end : str
        Last day of the calibration period, marked on the plot.
    unit : str
        Period of the x axis (``"D"``, ``"W"``, ``"M"``, ...).
    observation_end : str or Timestamp, optional
        The last day of the data window (the end of the holdout): the plot stops
        there and later purchases, which the forecast knows nothing of, are left
        out. With ``show_after=True`` they are drawn, after a shaded band marked
        "after observation_end", as an out-of-sample segment. Without
        ``observation_end`` the plot runs to the last purchase of the log.
    cumulative : bool
        Cumulative repeat transactions (default) or per period.
    customer_col, date_col : str
        Column names of a raw log.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import crmlab as cl
    >>> log = cl.datasets.load_cdnow("sample")
    >>> m = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> from_log = plot_tracking(m, log, "1997-09-30")
    >>> from_table = plot_tracking(m, tracking_table(log), "1997-09-30")
    >>> all((a.get_xydata() == b.get_xydata()).all()
    ...     for a, b in zip(from_log.lines, from_table.lines))
    True
    """
    from crmlab.transactions import _day_number

    ax = _axes(ax)
    counts = daily_counts(transactions, customer_col, date_col)
    end = None if observation_end is None else _day_number(observation_end, "observation_end")
    curves = tracking_curves(model, counts, unit, end, show_after)
    edges, expected, start, length = curves.edges, curves.expected, curves.start_day, curves.length
    expected = expected if cumulative else np.diff(np.r_[0.0, expected])
    shown = np.cumsum(curves.observed) if cumulative else curves.observed
    inside = np.ones(len(edges), dtype=bool)
    if end is not None and show_after:
        inside = edges <= (end - start) / length + 1
    ax.plot(edges[inside], shown[inside], label="observed", linewidth=2)
    (line,) = ax.plot(
        edges[inside], expected[inside], label=type(model).__name__, linestyle="--", linewidth=2
    )
    if not inside.all():
        # Start the out-of-sample segment at the last point inside, so the lines join.
        after = np.flatnonzero(~inside)
        after = np.r_[after[0] - 1, after] if after[0] > 0 else after
        ax.plot(
            edges[after],
            shown[after],
            color="grey",
            linewidth=2,
            alpha=0.7,
            label="observed after observation_end",
        )
        ax.plot(
            edges[after],
            expected[after],
            color=line.get_color(),
            linestyle=":",
            linewidth=2,
            alpha=0.7,
        )
        cut = (end - start) / length + 1
        ax.axvspan(cut, edges[-1], color="grey", alpha=0.12, linewidth=0)
        ax.text(
            (cut + edges[-1]) / 2,
            ax.get_ylim()[0] + 0.05 * np.diff(ax.get_ylim())[0],
            "after\nobservation_end",
            ha="center",
            va="bottom",
            color="grey",
            fontsize="small",
        )
    boundary = (_day_number(calibration_end, "calibration_end") - start) / length
    ax.axvline(boundary, color="grey", linestyle=":")
    ax.text(boundary, ax.get_ylim()[1] * 0.95, " holdout →", va="top", color="grey")
    ax.set_xlabel(f"time since the start of the log ({unit_name(unit)})")
    ax.set_ylabel("repeat transactions" + (" (cumulative)" if cumulative else " per period"))
    ax.set_title("Tracking repeat purchases: calibration, then holdout")
    ax.legend()
    return ax


def plot_conditional_expectations(
    model: Any, holdout_summary: pd.DataFrame, max_x: int = 7, ax: Any = None
) -> Any:
    """Mean holdout purchases by calibration frequency: observed against the model's forecast.

    ``holdout_summary`` has ``x``, ``t_x``, ``T``, ``x_holdout`` and
    ``duration_holdout``, as :func:`crmlab.transactions.calibration_holdout` gives
    them from any engine (a Spark result after ``.toPandas()``).
    """
    _require_columns(
        holdout_summary,
        ("x", "t_x", "T", "x_holdout", "duration_holdout"),
        "crmlab.transactions.calibration_holdout",
    )
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


#: Cells of the P(alive) map along the t_x axis.
P_ALIVE_CELLS = 60


def p_alive_grid(model: Any, T: float, max_x: int = 20, cells: int = P_ALIVE_CELLS) -> np.ndarray:
    """P(alive) on a grid: rows are ``cells`` values of t_x, columns x = 0..``max_x``.

    t_x is taken at the centres of ``cells`` equal cells of [0, T], so that no cell
    asks for a repeat purchase at t_x = 0. A customer with x = 0 has t_x = 0 by
    definition: her column holds the one value P(alive | 0, 0, T).

    >>> import crmlab as cl
    >>> m = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> grid = p_alive_grid(m, 38.86, max_x=5)
    >>> grid.shape, bool(np.all(grid[:, 0] == 1.0)), bool(grid[0, 5] < grid[-1, 5])
    ((60, 6), True, True)
    """
    t_x = (np.arange(cells) + 0.5) * T / cells
    x = np.arange(max_x + 1)
    grid = np.asarray(model.p_alive(x[None, 1:], t_x[:, None], T), dtype=float)
    first = np.full((cells, 1), float(model.p_alive(0, 0, T)))
    return np.hstack([first, grid])


def draw_p_alive_map(ax: Any, grid: np.ndarray, T: float, unit: str = "W") -> Any:
    """Draw a :func:`p_alive_grid` as a heat map with a colour bar and a customer marker.

    Returns the image; :func:`update_p_alive_map` changes its data, age and marker in
    place, which is how the BG/NBD explorer redraws the same figure.
    """
    import seaborn as sns
    from matplotlib.ticker import MaxNLocator

    image = ax.imshow(
        grid,
        origin="lower",
        aspect="auto",
        vmin=0,
        vmax=1,
        cmap=sns.color_palette("mako", as_cmap=True),
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, label="P(alive)")
    # The customer's marker, hidden until update_p_alive_map is given one.
    ax.plot(
        [],
        [],
        marker="X",
        linestyle="none",
        color="#f0e442",
        markersize=12,
        markeredgecolor="black",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("repeat purchases x")
    ax.set_ylabel(f"time of the last purchase t_x ({unit_name(unit)})")
    update_p_alive_map(ax, grid, T, unit)
    return image


def update_p_alive_map(
    ax: Any, grid: np.ndarray, T: float, unit: str = "W", mark: tuple[float, float] | None = None
) -> None:
    """Put a new grid, age ``T`` and customer ``mark=(x, t_x)`` on a drawn P(alive) map."""
    max_x = grid.shape[1] - 1
    image = ax.images[0]
    image.set_data(grid)
    image.set_extent((-0.5, max_x + 0.5, 0.0, T))
    ax.lines[0].set_data([] if mark is None else [mark[0]], [] if mark is None else [mark[1]])
    ax.set_xlim(-0.5, max_x + 0.5)
    ax.set_ylim(0.0, T)
    ax.set_title(f"Probability of still being active after T = {T:g} {unit_name(unit)}")


def plot_p_alive_map(
    model: Any,
    T: float,
    max_x: int = 20,
    unit: str = "W",
    ax: Any = None,
    mark: tuple[float, float] | None = None,
) -> Any:
    """Heat map of P(alive) by repeat purchases ``x`` and recency ``t_x``, for age ``T``.

    ``mark=(x, t_x)`` draws a customer on the map. The BG/NBD explorer widget draws
    the same figure (:func:`draw_p_alive_map`).

    >>> import crmlab as cl
    >>> m = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_p_alive_map(m, 38.86, mark=(2, 30.43))
    >>> ax.get_xlabel(), ax.lines[0].get_xydata().tolist()
    ('repeat purchases x', [[2.0, 30.43]])
    """
    ax = _axes(ax, figsize=(7, 5))
    grid = p_alive_grid(model, T, max_x)
    draw_p_alive_map(ax, grid, T, unit)
    update_p_alive_map(ax, grid, T, unit, mark)
    return ax
