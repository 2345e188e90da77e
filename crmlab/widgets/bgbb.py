"""BG/BB donor explorer: one history (x, t_x, n) -> P(alive), expected transactions, DERT."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.widgets._base import Dashboard, float_slider, int_slider, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from crmlab.models import BGBB

__all__ = ["BGBBExplorer", "bgbb_explorer", "donations_bgbb"]


@lru_cache(maxsize=1)
def donations_bgbb() -> BGBB:
    """BG/BB fitted to the donations data of Fader, Hardie & Shang (2010) (cached).

    >>> {k: round(v, 3) for k, v in donations_bgbb().params.items()}
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """
    from crmlab.datasets import load_donations
    from crmlab.models import BGBB

    return BGBB().fit(load_donations())


def valid_history(x: int, t_x: int, n: int) -> tuple[int, int]:
    """The nearest possible (x, t_x) for ``n`` opportunities.

    Possible means 0 <= x <= t_x <= n, with x = 0 exactly when t_x = 0.

    >>> valid_history(3, 2, 6), valid_history(0, 4, 6), valid_history(2, 0, 6)
    ((2, 2), (1, 4), (0, 0))
    >>> valid_history(5, 9, 6)
    (5, 6)
    """
    t_x = min(max(t_x, 0), n)
    x = min(max(x, 0), t_x)
    if t_x > 0 and x == 0:
        x = 1
    return x, t_x


def p_alive_map(model: BGBB, n: int) -> np.ndarray:
    """P(alive) of every possible history after ``n`` opportunities; NaN where impossible.

    Rows are x = 0 … n, columns t_x = 0 … n.

    >>> grid = p_alive_map(donations_bgbb(), 2)
    >>> np.isnan(grid).astype(int).tolist()
    [[0, 1, 1], [1, 0, 0], [1, 1, 0]]
    """
    x, t_x = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    possible = (x <= t_x) & ((x == 0) == (t_x == 0))
    grid = np.full(x.shape, np.nan)
    grid[possible] = model.p_alive(x[possible], t_x[possible], n)
    return grid


def _decimals(value: float) -> int:
    """Decimals that show a small probability to four significant digits."""
    if not value > 0 or not math.isfinite(value):
        return 4
    return max(4, 3 - math.floor(math.log10(value)))


class BGBBExplorer(Dashboard):
    """Sliders for one donor's history, the horizon and the discount rate; two panels."""

    css_class = "crmlab-bgbb"
    title = "BG/BB: is this donor still alive, and what is she worth?"

    def __init__(
        self,
        model: BGBB,
        *,
        x: int,
        t_x: int,
        n: int,
        horizon: int,
        discount: float,
        max_n: int,
        max_horizon: int,
        unit: str,
    ) -> None:
        # State read by compute() and draw() is set before the base class's first refresh.
        self.model = model
        self.unit = unit
        x, t_x = valid_history(x, t_x, n)
        controls = {
            "n": int_slider(f"Opportunities so far n ({unit})", n, 1, max_n),
            "t_x": int_slider(
                "Opportunity of the last transaction t_x", t_x, 0, max_n, css_class="crmlab-bgbb-tx"
            ),
            "x": int_slider("Transactions x", x, 0, max_n, css_class="crmlab-bgbb-x"),
            "horizon": int_slider(f"Look ahead n* ({unit})", horizon, 0, max_horizon),
            "discount": float_slider("Discount rate per opportunity d", discount, 0, 0.5, 0.01),
        }
        controls["t_x"].max = n
        controls["x"].max = n
        super().__init__(controls, figure_size=(10.0, 3.6))

    def follow(self, change: Any) -> None:
        # Keep the history possible: whichever slider moved wins, the others give way.
        n = self.controls["n"].value
        x, t_x = self.controls["x"].value, self.controls["t_x"].value
        moved = change["owner"]
        if moved is self.controls["x"] and x > 0 and t_x == 0:
            t_x = x
        elif moved is self.controls["x"] and x == 0:
            t_x = 0
        elif moved is self.controls["x"] and x > t_x:
            t_x = x
        x, t_x = valid_history(x, t_x, n)
        self.controls["t_x"].max = n
        self.controls["t_x"].value = t_x
        self.controls["x"].max = n
        self.controls["x"].value = x

    def compute(self, *, x: int, t_x: int, n: int, horizon: int, discount: float) -> dict[str, Any]:
        import pandas as pd
        from scipy import special

        model = self.model
        alpha, beta, gamma, delta = (model.params[k] for k in ("alpha", "beta", "gamma", "delta"))
        # Raises the model's ValueError on an impossible history: shown as a message.
        p_alive = model.p_alive(x, t_x, n)
        likelihood = math.exp(
            model.log_likelihood(pd.DataFrame({"x": [x], "t_x": [t_x], "n": [n]}))
        )
        alive_term = math.exp(
            special.betaln(alpha + x, beta + n - x)
            - special.betaln(alpha, beta)
            + special.betaln(gamma, delta + n + 1)
            - special.betaln(gamma, delta)
        )
        steps = np.arange(horizon + 1)
        cumulative = np.asarray(model.conditional_expected_purchases(steps, x, t_x, n), float)
        per_opportunity = np.diff(cumulative)
        return {
            "x": x,
            "t_x": t_x,
            "n": n,
            "horizon": horizon,
            "discount": discount,
            "p_alive": p_alive,
            "likelihood": likelihood,
            "alive_term": alive_term,
            "expected": float(cumulative[-1]),
            "per_opportunity": per_opportunity,
            "dert": float(model.discounted_expected_residual_transactions(discount, x, t_x, n)),
            "map": p_alive_map(model, n),
        }

    def render(self, result: dict[str, Any]) -> str:
        unit = self.unit
        params = ", ".join(f"{k} = {v:.3f}" for k, v in self.model.params.items())
        dert = result["dert"]
        likelihood = result["likelihood"]
        if math.isinf(dert):
            dert_note = (
                "<p style='color:#a00'>DERT is infinite: without discounting, and with "
                "γ ≤ 1, the expected number of future transactions has no end (some donors "
                "almost never die). Raise the discount rate.</p>"
            )
        else:
            dert_note = ""
        return (
            f"<p>A donor with x = {result['x']} transactions in n = {result['n']} "
            f"opportunities, the last at t_x = {result['t_x']}:</p>"
            "<ul>"
            f"<li>Likelihood of this history L = "
            f"{number_span('crmlab-bgbb-likelihood', likelihood, _decimals(likelihood))}</li>"
            f"<li>P(alive) = B(α + x, β + n − x) B(γ, δ + n + 1) / (B(α, β) B(γ, δ) L) = "
            f"{result['alive_term']:.4g} / {result['likelihood']:.4g}"
            f" = {number_span('crmlab-bgbb-p-alive', result['p_alive'], 3)}</li>"
            f"<li>Expected transactions in the next {result['horizon']} {unit}: "
            f"{number_span('crmlab-bgbb-expected', result['expected'], 3)}</li>"
            f"<li>DERT at d = {result['discount']:.2f}: "
            f"{number_span('crmlab-bgbb-dert', dert, 3)}</li>"
            "</ul>"
            f"{dert_note}"
            f"<p style='color:#555'>BG/BB parameters: {params}</p>"
        )

    def draw(self, result: dict[str, Any], figure: Figure) -> None:
        import seaborn as sns
        from matplotlib.ticker import MaxNLocator

        n, horizon = result["n"], result["horizon"]
        colours = sns.color_palette("colorblind")
        if not figure.axes:
            left, right = figure.subplots(1, 2, width_ratios=(1, 1.25))
            cmap = sns.color_palette("mako", as_cmap=True).with_extremes(bad="#eeeeee")
            image = left.imshow(
                result["map"], origin="lower", aspect="auto", vmin=0, vmax=1, cmap=cmap
            )
            figure.colorbar(image, ax=left, label="P(alive)")
            left.plot([], [], "X", color="#f0e442", markersize=12, markeredgecolor="black")
            left.set_xlabel("opportunity of the last transaction t_x")
            left.set_ylabel("transactions x")
            for axis in (left.xaxis, left.yaxis):
                axis.set_major_locator(MaxNLocator(integer=True))
            right.plot([], [], "o-", color=colours[0], label="expected, undiscounted")
            right.plot([], [], "s--", color=colours[1], label="discounted at d")
            right.set_xlabel(f"opportunities ahead ({self.unit})")
            right.set_ylabel("expected transactions")
            right.set_ylim(0, 1)
            right.legend(loc="upper right", fontsize=8)
            right.xaxis.set_major_locator(MaxNLocator(integer=True))
        left, right = figure.axes[0], figure.axes[1]
        image = left.images[0]
        image.set_data(result["map"])
        image.set_extent((-0.5, n + 0.5, -0.5, n + 0.5))
        left.set_xlim(-0.5, n + 0.5)
        left.set_ylim(-0.5, n + 0.5)
        left.set_title(f"after n = {n} opportunities (grey: impossible)", fontsize=9)
        marker = left.lines[0]
        marker.set_data([result["t_x"]], [result["x"]])
        steps = np.arange(1, horizon + 1)
        per = result["per_opportunity"]
        right.lines[0].set_data(steps, per)
        right.lines[1].set_data(steps, per / (1 + result["discount"]) ** steps)
        right.set_xlim(0.5, max(horizon, 1) + 0.5)
        right.set_title(f"the next {horizon} opportunities", fontsize=9)
        # The marker and the two curves move with the sliders; the map, the axes and
        # the titles change only with n and the horizon (see still_key).
        for artist in (marker, *right.lines):
            artist.set_animated(True)

    def still_key(self, result: dict[str, Any]) -> Any:
        return (result["n"], result["horizon"])


def bgbb_explorer(
    model: BGBB | None = None,
    *,
    x: int = 3,
    t_x: int = 4,
    n: int = 6,
    horizon: int = 5,
    discount: float = 0.10,
    max_n: int = 20,
    max_horizon: int = 30,
    unit: str = "years",
) -> BGBBExplorer:
    """Explore one customer under a fitted BG/BB model.

    Parameters
    ----------
    model : crmlab.models.BGBB, optional
        A fitted model; defaults to the BG/BB fitted to the donations data
        (:func:`donations_bgbb`, one opportunity a year).
    x, t_x, n : int
        Starting history: transactions, opportunity of the last one, opportunities
        so far (an impossible history is moved to the nearest possible one).
    horizon : int
        Opportunities ahead for the expected transactions.
    discount : float
        Discount rate per opportunity for DERT.
    max_n, max_horizon : int
        Ranges of the sliders.
    unit : str
        What one opportunity is, shown in the labels.

    Returns
    -------
    BGBBExplorer
        ``.controls`` (n, t_x, x, horizon, discount), ``.result``, ``.readout``,
        ``.image``.

    Examples
    --------
    >>> w = bgbb_explorer(x=6, t_x=6, n=6)
    >>> round(w.result["expected"], 2), round(w.result["dert"], 2)
    (3.75, 5.91)
    """
    if model is None:
        model = donations_bgbb()
    return BGBBExplorer(
        model,
        x=x,
        t_x=t_x,
        n=n,
        horizon=horizon,
        discount=discount,
        max_n=max_n,
        max_horizon=max_horizon,
        unit=unit,
    )
