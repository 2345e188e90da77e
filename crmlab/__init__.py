"""crmlab: Customer Relationship Management in Jupyter.

History of CRM, retention and customer-lifetime-value models that reproduce the
published literature, and the widgets that let a learner play with them.

Submodules load on first use so that ``import crmlab`` stays as light as pandas:

>>> import crmlab as cl
>>> cl.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = frozenset(
    {
        "cdnow",
        "clv",
        "datasets",
        "exercises",
        "history",
        "models",
        "plots",
        "retention",
        "rfm",
        "scoring",
        "simulate",
        "targeting",
        "transactions",
        "widgets",
    }
)

__all__ = ["__version__", "show_versions", *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    # Lazy loading keeps seaborn, matplotlib and ipywidgets out of ``import crmlab``.
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'crmlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)


def show_versions() -> None:
    """Print the versions of Python, crmlab and the main libraries.

    Notebooks end with this call so that a reader can tell what produced the
    committed outputs. It reads package metadata and imports nothing heavy.

    >>> show_versions()  # doctest: +ELLIPSIS
    Python ...
    crmlab 0.1.0
    ...
    """
    import platform
    from importlib import metadata

    print(f"Python {platform.python_version()}")
    print(f"crmlab {__version__}")
    for package in ("numpy", "pandas", "scipy", "matplotlib", "seaborn", "ipywidgets"):
        try:
            print(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            print(f"{package} not installed")
