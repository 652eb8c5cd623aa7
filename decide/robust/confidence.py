r"""Likelihood confidence sets: which candidate models the data do not rule out.

For a model with p free parameters, maximum-likelihood estimate :math:`\hat\theta` and
log-likelihood :math:`\ell`, the likelihood-ratio confidence set of level :math:`1 - \alpha` is

.. math::

    C = \{\theta : 2\,[\ell(\hat\theta) - \ell(\theta)] \le \chi^2_p(1 - \alpha)\},

asymptotically of coverage :math:`1 - \alpha` (Wilks). It is the set RPO's max–min ranges over
(Liu et al. 2024: the reward models whose fitting loss is within ζ of the best). A finite
family of candidates (bootstrap refits, posterior draws) becomes a sample of C by keeping the
candidates whose log-likelihood *on the original data* is within
:math:`\chi^2_p(1 - \alpha)/2` of the maximum (:func:`likelihood_set`); candidates outside it —
degenerate refits of unlucky resamples — are ones the data reject.

For p = 2 the threshold is :math:`\chi^2_2(1 - \alpha)/2 = -\log\alpha` exactly; for a normal
mean with known σ (p = 1) the set is the interval :math:`|\mu - \bar x| \le z_{1-\alpha/2}\,
\sigma/\sqrt n`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from decide.errors import UsageError

__all__ = ["likelihood_set", "likelihood_threshold"]


def likelihood_threshold(n_parameters: int, level: float = 0.95) -> float:
    r"""The largest log-likelihood drop :math:`\chi^2_p(\text{level})/2` allowed in the set."""
    if int(n_parameters) != n_parameters or n_parameters < 1:
        raise UsageError(f"n_parameters: expected an integer >= 1, got {n_parameters}")
    if not 0.0 < level < 1.0:
        raise UsageError(f"level: expected a confidence level in (0, 1), got {level}")
    return float(stats.chi2.ppf(level, int(n_parameters))) / 2.0


def likelihood_set(
    log_likelihoods: ArrayLike, max_log_likelihood: float, n_parameters: int, level: float = 0.95
) -> np.ndarray:
    r"""Which candidates lie in the likelihood-ratio confidence set (module docstring).

    Parameters
    ----------
    log_likelihoods : array (k,)
        :math:`\ell(\theta_j)` of each candidate on the original data.
    max_log_likelihood : float
        :math:`\ell(\hat\theta)`, the maximum over the parameter space.
    n_parameters : int
        p, the number of free parameters (degrees of freedom of the χ² law).
    level : float
        Confidence level :math:`1 - \alpha`.

    Returns
    -------
    array of bool (k,)
        ``True`` where :math:`\ell(\hat\theta) - \ell(\theta_j) \le \chi^2_p(\text{level})/2`
        (non-finite log-likelihoods are outside).
    """
    values = np.asarray(log_likelihoods, dtype=float)
    if values.ndim != 1:
        raise UsageError(f"log_likelihoods: expected a 1-D array, got shape {values.shape}")
    if not np.isfinite(max_log_likelihood):
        raise UsageError(f"max_log_likelihood: expected a finite value, got {max_log_likelihood}")
    drop = max_log_likelihood - values
    return np.isfinite(values) & (drop <= likelihood_threshold(n_parameters, level))
