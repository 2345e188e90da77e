"""Figures built with seaborn and matplotlib.

Every function returns the matplotlib Axes (or Figure) it drew on and never calls
``plt.show()``, so notebooks, tests and users' scripts decide what to do with it.
Colours come from seaborn's colour-blind palette. matplotlib and seaborn are imported
inside the functions, so importing this module costs little.
"""

from crmlab.plots.cohorts import plot_cohort_heatmap, plot_retention_curves, plot_survival_curve
from crmlab.plots.firms import plot_firms
from crmlab.plots.paths import plot_p_alive_path
from crmlab.plots.survival import plot_churn_distribution, plot_retention_rates, plot_sbg_fit
from crmlab.plots.tracking import (
    plot_conditional_expectations,
    plot_frequency_fit,
    plot_p_alive_map,
    plot_tracking,
    repeat_transactions_by_period,
    tracking_table,
)

__all__ = [
    "plot_churn_distribution",
    "plot_cohort_heatmap",
    "plot_conditional_expectations",
    "plot_firms",
    "plot_frequency_fit",
    "plot_p_alive_map",
    "plot_p_alive_path",
    "plot_retention_curves",
    "plot_retention_rates",
    "plot_sbg_fit",
    "plot_survival_curve",
    "plot_tracking",
    "repeat_transactions_by_period",
    "tracking_table",
]
