"""The CDNOW sample as the course uses it, computed once per session.

Notebooks, exercise checks, widgets and tests all start from the same summaries of
the CDNOW sample (Fader, Hardie & Lee 2005): the 39-week calibration period, ending
1997-09-30, and the holdout to 1998-06-30, in weeks. They are built here, once, and
each call hands out a copy, so that no caller can change what the next one sees.

>>> s = calibration()
>>> len(s), int((s["x"] > 0).sum()), s.attrs["unit"]
(2357, 946, 'W')
>>> s.loc[1, ["x", "t_x", "T"]].round(2).tolist()
[2.0, 30.43, 38.86]
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

__all__ = ["CALIBRATION_END", "OBSERVATION_END", "calibration", "calibration_holdout"]

#: Last day of the 39-week calibration period of the CDNOW analyses.
CALIBRATION_END = "1997-09-30"
#: Last day of the holdout period (weeks 40-78).
OBSERVATION_END = "1998-06-30"


@lru_cache(maxsize=1)
def _calibration() -> pd.DataFrame:
    from crmlab.datasets import load_cdnow
    from crmlab.transactions import summarize

    return summarize(load_cdnow("sample"), observation_end=CALIBRATION_END, unit="W")


@lru_cache(maxsize=1)
def _calibration_holdout() -> pd.DataFrame:
    from crmlab.datasets import load_cdnow
    from crmlab.transactions import calibration_holdout as split

    return split(
        load_cdnow("sample"),
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
        unit="W",
    )


def calibration() -> pd.DataFrame:
    """(x, t_x, T, monetary) of the 2,357 CDNOW sample customers over 39 weeks, in weeks."""
    return _calibration().copy()


def calibration_holdout() -> pd.DataFrame:
    """The calibration summary plus ``x_holdout`` and ``duration_holdout`` (weeks 40-78).

    >>> h = calibration_holdout()
    >>> int(h["x_holdout"].sum()), float(h["duration_holdout"].iloc[0])
    (1882, 39.0)
    """
    return _calibration_holdout().copy()
