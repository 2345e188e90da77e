"""Interactive ipywidgets views layered on crmlab's pure compute functions.

Each builder returns a displayable widget; call it with no arguments for the shipped
data and sensible defaults, or with keyword arguments for your own data or starting
values. The numbers a widget shows come from crmlab's pure functions, and every
widget exposes ``.controls`` (its inputs by name), ``.result`` (the last result),
``.readout`` (the HTML shown) and, when it draws, ``.image`` (the PNG figure).

The builders are loaded on first use, so ``import crmlab.widgets`` does not import
ipywidgets or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Builder name -> submodule of crmlab.widgets that defines it.
_BUILDERS = {
    "firm_simulator": "firms",
    "clv_calculator": "clv",
    "timeline_explorer": "history",
    "phases_explorer": "history",
    "cohort_explorer": "cohorts",
    "sbg_explorer": "sbg",
    "bgnbd_explorer": "bgnbd",
    "bgbb_explorer": "bgbb",
    "clv_targeting": "targeting",
}

__all__ = sorted(_BUILDERS)


def __getattr__(name: str) -> Any:
    if name in _BUILDERS:
        module = importlib.import_module(f"{__name__}.{_BUILDERS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'crmlab.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_BUILDERS))
