"""Figures for cohorts and survival: retention heat map, curves, Kaplan–Meier."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.plots._common import new_axes as _axes

__all__ = ["plot_cohort_heatmap", "plot_retention_curves", "plot_survival_curve"]


def plot_cohort_heatmap(matrix: pd.DataFrame, ax: Any = None, max_periods: int = 12) -> Any:
    """Heat map of a cohort x period retention matrix, as percentages.

    ``matrix`` comes from :func:`crmlab.retention.retention_matrix`.
    """
    import seaborn as sns

    ax = _axes(ax, figsize=(9, 0.6 * len(matrix) + 2))
    shown = matrix.iloc[:, : max_periods + 1] * 100
    sns.heatmap(
        shown,
        annot=True,
        fmt=".0f",
        cmap="Blues",
        vmin=0,
        vmax=100,
        cbar_kws={"label": "active customers (% of cohort)"},
        ax=ax,
    )
    ax.set_xlabel(matrix.columns.name or "periods since acquisition")
    ax.set_ylabel("acquisition cohort")
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
