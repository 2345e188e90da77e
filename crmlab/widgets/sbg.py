"""sBG explorer: move alpha and beta, or fit them, and compare with observed survival."""

from __future__ import annotations

import html
import warnings
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from crmlab.models.sbg import ShiftedBetaGeometric
from crmlab.widgets._base import CONTROL_LAYOUT, LABEL_STYLE, Dashboard, int_slider, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SBGExplorer", "sbg_explorer"]

GROUP_LABELS = {"regular": "Regular", "high_end": "High End"}


def _log_slider(description: str, value: float, css_class: str) -> widgets.FloatLogSlider:
    slider = widgets.FloatLogSlider(
        value=value,
        base=10,
        min=-2,
        max=2,
        step=0.01,
        description=description,
        readout_format=".3f",
        continuous_update=False,
        style=LABEL_STYLE,
        layout=CONTROL_LAYOUT,
    )
    slider.add_class(css_class)
    return slider


class SBGExplorer(Dashboard):
    """Observed vs sBG survival, with a projection beyond the calibration periods."""

    css_class = "crmlab-sbg"
    title = "Shifted-beta-geometric model of retention"

    def __init__(
        self,
        survivors: pd.DataFrame,
        *,
        group: str,
        calibration_years: int,
        alpha: float,
        beta: float,
    ) -> None:
        if survivors.shape[1] < 1 or len(survivors) < 3:
            raise ValueError(
                "survivors needs one column per group and at least 3 periods (rows), "
                f"got shape {survivors.shape}"
            )
        if group not in survivors.columns:
            raise ValueError(f"group must be one of {list(survivors.columns)}, got {group!r}")
        self.survivors = survivors
        self.fitted: dict[str, Any] | None = None
        last = len(survivors) - 1
        controls = {
            "group": widgets.Dropdown(
                options=[(GROUP_LABELS.get(str(c), str(c)), c) for c in survivors.columns],
                value=group,
                description="Customer group",
                style=LABEL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
            "calibration_years": int_slider(
                "Periods used to fit", min(calibration_years, last), 2, last
            ),
            "alpha": _log_slider("alpha", alpha, "crmlab-sbg-alpha-slider"),
            "beta": _log_slider("beta", beta, "crmlab-sbg-beta-slider"),
        }
        self.fit_button = widgets.Button(
            description="Fit alpha and beta", button_style="primary", icon="check"
        )
        self.fit_button.add_class("crmlab-sbg-fit")
        self.fit_button.on_click(lambda _button: self.fit())
        self._artists: tuple[Any, Any, Any] | None = None  # set by the first draw
        super().__init__(controls, extra=[self.fit_button], figure_size=(6.0, 3.4))

    def observed(self, group: str) -> pd.Series:
        return self.survivors[group].astype(float)

    def fit(self) -> None:
        """Fit the sBG to the calibration periods and move the sliders to the estimates."""
        values = self.values()
        calibration = self.observed(values["group"]).iloc[: values["calibration_years"] + 1]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = ShiftedBetaGeometric().fit(calibration)
            except ValueError as error:
                self.fitted = {"error": str(error)}
                self.refresh()
                return
        self.fitted = {
            "group": values["group"],
            "calibration_years": values["calibration_years"],
            "params": model.params,
            "loglik": model.loglik,
            "warnings": [str(w.message) for w in caught],
        }
        # One redraw for both sliders, not two.
        with self.held():
            self.controls["alpha"].value = model.params["alpha"]
            self.controls["beta"].value = model.params["beta"]
        self.refresh()

    def compute(
        self, *, group: str, calibration_years: int, alpha: float, beta: float
    ) -> dict[str, Any]:
        observed = self.observed(group)
        cohort = float(observed.iloc[0])
        model = ShiftedBetaGeometric().set_params(alpha=alpha, beta=beta)
        periods = np.arange(len(observed))
        survival = model.survival(periods)
        return {
            "group": group,
            "calibration_years": calibration_years,
            "alpha": alpha,
            "beta": beta,
            "periods": periods,
            "observed": observed.to_numpy() / cohort,
            "model": survival,
            "loglik": model.log_likelihood(observed.iloc[: calibration_years + 1]),
            "retention_last": model.retention_rate(periods[-1]),
            "fitted": self.fitted,
        }

    def render(self, result: dict[str, Any]) -> str:
        last = int(result["periods"][-1])
        lines = [
            f"<p>Log-likelihood of periods 0–{result['calibration_years']} at "
            f"alpha = {result['alpha']:.3f}, beta = {result['beta']:.3f}: "
            f"{number_span('crmlab-sbg-loglik', result['loglik'])}</p>",
            f"<p>Period {last}: model survival "
            f"{number_span('crmlab-sbg-model-last', 100 * result['model'][-1], 1, unit='%')}"
            f", observed "
            f"{number_span('crmlab-sbg-observed-last', 100 * result['observed'][-1], 1, unit='%')}"
            f"; model retention rate "
            f"{number_span('crmlab-sbg-retention-last', result['retention_last'], 3)}</p>",
        ]
        fitted = result["fitted"]
        if fitted and "error" in fitted:
            lines.append(
                f"<p class='crmlab-message'>Fit failed: {html.escape(fitted['error'])}</p>"
            )
        elif fitted:
            params = fitted["params"]
            lines.append(
                f"<p>Maximum-likelihood fit to {GROUP_LABELS.get(fitted['group'], fitted['group'])}"
                f", periods 0–{fitted['calibration_years']}: alpha = "
                f"{number_span('crmlab-sbg-fit-alpha', params['alpha'], 3)}, beta = "
                f"{number_span('crmlab-sbg-fit-beta', params['beta'], 3)}, log-likelihood "
                f"{number_span('crmlab-sbg-fit-loglik', fitted['loglik'])}</p>"
            )
            low, high = 10.0 ** self.controls["alpha"].min, 10.0 ** self.controls["alpha"].max
            if any(not low <= value <= high for value in params.values()):
                lines.append(
                    f"<p class='crmlab-message'>The estimates lie outside the sliders' range "
                    f"({low:g} to {high:g}); the sliders show the nearest values.</p>"
                )
            for message in fitted["warnings"]:
                lines.append(f"<p class='crmlab-message'>{html.escape(message)}</p>")
        return "".join(lines)

    def draw(self, result: dict[str, Any], figure: Figure) -> None:
        # The notebook's figure (crmlab.plots.plot_sbg_fit), filled in place.
        from crmlab.plots.survival import draw_sbg_survival, update_sbg_survival

        if self._artists is None:
            label = GROUP_LABELS.get(str(result["group"]), str(result["group"]))
            self._artists = draw_sbg_survival(figure.subplots(), label, unit="periods")
        dots, _, projected = self._artists
        label = GROUP_LABELS.get(str(result["group"]), str(result["group"]))
        dots.set_label(f"observed {label}")
        projected.set_label(f"sBG {label}")
        update_sbg_survival(
            self._artists, result["observed"], result["model"], result["calibration_years"]
        )
        figure.axes[0].legend(loc="upper right")


def sbg_explorer(
    survivors: pd.DataFrame | None = None,
    *,
    group: str = "regular",
    calibration_years: int = 7,
    alpha: float = 1.0,
    beta: float = 1.0,
) -> SBGExplorer:
    """Explore the sBG model on survivor counts: sliders for alpha and beta, a Fit button.

    Parameters
    ----------
    survivors : pandas.DataFrame, optional
        Customers still active at the start of each period (rows, from period 0),
        one column per group. Defaults to Fader & Hardie's (2007) Regular and High End
        groups (:func:`crmlab.datasets.load_survival`).
    group : str
        Column shown first.
    calibration_years : int
        Periods used to fit (the rest is the projection).
    alpha, beta : float
        Starting values of the sliders.

    Returns
    -------
    SBGExplorer
        ``.controls`` (group, calibration_years, alpha, beta), ``.fit_button``,
        ``.result`` (numbers shown), ``.readout``, ``.image``.

    Examples
    --------
    >>> w = sbg_explorer()
    >>> w.fit()
    >>> {k: round(v, 3) for k, v in w.result["fitted"]["params"].items()}
    {'alpha': 0.704, 'beta': 1.182}
    """
    if survivors is None:
        from crmlab.datasets import load_survival

        survivors = load_survival()
    return SBGExplorer(
        survivors, group=group, calibration_years=calibration_years, alpha=alpha, beta=beta
    )
