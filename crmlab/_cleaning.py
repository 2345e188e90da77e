"""Cleaning a transaction log: find every problem at once, repair only what was asked.

:func:`clean_log` is the engine behind :func:`crmlab.transactions.validate_transactions`,
:func:`~crmlab.transactions.diagnose` and the summaries. It reads the three columns
(customer, date, amount), lists every problem class it finds as a
:class:`crmlab._validate.Problem` (column, count, first rows, the option that handles
it), and, unless asked only to diagnose, applies the options in a fixed order:

1. ``currency`` reads amounts written as currency strings;
2. ``on_invalid`` drops rows with a missing id, an unparseable date or a missing or
   non-numeric amount (``"drop"``), and with ``"drop_customer"`` also every customer
   whose first purchase may have been among them, so that no acquisition date moves;
3. ``duplicates="drop"`` removes exact repeats of (customer, timestamp, amount);
4. ``returns`` refuses, drops or nets negative amounts (the matching rule is in
   :func:`net_returns`).

Everything works on numpy arrays (customer codes, int64 nanoseconds, float amounts),
so the frame the user passed is never copied nor modified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from crmlab._validate import Problem, first_rows, raise_problems

__all__ = ["CleanLog", "Diagnosis", "ValidationReport", "clean_days", "clean_log", "net_returns"]

OnInvalid = Literal["raise", "drop", "drop_customer"]
Returns = Literal["raise", "net", "drop"]
Duplicates = Literal["keep", "drop"]
Currency = Literal[".", ","] | None

_NS_PER_DAY = 86_400 * 10**9
_OPTIONS = {
    "on_invalid": ("raise", "drop", "drop_customer"),
    "returns": ("raise", "net", "drop"),
    "duplicates": ("keep", "drop"),
    "currency": (None, ".", ","),
}
# A number written with a currency sign or code and/or digit grouping: "$37.85",
# "1,234.50", "12,50 €", "EUR 1.234,50", "-$5".
_CURRENCY = re.compile(
    r"^\s*[-+]?\s*(?:[^\d\s.,'+-]{1,3}\s*)?[-+]?\s*\d[\d.,'\s\u00a0\u202f]*\s*(?:[^\d\s.,']{1,3})?\s*$"
)


@dataclass
class ValidationReport:
    """What :func:`~crmlab.transactions.validate_transactions` found and did.

    Attributes
    ----------
    rows_in, rows_out : int
        Rows received and rows returned.
    exact_duplicates : int
        Rows that repeat another row exactly in (customer, timestamp, amount).
    duplicates_dropped : int
        Of those, rows removed by ``duplicates="drop"`` (0 under ``"keep"``).
    zero_amounts : int
        Rows with an amount of 0 (kept: free orders are purchases; the Gamma–Gamma
        spend model sets aside customers whose repeat spend averages 0).
    dropped : dict
        Rows dropped by ``on_invalid``, by reason.
    first_purchase_dropped : int
        Customers whose first purchase may be among the dropped rows (its date is on
        or before their first kept purchase, or unknown): their acquisition date, and
        so ``T``, may have moved.
    customers_dropped, customer_rows_dropped : int
        Under ``on_invalid="drop_customer"``: those customers, removed whole, and
        their otherwise valid rows.
    currency_parsed : int
        Amounts read from currency strings (``currency=``).
    returns_netted : int
        Return rows (negative amounts) netted against a matched purchase.
    returns_unmatched : int
        Return rows with no purchase of the customer on or before their day:
        removed, since there is nothing to net them against.
    returns_dropped : int
        Return rows removed by ``returns="drop"``.
    purchases_cancelled : int
        Purchase rows removed because returns cancelled their whole value.
    purchases_reduced : int
        Purchase rows whose amount returns reduced.
    unmatched_return_value : float
        Returned value that exceeded the purchases it was matched to (not netted).
    customers_returned_whole : int
        Customers left with no purchase because returns cancelled all of them.
    options : dict
        The choices applied (``on_invalid``, ``returns``, ``duplicates``,
        ``currency``).
    problems : list of Problem
        Every finding, including those only reported (duplicates kept, zero amounts).
    """

    rows_in: int
    rows_out: int
    exact_duplicates: int = 0
    duplicates_dropped: int = 0
    zero_amounts: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    first_purchase_dropped: int = 0
    customers_dropped: int = 0
    customer_rows_dropped: int = 0
    currency_parsed: int = 0
    returns_netted: int = 0
    returns_unmatched: int = 0
    returns_dropped: int = 0
    purchases_cancelled: int = 0
    purchases_reduced: int = 0
    unmatched_return_value: float = 0.0
    customers_returned_whole: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The counts and options as plain values (they go into a summary's ``attrs``)."""
        out = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("problems", "dropped", "options")
        }
        out["dropped"] = dict(self.dropped)
        out["options"] = dict(self.options)
        return out

    def __str__(self) -> str:
        duplicates = "dropped" if self.duplicates_dropped else "kept"
        lines = [
            f"{self.rows_in:,} rows checked, {self.rows_out:,} kept",
            f"{self.exact_duplicates:,} exact duplicate rows ({duplicates})",
            f"{self.zero_amounts:,} rows with a zero amount (kept; the Gamma-Gamma spend model "
            "sets aside customers whose repeat spend averages 0)",
        ]
        lines += [f"{count:,} rows dropped: {reason}" for reason, count in self.dropped.items()]
        if self.currency_parsed:
            lines.append(f"{self.currency_parsed:,} amounts read from currency strings")
        if self.first_purchase_dropped:
            lines.append(
                f"{self.first_purchase_dropped:,} customers may have lost their first purchase "
                "among the dropped rows (their T may be shorter; on_invalid='drop_customer' "
                "removes them instead)"
            )
        if self.customers_dropped:
            lines.append(
                f"{self.customers_dropped:,} customers dropped whole (their first purchase was "
                f"among the bad rows), with {self.customer_rows_dropped:,} valid rows"
            )
        if self.returns_dropped:
            lines.append(f"{self.returns_dropped:,} return rows (negative amounts) dropped")
        if self.returns_netted or self.returns_unmatched:
            lines.append(
                f"{self.returns_netted:,} return rows netted against a purchase on or before "
                f"their day ({self.purchases_cancelled:,} purchase rows cancelled whole, "
                f"{self.purchases_reduced:,} reduced); {self.returns_unmatched:,} return rows "
                "with no earlier purchase dropped"
            )
        if self.customers_returned_whole:
            lines.append(
                f"{self.customers_returned_whole:,} customers returned everything they bought "
                "and have no purchase left"
            )
        if self.unmatched_return_value:
            lines.append(
                f"{self.unmatched_return_value:,.2f} of returned value exceeded the purchases "
                "it was matched to (not netted)"
            )
        return "\n".join(lines)


@dataclass
class Diagnosis:
    """Every problem of a transaction log, found without raising (see ``diagnose``).

    ``problems`` lists each :class:`~crmlab._validate.Problem`; ``blocking`` those that
    the given options would refuse. ``str()`` prints one per line; ``to_frame()``
    gives a table.
    """

    rows: int
    problems: list[Problem]
    report: ValidationReport | None = None

    @property
    def blocking(self) -> list[Problem]:
        """The problems the options given would raise for."""
        return [problem for problem in self.problems if problem.blocking]

    @property
    def ok(self) -> bool:
        """True when the options given would not raise."""
        return not self.blocking

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: where, count, problem, first_rows, what_to_do, option, blocking."""
        return pd.DataFrame(
            [
                {
                    "where": p.where,
                    "count": p.count,
                    "problem": p.what,
                    "first_rows": p.rows,
                    "what_to_do": p.fix,
                    "option": p.handled_by,
                    "blocking": p.blocking,
                }
                for p in self.problems
            ],
            columns=[
                "where",
                "count",
                "problem",
                "first_rows",
                "what_to_do",
                "option",
                "blocking",
            ],
        )

    def __str__(self) -> str:
        if not self.problems:
            return f"{self.rows:,} rows checked: no problems found"
        lines = [
            f"{self.rows:,} rows checked: {len(self.blocking)} problem(s) the options given "
            f"refuse, {len(self.problems) - len(self.blocking)} finding(s) only reported"
        ]
        for problem in self.problems:
            mark = "refused" if problem.blocking else "reported"
            lines.append(f"  [{mark}] {problem}")
        return "\n".join(lines)


@dataclass
class CleanLog:
    """Validated arrays of a log: positions of the rows kept (or -1 for netted rows)."""

    ids: np.ndarray  # customer ids, as in the log
    times: np.ndarray  # int64 nanoseconds since 1970-01-01 (time of day kept)
    amounts: np.ndarray | None
    positions: np.ndarray  # row positions in the input of each kept row
    report: ValidationReport
    codes: np.ndarray | None = None  # codes into ``uniques`` (sorted ids) of each kept row
    uniques: Any = None


def check_options(**options: Any) -> None:
    """Refuse an unknown option value, listing the choices."""
    for name, value in options.items():
        choices = _OPTIONS[name]
        if value not in choices:
            raise ValueError(
                f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
            )


def _timestamps(values: pd.Series) -> np.ndarray:
    """int64 nanoseconds of each value (NaT as the int64 minimum), time of day kept."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        try:
            # ISO 8601 is by far the commonest and parses fastest; other formats, row by row.
            parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
            retry = parsed.isna().to_numpy()
            if retry.any():
                retry = retry & values.notna().to_numpy()
            if retry.any():
                again = pd.to_datetime(values[retry], errors="coerce", format="mixed")
                if getattr(again.dt, "tz", None) is not None:
                    again = again.dt.tz_convert(None)
                parsed = parsed.copy()
                parsed[retry] = again.astype(parsed.dtype)
        except (TypeError, ValueError):
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[ns]").view(np.int64)


def clean_days(values: pd.Series) -> np.ndarray:
    """Day numbers of dates as :func:`clean_log` reads them (unparseable ones: a minimum)."""
    times = _timestamps(values)
    nat = times == np.iinfo(np.int64).min
    return np.where(nat, np.iinfo(np.int64).min, np.floor_divide(times, _NS_PER_DAY))


def _parse_currency(text: pd.Series, decimal: str) -> pd.Series:
    """Numbers from currency strings: signs, codes and digit grouping removed."""
    cleaned = text.str.replace(r"[^\d.,\-+]", "", regex=True).str.replace("'", "", regex=False)
    if decimal == ",":
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    return pd.to_numeric(cleaned, errors="coerce")


def _currency_fix(examples: list[str]) -> tuple[str, str]:
    """The pattern seen in currency strings, and the one-line fix."""
    symbols = sorted({c for text in examples for c in text if not (c.isdigit() or c in ".,-+ ")})
    comma_decimal = any(
        re.search(r",\d{1,2}\D*$", t) and "." not in t for t in examples
    ) and not any(re.search(r"\.\d{1,2}\D*$", t) for t in examples)
    parts = []
    if symbols:
        parts.append(f"currency sign(s) {' '.join(symbols)}")
    if any("," in t for t in examples):
        parts.append("decimal comma" if comma_decimal else "',' grouping thousands")
    pattern = ", ".join(parts) or "digit grouping"
    if comma_decimal:
        fix = (
            "Pass currency=',' to read them with a decimal comma ('12,50 €' -> 12.5, "
            "'1.234,50' -> 1234.5), or currency='.' if the point is the decimal mark"
        )
    else:
        fix = (
            "Pass currency='.' to read them ('$1,234.50' -> 1234.5), or currency=',' if "
            "the comma is the decimal mark ('12,50 €' -> 12.5)"
        )
    return pattern, fix


def _amounts(
    column: pd.Series, currency: Currency
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Float amounts, a mask of currency strings left unread, of other non-numbers, and a count.

    The count is of amounts read from currency strings.
    """
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        return values, np.zeros(len(values), bool), ~np.isfinite(values), 0
    numbers = pd.to_numeric(column, errors="coerce").astype("float64")
    failed = numbers.isna().to_numpy()
    if failed.any():
        failed = failed & column.notna().to_numpy()
    looks_currency = np.zeros(len(column), bool)
    parsed = 0
    if failed.any():
        text = column[failed].astype(str)
        looks = text.str.match(_CURRENCY).to_numpy()
        looks_currency[np.flatnonzero(failed)[looks]] = True
        if currency is not None and looks.any():
            read = _parse_currency(text[looks], currency).to_numpy()
            positions = np.flatnonzero(failed)[looks]
            numbers = numbers.to_numpy().copy()
            numbers[positions] = read
            parsed = int(np.isfinite(read).sum())
            looks_currency[positions[np.isfinite(read)]] = False
            numbers = pd.Series(numbers)
    values = np.asarray(numbers, dtype="float64")
    if currency is not None:
        unread_currency = np.zeros(len(values), bool)
        other = ~np.isfinite(values)
    else:
        unread_currency = looks_currency
        other = ~np.isfinite(values) & ~looks_currency
    return values, unread_currency, other, parsed


def _duplicate_mask(codes: np.ndarray, times: np.ndarray, amounts: np.ndarray | None) -> np.ndarray:
    """Rows repeating an earlier row exactly in (customer code, timestamp, amount).

    The three integer columns are mixed into one int64 hash, whose repeats a hash
    table finds in one linear pass; only the few rows whose hash repeats are then
    compared exactly, so a hash collision can never pass for a duplicate.
    """
    with np.errstate(over="ignore"):
        mixed = times * np.int64(-7046029254386353131) ^ codes.astype(np.int64)
        if amounts is not None:
            bits = (amounts + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
            mixed = mixed ^ (bits * np.int64(-4658895280553007687))
    candidate = pd.Series(mixed).duplicated(keep=False).to_numpy()
    duplicated = np.zeros(len(codes), dtype=bool)
    if candidate.any():
        rows = np.flatnonzero(candidate)
        frame = pd.DataFrame({"c": codes[rows], "t": times[rows]})
        if amounts is not None:
            frame["a"] = amounts[rows]
        duplicated[rows] = frame.duplicated().to_numpy()
    return duplicated


def net_returns(
    codes: np.ndarray, days: np.ndarray, amounts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Net returns (negative amounts) against the purchases they can be matched to.

    The rule: a return is matched to the same customer's **latest purchase day on or
    before the return's day** (the same day included) whose purchases add up to a
    positive value. The returns matched to a day are subtracted from that day's
    purchases, each purchase row reduced in proportion to its amount; if they cancel
    the whole value, that day's positive purchase rows are removed (the purchase was
    undone). A return with no such purchase is *unmatched* and removed. Nothing
    else changes: a purchase that no return was matched to, including a free
    (zero-amount) order, is kept as it is.

    Returns the kept-row mask, the new amounts (for all rows) and the counts.

    >>> keep, new, counts = net_returns(np.array([0, 0, 0, 1]), np.array([1, 3, 5, 2]),
    ...                                 np.array([10.0, 0.0, -4.0, -1.0]))
    >>> keep.tolist(), new[keep].tolist(), counts["returns_netted"], counts["returns_unmatched"]
    ([True, True, False, False], [6.0, 0.0], 1, 1)
    """
    amounts = amounts.astype("float64")
    keep = np.ones(len(codes), dtype=bool)
    new = amounts.copy()
    returns = amounts < 0
    counts: dict[str, Any] = {
        "returns_netted": 0,
        "returns_unmatched": 0,
        "purchases_cancelled": 0,
        "purchases_reduced": 0,
        "unmatched_return_value": 0.0,
    }
    if not returns.any():
        return keep, new, counts
    # Only the customers with a return can change: work on their rows alone.
    involved = np.zeros(int(codes.max()) + 1, dtype=bool)
    involved[codes[returns]] = True
    rows = np.flatnonzero(involved[codes])
    sub_keep, sub_new, counts = _net_rows(codes[rows], days[rows], amounts[rows], counts)
    keep[rows], new[rows] = sub_keep, sub_new
    return keep, new, counts


def _net_rows(
    codes: np.ndarray, days: np.ndarray, amounts: np.ndarray, counts: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    keep = np.ones(len(codes), dtype=bool)
    new = amounts.copy()
    returns = amounts < 0
    base = int(days.min())
    span = np.int64(days.max() - base + 1)
    key = codes.astype(np.int64) * span + (days - base).astype(np.int64)
    positive = amounts > 0
    day_keys, inverse = np.unique(key[positive], return_inverse=True)
    day_value = np.bincount(inverse, weights=amounts[positive], minlength=len(day_keys))
    return_keys = key[returns]
    match = np.searchsorted(day_keys, return_keys, side="right") - 1
    matched = match >= 0
    matched[matched] = day_keys[match[matched]] // span == return_keys[matched] // span
    returned = np.bincount(
        match[matched], weights=-amounts[returns][matched], minlength=len(day_keys)
    )
    cancelled = returned >= day_value * (1 - 1e-12)
    # Each row gives up its share of the day's returns: amount - returned * amount / value.
    share = returned[inverse] * amounts[positive] / day_value[inverse]
    new[positive] = np.where(cancelled[inverse], 0.0, amounts[positive] - share)
    keep[returns] = False
    keep[np.flatnonzero(positive)[cancelled[inverse]]] = False
    counts["returns_netted"] = int(matched.sum())
    counts["returns_unmatched"] = int((~matched).sum())
    counts["purchases_cancelled"] = int(cancelled[inverse].sum())
    counts["purchases_reduced"] = int(((returned > 0) & ~cancelled)[inverse].sum())
    counts["unmatched_return_value"] = float(np.clip(returned - day_value, 0, None).sum())
    return keep, new, counts


def _first_purchase_lost(
    codes: np.ndarray, days: np.ndarray, valid: np.ndarray, n_codes: int
) -> np.ndarray:
    """Customer codes whose first purchase may be among the invalid rows.

    A dropped row with a known customer may have been her first purchase when its
    date is unknown or on or before her first kept purchase (or she has none).
    """
    first_kept = np.full(n_codes, np.iinfo(np.int64).max)
    np.minimum.at(first_kept, codes[valid], days[valid])
    dropped = ~valid & (codes >= 0)
    could_be_first = dropped & ((days == np.iinfo(np.int64).min) | (days <= first_kept[codes]))
    lost = np.zeros(n_codes, dtype=bool)
    lost[codes[could_be_first]] = True
    return lost


def clean_log(
    tx: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    on_invalid: OnInvalid = "raise",
    returns: Returns = "raise",
    duplicates: Duplicates = "keep",
    currency: Currency = None,
    diagnose_only: bool = False,
) -> CleanLog | Diagnosis:
    """Validate ``tx`` and apply the options; see the module docstring for the order."""
    if not isinstance(tx, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(tx).__name__}")
    wanted = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    missing = [column for column in wanted if column not in tx.columns]
    if missing:
        raise ValueError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the log has "
            f"{', '.join(repr(str(c)) for c in tx.columns)}. Name yours with "
            "customer_col=, date_col= and amount_col="
        )
    check_options(on_invalid=on_invalid, returns=returns, duplicates=duplicates, currency=currency)
    options = {
        "on_invalid": on_invalid,
        "returns": returns,
        "duplicates": duplicates,
        "currency": currency,
    }
    labels = tx.index
    ids = tx[customer_col]
    # Sorted codes serve the summary too; a missing id gets code -1.
    codes_all, uniques = pd.factorize(ids, sort=True)
    id_missing = codes_all < 0
    times = _timestamps(tx[date_col])
    nat = np.iinfo(np.int64).min
    date_bad = times == nat
    if amount_col is not None:
        amounts, currency_bad, amount_bad, parsed = _amounts(tx[amount_col], currency)
    else:
        amounts, parsed = None, 0
        currency_bad = amount_bad = np.zeros(len(tx), dtype=bool)

    drop_fix = (
        "Pass on_invalid='drop' to drop these rows, or on_invalid='drop_customer' to drop "
        "them and every customer whose first purchase may be among them"
    )
    invalid_raises = on_invalid == "raise"
    problems = []

    def add(mask: np.ndarray, column: str, what: str, fix: str, handled: str, blocks: bool) -> None:
        if mask.any():
            problems.append(
                Problem(
                    f"column {column!r}",
                    int(mask.sum()),
                    what,
                    first_rows(mask, tx[column], labels=labels),
                    fix,
                    handled,
                    blocks,
                )
            )

    add(
        id_missing,
        customer_col,
        "value(s) are missing customer ids",
        drop_fix,
        "on_invalid",
        invalid_raises,
    )
    add(date_bad, date_col, "value(s) are not dates", drop_fix, "on_invalid", invalid_raises)
    if amount_col is not None:
        if currency_bad.any():
            examples = tx[amount_col][currency_bad].astype(str).head(50).tolist()
            pattern, fix = _currency_fix(examples)
            add(
                currency_bad,
                amount_col,
                f"value(s) are currency strings ({pattern})",
                f"{fix}; or on_invalid='drop' to drop them",
                "currency",
                invalid_raises,
            )
        add(
            amount_bad,
            amount_col,
            "value(s) are missing or not numbers",
            drop_fix,
            "on_invalid",
            invalid_raises,
        )

    valid = ~(id_missing | date_bad | currency_bad | amount_bad)
    days_all = np.where(date_bad, nat, times // _NS_PER_DAY)
    lost = _first_purchase_lost(codes_all, days_all, valid, len(uniques))
    n_lost = int(lost.sum())
    if n_lost and on_invalid != "drop_customer":
        problems.append(
            Problem(
                f"column {customer_col!r}",
                n_lost,
                "customer(s) may lose their first purchase to the dropped rows (their "
                "acquisition date and T would move)",
                first_rows(lost, labels=list(uniques), noun="customer"),
                "Pass on_invalid='drop_customer' to drop these customers instead",
                "on_invalid",
                False,
            )
        )

    negative = valid & (amounts < 0) if amounts is not None else np.zeros(len(tx), bool)
    if negative.any():
        problems.append(
            Problem(
                f"column {amount_col!r}",
                int(negative.sum()),
                "negative amount(s) (returns?)",
                first_rows(negative, tx[amount_col], labels=labels),
                "Pass returns='net' to offset each against the customer's latest purchase on "
                "or before its day, or returns='drop' to remove them",
                "returns",
                returns == "raise",
            )
        )
    duplicated = np.zeros(len(tx), bool)
    duplicated[valid] = _duplicate_mask(
        codes_all[valid], times[valid], amounts[valid] if amounts is not None else None
    )
    if duplicated.any():
        problems.append(
            Problem(
                "rows",
                int(duplicated.sum()),
                "exact duplicate(s) of an earlier row (same customer, time and amount), "
                + ("dropped" if duplicates == "drop" else "kept as purchases"),
                first_rows(duplicated, labels=labels),
                "Pass duplicates='drop' if they are double-logged" if duplicates == "keep" else "",
                "duplicates",
                False,
            )
        )
    if amounts is not None:
        zero = valid & (amounts == 0)
        if zero.any():
            problems.append(
                Problem(
                    f"column {amount_col!r}",
                    int(zero.sum()),
                    "zero amount(s), kept as purchases",
                    first_rows(zero, labels=labels),
                    "The Gamma-Gamma spend model sets aside customers whose repeat spend "
                    "averages 0 (GammaGamma.fit reports how many)",
                    None,
                    False,
                )
            )

    if diagnose_only:
        return Diagnosis(rows=len(tx), problems=problems)
    raise_problems(
        problems,
        header=(
            "the transaction log has problems; nothing was changed. Each line names the "
            "option that handles it (cl.transactions.diagnose(tx, ...) lists them without "
            "raising):"
        ),
    )

    report = ValidationReport(rows_in=len(tx), rows_out=len(tx), options=options)
    report.problems = problems
    report.currency_parsed = parsed
    keep = valid.copy()
    seen = np.zeros(len(tx), bool)
    for mask, column, reason in (
        (id_missing, customer_col, "missing customer id"),
        (date_bad, date_col, "unparseable date"),
        (currency_bad, amount_col, "currency string"),
        (amount_bad, amount_col, "missing or non-numeric amount"),
    ):
        fresh = mask & ~seen
        if fresh.any():
            report.dropped[f"{reason} in {column!r}"] = int(fresh.sum())
        seen |= mask
    if on_invalid == "drop_customer" and n_lost:
        whole = keep & (codes_all >= 0) & lost[np.maximum(codes_all, 0)]
        report.customers_dropped = n_lost
        report.customer_rows_dropped = int(whole.sum())
        keep &= ~whole
    else:
        report.first_purchase_dropped = n_lost
    report.exact_duplicates = int(duplicated.sum())
    if duplicates == "drop":
        report.duplicates_dropped = int((duplicated & keep).sum())
        keep &= ~duplicated

    positions = np.flatnonzero(keep)
    kept_amounts = amounts[positions] if amounts is not None else None
    if kept_amounts is not None and (kept_amounts < 0).any():
        if returns == "drop":
            report.returns_dropped = int((kept_amounts < 0).sum())
            stay = kept_amounts >= 0
        else:
            stay, kept_amounts, counts = net_returns(
                codes_all[positions], days_all[positions], kept_amounts
            )
            for name, value in counts.items():
                setattr(report, name, value)
            before = np.zeros(len(uniques), dtype=bool)
            before[codes_all[positions][amounts[positions] >= 0]] = True
            after = np.zeros(len(uniques), dtype=bool)
            after[codes_all[positions][stay]] = True
            report.customers_returned_whole = int(before.sum() - after.sum())
        positions, kept_amounts = positions[stay], kept_amounts[stay]
    if kept_amounts is not None:
        report.zero_amounts = int((kept_amounts == 0).sum())
    report.rows_out = len(positions)
    return CleanLog(
        ids=np.asarray(uniques)[codes_all[positions]],
        times=times[positions],
        amounts=kept_amounts,
        positions=positions,
        report=report,
        codes=codes_all[positions],
        uniques=uniques,
    )
