"""Customer-base models, one module per family, all fitted by maximum likelihood.

Non-contractual (customers leave silently): :class:`BGNBD`, :class:`ParetoNBD`,
:class:`BGBB` (discrete opportunities) and the spend model :class:`GammaGamma`.
Contractual (customers announce when they leave): :class:`ShiftedBetaGeometric`.
Each reproduces the figures of its paper (see the tests) and shares the fitting,
standard errors and summary table of :class:`crmlab.models._base.MLEModel`.
"""

from crmlab.models._base import ConvergenceWarning, IgnoredColumnsWarning
from crmlab.models.bgbb import BGBB
from crmlab.models.bgnbd import BGNBD
from crmlab.models.gammagamma import GammaGamma, ZeroSpendWarning, frequency_spend_correlation
from crmlab.models.paretonbd import ParetoNBD
from crmlab.models.sbg import ShiftedBetaGeometric, survivors_to_durations

__all__ = [
    "BGBB",
    "BGNBD",
    "ConvergenceWarning",
    "GammaGamma",
    "IgnoredColumnsWarning",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "ZeroSpendWarning",
    "frequency_spend_correlation",
    "survivors_to_durations",
]
