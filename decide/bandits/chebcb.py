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
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from decide.bandits.base import Bandit, check_context_range, check_positive_int
from decide.bandits.chebfit import ChebyshevRegression
from decide.errors import ModelError


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
    ):
        super().__init__(arms, seed=seed)
        self.context_range = check_context_range(context_range)
        self.terms = check_positive_int("terms", terms)
        if not (isinstance(eta_factor, int | float) and 0 < eta_factor < math.inf):
            raise ModelError("eta_factor", f"need a finite number > 0, got {eta_factor!r}")
        self.eta_factor = float(eta_factor)
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
    def coefficient_bounds(self) -> np.ndarray:
        r"""Bounds :math:`u`, :math:`|\theta_{ij}| \le u_j`, shape ``(terms,)``."""
        j = np.arange(1, self.terms)
        return np.concatenate([[1.0 / self._norm], 2.0 * self._spread / self.scale / j])

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
        r"""Per-arm :math:`G_i = \Phi_i^\top \Phi_i` and :math:`h_i = \Phi_i^\top (k - 1)`."""
        return self._reg.gram.copy(), self._reg.moment.copy()

    def features(self, context: float) -> np.ndarray:
        r""":math:`\phi(c)` of a context (clipped to the range)."""
        return self._reg.features(self._context(context))

    def predict(self, context: float) -> np.ndarray:
        r"""Predicted scaled losses :math:`\hat y_i(c)` of every arm."""
        return self._reg.predict(self._context(context))

    def _distribution(self, context: float | None) -> np.ndarray:
        y = self._reg.predict(context)
        best = int(np.argmin(y))
        with np.errstate(over="ignore"):
            p = 1.0 / (self.n_arms + self.learning_rate * (y - y[best]))
        p[best] = 0.0
        p[best] = max(1.0 - p.sum(), 0.0)
        return p

    def _update(self, arm: int, cost: float, context: float | None, p: float) -> None:
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
