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
        Figure to draw on, a new one by default. A figure that already holds this
        plot (same metrics and firms) is updated in place, so a widget redraws fast.
    crossover_year : int, optional
        Year to mark with a dotted vertical line on every panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from crmlab.simulate import simulate_firms
    >>> fig = plot_firms(simulate_firms())
    >>> [ax.get_title() for ax in fig.axes]
    ['customers at year end', 'revenue per year (currency)', 'customer equity (currency)']
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    missing = [c for c in ("firm", "year", *metrics) if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; pass the output of simulate_firms")
    firms = list(pd.unique(table["firm"]))
    # Infinite equity (retention 1, no discount) is said in words; the line just stops.
    paths = {
        (name, metric): (
            table.loc[table["firm"] == name, "year"].to_numpy(),
            np.where(
                np.isfinite(values := table.loc[table["firm"] == name, metric].to_numpy(float)),
                values,
                np.nan,
            ),
        )
        for name in firms
        for metric in metrics
    }
    layout_key = (tuple(metrics), tuple(firms))
    if figure is not None and getattr(figure, "_crmlab_firms", None) == layout_key:
        # Same panels as last time: move the lines instead of rebuilding the axes,
        # which keeps a widget's redraw fast.
        for ax, metric in zip(figure.axes, metrics, strict=True):
            for line, name in zip(ax.lines, firms, strict=False):
                line.set_data(*paths[name, metric])
            marker = ax.lines[len(firms)]
            marker.set_visible(crossover_year is not None)
            if crossover_year is not None:
                marker.set_xdata([crossover_year, crossover_year])
            ax.relim(visible_only=True)
            ax.autoscale_view()
        return figure
    if figure is None:
        figure = plt.figure(figsize=(4.0 * len(metrics), 3.4), layout="constrained")
    else:
        figure.clear()
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    colours = dict(zip(firms, sns.color_palette("colorblind", len(firms)), strict=True))
    # Line styles as well as colours tell the firms apart (and cost less than markers).
    styles = dict(zip(firms, ["-", "--", "-.", ":"], strict=False))
    for ax, metric in zip(axes, metrics, strict=True):
        for name in firms:
            ax.plot(
                *paths[name, metric],
                linestyle=styles.get(name, "-"),
                linewidth=2,
                color=colours[name],
                label=name,
            )
        ax.axvline(
            crossover_year if crossover_year is not None else 1,
            color="grey",
            linestyle=":",
            linewidth=1,
            visible=crossover_year is not None,
        )
        ax.set_xlabel("year")
        # A title reads better than a rotated axis label, and a widget's redraw of the
        # value axis then need not redraw the label with it.
        ax.set_title(METRIC_LABELS.get(metric, metric), fontsize="medium")
        # Few ticks: each label is text to draw, the bulk of a widget's redraw time.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False)
    figure._crmlab_firms = layout_key  # type: ignore[attr-defined]
    return figure
