"""Ranking customers by lifetime value and choosing whom a campaign should target.

Two steps, both pure:

* :func:`expected_customer_value` — each customer's expected, discounted margin over a
  horizon, from a fitted BG/NBD (how many purchases) and a fitted Gamma–Gamma (how
  much each is worth).
* :func:`plan_campaign` — given those values, a budget, a cost per contacted
  customer and the expected uplift (the share by which a contact raises a
  customer's value), rank customers by the value the contact adds, contact the best
  ones while the budget lasts and the contact pays for itself, and report the
  expected return.

The uplift of :func:`plan_campaign` is an assumption: the same share of every
customer's value. A randomised campaign measures it instead, and it varies from
customer to customer; two more functions work with measured uplifts:

* :func:`uplift_by_group` — the uplift a randomised campaign shows in each group of
  customers: retention of the contacted minus retention of the control group, with
  its standard error.
* :func:`plan_by_incremental_value` — the same rule as :func:`plan_campaign`, for any
  per-customer incremental value (e.g. measured uplift × value of a kept customer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab.models._intervals import INTERVAL_PARAMETERS, add_parameters

if TYPE_CHECKING:
    from crmlab.models import BGNBD, GammaGamma

__all__ = [
    "CampaignPlan",
    "expected_customer_value",
    "plan_by_incremental_value",
    "plan_campaign",
    "uplift_by_group",
]


def expected_customer_value(
    purchases_model: BGNBD,
    spend_model: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon: int | str | tuple[float, str] = 52,
    discount: float | tuple[float, str] = 0.0,
    margin: float = 1.0,
    period_length: float | str | tuple[float, str] = 1.0,
    interval: float | None = None,
    method: str = "normal",
    draws: int | None = None,
    seed: int | None = 0,
) -> pd.Series | pd.DataFrame:
    """Expected discounted margin of each customer over the next ``horizon`` periods.

    Period ``k`` (1 … ``horizon``) contributes the expected purchases made in it — the
    increase of ``purchases_model.conditional_expected_purchases`` from
    ``(k - 1) L`` to ``k L``, with ``L`` the ``period_length`` — times the expected
    spend per purchase (``spend_model.conditional_expected_spend``), times ``margin``,
    divided by ``(1 + discount) ** k``. The model assumes spend independent of the
    purchase process, so the expectation of the product is the product of the
    expectations (Fader, Hardie & Lee 2005, *Journal of Marketing Research* 42(4),
    who discount continuously; this is the period-by-period form).

    Units. The summary's ``attrs["unit"]`` and the purchase model's ``unit`` must
    agree (mixing them is an error, never a silent rescale). Plain numbers are in
    that unit: ``horizon=52`` on a weekly summary is 52 weeks, on a monthly one 52
    months. To say what you mean whatever the data, give units (one month is
    365.25 / 12 days everywhere, see :mod:`crmlab._units`): ``horizon="1Y"`` or
    ``(12, "M")``, ``period_length="M"`` (monthly steps) and ``discount=(0.10,
    "Y")`` (10 % a year, converted to the equivalent rate per period). A horizon
    that is not a whole number of periods ends with a partial period.

    Cost. Given that a customer is alive at ``T``, her future purchases depend on
    ``x`` and ``T`` only (the BG/NBD, MBG/NBD and Pareto/NBD all forget ``t_x``
    then), so the expectation is P(alive) times an alive customer's expectation,
    and the costly part is computed once per distinct (x, T): a few thousand
    pairs on a base of millions. With ``interval=``, both models' parameters are
    drawn (independently) and each customer's value is recomputed at each draw,
    in blocks of customers of bounded memory.

    Parameters
    ----------
    purchases_model : crmlab.models.BGNBD
        Fitted model of the number of purchases (anything with
        ``conditional_expected_purchases(t, x, t_x, T)``).
    spend_model : crmlab.models.GammaGamma
        Fitted model of spend per purchase.
    summary : pandas.DataFrame
        One row per customer with columns ``x``, ``t_x``, ``T`` and ``monetary``,
        and the covariates of models fitted with covariates.
    horizon : int, str or (float, str)
        Periods ahead (a whole number >= 1), or a duration such as ``"1Y"``.
    discount : float or (float, str)
        Discount rate per period (>= 0), or ``(rate, unit)`` per unit of time.
    margin : float
        Share of spend kept as margin (1 counts the whole spend).
    period_length : float, str or (float, str)
        Length of one period, in the time unit of ``summary`` (> 0) or as a
        duration: with weekly data, ``"M"`` (or ``52 / 12``) values months,
        discounted monthly.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Named ``clv``, indexed like ``summary``; ``attrs["unit"]`` is the data's
        unit. With ``interval``, a table of ``estimate``, ``lower`` and ``upper``,
        and in ``attrs["total"]`` the same three for the sum over customers.

    Examples
    --------
    >>> from crmlab.models import BGNBD, GammaGamma
    >>> bg = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
    >>> gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    >>> s = pd.DataFrame({"x": [2, 0], "t_x": [30.43, 0], "T": [38.86, 38.86],
    ...                   "monetary": [22.35, np.nan]})
    >>> expected_customer_value(bg, gg, s, horizon=39).round(2).tolist()
    [30.24, 6.87]
    >>> expected_customer_value(bg, gg, s, horizon=12, discount=0.01,
    ...                         period_length=52 / 12).round(2).tolist()
    [36.21, 8.35]
    >>> expected_customer_value(bg, gg, s, horizon="1Y", discount=(0.1, "Y"),
    ...                         period_length="M").round(2).tolist()
    [36.75, 8.48]
    >>> from crmlab.cdnow import calibration
    >>> cdnow = calibration()
    >>> bg, gg = BGNBD().fit(cdnow), GammaGamma().fit(cdnow[cdnow["x"] > 0])
    >>> table = expected_customer_value(bg, gg, cdnow.head(3), horizon=39, interval=0.9,
    ...                                 draws=50)
    >>> table.columns.tolist(), bool((table["lower"] <= table["upper"]).all())
    (['estimate', 'lower', 'upper'], True)
    """
    missing = [c for c in ("x", "t_x", "T", "monetary") if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks column(s) {missing}; it needs x, t_x, T, monetary")
    unit = _common_unit(purchases_model, summary)
    edges, weights = _value_schedule(unit, horizon, discount, period_length, margin)
    history = [summary[name].to_numpy(float) for name in ("x", "t_x", "T", "monetary")]
    z = (_covariates(purchases_model, summary), _covariates(spend_model, summary))
    if interval is not None:
        table = _value_interval(
            purchases_model,
            spend_model,
            history,
            z,
            edges,
            weights * margin,
            interval,
            method=method,
            draws=draws,
            seed=seed,
        )
        table.index = summary.index
        table.attrs["unit"] = unit
        return table
    value = pd.Series(
        _discounted_value(purchases_model, spend_model, history, z, edges, weights * margin),
        index=summary.index,
        name="clv",
    )
    value.attrs["unit"] = unit
    return value


expected_customer_value.__doc__ = add_parameters(
    expected_customer_value.__doc__ or "", INTERVAL_PARAMETERS
)


def _value_schedule(
    unit: str | None,
    horizon: int | str | tuple[float, str],
    discount: float | tuple[float, str],
    period_length: float | str | tuple[float, str],
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Checked CLV options as period edges (in ``unit``) and each period's discount factor."""
    from crmlab._units import rate_per, to_unit, unit_length_days
    from crmlab._validate import check_values

    step = to_unit(period_length, unit, "period_length")
    check_values(step, "period_length", above=0.0)
    if isinstance(horizon, str | tuple):
        total = to_unit(horizon, unit, "horizon")
        check_values(total, "horizon", above=0.0)
        whole = int(np.floor(total / step + 1e-9))
        edges = step * np.arange(0, whole + 1, dtype=float)
        if total - edges[-1] > 1e-9 * step:
            edges = np.append(edges, total)
    else:
        if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1:
            raise ValueError(f"horizon must be a whole number >= 1, got {horizon!r}")
        edges = step * np.arange(0, int(horizon) + 1, dtype=float)
    if isinstance(discount, tuple):
        if len(discount) != 2:
            raise ValueError(
                f"discount={discount!r}: a rate with a unit is (rate, unit), e.g. (0.1, 'Y')"
            )
        rate, per = discount
        unit_length_days(per)
        check_values(rate, "discount", low=0.0)
        # The same rate compounded per step: 10 % a year is 0.797 % a month.
        discount = (1.0 + rate_per(rate, per, unit)) ** step - 1.0
    check_values(discount, "discount", low=0.0)
    check_values(margin, "margin", low=0.0)
    return edges, (1.0 + discount) ** -(edges[1:] / step)


def _customer_value(
    purchases_model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    edges: np.ndarray,
    weights: np.ndarray,
    margin: float,
    purchases: np.ndarray | None = None,
    spend: np.ndarray | None = None,
) -> np.ndarray:
    """Each customer's discounted margin; ``purchases`` and ``spend``: those parts, if known.

    :func:`crmlab.scoring.score` passes the discounted purchases it gathered per
    distinct (x, T) of the whole base; without them the value is computed here.
    """
    if purchases is None:
        history = [summary[name].to_numpy(float) for name in ("x", "t_x", "T", "monetary")]
        z = (_covariates(purchases_model, summary), _covariates(spend_model, summary))
        return _discounted_value(purchases_model, spend_model, history, z, edges, weights * margin)
    if spend is None:
        x, monetary = summary["x"].to_numpy(float), summary["monetary"].to_numpy(float)
        spend = spend_model.conditional_expected_spend(x, monetary)
    return margin * purchases * np.asarray(spend, dtype=float)


def _covariate_names(model: Any, columns: Any) -> list[str]:
    """The covariates ``model`` was fitted with (any group), checked against ``columns``.

    ``columns``: the summary's column names (a pandas or a Spark frame's ``columns``),
    so that a missing covariate is reported before any customer is scored.
    """
    from crmlab.models._covariates import MissingCovariateError

    groups = getattr(model, "covariates", {}).items()
    names = list(dict.fromkeys(name for _, group in groups for name in group))
    missing = [name for name in names if name not in columns]
    if missing:
        taken = "; ".join(f"{group}: {', '.join(group_names)}" for group, group_names in groups)
        raise MissingCovariateError(
            f"{type(model).__name__} has covariates {missing} that the summary lacks "
            f"(it was fitted with {taken}): add those columns (one value per customer) "
            "to the summary"
        )
    return names


def _covariates(model: Any, summary: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """The columns of ``summary`` that ``model`` takes as covariates, or None if it takes none."""
    names = _covariate_names(model, summary.columns)
    return {name: summary[name].to_numpy() for name in names} or None


def _rows_of(z: dict[str, np.ndarray] | None, rows: Any) -> dict[str, np.ndarray] | None:
    return None if z is None else {name: column[rows] for name, column in z.items()}


def _pairs(x: np.ndarray, T: np.ndarray, z: dict[str, np.ndarray] | None) -> Any:
    """The distinct (x, T, z) of the customers: first row of each, and each row's group."""
    from crmlab.models._intervals import distinct_rows

    return distinct_rows([x, T, *(z or {}).values()], x.size)


def _alive_purchases(
    model: Any,
    x: np.ndarray,
    T: np.ndarray,
    z: dict[str, np.ndarray] | None,
    edges: np.ndarray,
    weights: np.ndarray,
    pairs: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Discounted purchases of an alive customer, per distinct (x, T, z), and each row's group.

    An alive customer's expectation is the expectation at any history with the same
    (x, T) divided by its P(alive); the history with ``t_x = T`` (just bought) has
    the largest P(alive), so the division loses nothing. A model whose
    expectation does not factorise is evaluated per customer by the caller instead.
    """
    first, inverse = _pairs(x, T, z) if pairs is None else pairs
    x_pairs, T_pairs, z_pairs = x[first], T[first], _rows_of(z, first)
    recent = np.where(x_pairs > 0, T_pairs, 0.0)
    cumulative = model.conditional_expected_purchases(
        edges[:, None], x_pairs, recent, T_pairs, **_given(z_pairs)
    )
    per_period = np.diff(np.asarray(cumulative, dtype=float), axis=0)
    alive = np.asarray(model.p_alive(x_pairs, recent, T_pairs, **_given(z_pairs)), dtype=float)
    return weights @ per_period / alive, inverse


def _given(z: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """The ``covariates=`` keyword for a model that has covariates, nothing otherwise."""
    return {} if z is None else {"covariates": z}


def _discounted_value(
    purchases_model: Any,
    spend_model: Any,
    history: list[np.ndarray],
    z: tuple[dict[str, np.ndarray] | None, dict[str, np.ndarray] | None],
    edges: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Σ_k weights_k × expected purchases in period k × expected spend, per customer."""
    x, t_x, T, monetary = history
    spend = np.asarray(
        spend_model.conditional_expected_spend(x, monetary, **_given(z[1])), dtype=float
    )
    from crmlab._horizons import factorises_when_alive

    if not factorises_when_alive(purchases_model):
        cumulative = purchases_model.conditional_expected_purchases(
            edges[:, None], x, t_x, T, **_given(z[0])
        )
        return weights @ np.diff(np.asarray(cumulative, dtype=float), axis=0) * spend
    per_pair, pair = _alive_purchases(purchases_model, x, T, z[0], edges, weights)
    alive = np.asarray(purchases_model.p_alive(x, t_x, T, **_given(z[0])), dtype=float)
    return alive * per_pair[pair] * spend


def _value_interval(
    purchases_model: Any,
    spend_model: Any,
    history: list[np.ndarray],
    z: tuple[dict[str, np.ndarray] | None, dict[str, np.ndarray] | None],
    edges: np.ndarray,
    weights: np.ndarray,
    level: float,
    *,
    method: str,
    draws: int | None,
    seed: int | None,
) -> pd.DataFrame:
    """Each customer's value with its ``level`` interval over parameter draws of both models."""
    from crmlab.models._intervals import BLOCK_BYTES, draw_models

    if not 0 < level < 1:
        raise ValueError(f"interval must be a level between 0 and 1 (e.g. 0.9), got {level}")
    estimate = _discounted_value(purchases_model, spend_model, history, z, edges, weights)
    purchase_draws, spend_draws, draws = draw_models(
        (purchases_model, spend_model), draws, method, seed
    )
    x, t_x, T, monetary = history
    # An alive customer's discounted purchases per (x, T), for every draw: small.
    from crmlab._horizons import factorises_when_alive

    if factorises_when_alive(purchases_model):
        groups = _pairs(x, T, z[0])
        pairs = [
            _alive_purchases(model, x, T, z[0], edges, weights, groups) for model in purchase_draws
        ]
    else:
        pairs = None
    tail = (1 - level) / 2
    lower, upper = np.empty(x.size), np.empty(x.size)
    totals = np.zeros(draws)
    block = max(1, BLOCK_BYTES // (8 * draws))
    for start in range(0, x.size, block):
        rows = slice(start, start + block)
        if pairs is None:
            part = [column[rows] for column in history]
            part_z = (_rows_of(z[0], rows), _rows_of(z[1], rows))
            values = np.array(
                [
                    _discounted_value(model, spend, part, part_z, edges, weights)
                    for model, spend in zip(purchase_draws, spend_draws, strict=True)
                ]
            )
        else:
            values = np.array(
                [
                    np.asarray(
                        model.p_alive(x[rows], t_x[rows], T[rows], **_given(_rows_of(z[0], rows))),
                        dtype=float,
                    )
                    * per_pair[pair[rows]]
                    * np.asarray(
                        spend.conditional_expected_spend(
                            x[rows], monetary[rows], **_given(_rows_of(z[1], rows))
                        )
                    )
                    for model, (per_pair, pair), spend in zip(
                        purchase_draws, pairs, spend_draws, strict=True
                    )
                ]
            )
        lower[rows], upper[rows] = np.quantile(values, [tail, 1 - tail], axis=0)
        totals += values.sum(axis=1)
    table = pd.DataFrame({"estimate": estimate, "lower": lower, "upper": upper})
    # The base's total moves with the draws as one: its bounds are not sums of the customers'.
    total_lower, total_upper = np.quantile(totals, [tail, 1 - tail])
    table.attrs.update(
        level=level,
        method=method,
        draws=draws,
        total={"estimate": float(estimate.sum()), "lower": total_lower, "upper": total_upper},
    )
    return table


def _common_unit(model: Any, summary: pd.DataFrame) -> str | None:
    """The time unit shared by the model and the summary; refuse two different ones."""
    model_unit = getattr(model, "unit", None)
    data_unit = summary.attrs.get("unit")
    if model_unit is not None and data_unit is not None and model_unit != data_unit:
        raise ValueError(
            f"the summary is in unit {data_unit!r} but {type(model).__name__} was fitted in "
            f"{model_unit!r}: summarise the log again with unit={model_unit!r}, or refit the "
            "model on this summary (crmlab never rescales silently)"
        )
    return model_unit if model_unit is not None else data_unit


@dataclass(frozen=True)
class CampaignPlan:
    """Whom to contact, and what the campaign is expected to return.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer, best first, with ``clv``, ``incremental_value``
        (uplift × clv), ``net_value`` (incremental value − cost), ``rank``,
        ``cumulative_return`` (expected return of contacting everyone up to this
        rank) and ``targeted`` (bool).
    n_targeted : int
    spend : float
        Campaign cost: targeted customers × cost per customer.
    incremental_value : float
        Expected value the campaign adds over the targeted customers.
    expected_return : float
        ``incremental_value - spend``.
    roi : float
        ``expected_return / spend`` (NaN when nothing is spent).
    limited_by : str
        ``"budget"`` when money ran out before the profitable customers did,
        ``"profitability"`` otherwise (the next customer would not pay for her contact).
    """

    customers: pd.DataFrame
    n_targeted: int
    spend: float
    incremental_value: float
    expected_return: float
    roi: float
    limited_by: str


def plan_campaign(
    clv: Any, *, budget: float, cost_per_customer: float, uplift: float
) -> CampaignPlan:
    """Choose whom to contact: the highest incremental values, within budget, if they pay.

    A contact raises a customer's value by ``uplift × clv`` and costs
    ``cost_per_customer``. Customers are ranked by incremental value; the campaign
    takes them in that order while the budget covers another contact and the
    contact adds more than it costs.

    Parameters
    ----------
    clv : pandas.Series or array-like
        Value of each customer (e.g. :func:`expected_customer_value`).
    budget : float
        Money available for the campaign (>= 0).
    cost_per_customer : float
        Cost of contacting one customer (>= 0).
    uplift : float
        Expected relative increase of a contacted customer's value (>= 0).

    Returns
    -------
    CampaignPlan

    Examples
    --------
    >>> plan = plan_campaign([100.0, 10.0, 50.0, 5.0], budget=25, cost_per_customer=10,
    ...                      uplift=0.2)
    >>> plan.customers["targeted"].tolist(), plan.n_targeted, plan.expected_return
    ([True, False, False, False], 1, 10.0)
    >>> plan.limited_by
    'profitability'
    """
    from crmlab._validate import check_values

    values = pd.Series(clv, dtype=float, name="clv")
    check_values(values.to_numpy(), "clv", low=0.0, labels=values.index)
    check_values(uplift, "uplift", low=0.0)
    plan = plan_by_incremental_value(
        values * uplift, budget=budget, cost_per_customer=cost_per_customer
    )
    plan.customers.insert(0, "clv", values.loc[plan.customers.index])
    return plan


def plan_by_incremental_value(
    incremental_value: Any, *, budget: float, cost_per_customer: float
) -> CampaignPlan:
    """Choose whom to contact from what a contact adds to each customer's value.

    The rule of :func:`plan_campaign`, without its assumption that a contact adds
    the same share of every customer's value: customers are ranked by
    ``incremental_value`` and taken in that order while the budget covers another
    contact and the contact adds more than it costs.

    Parameters
    ----------
    incremental_value : pandas.Series or array-like
        Expected value a contact adds to each customer (>= 0), e.g. the uplift in
        retention a randomised campaign measured for her group × the value of keeping
        her.
    budget : float
        Money available for the campaign (>= 0).
    cost_per_customer : float
        Cost of contacting one customer (>= 0).

    Returns
    -------
    CampaignPlan
        Its ``customers`` table has no ``clv`` column, only ``incremental_value`` and
        what follows from it.

    Examples
    --------
    >>> plan = plan_by_incremental_value([1.0, 9.0, 4.0, 0.5], budget=25,
    ...                                  cost_per_customer=2)
    >>> plan.customers.index.tolist(), plan.n_targeted, plan.expected_return
    ([1, 2, 0, 3], 2, 9.0)
    """
    from crmlab._validate import check_values

    incremental = pd.Series(incremental_value, dtype=float, name="incremental_value")
    check_values(incremental.to_numpy(), "incremental_value", low=0.0, labels=incremental.index)
    for name, value in (("budget", budget), ("cost_per_customer", cost_per_customer)):
        check_values(value, name, low=0.0)
    frame = pd.DataFrame(
        {"incremental_value": incremental, "net_value": incremental - cost_per_customer}
    )
    order = np.argsort(-incremental.to_numpy(), kind="stable")
    frame = frame.iloc[order]
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame["cumulative_return"] = frame["net_value"].cumsum()
    affordable = len(frame) if cost_per_customer == 0 else int(budget // cost_per_customer)
    profitable = int((frame["net_value"] > 0).sum())
    n_targeted = min(affordable, profitable)
    frame["targeted"] = frame["rank"] <= n_targeted
    spend = n_targeted * float(cost_per_customer)
    added = float(frame["incremental_value"].iloc[:n_targeted].sum())
    gain = added - spend
    return CampaignPlan(
        customers=frame,
        n_targeted=n_targeted,
        spend=spend,
        incremental_value=added,
        expected_return=gain,
        roi=gain / spend if spend > 0 else float("nan"),
        limited_by="budget" if affordable < profitable else "profitability",
    )


def uplift_by_group(
    experiment: pd.DataFrame,
    groups: Any,
    *,
    treatment: str = "treated",
    outcome: str = "retained",
) -> pd.DataFrame:
    """What a randomised campaign did in each group: treated minus control outcome.

    Because customers were assigned to the campaign at random, the difference of
    the mean outcome of the treated and of the control customers of a group is an
    unbiased estimate of the campaign's average effect in that group (its uplift).
    The standard error is that of a difference of two independent means.

    Parameters
    ----------
    experiment : pandas.DataFrame
        One row per customer with a boolean ``treatment`` column and a numeric or
        boolean ``outcome`` column (e.g. :func:`crmlab.simulate.retention_campaign`).
    groups : str or array-like
        A column of ``experiment``, or one group label per row (e.g. deciles of
        value from :func:`pandas.qcut`).
    treatment, outcome : str
        Names of the assignment and outcome columns.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``n_treated``, ``n_control``, ``treated_rate``,
        ``control_rate``, ``uplift`` and ``se`` (NaN where a group lacks treated or
        control customers).

    Examples
    --------
    >>> trial = pd.DataFrame({"treated": [True, True, False, False],
    ...                       "retained": [1, 1, 0, 1], "band": ["a", "a", "a", "a"]})
    >>> uplift_by_group(trial, "band").loc["a", ["treated_rate", "control_rate", "uplift"]].tolist()
    [1.0, 0.5, 0.5]
    """
    for column in (treatment, outcome):
        if column not in experiment.columns:
            raise ValueError(
                f"experiment lacks column {column!r}; it has {list(experiment.columns)}"
            )
    assigned = experiment[treatment]
    if assigned.isna().any() or not set(pd.unique(assigned)) <= {True, False}:
        raise ValueError(f"column {treatment!r} must be True (contacted) or False (control)")
    result = pd.to_numeric(experiment[outcome], errors="coerce").astype(float)
    if result.isna().any():
        rows = experiment.index[result.isna()][:5].tolist()
        raise ValueError(
            f"column {outcome!r} has {int(result.isna().sum())} missing or non-numeric "
            f"value(s), first at rows {rows}"
        )
    if isinstance(groups, str):
        labels = experiment[groups]
        name = groups
    else:
        # .array keeps a categorical's order (deciles stay in order, not alphabetical).
        values = groups.array if isinstance(groups, pd.Series) else pd.array(np.asarray(groups))
        if len(values) != len(experiment):
            raise ValueError(
                f"groups has {len(values)} labels for {len(experiment)} rows of experiment"
            )
        labels = pd.Series(values, index=experiment.index)
        name = getattr(groups, "name", None) or "group"
    frame = pd.DataFrame(
        {"group": labels.array, "t": assigned.to_numpy(bool), "y": result.to_numpy()}
    )
    stats = frame.groupby(["group", "t"], observed=True)["y"].agg(["size", "mean", "var"])
    # A group with only treated or only control customers keeps its row, with NaN.
    stats = stats.unstack("t").reindex(
        columns=pd.MultiIndex.from_product([["size", "mean", "var"], [False, True]])
    )
    out = pd.DataFrame(index=stats.index)
    out["n_treated"] = stats[("size", True)].fillna(0).astype(int)
    out["n_control"] = stats[("size", False)].fillna(0).astype(int)
    out["treated_rate"] = stats[("mean", True)]
    out["control_rate"] = stats[("mean", False)]
    out["uplift"] = out["treated_rate"] - out["control_rate"]
    out["se"] = np.sqrt(
        stats[("var", True)] / out["n_treated"] + stats[("var", False)] / out["n_control"]
    )
    out.index.name = name
    return out
