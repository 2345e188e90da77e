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
from crmlab.plots._common import unit_name

__all__ = [
    "draw_sbg_survival",
    "plot_retention_rates",
    "plot_sbg_fit",
    "update_sbg_survival",
]

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


def _shade(ax: Any, start: float, stop: float) -> Any:
    """The grey band over the fitting window (one per Axes, however many groups)."""
    for patch in ax.patches:
        if patch.get_label() == _SHADE_LABEL:
            return patch
    from matplotlib.patches import Rectangle

    # Spanning the full height in axes coordinates, so that only its width moves.
    band = Rectangle(
        (start, 0),
        stop - start,
        1,
        transform=ax.get_xaxis_transform(),
        color="grey",
        alpha=0.12,
        label=_SHADE_LABEL,
    )
    return ax.add_patch(band)


def draw_sbg_survival(ax: Any, label: str = "", unit: str = "years") -> tuple[Any, Any, Any]:
    """Empty artists of the sBG survival figure: observed dots, fitted and projected curves.

    The fitted curve is solid over the calibration periods and dashed beyond, in the
    colour of the group's dots; the fitting window is shaded. Fill them with
    :func:`update_sbg_survival`. Drawing a second group on the same Axes takes the next
    colour. :func:`plot_sbg_fit` and the sBG explorer widget both draw this figure.
    """
    _shade(ax, 0, 1)
    (observed,) = ax.plot([], [], marker="o", linestyle="none", label=f"observed {label}".strip())
    colour = observed.get_color()
    (fitted,) = ax.plot([], [], color=colour, linestyle="-")
    (projected,) = ax.plot([], [], color=colour, linestyle="--", label=f"sBG {label}".strip())
    ax.set_xlabel(f"time since acquisition ({unit_name(unit)})")
    ax.set_ylabel("customers still active (% of cohort)")
    ax.set_ylim(0, 102)
    ax.set_title("sBG fit (solid) and projection (dashed)")
    ax.legend(loc="upper right")
    return observed, fitted, projected


def update_sbg_survival(
    artists: tuple[Any, Any, Any],
    observed: Any,
    model_survival: Any,
    calibration_periods: int,
) -> None:
    """Fill :func:`draw_sbg_survival`'s artists.

    ``observed`` and ``model_survival`` are fractions of the cohort for periods
    0, 1, ...; the model's curve may run past the observations (a projection).
    """
    dots, fitted, projected = artists
    observed = np.asarray(observed, dtype=float)
    model_survival = np.asarray(model_survival, dtype=float)
    periods = np.arange(len(model_survival))
    split = calibration_periods + 1
    dots.set_data(np.arange(len(observed)), 100 * observed)
    fitted.set_data(periods[:split], 100 * model_survival[:split])
    projected.set_data(periods[split - 1 :], 100 * model_survival[split - 1 :])
    ax = dots.axes
    _shade(ax, 0, 1).set_width(calibration_periods)
    # Every group drawn on these Axes counts, so a second group never hides the first.
    ax.relim()
    ax.autoscale_view(scalex=True, scaley=False)


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
    artists = draw_sbg_survival(ax, label, unit)
    survival = model.survival(np.arange(0, max(last, calibration_periods) + 1))
    update_sbg_survival(artists, counts / counts[0], survival, calibration_periods)
    ax.legend(loc="upper right")
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
    (dots,) = ax.plot(
        np.arange(1, len(counts)),
        observed,
        marker="o",
        linestyle="none",
        label=f"observed {label}".strip(),
    )
    curve = np.arange(1, last + 1)
    ax.plot(
        curve,
        100 * model.retention_rate(curve),
        color=dots.get_color(),
        linestyle="--",
        label=f"sBG {label}".strip(),
    )
    ax.set_xlabel(f"period t ({unit_name(unit)} since acquisition)")
    ax.set_ylabel("retention rate (% renewing)")
    ax.set_title("Retention rises with tenure: the sorting effect")
    ax.legend()
    return ax
