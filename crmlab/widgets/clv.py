"""Retention and CLV calculator: margin, retention, discount, acquisition cost, timing."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np

from crmlab import clv
from crmlab.widgets._base import (
    CONTROL_LAYOUT,
    LABEL_STYLE,
    Dashboard,
    float_slider,
    format_number,
    number_span,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CLVCalculator", "clv_calculator"]

TIMINGS = (
    ("first payment now", "beginning"),
    ("first payment in one period", "end"),
)

#: Retention rates at which the CLV curve of the figure is drawn.
CURVE_RETENTION = np.linspace(0.0, 0.99, 100)


class CLVCalculator(Dashboard):
    """Calculator of a customer's lifetime value under constant retention.

    Shows the CLV (:func:`crmlab.clv.simple_clv`), the most one may pay to acquire
    a customer (:func:`crmlab.clv.max_acquisition_cost`), the value of a new
    customer net of acquisition (:func:`crmlab.clv.new_customer_clv`), the value of
    one more point of retention (:func:`crmlab.clv.retention_point_value`), the
    formula with the numbers in it, and CLV against retention with the customer
    marked. The keyword arguments are the sliders' starting values;
    ``projector=True`` lays it out for a projector (1280×720): larger type, the curve
    beside the readout, long sliders below.

    It is an ``ipywidgets.VBox``; ``.controls`` holds the inputs by name, ``.result``
    the numbers shown, ``.readout`` the HTML. ``clv_calculator`` is the same class.

    Examples
    --------
    >>> w = clv_calculator(margin=100, retention=0.8, discount=0.1)
    >>> round(w.result["clv"], 2)
    366.67
    >>> w.controls["retention"].value = 0.9
    >>> round(w.result["clv"], 2)
    550.0
    """

    css_class = "crmlab-clv"
    title = "Retention and customer lifetime value"
    projector_figure_size = (6.0, 3.4)

    def __init__(
        self,
        *,
        margin: float = 100.0,
        retention: float = 0.8,
        discount: float = 0.10,
        acquisition_cost: float = 150.0,
        timing: str = "beginning",
        projector: bool = False,
    ) -> None:
        if timing not in dict(TIMINGS).values():
            raise ValueError(f"timing must be 'beginning' or 'end', got {timing!r}")
        controls = {
            "margin": float_slider(
                "Margin per period",
                margin,
                0,
                1000,
                5,
                readout_format=".0f",
                css_class="crmlab-clv-margin",
            ),
            "retention": float_slider(
                "Retention rate", retention, 0, 1, 0.01, css_class="crmlab-clv-retention"
            ),
            "discount": float_slider(
                "Discount rate per period",
                discount,
                0,
                0.5,
                0.01,
                css_class="crmlab-clv-discount",
            ),
            "acquisition_cost": float_slider(
                "Acquisition cost",
                acquisition_cost,
                0,
                2000,
                10,
                readout_format=".0f",
                css_class="crmlab-clv-acquisition-cost",
            ),
            "timing": widgets.ToggleButtons(
                options=TIMINGS,
                value=timing,
                description="Timing",
                style={**LABEL_STYLE, "button_width": "17em"},
                layout={**CONTROL_LAYOUT, "width": "auto"},
            ),
        }
        super().__init__(controls, figure_size=(5.2, 3.0), projector=projector)

    def projector_children(
        self,
        heading: widgets.Widget | None,
        controls: widgets.Box,
        readout: widgets.HTML,
        image: widgets.Image | None,
    ) -> list[widgets.Widget]:
        """The curve beside the readout, the controls across the screen below them."""
        readout.layout = {"flex": "1 1 0", "margin": "0 0 0 1.5em"}
        controls.layout = {"width": "100%"}
        parts = [heading, widgets.HBox([image, readout]), controls]
        return [part for part in parts if part is not None]

    def compute(
        self,
        *,
        margin: float,
        retention: float,
        discount: float,
        acquisition_cost: float,
        timing: str,
    ) -> dict[str, Any]:
        common = {"margin": margin, "retention": retention, "discount": discount}
        return {
            **common,
            "acquisition_cost": acquisition_cost,
            "timing": timing,
            "clv": clv.simple_clv(**common, timing=timing),
            "max_acquisition_cost": clv.max_acquisition_cost(**common, timing=timing),
            "net_clv": clv.new_customer_clv(
                **common, acquisition_cost=acquisition_cost, timing=timing
            ),
            "point_value": clv.retention_point_value(**common, timing=timing),
            "curve": clv.simple_clv(margin, CURVE_RETENTION, discount, timing=timing),
        }

    def render(self, result: dict[str, Any]) -> str:
        m, r, d = result["margin"], result["retention"], result["discount"]
        numbers = {"m": f"{m:,.0f}", "r": f"{r:.2f}", "d": f"{d:.2f}", "1+d": f"{1 + d:.2f}"}
        if result["timing"] == "beginning":
            symbolic = "CLV = m (1 + d) / (1 + d − r)"
            filled = f"{numbers['m']} × {numbers['1+d']} / ({numbers['1+d']} − {numbers['r']})"
        else:
            symbolic = "CLV = m r / (1 + d − r)"
            filled = f"{numbers['m']} × {numbers['r']} / ({numbers['1+d']} − {numbers['r']})"
        value = result["clv"]
        lines = [
            f"<p style='font-size:1.3em'>CLV = {number_span('crmlab-clv-value', value)}</p>",
            f"<p><code>{html.escape(symbolic)}</code> = <code>{html.escape(filled)}</code>"
            f" = {html.escape(format_number(value))}</p>",
            "<ul>",
            f"<li>Most one may pay to acquire a customer: "
            f"{number_span('crmlab-clv-max-acquisition', result['max_acquisition_cost'])}</li>",
            f"<li>Value of a new customer after paying "
            f"{html.escape(format_number(result['acquisition_cost']))} to acquire her: "
            f"{number_span('crmlab-clv-net', result['net_clv'])}</li>",
            f"<li>Value of one more point of retention (r + 0.01): "
            f"{number_span('crmlab-clv-point', result['point_value'])}</li>",
            "</ul>",
        ]
        if math.isinf(value):
            lines.append(
                "<p class='crmlab-message'>With retention 1 and no discount a customer pays "
                "for ever at full value, so her CLV is infinite. Set a discount rate above "
                "0 or a retention rate below 1.</p>"
            )
        elif result["net_clv"] < 0:
            lines.append(
                "<p class='crmlab-message'>Acquiring a customer at this cost destroys value: "
                "the acquisition cost exceeds her CLV.</p>"
            )
        return "".join(lines)

    def draw(self, result: dict[str, Any], figure: Figure) -> None:
        import seaborn as sns

        colour, marker_colour = sns.color_palette("colorblind", 2)
        if not figure.axes:
            ax = figure.subplots()
            (curve,) = ax.plot(CURVE_RETENTION, result["curve"], color=colour, label="CLV")
            (point,) = ax.plot([], [], "o", color=marker_colour, label="your customer")
            ax.set_xlabel("retention rate per period")
            ax.set_ylabel("CLV (currency)")
            ax.set_xlim(0, 1)
            ax.grid(alpha=0.3)
            ax.legend(frameon=False, loc="upper left")
        ax = figure.axes[0]
        curve, point = ax.lines
        curve.set_ydata(result["curve"])
        value = result["clv"]
        shown = [value] if math.isfinite(value) else []
        point.set_data([result["retention"]] if shown else [], shown)
        top = max(float(np.max(result["curve"])), value if math.isfinite(value) else 0.0)
        ax.set_ylim(0, max(top * 1.05, 1.0))


#: The builder is the class itself: its keyword arguments are the sliders' starting values.
clv_calculator = CLVCalculator
