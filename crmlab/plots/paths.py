"""The figure of one customer's P(alive) path (see :func:`crmlab.models.p_alive_path`).

The path is a solid line up to the end of observation and dashed beyond it (where
it assumes no further purchase); her purchases are ticks along the top, and the
end of observation a vertical line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.plots._common import new_axes, unit_name

__all__ = ["draw_p_alive_path", "plot_p_alive_path", "update_p_alive_path"]


def draw_p_alive_path(ax: Any, label: str = "", unit: str | None = None) -> tuple[Any, ...]:
    """Empty artists of the P(alive) path figure: observed and beyond-T lines, purchases, T.

    Fill them with :func:`update_p_alive_path`; a second customer on the same Axes
    takes the next colour.
    """
    # The shared entries (dashed part, ticks, end line) go in the legend once per Axes.
    first = not any(line.get_label() == "purchases" for line in ax.get_lines())

    def shared(text: str) -> str:
        return text if first else "_nolegend_"

    (observed,) = ax.plot([], [], linestyle="-", label=label or "P(alive)")
    colour = observed.get_color()
    (beyond,) = ax.plot(
        [], [], color=colour, linestyle="--", label=shared("if she buys nothing more")
    )
    (purchases,) = ax.plot(
        [], [], color=colour, marker="|", markersize=9, linestyle="none", label=shared("purchases")
    )
    end = ax.axvline(0, color="grey", linestyle=":", label=shared("end of observation"))
    words = unit_name(unit) if unit else "time units of the model"
    ax.set_xlabel(f"time since first purchase ({words})")
    ax.set_ylabel("P(alive)")
    ax.set_ylim(0, 1.08)
    ax.set_title("P(alive) along the customer's history")
    ax.legend(loc="best")
    return observed, beyond, purchases, end


def update_p_alive_path(artists: tuple[Any, ...], path: pd.DataFrame) -> None:
    """Fill :func:`draw_p_alive_path`'s artists with a path from ``p_alive_path``."""
    observed, beyond, purchases, end = artists
    ages = path.index.to_numpy(dtype=float)
    alive = path["p_alive"].to_numpy(dtype=float)
    seen = path["observed"].to_numpy(dtype=bool)
    T = float(path.attrs.get("T", ages[seen][-1] if seen.any() else ages[0]))
    observed.set_data(ages[seen], alive[seen])
    # The dashed part starts at T so that the two lines meet.
    after = ages >= T
    beyond.set_data(ages[after], alive[after])
    bought = np.asarray(path.attrs.get("purchases", []), dtype=float)
    purchases.set_data(bought, np.full(bought.shape, 1.035))
    end.set_xdata([T, T])
    ax = observed.axes
    ax.relim()
    ax.autoscale_view(scalex=True, scaley=False)


def plot_p_alive_path(path: pd.DataFrame, ax: Any = None, label: str = "") -> Any:
    """Draw one customer's P(alive) path and return the Axes.

    Examples
    --------
    >>> import crmlab as cl
    >>> m = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
    >>> path = cl.models.p_alive_path(m, [0.0, 2.0, 5.0, 9.0], T=20.0, horizon=10.0)
    >>> ax = cl.plots.plot_p_alive_path(path, label="customer 1")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('time since first purchase (weeks)', 'P(alive)')
    """
    if not {"p_alive", "observed"} <= set(path.columns):
        raise ValueError(
            "plot_p_alive_path takes the table of crmlab.models.p_alive_path (columns "
            f"'p_alive' and 'observed'); got columns {list(map(str, path.columns))}"
        )
    ax = new_axes(ax)
    artists = draw_p_alive_path(ax, label=label, unit=path.attrs.get("unit"))
    update_p_alive_path(artists, path)
    return ax
