"""The product-focused and the customer-focused firm side by side, year by year."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_firms"]

#: Axis label of each metric of :func:`crmlab.simulate.simulate_firms`.
METRIC_LABELS = {
    "customers": "customers at year end",
    "new_customers": "new customers per year",
    "revenue": "revenue per year (currency)",
    "gross_margin": "gross margin per year (currency)",
    "profit": "profit per year (currency)",
    "cumulative_profit": "cumulative discounted profit (currency)",
    "customer_equity": "customer equity (currency)",
}


def _thousands(value: float, _position: int) -> str:
    """Tick label with thousands separators and k / M suffixes: 250k, 1.2M."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}"


def plot_firms(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("customers", "revenue", "customer_equity"),
    *,
    figure: Figure | None = None,
    crossover_year: int | None = None,
) -> Figure:
    """Draw each firm's path for each metric, one panel per metric.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`crmlab.simulate.simulate_firms` (columns ``firm``, ``year``
        and the metrics).
    metrics : sequence of str
        Columns to draw, one panel each.
    figure : matplotlib.figure.Figure, optional
        Figure to draw on (cleared first), e.g. to redraw a widget in place;
        a new one by default.
    crossover_year : int, optional
        Year to mark with a dotted vertical line on every panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from crmlab.simulate import simulate_firms
    >>> fig = plot_firms(simulate_firms())
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['customers at year end', 'revenue per year (currency)', 'customer equity (currency)']
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    missing = [c for c in ("firm", "year", *metrics) if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; pass the output of simulate_firms")
    if figure is None:
        figure = plt.figure(figsize=(4.0 * len(metrics), 3.4), layout="constrained")
    else:
        figure.clear()
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    firms = list(pd.unique(table["firm"]))
    colours = dict(zip(firms, sns.color_palette("colorblind", len(firms)), strict=True))
    markers = dict(zip(firms, "os^Dv", strict=False))
    for ax, metric in zip(axes, metrics, strict=True):
        for name in firms:
            rows = table[table["firm"] == name]
            ax.plot(
                rows["year"],
                rows[metric],
                marker=markers[name],
                markersize=4,
                color=colours[name],
                label=name,
            )
        if crossover_year is not None:
            ax.axvline(crossover_year, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("year")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False)
    return figure
