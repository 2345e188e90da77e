"""The log keywords are declared once (crmlab._log_options) and checked the same way everywhere."""

from __future__ import annotations

import pytest

import crmlab as cl
from crmlab._log_options import DEFAULTS, LogOptions, SummaryOptions, log_options

ENTRY_POINTS = {
    "validate_transactions": lambda log, **kw: cl.transactions.validate_transactions(log, **kw),
    "diagnose": lambda log, **kw: cl.transactions.diagnose(log, **kw),
    "summarize": lambda log, **kw: cl.transactions.summarize(log, "1997-09-30", **kw),
    "calibration_holdout": lambda log, **kw: cl.transactions.calibration_holdout(
        log, "1997-09-30", "1998-06-30", **kw
    ),
    "cohort_table": lambda log, **kw: cl.transactions.cohort_table(log, **kw),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_a_misspelt_keyword_is_refused_with_the_nearest_known_one(name):
    log = cl.datasets.load_cdnow("sample")
    with pytest.raises(TypeError, match=r"'customer_column' \(did you mean 'customer_col'\?\)"):
        ENTRY_POINTS[name](log, customer_column="customer_id")


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_renamed_columns_reach_every_entry_point(name):
    log = cl.datasets.load_cdnow("sample").rename(
        columns={"customer_id": "id", "date": "when", "amount": "paid"}
    )
    result = ENTRY_POINTS[name](log, customer_col="id", date_col="when", amount_col="paid")
    plain = ENTRY_POINTS[name](cl.datasets.load_cdnow("sample"))
    assert type(result) is type(plain)


def test_defaults_fill_what_is_not_given_and_overrides_change_a_default():
    options = log_options({"returns": "drop"}, LogOptions, amount_col=None)
    assert options["returns"] == "drop" and options["amount_col"] is None
    assert options["customer_col"] == DEFAULTS["customer_col"]
    assert "engine" not in options
    assert log_options({}, SummaryOptions)["to_pandas"] is False


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@pytest.mark.parametrize(
    "option, value", [("currency", "strip"), ("duplicates", "merge"), ("returns", "ignore")]
)
def test_a_bad_option_value_is_refused_even_for_a_log_that_needs_no_cleaning(name, option, value):
    # CDNOW's sample is clean, so the cleaner that also checks the options never runs.
    log = cl.datasets.load_cdnow("sample")
    with pytest.raises(ValueError, match=rf"{option} must be one of .*got {value!r}"):
        ENTRY_POINTS[name](log, **{option: value})
