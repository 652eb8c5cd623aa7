r"""The history of the offline study (:mod:`decide.envs.fisheries.studies.offline.run`): the gold
model, the managers' records and the models they fit to them.

**Gold model.** The simulation study's logistic stock, harvest before growth
(:math:`x' \sim \mathcal N(s + r s (1 - s/K), \sigma_g)`, :math:`s = \max(x - h, 0)`), with
r = 0.75, K = 1, σg = 0.1, γ = 0.95, on a grid of ``n_grid`` points on [0, 2] (states =
quotas).

**History.** Up to ``n_years`` of the continuous model from an unexploited stock (x0 = K).
Each year the managers survey the stock, :math:`y_t = \max(x_t + \sigma_m\varepsilon_t, 0)`,
and set the quota :math:`h_t = u_t y_t` with a harvest rate :math:`u_t = u\,e^{\sigma_u \xi_t -
\sigma_u^2/2}` (σu = 0.2); u = 0.3 by default, above :math:`F_{MSY} = 0.286` and, unlike the
optimal policy, blind to the stock level, so about a fifth of the histories collapse within 50
years (u = 0.35 collapsed three quarters of them, which leaves little to learn from). The catch
taken is :math:`c_t = \min(x_t, h_t)`. If the stock collapses the fishery closes and the records
end with that year (a stock of 0 is surveyed as 0). The records kept are the surveys, of which a
fraction ``gross_fraction`` is grossly wrong in the database (replaced by a uniform draw on
[0, 2]; the managers' decisions used the true surveys), the quotas and the catches.

**What the managers fit** (they never see the gold model):

* the single maximum-likelihood fit of (r, K, σg) to the survey records (as the stock) and the
  catches (:func:`decide.envs.fisheries.data.fitting.maximum_likelihood`, harvest-first order),
  which with noisy surveys is an errors-in-variables fit (biased r, K; σg absorbs the survey error);
* ``n_bootstrap`` recursive residual-bootstrap fits: :math:`x^*_0 = y_0`,
  :math:`x^*_{t+1} = \max(\hat f(x^*_t, u^{\text{rec}}_t x^*_t) + e^*_t, 0)`, with
  :math:`e^*` drawn with replacement from the centred one-step residuals of the ML fit and
  :math:`u^{\text{rec}}_t = c_t / y_t` the recorded harvest fractions (y the survey records;
  the bootstrap catches follow the bootstrap stock as the managers' did); each synthetic series
  is refitted by maximum likelihood;
* the **confidence set** of the max–min (:func:`confidence_set`): the ML fit and those bootstrap
  fits whose log-likelihood on the *original* records is within :math:`\chi^2_3(0.95)/2 = 3.91`
  of the ML fit's (three parameters r, K, σg), a sample of the likelihood-ratio confidence set
  (:func:`decide.robust.confidence.likelihood_set`; RPO's set is such a likelihood ball). The
  raw refits include degenerate fits of unlucky resamples (e.g. r = 0.2, K = 0.4 against
  r̂ = 0.86, K̂ = 0.79) that the records themselves reject; a max–min over them chases those.

Each fit becomes a tabular MDP with :func:`~decide.envs.fisheries.model.pomdp_builder.build_pomdp`
(σm = 0, the same grid; :func:`fitted_mdp`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decide.envs.fisheries.data.fitting import NAMES as FIT_NAMES
from decide.envs.fisheries.data.fitting import log_likelihood, maximum_likelihood
from decide.envs.fisheries.data.surplus_fit import (
    bootstrap_surplus,
    fit_surplus,
    recorded_surplus,
    surplus_log_likelihood,
    surplus_mdp,
)
from decide.envs.fisheries.model.growth import Logistic, add_process_noise, expected_next
from decide.envs.fisheries.model.pomdp_builder import build_pomdp
from decide.errors import UsageError
from decide.mdp import TabularMDP
from decide.robust.confidence import likelihood_set

__all__ = [
    "GOLD",
    "GOLD_MODEL",
    "ORDER",
    "UPPER",
    "FittedSet",
    "History",
    "bootstrap_fits",
    "confidence_set",
    "fitted_mdp",
    "fitted_set",
    "records_log_likelihood",
    "simulate_history",
]

#: The gold growth model: logistic, r = 0.75, K = 1.
GOLD_MODEL = Logistic(0.75, 1.0)
#: Top of every grid (stock units; the gold K is 1).
UPPER = 2.0
GOLD = (GOLD_MODEL.r, GOLD_MODEL.K)
ORDER = "harvest_first"


@dataclass(frozen=True, eq=False)
class History:
    """The historical years (length n): true stock, the surveys the managers saw, the survey
    records kept (the surveys with the gross errors), quotas, catches, which records are wrong."""

    stock: np.ndarray
    surveys: np.ndarray
    records: np.ndarray
    quotas: np.ndarray
    catches: np.ndarray
    gross: np.ndarray


def simulate_history(
    rng: np.random.Generator,
    *,
    n_years: int = 50,
    sigma_g: float = 0.1,
    sigma_m: float = 0.1,
    gross_fraction: float = 0.1,
    rate: float = 0.3,
    rate_jitter: float = 0.2,
    x0: float = 1.0,
    model: Logistic = GOLD_MODEL,
) -> History:
    """The managers' history under the gold model (see the module docstring)."""
    stock = np.empty(n_years)
    surveys, quotas, catches = np.empty(n_years), np.empty(n_years), np.empty(n_years)
    x, n = float(x0), n_years
    for t in range(n_years):
        stock[t] = x
        surveys[t] = max(x + sigma_m * rng.standard_normal(), 0.0) if x > 0 else 0.0
        u = rate * np.exp(rate_jitter * rng.standard_normal() - 0.5 * rate_jitter**2)
        quotas[t] = u * surveys[t]
        mean, catches[t] = expected_next(model, np.array(x), np.array(quotas[t]), ORDER)
        if x == 0.0:  # the stock has collapsed: the fishery closes and the records end
            n = t + 1
            break
        x = float(add_process_noise(mean, sigma_g, rng))
    gross = rng.random(n) < gross_fraction
    records = np.where(gross, rng.uniform(0.0, UPPER, n), surveys[:n])
    return History(stock[:n], surveys[:n], records, quotas[:n], catches[:n], gross)


def _fit(records: np.ndarray, catches: np.ndarray) -> np.ndarray:
    values, _ = maximum_likelihood(records, catches, order=ORDER)
    return np.array([values[name] for name in FIT_NAMES])


def bootstrap_fits(
    history: History, ml: np.ndarray, n_bootstrap: int, rng: np.random.Generator
) -> np.ndarray:
    """(r, K, σg) of ``n_bootstrap`` recursive residual-bootstrap refits (module docstring)."""
    y, c = history.records, history.catches
    model = Logistic(ml[0], ml[1])
    residuals = y[1:] - expected_next(model, y[:-1], c[:-1], ORDER)[0]
    residuals = residuals - residuals.mean()
    fractions = np.divide(c, y, out=np.zeros_like(c), where=y > 0)
    fits = np.empty((n_bootstrap, 3))
    for b in range(n_bootstrap):
        draws = rng.choice(residuals, size=y.size - 1, replace=True)
        x = np.empty(y.size)
        catches = np.empty(y.size)
        x[0] = y[0]
        for t in range(y.size - 1):
            catches[t] = fractions[t] * x[t]
            mean = expected_next(model, np.array(x[t]), np.array(catches[t]), ORDER)[0]
            x[t + 1] = max(float(mean) + draws[t], 0.0)
        catches[-1] = fractions[-1] * x[-1]
        fits[b] = _fit(x, catches)
    return fits


def records_log_likelihood(history: History, fits: np.ndarray) -> np.ndarray:
    """Process-error log-likelihood of the survey records and catches under each row (r, K, σg)
    of ``fits`` (:func:`decide.envs.fisheries.data.fitting.log_likelihood`, harvest first)."""
    return np.atleast_1d(log_likelihood(np.asarray(fits), history.records, history.catches, ORDER))


def confidence_set(
    history: History, ml: np.ndarray, fits: np.ndarray, level: float = 0.95
) -> np.ndarray:
    """Which rows of ``fits`` lie in the likelihood-ratio confidence set of level ``level``
    around the ML fit ``ml`` (three parameters; module docstring)."""
    best = float(records_log_likelihood(history, ml)[0])
    return likelihood_set(records_log_likelihood(history, fits), best, len(FIT_NAMES), level)


def fitted_mdp(
    r: float, K: float, sigma_g: float, *, n_grid: int = 55, discount: float = 0.95
) -> TabularMDP:
    """The fully observed grid MDP of a logistic model (``build_pomdp`` with σm = 0)."""
    pomdp = build_pomdp(
        Logistic(r, K), sigma_g, 0.0, n_grid, upper=UPPER, discount=discount, order=ORDER
    )
    return TabularMDP(pomdp.dense_transitions(), pomdp.R, discount)


#: The model families the managers may fit (:func:`fitted_set`).
MODELS = ("logistic", "surplus")


@dataclass(frozen=True, eq=False)
class FittedSet:
    """What the managers fit to one history.

    ``fitted`` is the MDP of the single fit; ``ensemble`` the confidence set of the max–min
    (the single fit first, then the refits kept); ``fits`` (1 + k, p) the single fit and the k
    refits (r, K, σg for the logistic; g at the knots for the surplus model); ``in_set``
    (1 + k,) which of them are in the set; ``details`` per-history numbers of the fit.
    """

    fitted: TabularMDP
    ensemble: tuple[TabularMDP, ...]
    fits: np.ndarray
    in_set: np.ndarray
    details: dict[str, float]


def fitted_set(
    model: str,
    history: History,
    ml: np.ndarray,
    n_bootstrap: int,
    level: float | None,
    rng: np.random.Generator,
    *,
    n_grid: int = 55,
    discount: float = 0.95,
) -> FittedSet:
    """The single fit, the refits and the confidence set of ``model`` (:data:`MODELS`).

    ``ml`` is the logistic maximum-likelihood fit (r, K, σg) of the records.
    ``"logistic"``: ``ml`` and its :func:`bootstrap_fits`, screened by
    :func:`confidence_set` (3 parameters). ``"surplus"``: the penalised piecewise-linear surplus
    of :mod:`decide.envs.fisheries.data.surplus_fit` and its pairs-bootstrap refits, screened by the
    likelihood of the recorded transitions with p = ⌈tr H⌉ + 1 (effective degrees of freedom
    and σg). ``level=None`` keeps every refit (no screening).
    """
    grid = {"n_grid": n_grid, "discount": discount}
    if model == "logistic":
        boots = bootstrap_fits(history, ml, n_bootstrap, rng)
        kept = None if level is None else confidence_set(history, ml, boots, level)
        fitted, refits = fitted_mdp(*ml, **grid), [fitted_mdp(*b, **grid) for b in boots]
        fits, details = np.vstack([ml, boots]), {}
    elif model == "surplus":
        s, z = recorded_surplus(history.records, history.catches)
        fit = fit_surplus(s, z)
        boots = bootstrap_surplus(s, z, fit, n_bootstrap, rng)
        kept = None
        if level is not None:
            scores = [surplus_log_likelihood(b, s, z) for b in boots]
            best = surplus_log_likelihood(fit, s, z)
            kept = likelihood_set(scores, best, int(np.ceil(fit.dof)) + 1, level)
        fitted = surplus_mdp(fit, upper=UPPER, **grid)
        refits = [surplus_mdp(b, upper=UPPER, **grid) for b in boots]
        fits = np.vstack([fit.values] + [b.values for b in boots])
        details = {"penalty": fit.penalty, "dof": fit.dof, "sigma_g": fit.sigma_g}
    else:
        raise UsageError(f"model: expected one of {MODELS}, got {model!r}")
    kept = np.ones(len(refits), dtype=bool) if kept is None else kept
    ensemble = (fitted, *(m for m, k in zip(refits, kept, strict=True) if k))
    return FittedSet(fitted, ensemble, fits, np.concatenate([[True], kept]), details)
