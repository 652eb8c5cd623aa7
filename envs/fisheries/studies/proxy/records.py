r"""The gold model of the proxy study, its corrupted records, and the proxy models fitted to them.

1. **Gold model** (the simulator's truth): logistic growth with harvest before growth,

   .. math::

       s_t = \max(x_t - h_t, 0), \qquad
       x_{t+1} = \max\bigl(s_t + r s_t (1 - s_t/K) + \sigma_g \varepsilon_t,\ 0\bigr),

   state 0 absorbing (extinction), with r = 0.75, K = 1, σg = 0.1 and discount γ = 0.95
   (the simulation study of Memarzadeh & Boettiger 2019 at its middle process noise).
2. **Records**: ``years`` (40) years from ``record_start`` (0.9 K) under a historical-looking
   catch rule, a fishery developing from light to heavy exploitation: the catch is
   :math:`h_t = \min\bigl(F_t x_t e^{0.2\eta_t - 0.02}, x_t\bigr)` with :math:`F_t` rising
   linearly from 0.05 to 0.4 and :math:`\eta_t` standard normal. Each year's survey is
   :math:`y_t = \max(x_t + \sigma_m \delta_t, 0)` (σm = 0.05). With ``corruption`` c, exactly
   round(c·years) surveys, chosen uniformly without replacement, are *grossly wrong*; with
   ``corruption_kind="scale"`` (the default) each is multiplied by a factor drawn uniformly from
   ``corruption_factor`` (default [1.5, 3], a survey counted twice or in the wrong units; the
   ℓ1-calibration tests use the harsher [3, 10]), with ``"replace"`` it is replaced by a draw
   uniform on [0, 2K] (a record of the wrong stock or year, the analogue of Coste et al.'s flipped
   labels). Catches are exact.
3. **Proxy models**: the logistic model with harvest first fitted to the records, taking the
   surveys as biomass, by maximum likelihood with σg profiled out (the process-error likelihood of
   :mod:`decide.envs.fisheries.data.fitting`) within the box ``priors``. The *single* fit uses
   :func:`~decide.envs.fisheries.data.fitting.maximum_likelihood` on the series; the k = 5
   *bootstrap* fits resample the years - 1 transitions :math:`(y_t, h_t, y_{t+1})` with
   replacement (a non-parametric bootstrap, so each member sees a different subset of the wrong
   records) and maximise the same likelihood exactly with :func:`fit_transitions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from decide.envs.fisheries.data.fitting import NAMES, maximum_likelihood
from decide.errors import ModelError

if TYPE_CHECKING:
    from decide.envs.fisheries.studies.proxy.settings import ProxySettings

#: Catch-rate ramp and its log-scale noise of the historical catch rule.
HISTORICAL_RATE = (0.05, 0.4)
HISTORICAL_NOISE = 0.2
#: A replaced record is uniform on [0, REPLACEMENT_RANGE · K].
REPLACEMENT_RANGE = 2.0


def grow(s: ArrayLike, r: ArrayLike, K: ArrayLike, sigma: ArrayLike, eps: ArrayLike) -> np.ndarray:
    r"""Next year's stock :math:`\max(s + r s (1 - s/K) + \sigma \varepsilon, 0)` from escapement s.

    A non-positive mean (s = 0, or s beyond :math:`K (1 + r)/r`) gives 0 whatever the noise, so
    extinction is absorbing. Broadcasts over all arguments.
    """
    mean = s + r * s * (1.0 - s / K)
    return np.where(mean > 0.0, np.maximum(mean + sigma * eps, 0.0), 0.0)


@dataclass(frozen=True)
class Records:
    """Simulated records: true stock ``x``, survey ``y`` (some grossly wrong), catch ``h``."""

    x: np.ndarray
    y: np.ndarray
    h: np.ndarray
    corrupted: np.ndarray


def simulate_records(settings: ProxySettings, rng: np.random.Generator) -> Records:
    """Records of ``settings.years`` years from the gold model (see the module docstring)."""
    T = settings.years
    x = np.empty(T)
    h = np.empty(T)
    rate = np.linspace(*HISTORICAL_RATE, T)
    x[0] = settings.record_start
    for t in range(T):
        noise = math.exp(HISTORICAL_NOISE * rng.standard_normal() - HISTORICAL_NOISE**2 / 2)
        h[t] = min(rate[t] * x[t] * noise, x[t])
        if t + 1 < T:
            eps = rng.standard_normal()
            x[t + 1] = grow(x[t] - h[t], settings.r, settings.K, settings.sigma_g, eps)
    y = np.where(x > 0, np.maximum(x + settings.sigma_m * rng.standard_normal(T), 0.0), 0.0)
    wrong = round(settings.corruption * T)
    corrupted = np.zeros(T, dtype=bool)
    corrupted[rng.choice(T, size=wrong, replace=False)] = True
    if settings.corruption_kind == "scale":
        y[corrupted] *= rng.uniform(*settings.corruption_factor, size=wrong)
    else:
        y[corrupted] = rng.uniform(0.0, REPLACEMENT_RANGE * settings.K, size=wrong)
    return Records(x=x, y=y, h=h, corrupted=corrupted)


def _segment_minimum(
    gram: np.ndarray, cross: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Minimiser of θᵀGθ − 2cᵀθ on the segment from ``start`` to ``end``."""
    direction = end - start
    curvature = direction @ gram @ direction
    slope = direction @ (gram @ start - cross)
    if curvature > 0:
        tau = float(np.clip(-slope / curvature, 0.0, 1.0))
    else:  # flat along the edge: the lower end of a linear function
        tau = 1.0 if slope < 0 else 0.0
    return start + tau * direction


def fit_transitions(
    x: np.ndarray,
    h: np.ndarray,
    x_next: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    priors: dict[str, tuple[float, float]],
) -> dict[str, float]:
    r"""Exact maximum likelihood of the harvest-first logistic model on a set of transitions.

    With :math:`s_t = x_t - \min(x_t, h_t)` and :math:`\beta = -r/K`, the mean
    :math:`\mu_t = s_t + r s_t + \beta s_t^2` is linear in :math:`\theta = (r, \beta)`, and with
    σg profiled out (:math:`\hat\sigma_g^2 = \sum_t w_t (x'_t - \mu_t)^2 / \sum_t w_t`) the
    likelihood is maximised by weighted least squares. The box
    :math:`r \in [r_0, r_1]`, :math:`K \in [K_0, K_1]` (lower ends raised to 1e-6, as
    :func:`~decide.envs.fisheries.data.fitting.maximum_likelihood` does) is the convex quadrilateral
    :math:`r_0 \le r \le r_1`, :math:`-r/K_0 \le \beta \le -r/K_1`, so the problem is a convex
    quadratic programme: the unconstrained minimiser if it is feasible, otherwise the best
    minimiser over the four edges. σg is clipped to its box like ``maximum_likelihood`` does.

    Parameters
    ----------
    x, h, x_next : arrays (N,)
        Biomass, catch and next year's biomass of each transition.
    weights : array (N,), optional
        Multiplicity of each transition (bootstrap counts); 1 by default.
    priors : dict
        ``{"r": (low, high), "K": (low, high), "sigma_g": (low, high)}``.

    Returns
    -------
    dict
        ``{"r", "K", "sigma_g"}``.
    """
    x, h, x_next = (np.asarray(a, dtype=float) for a in (x, h, x_next))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if not (x.ndim == 1 and x.shape == h.shape == x_next.shape == w.shape and x.size >= 2):
        raise ModelError("transitions", "expected x, h, x_next and weights of equal length ≥ 2")
    if not (np.all(np.isfinite(w)) and w.min() >= 0 and w.sum() > 0):
        raise ModelError("weights", "expected finite weights ≥ 0 with a positive sum")
    s = x - np.minimum(x, h)
    design = np.column_stack([s, s * s])
    target = x_next - s
    gram = design.T @ (w[:, None] * design)
    cross = design.T @ (w * target)
    (r0, r1), (k0, k1) = ((max(priors[name][0], 1e-6), priors[name][1]) for name in ("r", "K"))
    theta, *_ = np.linalg.lstsq(gram, cross, rcond=None)
    r, beta = theta
    if not (r0 <= r <= r1 and -r / k0 <= beta <= -r / k1):
        corners = [np.array([r, -r / k]) for r, k in ((r0, k0), (r0, k1), (r1, k1), (r1, k0))]
        edges = [_segment_minimum(gram, cross, corners[i], corners[(i + 1) % 4]) for i in range(4)]
        theta = min(edges, key=lambda t: t @ gram @ t - 2 * cross @ t)
    r, beta = (float(v) for v in theta)
    residual = target - design @ theta
    low, high = priors["sigma_g"]
    sigma = math.sqrt(float(np.sum(w * residual**2) / w.sum()))
    return {"r": r, "K": -r / beta, "sigma_g": float(np.clip(sigma, max(low, 1e-9), high))}


def fit_models(records: Records, settings: ProxySettings, rng: np.random.Generator) -> np.ndarray:
    """Parameters (1 + k, 3) of the single fit and the k bootstrap fits, columns (r, K, σg).

    Bootstrap fit m weights transition t by :math:`c_{mt}`, the number of times t is drawn in
    years − 1 draws with replacement (:func:`fit_transitions` with ``weights``).
    """
    priors = settings.prior_box
    single, _ = maximum_likelihood(records.y, records.h, order="harvest_first", priors=priors)
    x, h, x_next = records.y[:-1], records.h[:-1], records.y[1:]
    rows = [[single[name] for name in NAMES]]
    for _ in range(settings.k):
        counts = np.bincount(rng.integers(x.size, size=x.size), minlength=x.size)
        fitted = fit_transitions(x, h, x_next, weights=counts, priors=priors)
        rows.append([fitted[name] for name in NAMES])
    return np.array(rows)
