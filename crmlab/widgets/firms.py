"""Product focus vs customer focus: two firms, one budget, sliders."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from crmlab.simulate import Crossover, retention_crossover, simulate_firms
from crmlab.widgets._base import Dashboard, float_slider, int_slider, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FirmSimulator", "firm_simulator"]

_FIRM_KEYS = {"product focus": "product", "customer focus": "customer"}


class FirmSimulator(Dashboard):
    """Sliders for both firms; customers, revenue and customer equity over time."""

    css_class = "crmlab-firms"
    title = "Product focus vs customer focus"
    # Three panels side by side across a 1280-pixel screen, the controls below them.
    projector_figure_size = (12.2, 2.8)
    projector_label_width = "16.5em"

    def __init__(
        self,
        *,
        budget: float,
        initial_customers: float,
        revenue_per_customer: float | None,
        projector: bool = False,
        **starting_values: Any,
    ) -> None:
        self.budget = budget
        self.initial_customers = initial_customers
        self.revenue_per_customer = revenue_per_customer
        v = starting_values
        # On a projector the retention sliders are shorter (the table takes room beside
        # them): they span 0.5 to 1, where the two firms differ, unless a starting value
        # lies lower, so that a drag still moves them a step at a time.
        low = {
            key: min(0.5, math.floor(v[key] * 20) / 20) if projector else 0.0
            for key in ("product_retention", "customer_retention")
        }
        controls = {
            "product_share": float_slider(
                "Product firm: acquisition share", v["product_share"], 0, 1, 0.05
            ),
            "product_retention": float_slider(
                "Product firm: retention rate",
                v["product_retention"],
                low["product_retention"],
                1,
                0.01,
            ),
            "customer_share": float_slider(
                "Customer firm: acquisition share", v["customer_share"], 0, 1, 0.05
            ),
            "customer_retention": float_slider(
                "Customer firm: retention rate",
                v["customer_retention"],
                low["customer_retention"],
                1,
                0.01,
                css_class="crmlab-firms-retention",
            ),
            "margin": float_slider(
                "Margin per customer-year", v["margin"], 0, 1000, 10, readout_format=".0f"
            ),
            "acquisition_cost": float_slider(
                "Acquisition cost", v["acquisition_cost"], 10, 2000, 10, readout_format=".0f"
            ),
            "discount": float_slider("Discount rate", v["discount"], 0, 0.5, 0.01),
            "horizon": int_slider("Horizon (years)", v["horizon"], 1, 30),
        }
        super().__init__(controls, figure_size=(11.0, 3.3), projector=projector)

    def compute(
        self,
        *,
        product_share: float,
        product_retention: float,
        customer_share: float,
        customer_retention: float,
        margin: float,
        acquisition_cost: float,
        discount: float,
        horizon: int,
    ) -> dict[str, Any]:
        parameters = {
            "budget": self.budget,
            "initial_customers": self.initial_customers,
            "revenue_per_customer": self.revenue_per_customer,
            "acquisition_share": (product_share, customer_share),
            "retention": (product_retention, customer_retention),
            "margin": margin,
            "acquisition_cost": acquisition_cost,
            "discount": discount,
            "horizon": horizon,
        }
        return {
            "table": simulate_firms(**parameters),
            # The readout shows 3 decimals of the break-even rate.
            "customers": retention_crossover(metric="customers", tolerance=1e-5, **parameters),
            "customer_equity": retention_crossover(
                metric="customer_equity", tolerance=1e-5, **parameters
            ),
        }

    def render(self, result: dict[str, Any]) -> str:
        table = result["table"]
        last = table[table["year"] == table["year"].max()].set_index("firm")
        horizon = int(table["year"].max())
        rows = []
        for firm, key in _FIRM_KEYS.items():
            row = last.loc[firm]
            cells = "".join(
                f"<td style='text-align:right;padding:0 1em'>"
                f"{number_span(f'crmlab-firms-{metric}-{key}', row[metric], 0)}</td>"
                for metric in ("customers", "revenue", "profit", "customer_equity")
            )
            rows.append(f"<tr><th style='text-align:left'>{firm}</th>{cells}</tr>")
        header = "".join(
            f"<th style='padding:0 1em'>{label}</th>"
            for label in ("customers", "revenue", "profit", "customer equity")
        )
        notes = [
            _crossover_sentence(result["customers"], "customers"),
            _crossover_sentence(result["customer_equity"], "customer equity"),
        ]
        if math.isinf(last["customer_equity"].max()):
            notes.append(
                "Customer equity is infinite: with retention 1 and no discount a customer "
                "pays the full margin for ever. Raise the discount rate or lower retention."
            )
        items = "".join(f"<li>{note}</li>" for note in notes)
        return (
            f"<p>Year {horizon}:</p>"
            f"<table><tr><th></th>{header}</tr>{''.join(rows)}</table><ul>{items}</ul>"
        )

    def draw(self, result: dict[str, Any], figure: Figure) -> None:
        from crmlab.plots.firms import plot_firms

        plot_firms(result["table"], figure=figure, crossover_year=result["customers"].year)
        # The paths, the crossover marker and the value axes move with the sliders, and
        # the legend finds its place among the new paths; the years and the frames stay
        # and are not redrawn (see BlittedFigure).
        for ax in figure.axes:
            for artist in (ax.yaxis, *ax.lines, ax.get_legend()):
                if artist is not None:
                    artist.set_animated(True)

    def still_key(self, result: dict[str, Any]) -> Any:
        return tuple(result["table"]["firm"].unique())


def _crossover_sentence(crossover: Crossover, label: str) -> str:
    slug = label.replace(" ", "-")
    if crossover.year is None:
        when = "the customer-focused firm stays behind for the whole horizon"
    else:
        when = "the customer-focused firm draws level or ahead in year " + number_span(
            f"crmlab-firms-crossover-{slug}", crossover.year, 0
        )
    rate = crossover.breakeven_retention
    if rate is None:
        needed = "no retention rate, not even 1, lets it catch up by the last year"
    else:
        needed = "it draws level in the last year from a retention rate of " + number_span(
            f"crmlab-firms-breakeven-{slug}", rate, 3
        )
    return f"On {label}: {when}; {needed}."


#: The parameters of :func:`crmlab.simulate.simulate_firms` that the simulator's sliders
#: and readouts start from; their defaults are read from that function, never repeated.
STARTING_VALUES = (
    "acquisition_share",
    "retention",
    "margin",
    "acquisition_cost",
    "discount",
    "horizon",
    "budget",
    "initial_customers",
    "revenue_per_customer",
)


def firm_simulator(*, projector: bool = False, **starting_values: Any) -> FirmSimulator:
    """Simulator of a product-focused and a customer-focused firm with sliders.

    The numbers come from :func:`crmlab.simulate.simulate_firms` and
    :func:`crmlab.simulate.retention_crossover`; the keyword arguments (those of
    :data:`STARTING_VALUES`) are their parameters and the sliders' starting values, with
    ``simulate_firms``' own defaults. ``projector=True`` lays it out for
    a projector (1280×720): larger type, the charts above the sliders, and retention
    sliders from 0.5 (or lower, to include the starting value) to 1.

    Returns
    -------
    FirmSimulator
        An ``ipywidgets.VBox``; ``.controls`` holds the sliders by name, ``.result``
        the last simulation, ``.readout`` the HTML shown, ``.image`` the figure.

    Examples
    --------
    >>> w = firm_simulator(horizon=5)
    >>> w.controls["customer_retention"].value = 0.95
    >>> round(float(w.result["table"]["customers"].iloc[-1]), 1)
    801.3

    On a projector the retention sliders start at 0.5, or lower to keep a starting value:

    >>> p = firm_simulator(retention=(0.33, 0.9), projector=True)
    >>> p.controls["product_retention"].min, p.controls["product_retention"].value
    (0.3, 0.33)
    >>> p.controls["customer_retention"].min, p.image.layout.width
    (0.5, '1220px')
    """
    import inspect

    from crmlab.simulate import simulate_firms

    unknown = sorted(set(starting_values) - set(STARTING_VALUES))
    if unknown:
        raise TypeError(
            f"firm_simulator() got unexpected keyword argument(s) {unknown}; it takes "
            f"{', '.join(STARTING_VALUES)} and projector"
        )
    parameters = inspect.signature(simulate_firms).parameters
    values = {name: parameters[name].default for name in STARTING_VALUES} | starting_values
    product_share, customer_share = values.pop("acquisition_share")
    product_retention, customer_retention = values.pop("retention")
    return FirmSimulator(
        projector=projector,
        product_share=product_share,
        product_retention=product_retention,
        customer_share=customer_share,
        customer_retention=customer_retention,
        **values,
    )
