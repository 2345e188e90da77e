"""BG/NBD customer explorer: one customer's history -> P(alive) and expected purchases."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.widgets._base import Dashboard, float_slider, int_slider, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from crmlab.models import BGNBD

__all__ = ["BGNBDExplorer", "bgnbd_explorer", "cdnow_bgnbd"]

#: Cells of the P(alive) map along the t_x axis.
MAP_COLUMNS = 60


@lru_cache(maxsize=1)
def cdnow_bgnbd() -> BGNBD:
    """BG/NBD fitted to the CDNOW sample's 39 calibration weeks (cached: fitted once).

    >>> {k: round(v, 3) for k, v in cdnow_bgnbd().params.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """
    from crmlab.datasets import load_cdnow_published_summary
    from crmlab.models import BGNBD

    return BGNBD().fit(load_cdnow_published_summary())


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
        model = self.model
        # Cell centres along t_x, so that no cell asks for x > 0 with t_x = 0.
        grid_t = (np.arange(MAP_COLUMNS) + 0.5) * T / MAP_COLUMNS
        grid_x = np.arange(self.max_x + 1)
        return {
            "x": x,
            "t_x": t_x,
            "T": T,
            "horizon": horizon,
            "p_alive": model.p_alive(x, t_x, T),
            "expected": model.conditional_expected_purchases(horizon, x, t_x, T),
            # Row x = 0 has no last purchase: t_x = 0 there (the model refuses t_x > 0).
            "map": model.p_alive(
                grid_x[:, None], np.where(grid_x[:, None] == 0, 0.0, grid_t[None, :]), T
            ),
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
        import seaborn as sns
        from matplotlib.ticker import MaxNLocator

        T = result["T"]
        extent = (0.0, T, -0.5, self.max_x + 0.5)
        if not figure.axes:
            ax = figure.subplots()
            image = ax.imshow(
                result["map"],
                origin="lower",
                aspect="auto",
                extent=extent,
                vmin=0,
                vmax=1,
                cmap=sns.color_palette("mako", as_cmap=True),
                interpolation="nearest",
            )
            figure.colorbar(image, ax=ax, label="P(alive)")
            ax.plot([], [], "X", color="#f0e442", markersize=11, markeredgecolor="black")
            ax.set_xlabel(f"time of last purchase t_x ({self.unit})")
            ax.set_ylabel("repeat purchases x")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax = figure.axes[0]
        image = ax.images[0]
        image.set_data(result["map"])
        image.set_extent(extent)
        ax.lines[0].set_data([result["t_x"]], [result["x"]])
        ax.set_xlim(0, T)
        ax.set_ylim(-0.5, self.max_x + 0.5)
        ax.set_title(f"T = {T:.1f} {self.unit}", fontsize=9)


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
