"""Figure for the shifted-beta-geometric model: observed survival, fit and projection."""

from __future__ import annotations

from typing import Any

import numpy as np

from crmlab.plots.tracking import _axes

__all__ = ["plot_sbg_fit"]


def plot_sbg_fit(
    model: Any,
    survivors: Any,
    calibration_periods: int,
    label: str = "",
    ax: Any = None,
    unit: str = "years",
) -> Any:
    """Observed survival (%) against the sBG fit and its projection beyond the calibration.

    ``survivors`` holds the counts of the whole series (calibration and after);
    the shaded band marks the periods the model was fitted on.
    """
    ax = _axes(ax)
    counts = np.asarray(survivors, dtype=float)
    periods = np.arange(len(counts))
    if "fitted on" not in [patch.get_label() for patch in ax.patches]:
        # Drawing two groups on one Axes must not shade the fitting window twice.
        ax.axvspan(0, calibration_periods, color="grey", alpha=0.12, label="fitted on")
    points = ax.plot(
        periods,
        100 * counts / counts[0],
        marker="o",
        linestyle="none",
        label=f"observed {label}".strip(),
    )[0]
    smooth = np.arange(0, len(counts))
    ax.plot(
        smooth,
        100 * model.survival(smooth),
        color=points.get_color(),
        linestyle="--",
        label=f"sBG {label}".strip(),
    )
    ax.set_xlabel(f"time since acquisition ({unit})")
    ax.set_ylabel("customers still active (%)")
    ax.set_ylim(0, 102)
    ax.set_title("Shifted-beta-geometric fit and projection")
    ax.legend()
    return ax
