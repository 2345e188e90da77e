"""The time-varying Pareto/NBD likelihood and its exact gradient, in one vectorised pass.

For each customer the likelihood (see :mod:`crmlab.models.paretonbd_dynamic`) is a
constant times ``alive + died``, where ``died`` integrates over the dropout moment
``tau`` in ``(t_x, T]``::

    died = Σ_q s c_q ∫_0^{L_q} (P_q + a_q u)^-(r+x) (Q_q + c_q u)^-(s+1) du

with ``P_q = α + A`` and ``Q_q = β + C`` at the start of the piece's part after
``t_x``. Each piece is cut into *stretches* on a geometric grid, each short enough
that the integrand's logarithm changes by at most one over it and its
singularities (at ``u = -P_q/a_q`` and ``-Q_q/c_q``) lie at least
``r + x + s + 1`` stretch lengths away; on such a stretch 6 Gauss–Legendre nodes
integrate to about 1e-13 (relative). The *same* nodes give the gradient, by
differentiating under the integral: the limits are calendar times, which no
parameter moves. So the value and the gradient are one computation and agree
exactly, and no hypergeometric function is needed.

All sums per customer are segment sums over arrays sorted by customer
(``np.add.reduceat``); no Python loop runs per customer, piece or period. The node
arrays are built in chunks of stretches, so memory stays bounded on a million
customers. Covariates of the calendar alone take their rates once per run of equal
periods, and ``A``, ``C`` at each piece's start from one sum over the calendar
(:func:`calendar_before`) instead of a running sum over each customer's pieces.

>>> import numpy as np
>>> from crmlab.models._time_varying_loglik import segment_exclusive_cumsum
>>> segment_exclusive_cumsum(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 2]))
array([0., 1., 0., 3.])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "Terms",
    "calendar_before",
    "discounted_piece_integrals",
    "evaluate",
    "segment_exclusive_cumsum",
]

#: Gauss–Legendre nodes per stretch (6 agree with 8 to about 1e-14 in the log-likelihood).
NODES = 6
#: Stretches handled at once (times NODES nodes): bounds the memory of an evaluation.
CHUNK_STRETCHES = 20_000
#: At most this many stretches per piece (the integrand has long vanished by then).
MAX_STRETCHES = 1000

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(NODES)
_GL_T = (_GL_NODES + 1) / 2  # nodes on [0, 1]
_GL_W = _GL_WEIGHTS / 2


class Terms(NamedTuple):
    """Per customer: log constant, log 'alive at T', log 'died in (t_x, T]', A(T), C(T)."""

    constant: np.ndarray
    alive: np.ndarray
    died: np.ndarray
    A_T: np.ndarray
    C_T: np.ndarray


def segment_exclusive_cumsum(
    values: np.ndarray, starts: np.ndarray, segments: np.ndarray | None = None
) -> np.ndarray:
    """Sum of ``values`` over the earlier rows of the same segment (segments begin at ``starts``).

    A cumulative sum over all rows minus its value at each segment's start would
    carry the rounding of every earlier segment (a million customers) into each
    one, and that rounding does not move smoothly with the parameters, which
    stalls a quasi-Newton search. Here each segment keeps its own running sum
    (pandas' grouped cumulative sum: one compiled pass, about 4x faster than a
    scan by doubling shifts). ``segments``: each row's segment number, when the
    caller has it.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros_like(values)
    if segments is None:
        segments = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(values))))
    table = values.reshape(len(values), -1)
    inclusive = pd.DataFrame(table).groupby(segments, sort=False).cumsum(skipna=False)
    return (inclusive.to_numpy() - table).reshape(values.shape)


def calendar_before(
    log_a: np.ndarray,
    log_c: np.ndarray,
    zp: np.ndarray,
    zd: np.ndarray,
    c: dict[str, Any],
    slopes: bool,
    rows: tuple[np.ndarray, ...],
) -> list[np.ndarray]:
    """A, C (and with ``slopes`` their slopes in the coefficients) at the start of the
    pieces ``rows`` (one array of piece numbers each), for covariates of the calendar
    alone (``log_a``, ``zp``...: one row per calendar run).

    ``A`` then runs on one clock for everyone, from a different zero: with ``G`` the
    rates summed from the calendar's start (a short sum over the runs, once per
    evaluation), a piece starting ``lead`` into its run has ``G(run) + rate · lead``,
    and a customer's A there is that minus the same at her first piece's start. One
    gather per piece asked for, instead of a running sum over all pieces.
    """
    a, cc = np.exp(log_a), np.exp(log_c)
    columns = [a[:, None], cc[:, None]]
    if slopes:
        columns += [zp * a[:, None], zd * cc[:, None]]
    per_unit = np.concatenate(columns, axis=1)
    through = per_unit * c["run_length"][:, None]
    cumulative = np.cumsum(through, axis=0) - through  # at each run's start

    def clock(pieces: np.ndarray) -> np.ndarray:
        run = c["piece_run"][pieces]
        return cumulative[run] + per_unit[run] * c["piece_lead"][pieces][:, None]

    origin = np.zeros((len(c["x"]), per_unit.shape[1]))
    origin[c["piece_customers"]] = clock(c["piece_starts"])
    return [clock(pieces) - origin[c["piece_customer"][pieces]] for pieces in rows]


def _segment_sum(values: np.ndarray, starts: np.ndarray, segments: np.ndarray, n: int) -> Any:
    """Sums of ``values`` over segments beginning at ``starts``, placed at ``segments`` of n."""
    out = np.zeros((n, *values.shape[1:]))
    if len(starts):
        out[segments] = np.add.reduceat(values, starts, axis=0)
    return out


def _node_sums(
    m: np.ndarray, s: float, p: np.ndarray, h: np.ndarray, length: np.ndarray, gradient: bool
) -> np.ndarray:
    """Per piece: ∫_0^L (1+u/p)^-m (1+u/h)^-(s+1) du and, with ``gradient``, the
    integrals of the same integrand times log(1+u/p), 1/(1+u/p), log(1+u/h), 1/(1+u/h).

    Columns: S0, S_log_p, S_inv_p, S_log_h, S_inv_h (the last four only with gradient).
    """
    n_pieces = len(p)
    out = np.zeros((n_pieces, 5 if gradient else 1))
    if n_pieces == 0:
        return out
    v0 = np.minimum(p, h)
    growth = np.log1p(1 / (m + s + 1))
    count = stretch_count(v0, growth, length)
    ends = np.cumsum(count)
    begin = 0
    while begin < n_pieces:
        # pieces [begin, stop) hold about CHUNK_STRETCHES stretches (at least one piece):
        # node arrays of that size stay in the processor's cache
        base = ends[begin - 1] if begin else 0
        stop = max(int(np.searchsorted(ends, base + CHUNK_STRETCHES, side="right")), begin + 1)
        out[begin:stop] = _chunk_sums(
            m[begin:stop],
            s,
            p[begin:stop],
            h[begin:stop],
            length[begin:stop],
            v0[begin:stop],
            growth[begin:stop],
            count[begin:stop],
            gradient,
        )
        begin = stop
    return out


def _stretches(
    v0: np.ndarray, growth: np.ndarray, count: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stretch: its piece, start and length on the geometric grid of each piece.

    Stretch k of a piece spans ``v0 (ρ^k - 1) .. v0 (ρ^(k+1) - 1)`` with ``log ρ =
    growth`` (the last one ends at the piece's end): each is a fixed share of its
    distance from the integrand's nearer singularity at ``-v0``.
    """
    piece = np.repeat(np.arange(len(v0)), count)
    k = np.arange(len(piece)) - np.repeat(np.cumsum(count) - count, count)
    v, g, L = v0[piece], growth[piece], length[piece]
    low = np.minimum(v * np.expm1(k * g), L)
    high = np.where(k == count[piece] - 1, L, np.minimum(v * np.expm1((k + 1) * g), L))
    return piece, low, high - low


def stretch_count(v0: np.ndarray, growth: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Stretches of the geometric grid (ratio ``exp(growth)``) that cover ``length``."""
    count = np.ceil(np.log1p(length / v0) / growth)
    return np.clip(np.nan_to_num(count, nan=1.0), 1, MAX_STRETCHES).astype(np.int64)


def discounted_piece_integrals(h: np.ndarray, s: float, delta: float, length: np.ndarray) -> Any:
    """``∫_0^L (1 + v/h)^-s e^(-δ v) dv`` per piece, by Gauss–Legendre on geometric stretches.

    The integrand of DERT over a future piece of constant covariates (no closed
    form: an incomplete gamma function of possibly negative order). A piece longer
    than ``1/δ`` is first cut into equal parts of at most that length, each of
    which is cut into stretches at most ``(h + v)/(s + 1)`` long.

    >>> one = np.array([1.0])
    >>> round(float(discounted_piece_integrals(one, 1.0, 1e-12, one)[0]), 10)  # log 2
    0.6931471806
    """
    out = np.zeros(len(h))
    if len(h) == 0:
        return out
    parts = np.clip(np.ceil(delta * length), 1, MAX_STRETCHES).astype(np.int64)
    part_piece = np.repeat(np.arange(len(h)), parts)
    index = np.arange(len(part_piece)) - np.repeat(np.cumsum(parts) - parts, parts)
    part_length = (length / parts)[part_piece]
    offset = index * part_length
    base = h[part_piece]
    # over [o, o + l]: e^(-δ o) (1 + o/h)^-s ∫_0^l (1 + w/(h + o))^-s e^(-δ w) dw
    scale = np.exp(-delta * offset - s * np.log1p(offset / base))
    shifted = base + offset
    growth = np.full(len(shifted), np.log1p(1 / (s + 1)))
    count = stretch_count(shifted, growth, part_length)
    ends = np.cumsum(count)
    sums = np.zeros(len(shifted))
    begin = 0
    while begin < len(shifted):
        first = ends[begin - 1] if begin else 0
        stop = max(int(np.searchsorted(ends, first + CHUNK_STRETCHES, side="right")), begin + 1)
        sl = slice(begin, stop)
        piece, low, span = _stretches(shifted[sl], growth[sl], count[sl], part_length[sl])
        u = low[:, None] + span[:, None] * _GL_T
        values = np.exp(-s * np.log1p(u / shifted[sl][piece][:, None]) - delta * u)
        per_stretch = (values * (span[:, None] * _GL_W)).sum(axis=1)
        sums[sl] = np.bincount(piece, weights=per_stretch, minlength=stop - begin)
        begin = stop
    return np.bincount(part_piece, weights=scale * sums, minlength=len(h))


def _chunk_sums(
    m: np.ndarray,
    s: float,
    p: np.ndarray,
    h: np.ndarray,
    length: np.ndarray,
    v0: np.ndarray,
    growth: np.ndarray,
    count: np.ndarray,
    gradient: bool,
) -> np.ndarray:
    """:func:`_node_sums` for one chunk of pieces (``count`` stretches each)."""
    piece, low, span = _stretches(v0, growth, count, length)
    u = low[:, None] + span[:, None] * _GL_T
    y1 = u * (1 / p)[piece][:, None]
    y2 = np.multiply(u, (1 / h)[piece][:, None], out=u)
    l1 = np.log1p(y1)
    l2 = np.log1p(y2)
    weight = l1 * (-m)[piece][:, None]
    weight -= (s + 1) * l2
    np.exp(weight, out=weight)
    weight *= span[:, None] * _GL_W
    starts = np.flatnonzero(np.concatenate([[True], piece[1:] != piece[:-1]]))
    if not gradient:
        return np.add.reduceat(weight.sum(axis=1), starts)[:, None]
    y1 += 1
    y2 += 1
    columns = np.empty((len(piece), 5))
    columns[:, 0] = weight.sum(axis=1)
    columns[:, 1] = np.einsum("ij,ij->i", weight, l1)
    columns[:, 2] = np.einsum("ij,ij->i", weight, np.reciprocal(y1, out=y1))
    columns[:, 3] = np.einsum("ij,ij->i", weight, l2)
    columns[:, 4] = np.einsum("ij,ij->i", weight, np.reciprocal(y2, out=y2))
    return np.add.reduceat(columns, starts, axis=0)


def _rate_columns(
    a: np.ndarray, cc: np.ndarray, length: np.ndarray, zp: np.ndarray, zd: np.ndarray, slopes: bool
) -> np.ndarray:
    """Per piece: A and C gained over it and, with ``slopes``, their slopes in the coefficients."""
    columns = [(a * length)[:, None], (cc * length)[:, None]]
    if slopes:
        columns += [zp * (a * length)[:, None], zd * (cc * length)[:, None]]
    return np.concatenate(columns, axis=1)


def _dot(z: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """``z @ gamma`` without BLAS (whose threads wait on a busy machine)."""
    if z.shape[1] == 0:
        return np.zeros(len(z))
    return np.einsum("ij,j->i", z, gamma)


def evaluate(
    params: np.ndarray,
    k_p: int,
    c: dict[str, Any],
    weights: np.ndarray | None = None,
) -> tuple[Terms, np.ndarray | None]:
    """The likelihood's terms per customer and, given ``weights``, the weighted gradient.

    ``params``: r, α, s, β, then the ``k_p`` purchase and the dropout coefficients.
    ``c``: the layout of :func:`crmlab.models.paretonbd_dynamic._layout`. The gradient
    is d(Σ weights · log L)/d(params), in the natural parameters.
    """
    r, alpha, s, beta = (float(v) for v in params[:4])
    gamma_p = np.asarray(params[4 : 4 + k_p], float)
    gamma_d = np.asarray(params[4 + k_p :], float)
    x = c["x"]
    n = len(x)
    zp, zd = c["zp"], c["zd"]
    length = c["piece_length"]
    piece_starts, piece_customers = c["piece_starts"], c["piece_customers"]
    want = weights is not None
    q = c["after"]
    last = np.append(piece_starts[1:], len(length)) - 1 if len(piece_starts) else piece_starts
    # A, C (and with the gradient their slopes in the coefficients) at the start of the
    # pieces after t_x and of each customer's last piece; their values at T are the
    # customers' totals
    if "piece_run" in c:
        # covariates of the calendar alone: the rates once per calendar run, and no
        # array over all pieces
        run_log_a, run_log_c = _dot(c["run_zp"], gamma_p), _dot(c["run_zd"], gamma_d)
        log_a_q, log_c_q = run_log_a[c["piece_run"][q]], run_log_c[c["piece_run"][q]]
        before_q, before_last = calendar_before(
            run_log_a, run_log_c, c["run_zp"], c["run_zd"], c, want, (q, last)
        )
        run_last = c["piece_run"][last]
        rates_last = _rate_columns(
            np.exp(run_log_a[run_last]),
            np.exp(run_log_c[run_last]),
            length[last],
            zp[last],
            zd[last],
            want,
        )
    else:
        log_a, log_c = _dot(zp, gamma_p), _dot(zd, gamma_d)
        rates = _rate_columns(np.exp(log_a), np.exp(log_c), length, zp, zd, want)
        before = segment_exclusive_cumsum(rates, piece_starts, c["piece_customer"])
        before_q, before_last, rates_last = before[q], before[last], rates[last]
        log_a_q, log_c_q = log_a[q], log_c[q]
    totals = np.zeros((n, rates_last.shape[1]))
    totals[piece_customers] = before_last + rates_last
    A_T, C_T = totals[:, 0], totals[:, 1]
    m = r + x
    constant = (
        special.gammaln(m)
        - special.gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + _dot(c["purchase_sums"], gamma_p)
    )
    alive = -m * np.log(alpha + A_T) - s * np.log(beta + C_T)
    died = np.full(n, -np.inf)
    if len(q):
        A_start, C_start = before_q[:, 0], before_q[:, 1]
        aq, cq, offset = np.exp(log_a_q), np.exp(log_c_q), c["after_offset"]
        P = alpha + A_start + aq * offset
        Q = beta + C_start + cq * offset
        mq = m[c["after_customer"]]
        sums = _node_sums(mq, s, P / aq, Q / cq, c["after_length"], want)
        log_P, log_Q = np.log(P), np.log(Q)
        log_piece = np.log(s) + log_c_q - mq * log_P - (s + 1) * log_Q + np.log(sums[:, 0])
        after_starts, after_customers = c["after_starts"], c["after_customers"]
        peak = np.maximum.reduceat(log_piece, after_starts)
        peak = np.where(np.isfinite(peak), peak, 0.0)
        sizes = np.diff(np.append(after_starts, len(q)))
        scaled = np.exp(log_piece - np.repeat(peak, sizes))
        with np.errstate(divide="ignore"):
            died[after_customers] = peak + np.log(np.add.reduceat(scaled, after_starts))
    terms = Terms(constant, alive, died, A_T, C_T)
    if not want:
        return terms, None

    # ----- gradient ---------------------------------------------------------------------
    assert weights is not None
    total = np.logaddexp(alive, died)
    share = np.exp(alive - total)  # the "alive" term's share of the bracket
    k_d = zd.shape[1]
    per_customer = np.empty((n, 4 + k_p + k_d))
    per_customer[:, 0] = (
        special.digamma(m) - special.digamma(r) + np.log(alpha) - share * np.log(alpha + A_T)
    )
    per_customer[:, 1] = r / alpha - share * m / (alpha + A_T)
    per_customer[:, 2] = np.log(beta) - share * np.log(beta + C_T)
    per_customer[:, 3] = s / beta - share * s / (beta + C_T)
    dA_T, dC_T = totals[:, 2 : 2 + k_p], totals[:, 2 + k_p :]
    per_customer[:, 4 : 4 + k_p] = c["purchase_sums"] - (share * m / (alpha + A_T))[:, None] * dA_T
    per_customer[:, 4 + k_p :] = -(share * s / (beta + C_T))[:, None] * dC_T
    if len(q):
        who = c["after_customer"]
        # each piece's share of the bracket
        pi = np.exp(log_piece - total[who])
        R = sums[:, 1:] / sums[:, :1]
        R_log_p, R_inv_p, R_log_h, R_inv_h = R.T
        g = np.empty((len(q), 4 + k_p + k_d))
        g[:, 0] = -(log_P + R_log_p)
        g[:, 1] = -mq * R_inv_p / P
        g[:, 2] = 1 / s - log_Q - R_log_h
        g[:, 3] = -(s + 1) * R_inv_h / Q
        if k_p:
            zpq = zp[q]
            D = before_q[:, 2 : 2 + k_p] + zpq * (aq * offset)[:, None]
            g[:, 4 : 4 + k_p] = -(mq / P)[:, None] * (
                D * R_inv_p[:, None] + zpq * (P * (1 - R_inv_p))[:, None]
            )
        if k_d:
            zdq = zd[q]
            E = before_q[:, 2 + k_p :] + zdq * (cq * offset)[:, None]
            g[:, 4 + k_p :] = zdq - ((s + 1) / Q)[:, None] * (
                E * R_inv_h[:, None] + zdq * (Q * (1 - R_inv_h))[:, None]
            )
        per_customer += _segment_sum(g * pi[:, None], c["after_starts"], c["after_customers"], n)
    return terms, np.einsum("i,ij->j", weights, per_customer)
