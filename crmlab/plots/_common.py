"""What every figure module shares: the Axes set-up and the names of time units."""

from __future__ import annotations

from typing import Any

#: Time-unit codes of the summaries (``summary.attrs["unit"]``) and their names on axes.
UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


def unit_name(unit: str) -> str:
    """The plural word for a unit code, or the text itself when it is already a word.

    >>> unit_name("W"), unit_name("years")
    ('weeks', 'years')
    """
    return UNIT_NAMES.get(unit, unit)


def new_axes(ax: Any = None, figsize: tuple[float, float] = (7, 4)) -> Any:
    """``ax`` itself, or the Axes of a new figure, with the house theme applied.

    The theme (white grid, seaborn's colour-blind palette) is set on every call, since
    a notebook may have changed matplotlib's defaults between two figures.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette="colorblind")
    if ax is None:
        # Constrained layout keeps long axis labels and colour bars inside the figure.
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
