"""RFM scores and segments: recency, frequency and monetary value in a few ranks.

RFM is the oldest customer-scoring scheme of direct marketing: rank customers by
how recently they bought (R), how often (F) and how much (M), then act on the
ranks. It needs no model, which is its charm and its limit: it describes the past
and does not say what a customer will do next (notebooks 07 and 08 do that).

>>> import crmlab as cl
>>> s = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30")
>>> scores = rfm_scores(s)
>>> scores[["R", "F", "M"]].max().tolist()
[3, 3, 3]
>>> int((scores["segment"] == "333").sum())
431
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rfm_scores"]


def _ranks(values: pd.Series, levels: int) -> pd.Series:
    # Tied customers share the score of the lowest position among them, so that the
    # many customers with the same count (x = 0) never land in different groups.
    share_below = values.rank(method="min", pct=True)
    return np.ceil(levels * share_below).clip(1, levels).astype("int64")


def rfm_scores(summary: pd.DataFrame, levels: int = 3) -> pd.DataFrame:
    """Score each customer 1 (worst) to ``levels`` (best) on recency, frequency and money.

    Recency is the time since the last purchase, ``T - t_x`` (shorter is better);
    frequency is ``x``; monetary value is the mean repeat spend (customers without
    a repeat purchase get the lowest M score).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``summary``: ``recency``, ``R``, ``F``, ``M`` and ``segment``,
        the three digits as a string, e.g. ``"313"``.
    """
    if levels < 2:
        raise ValueError(f"levels must be at least 2, got {levels}")
    missing = [c for c in ("x", "t_x", "T", "monetary") if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks column(s) {missing}")
    recency = summary["T"] - summary["t_x"]
    scores = pd.DataFrame(index=summary.index)
    scores["recency"] = recency
    scores["R"] = _ranks(-recency, levels)
    scores["F"] = _ranks(summary["x"], levels)
    scores["M"] = _ranks(summary["monetary"].fillna(-np.inf), levels)
    scores["segment"] = scores["R"].astype(str) + scores["F"].astype(str) + scores["M"].astype(str)
    return scores
