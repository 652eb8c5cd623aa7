r"""TensorChebCB: SquareCB over one Chebyshev model of the log-cost shared by all arms.

ChebCB fits one regression per arm, so an arm without data predicts the lowest possible cost
and must be tried until its own fit says otherwise. Here the arms are points ω of an interval
and one regression over (c, ω) serves them all:

.. math:: \log k(c, \omega) \approx \sum_{i \le d_c,\, j \le d_\omega}
          \theta_{ij} T_i(z_c) T_j(z_\omega),

:math:`z_c, z_\omega` the context (clipped to its range) and ω mapped to [−1, 1]. θ is the ridge
least-squares fit on every observation with penalty :math:`\lambda \sum (i + j)^2 \theta_{ij}^2`
(the constant is free), kept as a Gram matrix so a round costs :math:`O(p^3)`,
:math:`p = (d_c + 1)(d_\omega + 1)`. The log makes the kink where ω crosses ω*(c) and the
steep growth of the cost near a singular system easy to fit.

Play: the first ``warm_up`` rounds (default: one per arm) go through a random permutation of
the arms. Afterwards, with predicted costs :math:`\hat k_i = \exp(\mathrm{clip}(\hat u_i,
u_{min}, u_{max}))` and losses :math:`y_i = \hat k_i / K` (K the largest cost seen), SquareCB:
:math:`p_i = 1/(A + \eta_t (y_i - y_b))` for every arm but the best b, the rest on b, with
:math:`\eta_t = f\, t \sqrt{A t / (R_t + \epsilon t)}` and :math:`R_t` the running squared error
of the played arms' predictions (made before their cost was seen).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from decide.bandits.base import Bandit, check_context_range, check_positive_int, squarecb
from decide.bandits.chebfit import chebyshev_features
from decide.errors import ModelError


class TensorChebCB(Bandit):
    r"""Contextual bandit over numeric arms with one shared (c, ω) Chebyshev regression.

    Parameters
    ----------
    arms : array_like
        Increasing numeric arm values (e.g. ω); the model's second axis.
    context_range : (float, float)
        Contexts are clipped to it and mapped to [−1, 1].
    context_degree, arm_degree : int
        Highest Chebyshev degree :math:`d_c` in the context and :math:`d_\omega` in the arm.
    ridge : float
        λ of the degree-weighted ridge penalty.
    warm_up : int or None
        Rounds played through random permutations of the arms (default: one per arm).
    eta_factor : float
        f in the learning-rate rule.
    seed : int, numpy.random.Generator or None
        Source of the permutation and the arm draws.

    Costs below 1 count as 1 (the model fits log k).
    """

    contextual = True
    ERROR_FLOOR = 1e-4  # ε: keeps η finite while the predictions are exact

    def __init__(
        self,
        arms: ArrayLike,
        *,
        context_range: tuple[float, float],
        context_degree: int = 8,
        arm_degree: int = 6,
        ridge: float = 0.01,
        warm_up: int | None = None,
        eta_factor: float = 8.0,
        seed: int | np.random.Generator | None = None,
    ):
        super().__init__(arms, seed=seed)
        values = np.asarray(self.arms, dtype=float)
        if values.ndim != 1 or len(values) < 2 or np.any(np.diff(values) <= 0):
            raise ModelError("arms", "TensorChebCB needs at least two increasing numeric arms")
        self.context_range = check_context_range(context_range)
        dc = check_positive_int("context_degree", context_degree)
        dw = check_positive_int("arm_degree", arm_degree)
        if not (math.isfinite(ridge) and ridge >= 0):
            raise ModelError("ridge", f"need a finite number ≥ 0, got {ridge!r}")
        if not (math.isfinite(eta_factor) and eta_factor > 0):
            raise ModelError("eta_factor", f"need a positive number, got {eta_factor!r}")
        self.warm_up = self.n_arms if warm_up is None else int(warm_up)
        self.eta_factor = float(eta_factor)
        i, j = (g.ravel() for g in np.meshgrid(np.arange(dc + 1), np.arange(dw + 1), indexing="ij"))
        self._context_terms = (i, dc + 1)
        z_arm = 2.0 * (values - values[0]) / (values[-1] - values[0]) - 1.0
        self._arm_features = chebyshev_features(z_arm, dw + 1)[:, j]  # (A, p)
        self._penalty = ridge * np.diag((i + j).astype(float) ** 2) + 1e-10 * np.eye(i.size)
        self._gram = np.zeros((i.size, i.size))
        self._moment = np.zeros(i.size)
        self.coefficients = np.zeros(i.size)
        rounds = self.warm_up // self.n_arms + 1
        self._order = np.concatenate([self._rng.permutation(self.n_arms) for _ in range(rounds)])
        self._u_min, self._u_max, self._k_max = math.inf, -math.inf, 1.0
        self.squared_error = 0.0

    def features(self, context: float) -> np.ndarray:
        r""":math:`T_i(z_c) T_j(z_\omega)` of every arm at a clipped context, shape (A, p)."""
        lo, hi = self.context_range
        i, n = self._context_terms
        z = 2.0 * (context - lo) / (hi - lo) - 1.0
        return chebyshev_features(z, n)[i][None, :] * self._arm_features

    def predicted_costs(self, context: float) -> np.ndarray:
        r""":math:`\hat k_i(c)` of every arm (1 before the first observation)."""
        if self.rounds == 0:
            return np.ones(self.n_arms)
        u = self.features(self._context(context)) @ self.coefficients
        return np.exp(np.clip(u, self._u_min, self._u_max))

    @property
    def learning_rate(self) -> float:
        r""":math:`\eta_t` (0 before any post-warm-up round)."""
        t = self.rounds
        if t == 0:
            return 0.0
        return (
            self.eta_factor
            * t
            * math.sqrt(self.n_arms * t / (self.squared_error + self.ERROR_FLOOR * t))
        )

    def _distribution(self, context: float | None) -> np.ndarray:
        if self.rounds < self.warm_up:
            p = np.zeros(self.n_arms)
            p[self._order[self.rounds]] = 1.0
            return p
        y = self.predicted_costs(context) / self._k_max
        return squarecb(y, self.learning_rate)

    def _update(self, arm: int, cost: float, context: float | None, p: float) -> None:
        k = max(cost, 1.0)
        if self.rounds >= self.warm_up:  # the prediction ask() used: θ and K are unchanged
            predicted = self.predicted_costs(context)[arm] / self._k_max
            self._k_max = max(self._k_max, k)
            self.squared_error += (predicted - k / self._k_max) ** 2
        self._k_max = max(self._k_max, k)
        u = math.log(k)
        self._u_min, self._u_max = min(self._u_min, u), max(self._u_max, u)
        phi = self.features(context)[arm]
        self._gram += np.outer(phi, phi)
        self._moment += u * phi
        self.coefficients = np.linalg.solve(self._gram + self._penalty, self._moment)
