"""The NBD count every Poisson-purchasing model mixes over: one place for its log-pmf.

A customer buying at Poisson rate ``lambda ~ Gamma(r, alpha)`` for a time ``u`` makes
``n`` purchases with the negative binomial probability

    NB(n; u) = Γ(r + n) / (Γ(r) n!) · (α / (α + u))^r · (u / (α + u))^n.

The BG/NBD, MBG/NBD, Pareto/NBD and GGom/NBD all need it for P(X(t) = n) (the first
two at the end of the window, the last two also at each moment of death), and all
four take it from :func:`log_nbd`.

>>> import numpy as np
>>> p = np.exp(log_nbd(np.arange(400), 39.0, 0.55, 10.58))
>>> round(float(p.sum()), 12), round(float((np.arange(400) * p).sum()), 6)  # mean r u / α
(1.0, 2.027410)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

__all__ = ["log_nbd"]


def log_nbd(n: Any, u: Any, r: Any, alpha: Any) -> np.ndarray:
    """log NB(n; u): ``n`` purchases in a time ``u`` at a Gamma(r, alpha)-mixed Poisson rate.

    Arrays broadcast. ``u = 0`` gives 0 for ``n = 0`` and ``-inf`` otherwise; the
    power ``(α / (α + u))^r`` is taken as a difference of logs, which keeps its
    digits when ``u`` is small against ``α``.
    """
    return (
        special.gammaln(r + n)
        - special.gammaln(r)
        - special.gammaln(np.add(n, 1))
        + r * (np.log(alpha) - np.log(np.add(alpha, u)))
        + special.xlogy(n, np.divide(u, np.add(alpha, u)))
    )
