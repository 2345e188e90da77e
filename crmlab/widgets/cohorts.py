"""Cohort explorer: acquisition cohorts' retention as a heat map and as curves."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from crmlab.retention import retention_matrix
from crmlab.transactions import cohort_table
from crmlab.widgets._base import CONTROL_LAYOUT, LABEL_STYLE, Dashboard, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CohortExplorer", "cohort_explorer"]

ALL = "all cohorts"
PERIODS = (("month", "M"), ("quarter", "Q"))
PERIOD_NAMES = {code: name for name, code in PERIODS}
DATASETS = (("CDNOW sample (2,357 customers)", "sample"), ("CDNOW master (23,570)", "master"))


@lru_cache(maxsize=8)
def _cdnow_cohorts(dataset: str, period: str) -> pd.DataFrame:
    from crmlab.datasets import load_cdnow

    return cohort_table(load_cdnow(dataset), period=period)


class CohortExplorer(Dashboard):
    """Dataset, period unit and cohort -> retention heat map and curves."""

    css_class = "crmlab-cohorts"
    title = "Acquisition cohorts: who comes back?"

    def __init__(self, transactions: pd.DataFrame | None, *, dataset: str, period: str) -> None:
        self.transactions = transactions
        self._own_tables: dict[str, pd.DataFrame] = {}
        datasets = [("your transactions", "own")] if transactions is not None else DATASETS
        controls = {
            "dataset": widgets.Dropdown(
                options=datasets,
                value="own" if transactions is not None else dataset,
                description="Data",
                style=LABEL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
            "period": widgets.ToggleButtons(
                options=PERIODS, value=period, description="Period", style=LABEL_STYLE
            ),
            "cohort": widgets.Dropdown(
                options=[ALL],
                value=ALL,
                description="Cohort",
                style=LABEL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
        }
        self._sync_cohorts(controls)
        self._drawn_for: Any = None  # (dataset, period) of the heat map and curves drawn
        self._row_frame: Any = None  # the chosen cohort's frame on the heat map
        self._curves: dict[Any, tuple[Any, Any]] = {}  # cohort -> (line, its colour)
        super().__init__(controls, figure_size=(10.0, 3.6))

    def table(self, dataset: str, period: str) -> pd.DataFrame:
        """The cohort table of the chosen data (computed once per period unit)."""
        if dataset == "own":
            if period not in self._own_tables:
                self._own_tables[period] = cohort_table(self.transactions, period=period)
            return self._own_tables[period]
        return _cdnow_cohorts(dataset, period)

    def _sync_cohorts(self, controls: dict[str, widgets.Widget]) -> None:
        table = self.table(controls["dataset"].value, controls["period"].value)
        cohorts = [ALL, *sorted(pd.unique(table["cohort"]))]
        keep = controls["cohort"].value if controls["cohort"].value in cohorts else ALL
        with self.held():
            controls["cohort"].options = cohorts
            controls["cohort"].value = keep

    def follow(self, change: Any) -> None:
        # Another dataset or period unit has other cohorts to choose from.
        if change["owner"] is not self.controls["cohort"]:
            self._sync_cohorts(self.controls)

    def compute(self, *, dataset: str, period: str, cohort: str) -> dict[str, Any]:
        table = self.table(dataset, period)
        grid = retention_matrix(table)
        chosen = table if cohort == ALL else table[table["cohort"] == cohort]
        later = chosen[chosen["period"] >= 1]
        # Customer-weighted retention over all (cohort, period) cells after acquisition.
        active = float(later["active"].sum())
        exposure = float(later["cohort_size"].sum())
        return {
            "dataset": dataset,
            "table": table,
            "grid": grid,
            "cohort": cohort,
            "period": period,
            "n_customers": int(table.loc[table["period"] == 0, "cohort_size"].sum())
            if cohort == ALL
            else int(chosen["cohort_size"].iloc[0]),
            "first_period_retention": float(
                (
                    chosen.loc[chosen["period"] == 1, "active"].sum()
                    / chosen.loc[chosen["period"] == 1, "cohort_size"].sum()
                )
                if (chosen["period"] == 1).any()
                else np.nan
            ),
            "mean_active_share": active / exposure if exposure else np.nan,
        }

    def render(self, result: dict[str, Any]) -> str:
        unit = PERIOD_NAMES[result["period"]]
        return (
            f"<p>{result['cohort']}: "
            f"{number_span('crmlab-cohorts-n', result['n_customers'], 0)} customers. "
            f"Active in the {unit} after the first purchase: "
            + number_span(
                "crmlab-cohorts-first", 100 * result["first_period_retention"], 1, unit="%"
            )
            + f"; in an average later {unit}: "
            + number_span("crmlab-cohorts-mean", 100 * result["mean_active_share"], 1, unit="%")
            + "</p>"
        )

    def still_key(self, result: dict[str, Any]) -> Any:
        # The heat map, its colour bar and the axes change only with the data shown.
        return (result["dataset"], result["period"])

    def draw(self, result: dict[str, Any], figure: Figure) -> None:
        if self._drawn_for != self.still_key(result):
            self._draw_data(result, figure)
        self._highlight(result, figure)

    def _draw_data(self, result: dict[str, Any], figure: Figure) -> None:
        """Heat map and one curve per cohort: drawn when the data or period unit change."""
        import seaborn as sns
        from matplotlib.patches import Rectangle

        from crmlab.plots.cohorts import draw_cohort_heatmap, update_cohort_heatmap

        grid = result["grid"]
        unit = PERIOD_NAMES[result["period"]]
        later = 100 * grid.loc[:, grid.columns >= 1].to_numpy(float)
        if not figure.axes:
            # Axes and colour bar are made once (the layout is then kept); the data are
            # swapped in when the dataset or the period unit change. The heat map is
            # the notebook's (crmlab.plots.plot_cohort_heatmap).
            heat, curves = figure.subplots(1, 2, width_ratios=[1.3, 1])
            draw_cohort_heatmap(heat, grid)
        heat, curves = figure.axes[:2]
        update_cohort_heatmap(heat, grid)
        heat.set_xlabel(f"{unit}s since first purchase")
        for patch in list(heat.patches):
            patch.remove()
        self._row_frame = heat.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", linewidth=2, animated=True)
        )

        curves.clear()
        palette = sns.color_palette("colorblind", max(len(grid), 1))
        self._curves = {}
        for (name, row), colour in zip(grid.iterrows(), palette, strict=False):
            (line,) = curves.plot(row.index[1:], 100 * row.to_numpy(float)[1:], animated=True)
            self._curves[name] = (line, colour)
        curves.set_xlabel(f"{unit}s since first purchase")
        curves.set_ylabel("active (% of cohort)")
        top = float(np.nanmax(later)) if later.size else 1.0
        curves.set_ylim(0, 1.05 * max(top, 1.0))
        curves.grid(alpha=0.3)
        self._drawn_for = self.still_key(result)

    def _highlight(self, result: dict[str, Any], figure: Figure) -> None:
        """Colour the chosen cohort's curve and frame its row; grey the others."""
        chosen_name = result["cohort"]
        heat, curves = figure.axes[:2]
        names = list(self._curves)
        for name, (line, colour) in self._curves.items():
            chosen = chosen_name in (ALL, name)
            line.set_color(colour if chosen else "lightgrey")
            line.set_linewidth(1.8 if chosen and chosen_name != ALL else 1.0)
            line.set_zorder(3 if chosen else 2)
            line.set_label(name if (chosen and len(names) <= 6) or name == chosen_name else None)
        frame = self._row_frame
        frame.set_visible(chosen_name in names)
        if chosen_name in names:
            row = names.index(chosen_name)
            x0, x1 = heat.get_xlim()
            frame.set_bounds(x0, row - 0.5, x1 - x0, 1)
        legend = curves.get_legend()
        if legend is not None:
            legend.remove()
        if curves.get_legend_handles_labels()[0]:
            curves.legend(frameon=False, fontsize=8).set_animated(True)


def cohort_explorer(
    transactions: pd.DataFrame | None = None, *, dataset: str = "sample", period: str = "M"
) -> CohortExplorer:
    """Explore acquisition cohorts: retention heat map and curves.

    Parameters
    ----------
    transactions : pandas.DataFrame, optional
        Your own log with columns ``customer_id``, ``date`` and ``amount``; by default
        the CDNOW sample or master file (dropdown).
    dataset : {"sample", "master"}
        CDNOW file shown first.
    period : {"M", "Q"}
        Cohort and period unit shown first.

    Returns
    -------
    CohortExplorer
        ``.controls`` (dataset, period, cohort), ``.result``, ``.readout``, ``.image``.

    Examples
    --------
    >>> w = cohort_explorer()
    >>> w.controls["cohort"].options
    ('all cohorts', '1997-01', '1997-02', '1997-03')
    """
    return CohortExplorer(transactions, dataset=dataset, period=period)
