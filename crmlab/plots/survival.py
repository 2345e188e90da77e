"""Figures for the shifted-beta-geometric model: survival and retention, fit and projection.

Both functions take a fitted :class:`~crmlab.models.ShiftedBetaGeometric`, the whole
observed series of survivor counts (calibration and after) and the number of
periods the model was fitted on, which are shaded. Calling a function again with
the same ``ax`` adds another customer group in the next colour.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmlab.plots._common import new_axes as _axes

__all__ = ["plot_retention_rates", "plot_sbg_fit"]

_SHADE_LABEL = "fitted on"


def _counts(survivors: Any, calibration_periods: int) -> np.ndarray:
    counts = np.asarray(survivors, dtype=float)
    if counts.ndim != 1 or counts.size < 2 or not np.all(np.isfinite(counts)) or counts[0] <= 0:
        raise ValueError(
            "survivors must be a 1-d series of at least two finite counts starting with a "
            f"positive cohort size; got {np.asarray(survivors)!r}"
        )
    if int(calibration_periods) != calibration_periods or calibration_periods < 1:
        raise ValueError(
            f"calibration_periods must be a whole number >= 1, got {calibration_periods!r}"
        )
    return counts


def _start(
    survivors: Any, calibration_periods: int, ax: Any, horizon: int | None
) -> tuple[np.ndarray, Any, int]:
    """Checked counts, the Axes to draw on and the last period of the model curve."""
    counts = _counts(survivors, calibration_periods)
    last = len(counts) - 1 if horizon is None else int(horizon)
    return counts, _axes(ax), last


def _observed(ax: Any, periods: np.ndarray, values: np.ndarray, label: str) -> Any:
    """Draw the observed values as dots; return their colour for the model's curve."""
    points = ax.plot(
        periods, values, marker="o", linestyle="none", label=f"observed {label}".strip()
    )
    return points[0].get_color()


def _model_curve(ax: Any, periods: np.ndarray, values: np.ndarray, colour: Any, label: str) -> None:
    ax.plot(periods, values, color=colour, linestyle="--", label=f"sBG {label}".strip())


def _shade(ax: Any, start: float, stop: float) -> None:
    # Drawing two groups on one Axes must not shade the fitting window twice.
    if _SHADE_LABEL not in [patch.get_label() for patch in ax.patches]:
        ax.axvspan(start, stop, color="grey", alpha=0.12, label=_SHADE_LABEL)


def plot_sbg_fit(
    model: Any,
    survivors: Any,
    calibration_periods: int,
    label: str = "",
    ax: Any = None,
    unit: str = "years",
    horizon: int | None = None,
) -> Any:
    """Observed survival (%) against the sBG fit and its projection beyond the calibration.

    Parameters
    ----------
    model : ShiftedBetaGeometric
        A fitted model.
    survivors : sequence of int
        Counts of the whole series, starting with the cohort size.
    calibration_periods : int
        Periods ``0..calibration_periods`` were used to fit; they are shaded.
    label : str
        Name of the group, for the legend.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure).
    unit : str
        Length of a period, for the x label.
    horizon : int, optional
        Last period of the model curve (default: the last observed period).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import crmlab as cl
    >>> s = cl.datasets.load_survival()["regular"]
    >>> m = cl.models.ShiftedBetaGeometric().fit(s.loc[:7])
    >>> ax = plot_sbg_fit(m, s, 7, label="Regular")
    >>> ax.get_ylabel()
    'customers still active (% of cohort)'
    """
    counts, ax, last = _start(survivors, calibration_periods, ax, horizon)
    _shade(ax, 0, calibration_periods)
    colour = _observed(ax, np.arange(len(counts)), 100 * counts / counts[0], label)
    fitted = np.arange(0, calibration_periods + 1)
    projected = np.arange(calibration_periods, last + 1)
    ax.plot(fitted, 100 * model.survival(fitted), color=colour, linestyle="-")
    _model_curve(ax, projected, 100 * model.survival(projected), colour, label)
    ax.set_xlabel(f"time since acquisition ({unit})")
    ax.set_ylabel("customers still active (% of cohort)")
    ax.set_ylim(0, 102)
    ax.set_title("sBG fit (solid) and projection (dashed)")
    ax.legend()
    return ax


def plot_retention_rates(
    model: Any,
    survivors: Any,
    calibration_periods: int,
    label: str = "",
    ax: Any = None,
    unit: str = "years",
    horizon: int | None = None,
) -> Any:
    """Observed period-on-period retention rates against the sBG curve r_t.

    The model's retention rate ``r_t = (beta + t - 1) / (alpha + beta + t - 1)``
    rises with tenure as the customers most prone to leave are sorted out; the
    observed rates ``n_t / n_(t-1)`` show the same rise. Arguments as for
    :func:`plot_sbg_fit`.

    Examples
    --------
    >>> import crmlab as cl
    >>> s = cl.datasets.load_survival()["high_end"]
    >>> m = cl.models.ShiftedBetaGeometric().fit(s.loc[:7])
    >>> ax = plot_retention_rates(m, s, 7, label="High End")
    >>> ax.get_ylabel()
    'retention rate (% renewing)'
    """
    counts, ax, last = _start(survivors, calibration_periods, ax, horizon)
    _shade(ax, 0.5, calibration_periods + 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = 100 * counts[1:] / counts[:-1]
    colour = _observed(ax, np.arange(1, len(counts)), observed, label)
    curve = np.arange(1, last + 1)
    _model_curve(ax, curve, 100 * model.retention_rate(curve), colour, label)
    ax.set_xlabel(f"period t ({unit} since acquisition)")
    ax.set_ylabel("retention rate (% renewing)")
    ax.set_title("Retention rises with tenure: the sorting effect")
    ax.legend()
    return ax
