r"""Fitting the logistic model with process noise to a stock's scaled series.

With observed (scaled) biomass :math:`x_t` and catch :math:`h_t`, consecutive rows are one step
of (Memarzadeh & Boettiger 2019, appendix B; the order of events of their historical study)

.. math::

    x_{t+1} \sim \mathcal N(\mu_t, \sigma_g^2), \qquad
    \mu_t = x_t + r x_t (1 - x_t / K) - \min(x_t, h_t)
    \quad\text{(``"recruit_first"``)},

or, with the simulation study's order, :math:`s_t = x_t - \min(x_t, h_t)`,
:math:`\mu_t = s_t + r s_t (1 - s_t/K)` (``"harvest_first"``). The first observation is taken as
known, so the log-likelihood is :math:`\sum_{t=1}^{N-1} \log\varphi((x_{t+1} - \mu_t)/\sigma_g)
- (N-1)\log\sigma_g`; as in the paper's code, :math:`\mu_t` is not floored at 0.

:func:`maximum_likelihood` maximises it (scipy Nelder–Mead within the prior box); :func:`fit` also
samples the posterior under independent uniform priors — the paper's :math:`r \sim U(0, 2)`,
:math:`K \sim U(0, 2)`, :math:`\sigma_g \sim U(0, 1)` by default — with the affine-invariant
ensemble sampler of emcee, from an explicit seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from decide.envs.fisheries.model.growth import Logistic, Order
from decide.errors import ModelError, UsageError

NAMES = ("r", "K", "sigma_g")
#: The paper's priors (appendix B): independent uniforms on these intervals.
PAPER_PRIORS: dict[str, tuple[float, float]] = {
    "r": (0.0, 2.0),
    "K": (0.0, 2.0),
    "sigma_g": (0.0, 1.0),
}


def _data(x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    if x.ndim != 1 or x.shape != h.shape or x.size < 3:
        raise ModelError("series", "expected biomass and catch of equal length ≥ 3")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(h)) and x.min() >= 0 and h.min() >= 0):
        raise ModelError("series", "expected finite, non-negative biomass and catch")
    return x[:-1], h[:-1], x[1:]


def expected(theta: np.ndarray, x: np.ndarray, h: np.ndarray, order: Order) -> np.ndarray:
    """:math:`\\mu_t` for each parameter row of ``theta`` (…, 3) → (…, N-1)."""
    r, K = theta[..., 0:1], theta[..., 1:2]
    harvest = np.minimum(x, h)
    if order == "recruit_first":
        return x + r * x * (1.0 - x / K) - harvest
    if order == "harvest_first":
        s = x - harvest
        return s + r * s * (1.0 - s / K)
    raise ModelError("order", f"expected 'recruit_first' or 'harvest_first', got {order!r}")


def log_likelihood(
    theta: np.ndarray, x: np.ndarray, h: np.ndarray, order: Order = "recruit_first"
) -> np.ndarray:
    """Gaussian log-likelihood of the series for each row ``(r, K, sigma_g)`` of ``theta``."""
    theta = np.asarray(theta, dtype=float)
    x0, h0, x1 = _data(x, h)
    sigma = theta[..., 2]
    z = (x1 - expected(theta, x0, h0, order)) / theta[..., 2:3]
    n = x1.size
    return -0.5 * np.sum(z * z, axis=-1) - n * np.log(sigma) - 0.5 * n * np.log(2 * np.pi)


def _box(priors: dict[str, tuple[float, float]]) -> np.ndarray:
    try:
        box = np.array([priors[name] for name in NAMES], dtype=float)
    except KeyError as error:
        raise UsageError(f"priors: missing {error}; expected bounds for {NAMES}") from None
    if not (np.all(box[:, 0] >= 0) and np.all(box[:, 1] > box[:, 0])):
        raise UsageError(f"priors: expected 0 ≤ low < high for each of {NAMES}, got {priors}")
    return box


def maximum_likelihood(
    x: np.ndarray,
    h: np.ndarray,
    *,
    order: Order = "recruit_first",
    priors: dict[str, tuple[float, float]] = PAPER_PRIORS,
) -> tuple[dict[str, float], float]:
    """The maximum-likelihood ``{r, K, sigma_g}`` within the prior box, and the log-likelihood.

    Multi-start Nelder–Mead over :math:`(r, K)` with :math:`\\sigma_g` profiled out:
    :math:`\\hat\\sigma_g^2 = \\frac1{N-1}\\sum_t (x_{t+1} - \\mu_t)^2`.
    """
    x0, h0, x1 = _data(x, h)
    box = _box(priors)
    low = np.maximum(box[:2, 0], 1e-6)

    def profile(rk: np.ndarray) -> float:
        mu = expected(np.array([rk[0], rk[1], 1.0]), x0, h0, order)
        sigma = float(np.sqrt(np.mean((x1 - mu) ** 2)))
        return float(np.clip(sigma, max(box[2, 0], 1e-9), box[2, 1]))

    def negative(rk: np.ndarray) -> float:
        sigma = profile(rk)
        return -float(log_likelihood(np.array([rk[0], rk[1], sigma]), x, h, order))

    best = None
    for fr in (0.25, 0.5, 0.75):
        for fk in (0.25, 0.5, 0.75):
            start = low + np.array([fr, fk]) * (box[:2, 1] - low)
            bounds = list(zip(low, box[:2, 1], strict=True))
            res = optimize.minimize(negative, start, method="Nelder-Mead", bounds=bounds)
            if best is None or res.fun < best.fun:
                best = res
    sigma = profile(best.x)
    values = {"r": float(best.x[0]), "K": float(best.x[1]), "sigma_g": sigma}
    return values, -float(best.fun)


@dataclass(frozen=True, eq=False)
class Fit:
    """Maximum likelihood and posterior summaries of ``(r, K, sigma_g)``.

    ``samples`` holds the retained posterior draws (n, 3) in the order of :data:`NAMES`;
    ``interval`` the central 95 % credible intervals.
    """

    mle: dict[str, float]
    max_log_likelihood: float
    mean: dict[str, float]
    sd: dict[str, float]
    interval: dict[str, tuple[float, float]]
    samples: np.ndarray
    acceptance: float
    settings: dict[str, Any] = field(default_factory=dict)

    def model(self) -> Logistic:
        """The growth model at the posterior means (as the paper uses)."""
        return Logistic(r=self.mean["r"], K=self.mean["K"])

    @property
    def sigma_g(self) -> float:
        return self.mean["sigma_g"]

    def attrs(self) -> dict[str, float]:
        """Flat numbers for netCDF attributes: ``fit_r_mean``, ``fit_r_low``, ``fit_r_mle``…"""
        out: dict[str, float] = {}
        for name in NAMES:
            out[f"fit_{name}_mean"] = self.mean[name]
            out[f"fit_{name}_low"], out[f"fit_{name}_high"] = self.interval[name]
            out[f"fit_{name}_mle"] = self.mle[name]
        return out

    def table(self) -> str:
        rows = [f"  {'':<8}{'MLE':>9}{'mean':>9}{'95 % interval':>20}"]
        for name in NAMES:
            low, high = self.interval[name]
            rows.append(
                f"  {name:<8}{self.mle[name]:>9.4f}{self.mean[name]:>9.4f}"
                f"{f'[{low:.3f}, {high:.3f}]':>20}"
            )
        return "\n".join(rows)


def fit(
    x: np.ndarray,
    h: np.ndarray,
    *,
    seed: int | np.random.Generator | None = 0,
    order: Order = "recruit_first",
    priors: dict[str, tuple[float, float]] = PAPER_PRIORS,
    n_walkers: int = 32,
    n_steps: int = 3000,
    burn: int = 1000,
) -> Fit:
    """Maximum likelihood, then posterior sampling with emcee from walkers around the MLE.

    Parameters
    ----------
    x, h : arrays
        Scaled biomass and catch (:attr:`CatchSeries.biomass`, :attr:`CatchSeries.scaled_catch`).
    seed : int or Generator
        The only source of randomness (walker starts and emcee's moves).
    order : {"recruit_first", "harvest_first"}
        Order of events of the model.
    priors : dict
        ``{name: (low, high)}`` of the independent uniform priors.
    n_walkers, n_steps, burn : int
        Ensemble size, steps per walker, and steps discarded from the start of each walker.
    """
    import emcee

    if n_walkers < 6 or n_steps <= burn or burn < 0:
        raise UsageError("fit: expected n_walkers ≥ 6 and 0 ≤ burn < n_steps")
    box = _box(priors)
    mle, best = maximum_likelihood(x, h, order=order, priors=priors)
    rng = np.random.default_rng(seed)
    centre = np.array([mle[name] for name in NAMES])
    width = 0.05 * (box[:, 1] - box[:, 0])
    start = centre + width * rng.standard_normal((n_walkers, 3))
    start = np.clip(start, box[:, 0] + 1e-3 * width, box[:, 1] - 1e-3 * width)

    def log_posterior(theta: np.ndarray) -> np.ndarray:
        inside = np.all((theta > box[:, 0]) & (theta < box[:, 1]), axis=1)
        out = np.full(theta.shape[0], -np.inf)
        if inside.any():
            out[inside] = log_likelihood(theta[inside], x, h, order)
        return out

    sampler = emcee.EnsembleSampler(n_walkers, 3, log_posterior, vectorize=True)
    sampler.random_state = np.random.RandomState(rng.integers(2**32)).get_state()
    sampler.run_mcmc(start, n_steps, progress=False)
    samples = sampler.get_chain(discard=burn, flat=True)
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return Fit(
        mle=mle,
        max_log_likelihood=best,
        mean={n: float(v) for n, v in zip(NAMES, samples.mean(axis=0), strict=True)},
        sd={n: float(v) for n, v in zip(NAMES, samples.std(axis=0, ddof=1), strict=True)},
        interval={n: (float(a), float(b)) for n, a, b in zip(NAMES, low, high, strict=True)},
        samples=samples,
        acceptance=float(np.mean(sampler.acceptance_fraction)),
        settings={
            "order": order,
            "priors": {k: list(v) for k, v in priors.items()},
            "n_walkers": n_walkers,
            "n_steps": n_steps,
            "burn": burn,
        },
    )
