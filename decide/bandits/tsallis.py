r"""Tsallis-INF and its binned contextual version Tsallis-INF-CB.

Tsallis-INF (Zimmert & Seldin, 2021) is follow-the-regularised-leader over the probability
simplex with the ½-Tsallis entropy :math:`\Psi(p) = -4 \sum_i \sqrt{p_i}` and learning rate
:math:`\eta_t = 2/\sqrt{t}`. Its minimiser has the closed form

.. math:: p_i = \frac{4}{\left(\eta_t (\hat L_i / s - x)\right)^2}, \qquad
          x < \min_i \hat L_i / s, \qquad \sum_i p_i = 1,

with :math:`\hat L_i` the importance-weighted cumulative loss of arm :math:`i`. After arm
:math:`i` with probability :math:`p_i` costs :math:`k` iterations,

.. math:: \hat L_i \mathrel{+}= (k - 1)/p_i, \qquad s = \frac1t \sum_{r \le t} k_r - 1,

where the running loss scale :math:`s` (1 before the first cost, and whenever it is not
positive) makes :math:`\eta_t` independent of the units of the cost ("Learning to Relax",
Khodak et al., ICLR 2024). Tsallis-INF-CB splits the context range into equal bins and runs an
independent Tsallis-INF in each.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from decide.bandits.base import Bandit, check_context_range, check_positive_int
from decide.errors import ModelError

#: Newton stops once :math:`|\sum_i p_i - 1|` is below this.
NEWTON_TOL = 1e-12
#: Largest number of Newton steps for the normaliser.
NEWTON_STEPS = 50


def tsallis_probabilities(losses: ArrayLike, eta: float) -> np.ndarray:
    r"""The ½-Tsallis FTRL distribution for (scaled) cumulative losses.

    Solves :math:`f(x) = \sum_i 4/(\eta (u_i - x))^2 = 1` for the normaliser :math:`x < \min u`
    by Newton's method, :math:`x \leftarrow x - (f(x) - 1)/f'(x)` with
    :math:`f'(x) = \eta \sum_i p_i^{3/2}`. The start :math:`x_0 = \min u - 2/\eta` gives
    :math:`p_{\min} = 1`, so :math:`f(x_0) \ge 1`; :math:`f` is increasing and convex on
    :math:`(-\infty, \min u)`, hence the iterates decrease monotonically to the root and never
    cross the pole at :math:`\min u`. The work is done relative to :math:`\min u`, which keeps
    large cumulative losses well conditioned.

    Parameters
    ----------
    losses : array_like, shape (A,)
        :math:`u_i = \hat L_i / s`.
    eta : float
        Learning rate :math:`\eta > 0`.

    Returns
    -------
    ndarray, shape (A,)
        Positive probabilities summing to 1; a smaller loss gets a larger probability.
    """
    u = np.asarray(losses, dtype=float)
    if u.ndim != 1 or len(u) == 0 or not np.all(np.isfinite(u)):
        raise ModelError("losses", "need a non-empty vector of finite losses")
    if not (eta > 0 and math.isfinite(eta)):
        raise ModelError("eta", f"need a finite learning rate > 0, got {eta}")
    d = u - u.min()
    x = -2.0 / eta
    for _ in range(NEWTON_STEPS):
        p = 4.0 / (eta * (d - x)) ** 2
        excess = p.sum() - 1.0
        if abs(excess) < NEWTON_TOL:
            break
        step = excess / (eta * np.sum(p**1.5))
        if step <= 0:  # rounding level: the monotone iteration cannot improve further
            break
        x -= step
    return p / p.sum()


class _TsallisState:
    """Cumulative losses, round count and cost sum of one Tsallis-INF learner."""

    def __init__(self, n_arms: int):
        self.losses = np.zeros(n_arms)
        self.t = 0
        self.cost_sum = 0.0

    @property
    def scale(self) -> float:
        s = self.cost_sum / self.t - 1.0 if self.t else 1.0
        return s if s > 0 else 1.0

    @property
    def eta(self) -> float:
        return 2.0 / math.sqrt(self.t + 1)

    def probabilities(self) -> np.ndarray:
        return tsallis_probabilities(self.losses / self.scale, self.eta)

    def update(self, arm: int, cost: float, p: float) -> None:
        self.t += 1
        self.cost_sum += cost
        self.losses[arm] += (cost - 1.0) / p


class TsallisINF(Bandit):
    r"""Tsallis-INF over a fixed arm grid (non-contextual).

    Parameters
    ----------
    arms : array_like
        The arm grid as data, e.g. 20 values of ω on [1, 1.95].
    seed : int, numpy.random.Generator or None
        Source of the arm draws.

    Notes
    -----
    Round :math:`t` (1-based) samples from the distribution of :func:`tsallis_probabilities`
    with :math:`u = \hat L / s` and :math:`\eta_t = 2/\sqrt t`; a context passed to ``ask`` is
    ignored (but recorded in :attr:`history`).
    """

    def __init__(self, arms: ArrayLike, *, seed: int | np.random.Generator | None = None):
        super().__init__(arms, seed=seed)
        self._state = _TsallisState(self.n_arms)

    @property
    def cumulative_losses(self) -> np.ndarray:
        r"""Importance-weighted cumulative losses :math:`\hat L_i` (a copy)."""
        return self._state.losses.copy()

    @property
    def scale(self) -> float:
        """Running loss scale :math:`s`."""
        return self._state.scale

    def _distribution(self, context: float | None) -> np.ndarray:
        return self._state.probabilities()

    def _update(self, arm: int, cost: float, context: float | None, p: float) -> None:
        self._state.update(arm, cost, p)


class TsallisINFCB(Bandit):
    r"""Tsallis-INF-CB: one independent Tsallis-INF per equal-width context bin.

    Parameters
    ----------
    arms : array_like
        The arm grid as data.
    context_range : (float, float)
        :math:`[c_{lo}, c_{hi}]`, split into ``bins`` equal bins; a context outside it is
        clipped to the nearer end, i.e. it falls in the first or last bin.
    bins : int
        Number of bins :math:`B`.
    seed : int, numpy.random.Generator or None
        Source of the arm draws.

    Notes
    -----
    Context :math:`c` uses the bin whose centre is nearest,
    :math:`b = \min(\lfloor B (c - c_{lo})/(c_{hi} - c_{lo}) \rfloor, B - 1)`; each bin has its
    own round count, loss scale and cumulative losses.
    """

    contextual = True

    def __init__(
        self,
        arms: ArrayLike,
        *,
        context_range: tuple[float, float],
        bins: int = 5,
        seed: int | np.random.Generator | None = None,
    ):
        super().__init__(arms, seed=seed)
        self.context_range = check_context_range(context_range)
        self.bins = check_positive_int("bins", bins)
        self._states = [_TsallisState(self.n_arms) for _ in range(self.bins)]

    @property
    def bin_centres(self) -> np.ndarray:
        """Centres of the bins."""
        lo, hi = self.context_range
        return lo + (np.arange(self.bins) + 0.5) * (hi - lo) / self.bins

    def bin_of(self, context: float) -> int:
        """Index of the bin used for ``context`` (clipped to the range)."""
        c = self._context(context)
        lo, hi = self.context_range
        return min(int(self.bins * (c - lo) / (hi - lo)), self.bins - 1)

    def cumulative_losses(self, context: float) -> np.ndarray:
        r""":math:`\hat L_i` of the bin used for ``context`` (a copy)."""
        return self._states[self.bin_of(context)].losses.copy()

    def _distribution(self, context: float | None) -> np.ndarray:
        return self._states[self.bin_of(context)].probabilities()

    def _update(self, arm: int, cost: float, context: float | None, p: float) -> None:
        self._states[self.bin_of(context)].update(arm, cost, p)
