"""CLV targeting: budget, cost per contact and uplift -> whom to target, expected return."""

from __future__ import annotations

import html
import math
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from crmlab.targeting import CampaignPlan, expected_customer_value, plan_campaign
from crmlab.widgets._base import Dashboard, float_slider, format_number, number_span

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CLVTargeting", "cdnow_customer_values", "clv_targeting"]

#: Customers listed in the readout table.
TOP_ROWS = 8


@lru_cache(maxsize=1)
def cdnow_customer_values() -> pd.Series:
    """Expected margin of each CDNOW sample customer over the next 52 weeks (cached).

    BG/NBD and Gamma–Gamma fitted to the 39 calibration weeks; 30% margin on spend;
    10% a year discount, ``discount=(0.10, "Y")``.
    """
    from crmlab.cdnow import calibration
    from crmlab.models import GammaGamma
    from crmlab.widgets.bgnbd import cdnow_bgnbd

    summary = calibration()
    spend = GammaGamma().fit(summary)
    return expected_customer_value(
        cdnow_bgnbd(), spend, summary, horizon=52, discount=(0.10, "Y"), margin=0.3
    )


class CLVTargeting(Dashboard):
    """Sliders for budget, cost per contact and uplift; the plan and its return."""

    css_class = "crmlab-targeting"
    title = "Whom to target: ranking customers by lifetime value"

    def __init__(
        self, values: pd.Series, *, budget: float, cost_per_customer: float, uplift: float
    ) -> None:
        self.values_ = values
        total = float(values.sum())
        max_budget = max(budget, 10 ** math.ceil(math.log10(max(total, 10.0))))
        controls = {
            "budget": float_slider(
                "Campaign budget", budget, 0, max_budget, max_budget / 200, readout_format=",.0f"
            ),
            "cost_per_customer": float_slider(
                "Cost per contacted customer",
                cost_per_customer,
                0,
                50,
                0.5,
                readout_format=".1f",
            ),
            "uplift": float_slider(
                "Expected uplift of value", uplift, 0, 1, 0.01, css_class="crmlab-targeting-uplift"
            ),
        }
        super().__init__(controls, figure_size=(6.0, 3.4))

    def compute(self, *, budget: float, cost_per_customer: float, uplift: float) -> CampaignPlan:
        return plan_campaign(
            self.values_, budget=budget, cost_per_customer=cost_per_customer, uplift=uplift
        )

    def render(self, plan: CampaignPlan) -> str:
        why = (
            "the budget runs out"
            if plan.limited_by == "budget"
            else "the next customer's added value would not cover the cost of contacting her"
        )
        top = plan.customers[plan.customers["targeted"]].head(TOP_ROWS)
        rows = "".join(
            f"<tr><td>{html.escape(str(index))}</td>"
            f"<td style='text-align:right'>{format_number(row.clv)}</td>"
            f"<td style='text-align:right'>{format_number(row.incremental_value)}</td></tr>"
            for index, row in zip(top.index, top.itertuples(), strict=True)
        )
        table = (
            "<table><tr><th>customer</th><th>CLV</th><th>added by the contact</th></tr>"
            f"{rows}</table>"
            if rows
            else "<p class='crmlab-message'>Nobody is worth contacting at this cost and uplift.</p>"
        )
        roi = (
            number_span("crmlab-targeting-roi", 100 * plan.roi, 1, unit="%")
            if math.isfinite(plan.roi)
            else "–"
        )
        return (
            "<ul>"
            f"<li>Customers to contact: {number_span('crmlab-targeting-n', plan.n_targeted, 0)}"
            f" of {len(plan.customers):,} (we stop because {why})</li>"
            f"<li>Campaign spend: {number_span('crmlab-targeting-spend', plan.spend)}</li>"
            f"<li>Value added: "
            f"{number_span('crmlab-targeting-added', plan.incremental_value)}</li>"
            f"<li>Expected return (value added − spend): "
            f"{number_span('crmlab-targeting-return', plan.expected_return)}; "
            f"return on spend {roi}</li>"
            "</ul>"
            f"<p>The most valuable contacts:</p>{table}"
        )

    def draw(self, plan: CampaignPlan, figure: Figure) -> None:
        import seaborn as sns

        ranks = plan.customers["rank"].to_numpy()
        cumulative = plan.customers["cumulative_return"].to_numpy()
        if not figure.axes:
            ax = figure.subplots()
            colour, marker = sns.color_palette("colorblind", 2)
            ax.plot([], [], color=colour, label="contact everyone up to this rank")
            ax.plot([], [], "o", color=marker, label="the plan")
            ax.axhline(0, color="grey", linewidth=0.8)
            ax.set_xlabel("customers contacted, best first")
            ax.set_ylabel("expected return (currency)")
            ax.set_xscale("log")
            ax.grid(alpha=0.3)
            ax.legend(frameon=False, loc="lower left", fontsize=8)
        ax = figure.axes[0]
        curve, point = ax.lines[:2]
        curve.set_data(ranks, cumulative)
        n = plan.n_targeted
        point.set_data([max(n, 1)], [plan.expected_return])
        ax.relim()
        ax.autoscale_view()


def clv_targeting(
    values: pd.Series | None = None,
    *,
    budget: float = 1000.0,
    cost_per_customer: float = 2.0,
    uplift: float = 0.1,
) -> CLVTargeting:
    """Choose whom a campaign should contact, from each customer's lifetime value.

    Parameters
    ----------
    values : pandas.Series, optional
        Value of each customer (index: customer id), for instance from
        :func:`crmlab.targeting.expected_customer_value`. Defaults to the CDNOW
        sample under BG/NBD + Gamma–Gamma (:func:`cdnow_customer_values`).
    budget, cost_per_customer, uplift : float
        Starting values of the sliders (see :func:`crmlab.targeting.plan_campaign`).

    Returns
    -------
    CLVTargeting
        ``.controls``, ``.result`` (the :class:`crmlab.targeting.CampaignPlan`),
        ``.readout``, ``.image``.

    Examples
    --------
    >>> w = clv_targeting(pd.Series([100.0, 10.0, 50.0]), budget=100, cost_per_customer=4)
    >>> w.result.n_targeted, round(w.result.expected_return, 2)
    (2, 7.0)
    """
    if values is None:
        values = cdnow_customer_values()
    return CLVTargeting(
        pd.Series(values, dtype=float),
        budget=budget,
        cost_per_customer=cost_per_customer,
        uplift=uplift,
    )
