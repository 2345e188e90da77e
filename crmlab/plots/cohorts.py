"""Figures for cohorts and survival: retention heat map, curves, Kaplan–Meier."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.plots._common import new_axes as _axes

__all__ = [
    "draw_cohort_heatmap",
    "plot_cohort_heatmap",
    "plot_retention_curves",
    "plot_survival_curve",
    "update_cohort_heatmap",
]


def _after_acquisition(matrix: pd.DataFrame, max_periods: int | None) -> pd.DataFrame:
    # Period 0 is 100 % by definition: left out, it no longer takes up the colour scale.
    periods = pd.to_numeric(pd.Series(matrix.columns), errors="coerce").to_numpy()
    keep = periods >= 1
    if max_periods is not None:
        keep &= periods <= max_periods
    return matrix.loc[:, keep] * 100


def draw_cohort_heatmap(
    ax: Any, matrix: pd.DataFrame, max_periods: int | None = None, annotate: bool = False
) -> Any:
    """Draw a cohort x period retention matrix (fractions) as a heat map of percentages.

    Periods 1 and later are shown (period 0 is 100 % for every cohort); the colour
    scale runs from 0 to the highest share shown. Returns the image, which
    :func:`update_cohort_heatmap` refills; :func:`plot_cohort_heatmap` and the cohort
    explorer widget both draw this figure.
    """
    import seaborn as sns

    image = ax.imshow(
        np.zeros((1, 1)),
        aspect="auto",
        cmap=sns.color_palette("rocket_r", as_cmap=True),
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, label="active customers (% of cohort)")
    ax.grid(False)
    update_cohort_heatmap(ax, matrix, max_periods, annotate)
    return image


def update_cohort_heatmap(
    ax: Any, matrix: pd.DataFrame, max_periods: int | None = None, annotate: bool = False
) -> None:
    """Put another retention matrix (or period unit) on a drawn :func:`draw_cohort_heatmap`."""
    shown = _after_acquisition(matrix, max_periods)
    values = shown.to_numpy(float)
    first = float(shown.columns[0]) if shown.shape[1] else 1.0
    extent = (first - 0.5, first + values.shape[1] - 0.5, len(shown) - 0.5, -0.5)
    image = ax.images[0]
    image.set_data(values if values.size else np.full((1, 1), np.nan))
    image.set_extent(extent)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    image.set_clim(0, max(top, 1.0))
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    step = max(1, len(shown) // 12)
    ax.set_yticks(range(0, len(shown), step), [str(c) for c in shown.index[::step]])
    for text in list(ax.texts):
        text.remove()
    if annotate:
        for row, column in zip(*np.nonzero(np.isfinite(values)), strict=True):
            share = values[row, column]
            colour = "white" if share > 0.6 * top else "black"
            ax.text(
                first + column,
                row,
                f"{share:.0f}",
                ha="center",
                va="center",
                fontsize=8,
                color=colour,
            )
    name = str(matrix.columns.name or "periods since acquisition")
    ax.set_xlabel(name)
    ax.set_ylabel("acquisition cohort")


def plot_cohort_heatmap(matrix: pd.DataFrame, ax: Any = None, max_periods: int = 12) -> Any:
    """Heat map of a cohort x period retention matrix, as percentages, from period 1.

    ``matrix`` comes from :func:`crmlab.retention.retention_matrix`. Each cell gives
    the share of the cohort active in that period; period 0 (100 % by definition) is
    left out so that the colours tell the later periods apart.

    >>> import crmlab as cl
    >>> table = cl.transactions.cohort_table(cl.datasets.load_cdnow("sample"), period="M")
    >>> ax = plot_cohort_heatmap(cl.retention.retention_matrix(table))
    >>> ax.images[0].get_array().shape
    (3, 12)
    """
    ax = _axes(ax, figsize=(9, 0.6 * len(matrix) + 2))
    draw_cohort_heatmap(ax, matrix, max_periods, annotate=True)
    ax.set_title("Share of each cohort active, period by period")
    return ax


def plot_retention_curves(matrix: pd.DataFrame, ax: Any = None, skip_first: bool = True) -> Any:
    """One line per cohort: share active in each period since acquisition."""
    ax = _axes(ax)
    start = 1 if skip_first else 0
    for cohort, row in matrix.iterrows():
        values = row.iloc[start:].dropna() * 100
        ax.plot(values.index, values.to_numpy(), marker="o", markersize=3, label=str(cohort))
    ax.set_xlabel(matrix.columns.name or "periods since acquisition")
    ax.set_ylabel("active customers (% of cohort)")
    ax.set_title("Retention curves by acquisition cohort")
    ax.legend(title="cohort")
    return ax


def plot_survival_curve(
    curve: pd.DataFrame, label: str = "Kaplan–Meier", unit: str = "", ax: Any = None
) -> Any:
    """Step plot of a :func:`crmlab.retention.kaplan_meier` curve with its confidence band."""
    ax = _axes(ax)
    line = ax.step(curve.index, curve["survival"] * 100, where="post", label=label, linewidth=2)[0]
    ax.fill_between(
        curve.index,
        curve["lower"] * 100,
        curve["upper"] * 100,
        step="post",
        alpha=0.2,
        color=line.get_color(),
    )
    ax.set_xlabel(f"time since acquisition{f' ({unit})' if unit else ''}")
    ax.set_ylabel("customers remaining (%)")
    ax.set_ylim(0, 102)
    ax.legend()
    return ax
