"""The cheaper ways a Newton fit reaches the same estimates on a large, mostly distinct base.

Each path is compared with the computation it avoids: fits on rows left unmerged
against fits on merged rows, evaluations in blocks against one pass, the table
lookup and the hash grouping against ``np.unique``, the Gamma-Gamma fit begun from
its own starts against one begun from a subsample, and the hash estimate of how
many rows would merge against the count ``compress_rows`` makes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.models import BGNBD, GammaGamma, ParetoNBD, _base
from crmlab.models._base import compress_rows, merge_share, row_groups, value_levels

TRUTH = {"r": 0.9, "alpha": 6.3, "a": 0.8, "b": 6.7}


def _history(customers: int, seed: int = 3) -> pd.DataFrame:
    """A BG/NBD base with times to the day over two years: nearly every row distinct."""
    rng = np.random.default_rng(seed)
    T = 104.0 - rng.integers(0, 365, customers) / 7
    return pd.DataFrame(BGNBD().set_params(**TRUTH).simulate(customers, T, seed=seed))


def _buyers(customers: int, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 30, customers).astype(float)
    spend = GammaGamma().set_params(p=6.0, q=4.0, gamma=15.0).simulate(x, seed=seed)
    return pd.DataFrame({"x": x, "monetary": np.round(spend, 2)})


def _with_copies(frame: pd.DataFrame, share: float, seed: int = 5) -> pd.DataFrame:
    """``frame`` plus copies of some of its rows, so that ``share`` of all rows merge."""
    rng = np.random.default_rng(seed)
    copies = round(share * len(frame) / (1 - share))
    picked = rng.choice(len(frame), copies, replace=True)
    return pd.concat([frame, frame.iloc[picked]], ignore_index=True)


@pytest.mark.parametrize(
    "model_class, data",
    [(BGNBD, lambda: _history(22_000)), (GammaGamma, lambda: _buyers(22_000))],
    ids=["bgnbd", "gamma-gamma"],
)
def test_rows_left_unmerged_give_the_merged_fit(model_class, data):
    base = _with_copies(data(), 0.1)  # one row in ten merges, as in the researcher's log
    merged_rows = len(compress_rows({c: base[c].to_numpy() for c in base}, np.ones(len(base)))[1])
    assert merged_rows < 0.95 * len(base)
    automatic = model_class().fit(base)
    merged = model_class().fit(base, compress=True)
    assert automatic.n_rows == len(base)  # the hash check left the rows as they are
    assert merged.n_rows == merged_rows
    assert automatic.converged and merged.converged
    for name, value in merged.params.items():
        assert automatic.params[name] == pytest.approx(value, rel=1e-9), name
    assert automatic.loglik == pytest.approx(merged.loglik, rel=1e-12)
    # Each fit's Hessian is its last one, up to a step of 1e-6 from its estimate.
    for name, value in merged.standard_errors.items():
        assert automatic.standard_errors[name] == pytest.approx(value, rel=1e-5), name


def test_rows_that_merge_well_are_still_merged():
    base = _with_copies(_history(15_000), 0.5)
    assert len(base) > _base.SUBSAMPLE_ROWS
    assert BGNBD().fit(base).n_rows < 0.6 * len(base)
    # A BFGS fit (dozens of evaluations) merges even the few rows alike.
    few = _with_copies(_history(22_000), 0.1)
    assert ParetoNBD().fit(few).n_rows < len(few)
    # So does any fit of a small base, without asking.
    small = _with_copies(_history(5_000), 0.1)
    assert BGNBD().fit(small).n_rows < len(small)


@pytest.mark.parametrize("share", [0.0, 0.1, 0.3, 0.7])
def test_merge_share_estimates_what_compression_merges(share):
    base = _with_copies(_history(40_000), share)
    columns = {c: base[c].to_numpy() for c in base}
    merged = len(compress_rows(columns, np.ones(len(base)))[1])
    truth = 1 - merged / len(base)
    assert merge_share(columns) == pytest.approx(truth, abs=0.04)


def test_merge_share_of_small_bases_counts_every_row():
    assert merge_share({"x": np.array([1.0, 1.0, 2.0, 2.0]), "y": np.array([0, 1, 0, 0])}) == 0.25
    assert merge_share({"x": np.array([], dtype=float)}) == 0.0


def test_newton_sums_in_blocks_equal_one_pass(monkeypatch):
    base = _history(6_000)
    model = BGNBD()
    columns, weights = model._read_all(base, None, fitting=True)
    columns = model._with_levels(columns)
    start = np.array([0.7, 5.0, 0.9, 5.0])
    monkeypatch.setattr(_base, "_BLOCK_ROWS", 10**9)
    whole, _ = model._newton_functions(columns, weights, float(len(weights)), start)
    monkeypatch.setattr(_base, "_BLOCK_ROWS", 1_000)
    blocks = _base._row_blocks(columns, weights)
    assert len(blocks) == 6 and sum(len(w) for _, w in blocks) == len(weights)
    cut, _ = model._newton_functions(columns, weights, float(len(weights)), start)
    for point in (np.log(start), np.log(start) + 0.1):
        for one, other in zip(whole(point), cut(point), strict=True):
            np.testing.assert_allclose(other, one, rtol=1e-12, atol=1e-14)
    # Row groups index the whole base: such columns are never cut.
    grouped = GammaGamma()
    spend_columns, spend_weights = grouped._read_all(_buyers(3_000), None, fitting=True)
    spend_columns = grouped._with_levels(spend_columns)
    assert len(_base._row_blocks(spend_columns, spend_weights)) == 1


def test_a_blocked_fit_ends_where_a_single_pass_fit_does(monkeypatch):
    base = _history(25_000)
    monkeypatch.setattr(_base, "_BLOCK_ROWS", 10**9)
    single = BGNBD().fit(base)
    monkeypatch.setattr(_base, "_BLOCK_ROWS", 4_000)
    blocked = BGNBD().fit(base)
    for name, value in single.params.items():
        assert blocked.params[name] == pytest.approx(value, rel=1e-10), name
    for name, value in single.standard_errors.items():
        assert blocked.standard_errors[name] == pytest.approx(value, rel=1e-9), name


def test_row_groups_of_counts_by_lookup_match_np_unique():
    x = np.random.default_rng(1).integers(0, 50, 5_000).astype(float)
    first, inverse = row_groups(x)
    _, first_ref, inverse_ref = np.unique(x, return_index=True, return_inverse=True)
    assert first.tolist() == first_ref.tolist() and inverse.tolist() == inverse_ref.tolist()
    # Not whole numbers: the general path, the same contract.
    y = x + 0.5
    first, inverse = row_groups(y)
    assert np.array_equal(y[first][inverse], y) and np.all(np.diff(y[first]) > 0)


def test_value_levels_by_hashing_match_np_unique():
    values = np.random.default_rng(2).integers(0, 300, 10_000) / 7  # days in weeks
    unique, inverse = value_levels(values)
    unique_ref, inverse_ref = np.unique(values, return_inverse=True)
    assert np.array_equal(unique, unique_ref) and np.array_equal(inverse, inverse_ref)
    with_nan = values.copy()
    with_nan[3] = np.nan
    unique, inverse = value_levels(with_nan)
    assert np.isnan(unique[-1]) and np.array_equal(unique[inverse][:3], with_nan[:3])


def test_a_large_bgnbd_fit_begins_on_all_rows_at_the_subsample_estimate(monkeypatch):
    base = _history(25_000)
    points = []
    evaluate = BGNBD._exact_sums

    def counted(self, params, columns, weights):
        points.append((len(weights), np.array(params)))
        return evaluate(self, params, columns, weights)

    monkeypatch.setattr(BGNBD, "_exact_sums", counted)
    model = BGNBD().fit(base)
    full = [params for rows, params in points if rows == model.n_rows]
    parts = [params for rows, params in points if 2 < rows < model.n_rows]
    assert parts, "the subsample was fitted first"
    starts = BGNBD()._starts(*model._read_all(base, None, fitting=True))
    # No evaluation on all rows is spent at a start the subsample's estimate replaces.
    assert not any(np.allclose(full[0], start) for start in starts)
    assert np.allclose(full[0], parts[-1], rtol=1e-6)
    assert len(full) <= 5


def test_the_gamma_gamma_fit_skips_the_subsample_and_ends_at_the_same_estimate(monkeypatch):
    base = _buyers(30_000)
    rows = []
    evaluate = GammaGamma._exact_sums

    def counted(self, params, columns, weights):
        rows.append(len(weights))
        return evaluate(self, params, columns, weights)

    monkeypatch.setattr(GammaGamma, "_exact_sums", counted)
    own = GammaGamma().fit(base)
    assert set(rows) <= {2, own.n_rows}  # the two-row probe and all rows, no subsample
    assert len(rows) <= 7
    rows.clear()
    monkeypatch.setattr(GammaGamma, "newton_from_subsample", True)
    sampled = GammaGamma().fit(base)
    assert any(2 < n < sampled.n_rows for n in rows)  # the other path was taken
    for name, value in sampled.params.items():
        assert own.params[name] == pytest.approx(value, rel=1e-9), name


def test_the_exact_sums_probe_follows_the_model():
    columns = {"x": np.array([1.0, 2.0]), "t_x": np.array([1.0, 3.0]), "T": np.array([4.0, 5.0])}
    weights = np.ones(2)
    assert BGNBD()._has_exact_sums(columns, weights)
    assert not ParetoNBD()._has_exact_sums(columns, weights)
    spend = {"x": np.array([1.0, 2.0]), "monetary": np.array([3.0, 4.0])}
    assert GammaGamma()._has_exact_sums(spend, weights)
    with_z = dict(spend, **{"z.spend.g": np.array([0.0, 1.0])})
    assert not GammaGamma(spend_covariates=["g"])._has_exact_sums(with_z, weights)


def test_newton_takes_a_last_step_below_a_millionth_on_the_model():
    # f(u) = sum(cosh(u - 1)): the minimum at 1, the Hessian known everywhere.
    calls = []

    def sums(u):
        calls.append(u.copy())
        return float(np.sum(np.cosh(u - 1))), np.sinh(u - 1), np.diag(np.cosh(u - 1))

    quick = _base.damped_newton(sums, np.zeros(3))
    evaluated = len(calls)
    calls.clear()
    full = _base.damped_newton(sums, np.zeros(3), last_step=0.0)
    assert quick.success and full.success and "on the model" in quick.message
    assert evaluated == len(calls) - 1  # one evaluation fewer
    assert np.allclose(quick.x, 1.0, rtol=0, atol=1e-12)
    assert np.allclose(quick.x, full.x, rtol=0, atol=1e-12)
    # The Hessian it returns is the last one computed, at the point before the step.
    assert any(np.array_equal(quick.hessian_at, point) for point in calls[:evaluated])
    assert not np.array_equal(quick.hessian_at, quick.x)


def test_levels_gather_stacked_terms_along_the_axis_asked_for():
    from crmlab.models.bgnbd import _on_levels

    x = np.array([2.0, 0.0, 2.0, 5.0])
    both = [np.sqrt(x), x + 1]
    groups = {"x_groups": row_groups(x)}
    levels = {"x_levels": value_levels(x)}
    for found in (groups, levels, {}):
        last = _on_levels(lambda v: np.stack([np.sqrt(v), v + 1]), x, found, "x", axis=-1)
        first = _on_levels(lambda v: np.stack([np.sqrt(v), v + 1]).T, x, found, "x")
        assert np.array_equal(last, np.stack(both)) and np.array_equal(first, np.stack(both).T)
        assert last.flags["C_CONTIGUOUS"] or not found
