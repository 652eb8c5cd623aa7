r"""ChebCB: SquareCB exploration over per-arm Chebyshev regression of the cost on the context.

"Learning to Relax" (Khodak, Chow, Balcan & Talwalkar, ICLR 2024). Each arm :math:`i` has a
regressor :math:`\theta_i` (:mod:`decide.bandits.chebfit`) predicting the scaled loss
:math:`\hat y_i(c) = \theta_i \cdot \phi(c) \approx (k - 1)/\sigma` from the context :math:`c`.
With the observed costs so far, width :math:`w = c_{hi} - c_{lo}` and :math:`m` terms,

.. math::
    K = \max_r k_r, \quad \mathrm{Lip} = \frac{\max_r k_r - \min_r k_r}{w}, \quad
    N = 2 + \frac{4 w \,\mathrm{Lip}}{K} (1 + \log m), \quad \sigma = K N,

and the coefficients are bounded by :math:`|\theta_{i0}| \le 1/N`,
:math:`|\theta_{ij}| \le 2 w \,\mathrm{Lip} / (\sigma j)` for :math:`j \ge 1` (a Lipschitz
function's Chebyshev coefficients decay like :math:`1/j`). SquareCB then plays, with
:math:`b = \arg\min_j \hat y_j(c_t)` and :math:`A` arms,

.. math:: p_i = \frac{1}{A + \eta_t (\hat y_i - \hat y_b)} \; (i \ne b), \qquad
          p_b = 1 - \sum_{i \ne b} p_i,

with the learning rate growing linearly in the number :math:`t` of completed rounds,

.. math::
    \eta_t = f \, t \sqrt{\frac{A t}{R_t + 2 \alpha^2 t}}, \qquad
    R_t = \sum_{r \le t} \left(\hat y_{a_r}(c_r) - k_r / \sigma_r\right)^2, \qquad
    \alpha = \frac{\pi + \frac{2}{\pi} \log(2m + 1)}{2 \sigma (m + 1)} \, w \,\mathrm{Lip},

(:math:`f = 2` by default; :math:`\eta_0 = 0`, i.e. uniform play first). :math:`R_t` uses the
prediction made when the arm was drawn and the scale :math:`\sigma_r` after cost :math:`k_r` was
recorded; :math:`\alpha` allows for the bias of a degree-:math:`(m-1)` Chebyshev fit of a
Lipschitz function (Jackson's bound with the Lebesgue constant of Chebyshev interpolation).

Transformed targets (``target="inv"`` or ``"log"``): the regressors fit a transform
:math:`u = g(k)` of the cost instead of :math:`k - 1`, with :math:`g(k) = 1 - 1/k` (``"inv"``) or
:math:`g(k) = \log k` (``"log"``). :math:`N`, the scale and the coefficient bounds are the
formulas above applied to the observed :math:`u` (:math:`K_u = \max u` if positive, else 1,
:math:`\mathrm{Lip}_u = (\max u - \min u)/w`, :math:`\sigma_u = K_u N_u`), so
:math:`\theta_i \cdot \phi(c) \approx u/\sigma_u`. A prediction
:math:`\hat u = \sigma_u \theta_i \cdot \phi(c)`, clipped to the observed
:math:`[\min u, \max u]`, is mapped back to a cost :math:`\hat k = g^{-1}(\hat u)`, and SquareCB,
:math:`R_t` and :math:`\eta_t` work with the loss :math:`\hat y_i = (\hat k - 1)/\sigma` in
cost units, :math:`R_t = \sum_r (\hat y_{a_r}(c_r) - (k_r - 1)/\sigma_r)^2`. These targets need
costs :math:`k > 0`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from decide.bandits.base import Bandit, check_context_range, check_positive_int, squarecb
from decide.bandits.chebfit import ChebyshevRegression
from decide.errors import ModelError, UsageError

#: Regression targets of :class:`ChebCB`: name -> (:math:`g`, :math:`g^{-1}`); ``"cost"`` fits
#: :math:`k - 1` directly (see the module docstring).
TARGETS = {
    "cost": (lambda k: k - 1.0, lambda u: u + 1.0),
    "inv": (lambda k: 1.0 - 1.0 / k, lambda u: 1.0 / (1.0 - u)),
    "log": (np.log, np.exp),
}


def transform(cost: ArrayLike, target: str) -> np.ndarray:
    r"""The regression target :math:`u = g(k)` of costs ``cost`` for ``target``."""
    return np.asarray(TARGETS[target][0](np.asarray(cost, dtype=float)), dtype=float)


def inverse_transform(u: ArrayLike, target: str) -> np.ndarray:
    r"""The cost :math:`k = g^{-1}(u)` of regression targets ``u`` for ``target``."""
    return np.asarray(TARGETS[target][1](np.asarray(u, dtype=float)), dtype=float)


def _envelope(lo: float, hi: float, terms: int) -> tuple[float, float, float]:
    r"""Spread :math:`\max - \min`, :math:`N` and scale :math:`K N` of observed values in
    ``[lo, hi]`` (spread 0 and :math:`K = 1` before any value; :math:`K = 1` if ``hi <= 0``)."""
    spread = hi - lo if math.isfinite(hi) else 0.0
    top = hi if hi > 0 else 1.0
    norm = 2.0 + 4.0 * spread / top * (1.0 + math.log(terms))
    return spread, norm, top * norm


class ChebCB(Bandit):
    r"""ChebCB contextual bandit for a scalar context.

    Parameters
    ----------
    arms : array_like
        The arm grid as data, e.g. 20 values of ω.
    context_range : (float, float)
        :math:`[c_{lo}, c_{hi}]`, mapped onto :math:`[-1, 1]` for the Chebyshev features; a
        context outside it is clipped to the nearer end.
    terms : int
        Number of Chebyshev terms :math:`m` (polynomial degree :math:`m - 1`).
    seed : int, numpy.random.Generator or None
        Source of the arm draws.
    eta_factor : float
        Factor :math:`f > 0` of the learning-rate rule (see the module docstring).
    target : {"cost", "inv", "log"}
        What the regressors fit: ``"cost"`` the loss :math:`k - 1` (the original method),
        ``"inv"`` :math:`1 - 1/k`, ``"log"`` :math:`\log k` (see the module docstring).
    """

    contextual = True

    def __init__(
        self,
        arms: ArrayLike,
        *,
        context_range: tuple[float, float],
        terms: int = 6,
        seed: int | np.random.Generator | None = None,
        eta_factor: float = 2.0,
        target: str = "cost",
    ):
        super().__init__(arms, seed=seed)
        self.context_range = check_context_range(context_range)
        self.terms = check_positive_int("terms", terms)
        if not (isinstance(eta_factor, int | float) and 0 < eta_factor < math.inf):
            raise ModelError("eta_factor", f"need a finite number > 0, got {eta_factor!r}")
        self.eta_factor = float(eta_factor)
        if target not in TARGETS:
            raise ModelError("target", f"need one of {', '.join(TARGETS)}, got {target!r}")
        self.target = target
        self._u_min = math.inf  # observed range of the transformed target (target != "cost")
        self._u_max = -math.inf
        self._reg = ChebyshevRegression(self.n_arms, self.terms, self.context_range)
        self._cost_min = math.inf
        self._cost_max = -math.inf
        self._squared_error = 0.0

    @property
    def squared_error(self) -> float:
        r""":math:`R_t`, the running squared error of the played arms' predictions."""
        return self._squared_error

    # ---- scale, bounds and learning rate from the costs seen so far ----
    @property
    def _spread(self) -> float:
        r""":math:`w \mathrm{Lip} = \max k - \min k` (0 before any cost)."""
        return self._cost_max - self._cost_min if math.isfinite(self._cost_max) else 0.0

    @property
    def _top(self) -> float:
        r""":math:`K = \max k` (1 before any positive cost)."""
        return self._cost_max if self._cost_max > 0 else 1.0

    @property
    def _norm(self) -> float:
        """:math:`N`."""
        return 2.0 + 4.0 * self._spread / self._top * (1.0 + math.log(self.terms))

    @property
    def scale(self) -> float:
        r"""Loss scale :math:`\sigma = K N` (with :math:`K = 1` before any positive cost)."""
        return self._top * self._norm

    @property
    def regression_scale(self) -> float:
        r"""Scale of the regression target: :math:`\sigma`, or :math:`\sigma_u` for a
        transformed ``target``."""
        if self.target == "cost":
            return self.scale
        return _envelope(self._u_min, self._u_max, self.terms)[2]

    @property
    def coefficient_bounds(self) -> np.ndarray:
        r"""Bounds :math:`u`, :math:`|\theta_{ij}| \le u_j`, shape ``(terms,)``."""
        j = np.arange(1, self.terms)
        if self.target == "cost":
            return np.concatenate([[1.0 / self._norm], 2.0 * self._spread / self.scale / j])
        spread, norm, scale = _envelope(self._u_min, self._u_max, self.terms)
        return np.concatenate([[1.0 / norm], 2.0 * spread / scale / j])

    @property
    def bias_allowance(self) -> float:
        r""":math:`\alpha`, the allowed Chebyshev-fit bias in scaled-loss units."""
        m = self.terms
        lebesgue = math.pi + 2.0 / math.pi * math.log(2 * m + 1)
        return lebesgue / (2.0 * self.scale * (m + 1)) * self._spread

    @property
    def learning_rate(self) -> float:
        r""":math:`\eta_t` used by the next ``ask`` (:math:`t` completed rounds)."""
        t = self.rounds
        if t == 0:
            return 0.0
        denom = max(self._squared_error + 2.0 * self.bias_allowance**2 * t, 1e-300)
        return self.eta_factor * t * math.sqrt(self.n_arms * t / denom)

    # ---- regression ----
    @property
    def coefficients(self) -> np.ndarray:
        r"""Current :math:`\theta`, shape ``(n_arms, terms)`` (a copy)."""
        return self._reg.coefficients.copy()

    @property
    def gram(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Per-arm :math:`G_i = \Phi_i^\top \Phi_i` and :math:`h_i = \Phi_i^\top u` with the
        regression target :math:`u` (:math:`k - 1` for ``target="cost"``)."""
        return self._reg.gram.copy(), self._reg.moment.copy()

    def features(self, context: float) -> np.ndarray:
        r""":math:`\phi(c)` of a context (clipped to the range)."""
        return self._reg.features(self._context(context))

    def predict(self, context: float) -> np.ndarray:
        r"""Predicted scaled losses :math:`\hat y_i(c)` of every arm."""
        return self._losses(self._context(context))

    def predicted_costs(self, context: float) -> np.ndarray:
        r"""Predicted costs :math:`\hat k_i(c) = 1 + \sigma \hat y_i(c)` of every arm."""
        return 1.0 + self.scale * self.predict(context)

    def _losses(self, context: float | None) -> np.ndarray:
        r""":math:`\hat y_i` at an already clipped context."""
        if self.target == "cost":
            return self._reg.predict(context)
        if not math.isfinite(self._u_max):
            return np.zeros(self.n_arms)
        u = np.clip(self._reg.predict(context) * self.regression_scale, self._u_min, self._u_max)
        return (inverse_transform(u, self.target) - 1.0) / self.scale

    def _distribution(self, context: float | None) -> np.ndarray:
        y = self._losses(context)
        return squarecb(y, self.learning_rate)

    def _update(self, arm: int, cost: float, context: float | None, p: float) -> None:
        if self.target != "cost":
            self._update_transformed(arm, cost, context)
            return
        predicted = float(self._reg.predict(context)[arm])  # unchanged since ask()
        old_bounds = (self._cost_min, self._cost_max)
        self._cost_min = min(self._cost_min, cost)
        self._cost_max = max(self._cost_max, cost)
        self._reg.add(arm, context, cost - 1.0)
        scale, ub = self.scale, self.coefficient_bounds
        self._squared_error += (predicted - cost / scale) ** 2
        refit = range(self.n_arms) if (self._cost_min, self._cost_max) != old_bounds else [arm]
        for i in refit:
            self._reg.fit(i, scale, ub)

    def _update_transformed(self, arm: int, cost: float, context: float | None) -> None:
        if not cost > 0:
            raise UsageError(f"target={self.target!r} needs costs > 0, got {cost}")
        predicted = float(self._losses(context)[arm])  # unchanged since ask()
        self._cost_min = min(self._cost_min, cost)
        self._cost_max = max(self._cost_max, cost)
        u = float(transform(cost, self.target))
        old_bounds = (self._u_min, self._u_max)
        self._u_min = min(self._u_min, u)
        self._u_max = max(self._u_max, u)
        self._reg.add(arm, context, u)
        self._squared_error += (predicted - (cost - 1.0) / self.scale) ** 2
        scale, ub = self.regression_scale, self.coefficient_bounds
        refit = range(self.n_arms) if (self._u_min, self._u_max) != old_bounds else [arm]
        for i in refit:
            self._reg.fit(i, scale, ub)
