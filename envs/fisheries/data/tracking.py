r"""Tracking a fished stock and its unknown growth rate from surveys with a particle filter.

**Gold model.** A logistic stock (r = 0.75, K = 1) fished at a fixed quota h = 0.1, harvest
first, with normal process noise of sd σg = 0.05, from :math:`x_0 = 0.3`:

.. math::

    s_t = x_t - \min(x_t, h), \qquad
    x_{t+1} = \max\bigl(s_t + r s_t (1 - s_t/K) + \sigma_g \varepsilon_t,\ 0\bigr),

surveyed every year for 40 years with normal error of sd σm = 0.2,
:math:`y_t = x_t + \sigma_m \eta_t` (:func:`gold_surveys`).

**Filter.** Each particle carries a stock and its own growth rate; the transition is the gold
dynamics with the particle's r (:func:`fishery_transition`), the survey likelihood assumes a
measurement sd that may be wrong (:func:`survey_log_likelihood`). The prior draws the first
stock uniformly on [0.1, 0.9] and r uniformly on [0.2, 1.5]; Liu–West rejuvenation (shrinkage
0.98) keeps the r particles distinct. The error measured is that of the posterior mean of r
after the last survey, over independent series (:func:`growth_rate_errors`,
:func:`growth_rate_rmse`).

An over-confident likelihood (σm assumed 0.05, four times too small) makes the plain filter
collapse its r particles on early surveys; entropic annealing of the resampling step
(:class:`decide.pomdp.particles.ParticleFilter` with ``annealing=True``) keeps them diverse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from decide.envs.fisheries.model.growth import Logistic, add_process_noise, expected_next, survey
from decide.errors import UsageError
from decide.pomdp.particles import ParticleFilter

__all__ = [
    "PRIOR_R",
    "PRIOR_STOCK",
    "QUOTA",
    "R_TRUE",
    "SHRINKAGE",
    "SIGMA_GROWTH",
    "SIGMA_SURVEY",
    "X0_TRUE",
    "YEARS",
    "K",
    "ParticleLogistic",
    "SurveyLikelihood",
    "fishery_transition",
    "gold_surveys",
    "growth_rate_errors",
    "growth_rate_rmse",
    "survey_log_likelihood",
]

#: Gold growth rate, carrying capacity, process noise sd and survey error sd.
R_TRUE, K, SIGMA_GROWTH, SIGMA_SURVEY = 0.75, 1.0, 0.05, 0.2
#: Fixed quota, years of surveys and the true first stock.
QUOTA, YEARS, X0_TRUE = 0.1, 40, 0.3
#: Liu–West shrinkage of the filter's parameter rejuvenation.
SHRINKAGE = 0.98
#: Uniform priors of the first stock and of r.
PRIOR_STOCK, PRIOR_R = (0.1, 0.9), (0.2, 1.5)


@dataclass(frozen=True)
class ParticleLogistic:
    """Logistic growth :math:`s + r s (1 - s/K)` with one r per particle (``GrowthModel``)."""

    r: np.ndarray
    K: float = K

    def recruit(self, s: np.ndarray) -> np.ndarray:
        return s + self.r * s * (1.0 - s / self.K)


def fishery_transition(
    states: np.ndarray, params: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    r"""The filter's transition: the gold dynamics with each particle's r = ``params[:, 0]``.

    :math:`s = x - \min(x, h)`, :math:`x' = \max(s + r s (1 - s/K) + \sigma_g \varepsilon, 0)`
    with h = :data:`QUOTA`, σg = :data:`SIGMA_GROWTH`.
    """
    mean, _ = expected_next(ParticleLogistic(params[:, 0]), states, QUOTA, "harvest_first")
    return add_process_noise(mean, SIGMA_GROWTH, rng)


@dataclass(frozen=True)
class SurveyLikelihood:
    r"""Log density of a survey up to a constant, :math:`-\tfrac12 ((y - x) / \sigma_m)^2`."""

    sigma_m: float

    def __call__(self, observation: float, states: np.ndarray, params: np.ndarray) -> np.ndarray:
        return -0.5 * ((observation - states) / self.sigma_m) ** 2


def survey_log_likelihood(sigma_m: float) -> SurveyLikelihood:
    """The filter's survey likelihood assuming normal survey error of sd ``sigma_m`` (> 0)."""
    if isinstance(sigma_m, bool) or not (math.isfinite(sigma_m) and sigma_m > 0):
        raise UsageError(f"sigma_m: expected a finite survey error sd > 0, got {sigma_m!r}")
    return SurveyLikelihood(float(sigma_m))


def _seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"seed: expected an integer >= 0, got {seed!r}")
    return int(seed)


def gold_surveys(seed: int) -> np.ndarray:
    """The :data:`YEARS` survey records of one gold series (random numbers from ``1000 + seed``).

    The stock starts at :data:`X0_TRUE` and follows the gold model with r = :data:`R_TRUE`;
    each year's survey adds normal error of sd :data:`SIGMA_SURVEY`.
    """
    rng = np.random.default_rng(1000 + _seed(seed))
    gold = Logistic(r=R_TRUE, K=K)
    x = np.empty(YEARS)
    x[0] = X0_TRUE
    for t in range(1, YEARS):
        mean, _ = expected_next(gold, np.array(x[t - 1]), QUOTA, "harvest_first")
        x[t] = add_process_noise(mean, SIGMA_GROWTH, rng)
    return survey(x, SIGMA_SURVEY, rng)


def growth_rate_errors(
    seeds: Iterable[int],
    n_particles: int,
    assumed_sigma_m: float,
    *,
    annealing: bool = False,
    rejuvenation: float = SHRINKAGE,
) -> np.ndarray:
    r"""Error :math:`\hat r - r` of the final posterior mean of r, one per gold series.

    For each seed: the surveys :func:`gold_surveys` (seed), prior particles from
    ``numpy.random.default_rng(seed)`` (first stock on :data:`PRIOR_STOCK`, then r on
    :data:`PRIOR_R`), and the filter run with ``seed``.

    Parameters
    ----------
    seeds : iterable of int
        One independent series per seed (≥ 0).
    n_particles : int
        Particles N of the filter (≥ 2).
    assumed_sigma_m : float
        Survey error sd the filter's likelihood assumes (the truth is :data:`SIGMA_SURVEY`).
    annealing : bool
        Entropic annealing of the resampling step.
    rejuvenation : float
        Liu–West shrinkage in (0, 1].

    Returns
    -------
    numpy.ndarray
        The errors, in the order of ``seeds``.
    """
    seeds = [_seed(seed) for seed in seeds]
    if not seeds:
        raise UsageError("seeds: expected at least one seed")
    pf = ParticleFilter(
        fishery_transition,
        survey_log_likelihood(assumed_sigma_m),
        n_particles,
        annealing=annealing,
        rejuvenation=rejuvenation,
    )
    errors = np.empty(len(seeds))
    for i, seed in enumerate(seeds):
        prior = np.random.default_rng(seed)
        x0 = prior.uniform(*PRIOR_STOCK, n_particles)
        r0 = prior.uniform(*PRIOR_R, (n_particles, 1))
        result = pf.run(gold_surveys(seed), x0, r0, seed=seed)
        errors[i] = result.param_mean[-1, 0] - R_TRUE
    return errors


def growth_rate_rmse(
    seeds: Iterable[int],
    n_particles: int,
    assumed_sigma_m: float,
    *,
    annealing: bool = False,
    rejuvenation: float = SHRINKAGE,
) -> float:
    r"""Root mean squared error :math:`\sqrt{\tfrac1S \sum_s (\hat r_s - r)^2}` over the seeds.

    The errors are those of :func:`growth_rate_errors` (same arguments).
    """
    errors = growth_rate_errors(
        seeds, n_particles, assumed_sigma_m, annealing=annealing, rejuvenation=rejuvenation
    )
    return float(np.sqrt(np.mean(np.square(errors))))
