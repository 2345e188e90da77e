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
    "plot_churn_distribution",
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
    *,
    benchmark: bool = False,
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
    benchmark : bool
        Also draw, dotted, the projection of one constant retention rate fitted to
        the same periods (:func:`crmlab.retention.constant_retention_rate`): the
        model that ignores heterogeneity.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import crmlab as cl
    >>> s = cl.datasets.load_survival()["regular"]
    >>> m = cl.models.ShiftedBetaGeometric().fit(s.loc[:7])
    >>> ax = plot_sbg_fit(m, s, 7, label="Regular", benchmark=True)
    >>> ax.get_ylabel()
    'customers still active (% of cohort)'
    >>> ax.get_lines()[-1].get_label()
    'constant retention Regular'
    """
    counts, ax, last = _start(survivors, calibration_periods, ax, horizon)
    artists = draw_sbg_survival(ax, label, unit)
    survival = model.survival(np.arange(0, max(last, calibration_periods) + 1))
    update_sbg_survival(artists, counts / counts[0], survival, calibration_periods)
    if benchmark:
        from crmlab.retention import constant_retention_rate

        rate = constant_retention_rate(counts[: calibration_periods + 1])
        periods = np.arange(0, last + 1)
        ax.plot(
            periods,
            100 * rate**periods,
            color=artists[0].get_color(),
            linestyle=":",
            linewidth=2,
            label=f"constant retention {label}".strip(),
        )
        ax.set_title("sBG fit (solid) and projection (dashed); constant retention (dotted)")
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
    colour = dots.get_color()
    # The same line convention as plot_sbg_fit: solid where fitted, dashed beyond.
    fitted = np.arange(1, calibration_periods + 1)
    ax.plot(fitted, 100 * model.retention_rate(fitted), color=colour, linestyle="-")
    curve = np.arange(calibration_periods, last + 1)
    ax.plot(
        curve,
        100 * model.retention_rate(curve),
        color=colour,
        linestyle="--",
        label=f"sBG {label}".strip(),
    )
    ax.set_xlabel(f"period t ({unit_name(unit)} since acquisition)")
    ax.set_ylabel("retention rate (% renewing)")
    ax.set_title("Retention rises with tenure: sBG fit (solid) and projection (dashed)")
    ax.legend()
    return ax


def plot_churn_distribution(model: Any, label: str = "", ax: Any = None, points: int = 400) -> Any:
    """Density of the churn probability theta across customers, Beta(alpha, beta).

    The picture behind the sBG model: each customer has her own probability of
    leaving each period, and this is how those probabilities are spread. The mean
    ``alpha / (alpha + beta)`` is marked. Calling again with the same ``ax`` adds a
    group in the next colour.

    Parameters
    ----------
    model : ShiftedBetaGeometric
        A fitted model (or one with parameters set).
    label : str
        Name of the group, for the legend.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure).
    points : int
        Grid points on (0, 1).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import crmlab as cl
    >>> m = cl.models.ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    >>> ax = plot_churn_distribution(m, label="Regular")
    >>> ax.get_xlabel()
    'churn probability per period, theta'
    """
    from scipy import stats

    params = model.params
    alpha, beta = params["alpha"], params["beta"]
    ax = _axes(ax)
    # An alpha or beta below 1 sends the density to infinity at an end; stop short of it.
    theta = np.linspace(0.005, 0.995, int(points))
    density = stats.beta(alpha, beta).pdf(theta)
    mean = alpha / (alpha + beta)
    line = ax.plot(theta, density, linewidth=2, label=label or None)[0]
    ax.axvline(mean, color=line.get_color(), linestyle="--", linewidth=1)
    ax.annotate(
        f"mean {mean:.2f}",
        (mean, 0.97),
        xycoords=("data", "axes fraction"),
        color=line.get_color(),
        ha="left",
        va="top",
        xytext=(3, 0),
        textcoords="offset points",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, min(8.0, max(ax.get_ylim()[1], float(np.max(density)) * 1.05)))
    ax.set_xlabel("churn probability per period, theta")
    ax.set_ylabel("density (share of customers per unit of theta)")
    ax.set_title("How the probability of leaving is spread across customers")
    if ax.get_legend_handles_labels()[1]:
        ax.legend()
    return ax
