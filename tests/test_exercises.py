"""Every exercise check: a plausible wrong answer gets a hint, never an exception."""

from __future__ import annotations

import pytest

import crmlab as cl
from crmlab.exercises import check

# For each check, answers a learner could plausibly give that are wrong, and a word the
# hint must contain so that it points at the mistake.
WRONG_ANSWERS = {
    "demo_square": [(6, "multiply")],
    "origins_order_events": [
        (["A", "B", "D", "F", "E", "C"], "comes after"),
        (["B", "D", "A", "E", "F", "C"], "directive"),
        (["B", "D", "A"], "six letters"),
    ],
    "origins_match_perspective": [
        ({"a": 3, "b": 4, "c": 5, "d": 6}, "existing customers"),
        ({"a": 3, "b": 9, "c": 9, "d": 6}, "proactive"),
    ],
    "origins_memo_assumption": [(5, "yardstick"), (1, "assume about customers")],
    "phases_classify_cases": [
        ({"A": 1, "B": 3, "C": 3, "D": 4}, "restructures the firm"),
        ({"A": 1, "B": 2, "C": 4, "D": 4}, "customers' own answers"),
        ({"A": 2, "B": 2, "C": 3, "D": 4}, "automation"),
    ],
    "phases_weak_assumption": [("b", "old behaviour"), ("c", "predicting")],
    "phases_ecrm_match": [
        ({"a": "content_management", "b": "web_analytics", "c": "collaboration"}, "swapped"),
        ({"a": "web_analytics", "b": "collaboration", "c": "collaboration"}, "move b"),
    ],
    "rfm_loyal_count": [(946, "ONE repeat"), (214, "exactly two")],
    "rfm_first_month_retention": [(15.479, "not a percentage"), ("0.15", "retention")],
    "rfm_best_segment_size": [(737, "'111'")],
    "retention_year_two_rate": [(0.468, "survival"), (1 - 468 / 631, "churn")],
    "retention_high_end_year_12": [(37.8, "percentage"), (378.0, "number of customers")],
    "retention_paradox_rate": [(0.5, "retention_rate(8)")],
    "clv_end_of_period": [(50 * 1.1 / 0.35, "payment today"), (200.0, "discount")],
    "clv_derl_third_period": [(cl.clv.derl(3.8, 15.2, 0.1, 2), "n = 3")],
    "clv_retention_point": [(cl.clv.simple_clv(100, 0.91, 0.10), "difference")],
    "nc_p_alive_customer_one": [(0.273, "dropped out"), (0.5, "p_alive")],
    "nc_expected_in_a_year": [(52, "expected_purchases")],
    "nc_share_likely_gone": [(1.0, "x > 0")],
    "focus_customers_year_ten": [(795.767368, "product-focused")],
    "focus_equity_breakeven": [(0.825, "customers")],
    "focus_overtake_year": [(5, "early")],
    "practice_top_decile_share": [(56.7, "percentage")],
    "practice_targeted_count": [(250, "budget allows")],
    "practice_campaign_return": [(1243.45, "subtract")],
}


def test_every_check_has_wrong_answers_listed():
    listed = set(WRONG_ANSWERS)
    registered = set(check.names())
    assert registered - listed == set(), "add plausible wrong answers for the new checks"
    assert listed - registered == set(), "these checks no longer exist"


@pytest.mark.parametrize(
    ("name", "answer", "hint"),
    [(name, answer, hint) for name, cases in WRONG_ANSWERS.items() for answer, hint in cases],
)
def test_a_plausible_wrong_answer_gets_a_helpful_hint(name, answer, hint):
    feedback = check.run(name, answer)
    assert not feedback.ok
    assert feedback.message.startswith("Not yet:")
    assert hint in feedback.message


@pytest.mark.parametrize("name", sorted(WRONG_ANSWERS))
def test_odd_answers_never_raise(name, capsys):
    for odd in (None, "text", [1, 2], float("nan")):
        check.__getattr__(name)(odd)
        assert capsys.readouterr().out.startswith("Not yet")
