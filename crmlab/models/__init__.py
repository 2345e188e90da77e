"""Customer-base models, one module per family, all fitted by maximum likelihood.

Non-contractual (customers leave silently): :class:`BGNBD`, :class:`MBGNBD`, :class:`ParetoNBD`,
:class:`GGomNBD` (the Pareto/NBD with a Gompertz lifetime),
:class:`BGBB` (discrete opportunities), :class:`BGCNBD` and :class:`MBGCNBD` (regular
timing, with :func:`regularity_summary` for their data) and the spend model :class:`GammaGamma`.
Contractual (customers announce when they leave): :class:`ShiftedBetaGeometric` and
its extension with duration dependence :class:`BetaDiscreteWeibull`.
Each reproduces the figures of its paper (see the tests) and shares the fitting,
standard errors and summary table of :class:`crmlab.models._base.MLEModel`.
BG/NBD, Pareto/NBD, Gamma–Gamma and the sBG take time-invariant covariates
(``purchase_covariates=``, ``dropout_covariates=``, ``spend_covariates=``,
``churn_covariates=``), their
per-customer predictions an ``interval=``, and :func:`compare` puts fitted models
side by side (log-likelihood, AIC/BIC, likelihood-ratio tests, holdout errors);
:func:`p_alive_path` follows one customer's P(alive) along her history.
:class:`ParetoNBDTimeVarying` takes covariates that change over calendar time
(Bachmann, Meierer & Näf 2021), read with :func:`time_varying_data` from a
transaction log and a long covariate table.
"""

from crmlab.models._base import ConvergenceWarning, IgnoredColumnsWarning
from crmlab.models._covariates import MissingCovariateError
from crmlab.models._paths import p_alive_path
from crmlab.models._time_varying import TimeVaryingData, time_varying_data
from crmlab.models.bdw import BetaDiscreteWeibull
from crmlab.models.bgbb import BGBB
from crmlab.models.bgnbd import BGNBD
from crmlab.models.cnbd import BGCNBD, MBGCNBD
from crmlab.models.compare import compare
from crmlab.models.gammagamma import GammaGamma, ZeroSpendWarning, frequency_spend_correlation
from crmlab.models.ggomnbd import GGomNBD
from crmlab.models.mbgnbd import MBGNBD
from crmlab.models.paretonbd import ParetoNBD
from crmlab.models.paretonbd_dynamic import ParetoNBDTimeVarying
from crmlab.models.sbg import ShiftedBetaGeometric, survivors_to_durations
from crmlab.regularity import regularity_summary

__all__ = [
    "BGBB",
    "BGCNBD",
    "BGNBD",
    "MBGCNBD",
    "MBGNBD",
    "BetaDiscreteWeibull",
    "ConvergenceWarning",
    "GGomNBD",
    "GammaGamma",
    "IgnoredColumnsWarning",
    "MissingCovariateError",
    "ParetoNBD",
    "ParetoNBDTimeVarying",
    "ShiftedBetaGeometric",
    "TimeVaryingData",
    "ZeroSpendWarning",
    "compare",
    "frequency_spend_correlation",
    "p_alive_path",
    "regularity_summary",
    "survivors_to_durations",
    "time_varying_data",
]
