"""BG/NBD customer explorer: one customer's history -> P(alive) and expected purchases."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from crmlab.widgets._base import Dashboard, float_slider, int_slider, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from crmlab.models import BGNBD

__all__ = ["BGNBDExplorer", "bgnbd_explorer", "cdnow_bgnbd"]


@lru_cache(maxsize=1)
def cdnow_bgnbd() -> BGNBD:
    """BG/NBD fitted to the CDNOW sample's 39 calibration weeks (cached: fitted once).

    >>> {k: round(v, 3) for k, v in cdnow_bgnbd().params.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """
    from crmlab.cdnow import calibration
    from crmlab.models import BGNBD

    return BGNBD().fit(calibration())


class BGNBDExplorer(Dashboard):
    """Sliders for x, t_x, T and the horizon; P(alive) map with the customer marked."""

    css_class = "crmlab-bgnbd"
    title = "BG/NBD: is this customer still alive?"

    def __init__(
        self,
        model: BGNBD,
        *,
        x: int,
        t_x: float,
        T: float,
        horizon: float,
        max_x: int,
        max_T: float,
        unit: str,
    ) -> None:
        self.model = model
        self.max_x = max_x
        self.unit = unit
        controls = {
            "x": int_slider("Repeat purchases x", x, 0, max_x, css_class="crmlab-bgnbd-x"),
            "t_x": float_slider(
                f"Last purchase t_x ({unit})", t_x, 0, max_T, 0.1, readout_format=".1f"
            ),
            "T": float_slider(f"Observed for T ({unit})", T, 0.1, max_T, 0.1, readout_format=".1f"),
            "horizon": float_slider(
                f"Prediction horizon ({unit})", horizon, 0, 2 * max_T, 1, readout_format=".0f"
            ),
        }
        # The last purchase cannot come after the end of observation: t_x follows T.
        controls["t_x"].max = T
        super().__init__(controls, figure_size=(6.0, 3.6))

    def follow(self, change: Any) -> None:
        if change["owner"] is self.controls["T"]:
            # Lowering the maximum below the value pulls the value down with it.
            self.controls["t_x"].max = change["new"]

    def compute(self, *, x: int, t_x: float, T: float, horizon: float) -> dict[str, Any]:
        from crmlab.plots.tracking import p_alive_grid

        model = self.model
        return {
            "x": x,
            "t_x": t_x,
            "T": T,
            "horizon": horizon,
            "p_alive": model.p_alive(x, t_x, T),
            "expected": model.conditional_expected_purchases(horizon, x, t_x, T),
            "map": p_alive_grid(model, T, self.max_x),
        }

    def render(self, result: dict[str, Any]) -> str:
        params = ", ".join(f"{k} = {v:.3f}" for k, v in self.model.params.items())
        return (
            f"<p>A customer with x = {result['x']} repeat purchases, the last at "
            f"t_x = {result['t_x']:.1f}, observed for T = {result['T']:.1f} {self.unit}:</p>"
            "<ul>"
            f"<li>P(alive) = {number_span('crmlab-bgnbd-p-alive', result['p_alive'], 3)}</li>"
            f"<li>Expected purchases in the next {result['horizon']:.0f} {self.unit}: "
            f"{number_span('crmlab-bgnbd-expected', result['expected'], 3)}</li>"
            "</ul>"
            f"<p style='color:#555'>BG/NBD parameters: {params}</p>"
        )

    def draw(self, result: dict[str, Any], figure: Figure) -> None:
        # The notebook's P(alive) map (crmlab.plots.plot_p_alive_map), updated in place.
        from crmlab.plots.tracking import draw_p_alive_map, update_p_alive_map

        if not figure.axes:
            draw_p_alive_map(figure.subplots(), result["map"], result["T"], self.unit)
        mark = (result["x"], result["t_x"])
        update_p_alive_map(figure.axes[0], result["map"], result["T"], self.unit, mark)


def bgnbd_explorer(
    model: BGNBD | None = None,
    *,
    x: int = 2,
    t_x: float = 30.43,
    T: float = 38.86,
    horizon: float = 39.0,
    max_x: int = 20,
    max_T: float = 78.0,
    unit: str = "weeks",
) -> BGNBDExplorer:
    """Explore one customer under a fitted BG/NBD model.

    Parameters
    ----------
    model : crmlab.models.BGNBD, optional
        A fitted model; defaults to the BG/NBD fitted to the CDNOW sample
        (:func:`cdnow_bgnbd`, weeks).
    x, t_x, T, horizon : number
        Starting values: repeat purchases, time of the last one, length of the
        observation, and how far ahead to predict (all in ``unit``).
    max_x, max_T : number
        Ranges of the sliders (and of the P(alive) map).
    unit : str
        Time unit of the model, shown in the labels.

    Returns
    -------
    BGNBDExplorer
        ``.controls`` (x, t_x, T, horizon), ``.result``, ``.readout``, ``.image``.

    Examples
    --------
    The customer of Fader, Hardie & Lee (2005), expected to buy 1.226 times in 39 weeks:

    >>> w = bgnbd_explorer()
    >>> round(float(w.result["expected"]), 3), round(float(w.result["p_alive"]), 3)
    (1.226, 0.727)
    """
    if model is None:
        model = cdnow_bgnbd()
    return BGNBDExplorer(
        model, x=x, t_x=t_x, T=T, horizon=horizon, max_x=max_x, max_T=max_T, unit=unit
    )
