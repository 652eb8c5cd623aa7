r"""Resampling and weight utilities of the particle filter (:mod:`decide.pomdp.particles`).

Weights :math:`w^i \ge 0` of :math:`N` particles are used normalised,
:math:`W^i = w^i / \sum_j w^j`.

Resampling
----------
A resampling draws :math:`n` ancestor indices; :math:`N^i` is the number of copies of particle
:math:`i`, and both schemes are unbiased, :math:`\mathbb E[N^i] = n W^i`.

* *Multinomial*: the ancestors are independent draws from :math:`W`, so
  :math:`(N^1, …, N^N) \sim \operatorname{Multinomial}(n, W)`.
* *Systematic*: one uniform :math:`u \sim U[0, 1)` places the points :math:`u + k`,
  :math:`k = 0, …, n - 1`, on :math:`[0, n)` cut at the edges :math:`C_i = n \sum_{j \le i} W^j`;
  point :math:`u + k` picks the particle :math:`i` with :math:`C_{i-1} \le u + k < C_i`. The
  interval of particle :math:`i` has length :math:`n W^i`, so
  :math:`N^i \in \{\lfloor n W^i \rfloor, \lceil n W^i \rceil\}`: far less variance than
  multinomial resampling.

Effective sample size
---------------------
Kish's :math:`\mathrm{ESS} = 1 / \sum_i (W^i)^2 \in [1, N]`: :math:`N` for uniform weights, 1
when one particle holds all the weight.

Entropic annealing and the importance correction
------------------------------------------------
The entropic-annealing filter (ePF) draws the ancestors at step :math:`t` of a horizon
:math:`T_{\max}` from the tempered distribution

.. math:: q^i = \operatorname{softmax}(\log W / T)^i \propto (W^i)^{1/T},
   \qquad T = \max\!\Big(1, \frac{N}{\mathrm{ESS}}\Big(1 - \frac{t}{T_{\max}}\Big)\Big),

which is flatter than :math:`W` (:math:`q = W` at :math:`T = 1`), so more distinct particles
survive while few observations have been seen. Drawing ancestor :math:`J` with probability
:math:`q^J` instead of :math:`W^J` is importance sampling with proposal :math:`q` for the target
:math:`W`, so the resampled particle carries the weight

.. math:: \tilde w = W^J / q^J \propto (W^J)^{1 - 1/T}.

Since :math:`\mathbb E[N^j] = N q^j` (either scheme, :math:`n = N`), for any test function
:math:`\varphi`

.. math:: \mathbb E\Big[\sum_j N^j \frac{W^j}{q^j}\,\varphi(x^j)\Big] = N \sum_j W^j \varphi(x^j),

i.e. the corrected resampled set is properly weighted for the same distribution as before
resampling: annealing changes which particles survive (the variance), not what is estimated.
At :math:`T = 1` the correction is :math:`(W^J)^0 = 1`, uniform weights.

Liu–West rejuvenation
---------------------
Resampling copies parameter values but never creates new ones, so a static parameter
collapses onto a few values. The Liu & West (2001) kernel moves every parameter vector,

.. math:: \theta^i \leftarrow a\,\theta^i + (1 - a)\,\bar\theta + \sqrt{1 - a^2}\;
   V^{1/2} \varepsilon^i, \qquad \varepsilon^i \sim \mathcal N(0, I_p),

where :math:`\bar\theta` and :math:`V` are the weighted mean and covariance of the parameters
and :math:`a \in (0, 1]` is the shrinkage. Shrinking towards :math:`\bar\theta` compensates the
jitter, so the kernel keeps the mean :math:`\bar\theta` and the covariance
(:math:`a^2 V + (1 - a^2) V = V`). A common choice is :math:`a = (3\delta - 1) / (2\delta)` with
discount :math:`\delta \in [0.95, 0.99]`, i.e. :math:`a \approx 0.97`–:math:`0.995`; :math:`a = 1`
disables the jitter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from decide.errors import ModelError

Resampler = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _normalised(weights: np.ndarray) -> np.ndarray:
    """``weights / weights.sum()``, checked: non-empty 1-d, non-negative, finite positive sum."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.size == 0:
        raise ModelError("weights", f"expected a non-empty 1-d array, got shape {weights.shape}")
    total = weights.sum()
    if not (np.all(weights >= 0) and np.isfinite(total) and total > 0):
        raise ModelError("weights", "expected finite non-negative weights with a positive sum")
    return weights / total


def systematic_resample(
    weights: np.ndarray, rng: np.random.Generator, n: int | None = None
) -> np.ndarray:
    r"""Ancestor indices by systematic resampling (see the module docstring).

    Particle :math:`i` is copied :math:`\lfloor n W^i \rfloor` or :math:`\lceil n W^i \rceil`
    times, :math:`\mathbb E[N^i] = n W^i`.

    Parameters
    ----------
    weights : (m,) array
        Non-negative weights (normalised here).
    rng : numpy.random.Generator
        Source of the single uniform.
    n : int, optional
        Number of indices to draw (default ``m``).

    Returns
    -------
    (n,) int array
        Sorted ancestor indices.
    """
    W = _normalised(weights)
    n = W.size if n is None else int(n)
    edges = np.cumsum(W) * n
    edges[-1] = n  # the rounding of the last partial sum must not drop the last point
    return np.searchsorted(edges, rng.random() + np.arange(n), side="right")


def multinomial_resample(
    weights: np.ndarray, rng: np.random.Generator, n: int | None = None
) -> np.ndarray:
    """Sorted ancestor indices drawn independently with probabilities ``weights`` (normalised)."""
    W = _normalised(weights)
    n = W.size if n is None else int(n)
    return np.sort(rng.choice(W.size, size=n, p=W))


_RESAMPLERS: dict[str, Resampler] = {
    "systematic": systematic_resample,
    "multinomial": multinomial_resample,
}
RESAMPLING_SCHEMES = tuple(_RESAMPLERS)


def effective_sample_size(weights: np.ndarray) -> float:
    r"""Kish's effective sample size :math:`1 / \sum_i (W^i)^2` of (normalised) weights."""
    W = _normalised(weights)
    return float(1.0 / np.sum(W**2))


def annealing_temperature(ess: float, n: int, t: int, horizon: int) -> float:
    r"""The ePF temperature :math:`T = \max(1, (N / \mathrm{ESS})(1 - t / T_{\max}))`."""
    return max(1.0, (n / ess) * (1.0 - t / horizon))


def liu_west_rejuvenate(
    params: np.ndarray,
    mean: np.ndarray,
    cov: np.ndarray,
    shrinkage: float,
    rng: np.random.Generator,
) -> np.ndarray:
    r"""Liu–West move :math:`a\theta + (1 - a)\bar\theta + \sqrt{1 - a^2}\, V^{1/2}\varepsilon`.

    ``params`` is ``(n, p)``; ``mean`` (p,) and ``cov`` (p, p) are :math:`\bar\theta` and
    :math:`V`, ``shrinkage`` is :math:`a`. The square root of ``V`` is taken from its
    eigen-decomposition (negative rounding eigenvalues clipped to 0), so a singular ``V``
    (e.g. a collapsed parameter) works.
    """
    n, p = params.shape
    if p == 0:
        return params.copy()
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    noise = rng.standard_normal((n, p)) @ root.T
    a = shrinkage
    return a * params + (1.0 - a) * mean + np.sqrt(1.0 - a * a) * noise


def _tempered_resample(
    log_w: np.ndarray, temperature: float, scheme: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    r"""Ancestors :math:`J \sim q \propto W^{1/T}` and their normalised log-weights.

    The carried weight is the importance correction :math:`W^J / q^J \propto (W^J)^{1 - 1/T}`
    (see the module docstring), uniform at :math:`T = 1`. ``log_w`` are normalised log-weights.
    """
    ancestors = _RESAMPLERS[scheme](np.exp((log_w - log_w.max()) / temperature), rng)
    if temperature > 1.0:
        return ancestors, _log_normalise((1.0 - 1.0 / temperature) * log_w[ancestors])
    return ancestors, _uniform_log_weights(log_w.size)


def _uniform_log_weights(n: int) -> np.ndarray:
    return np.full(n, -np.log(n))


def _log_normalise(log_w: np.ndarray) -> np.ndarray:
    """``log_w - logsumexp(log_w)``, the maximum taken out before exponentiating."""
    top = log_w.max()
    return log_w - (top + np.log(np.sum(np.exp(log_w - top))))


def _weighted_moments(values: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and standard deviation over the particle axis 0 (``W`` normalised)."""
    flat = values.reshape(values.shape[0], -1)
    mean = W @ flat
    var = W @ (flat - mean) ** 2
    shape = values.shape[1:]
    return mean.reshape(shape), np.sqrt(np.maximum(var, 0.0)).reshape(shape)
