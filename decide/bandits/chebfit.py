r"""Per-arm Chebyshev least squares kept as Gram matrices, with coefficient bounds.

Each arm :math:`i` fits :math:`y = (k - 1)/\sigma` (cost :math:`k`, global scale :math:`\sigma`)
as :math:`\theta_i \cdot \phi(c)` with the Chebyshev features

.. math:: \phi(c) = (T_0(z), \dots, T_{m-1}(z)), \qquad
          z = 2 (c - c_{lo}) / (c_{hi} - c_{lo}) - 1,

:math:`T_0 = 1`, :math:`T_1 = z`, :math:`T_{j+1} = 2 z T_j - T_{j-1}`. Only
:math:`G_i = \Phi_i^\top \Phi_i` and :math:`h_i = \Phi_i^\top (k - 1)` are stored, so an
observation costs :math:`O(m^2)` and a refit :math:`O(m^3)`, independent of the number of
observations. With :math:`G_i = V \Lambda V^\top` (eigenvalues below ``RCOND`` times the largest
treated as zero) the minimum-norm least-squares solution is

.. math:: \theta_i = G_i^+ h_i / \sigma = V_+ \Lambda_+^{-1} V_+^\top h_i / \sigma,

and the bound-constrained problem :math:`\min \|\Phi_i \theta - y\|^2`,
:math:`|\theta_j| \le u_j`, has the same objective up to a constant as
:math:`\|R \theta - r\|^2` with the square-root factor :math:`R = \Lambda_+^{1/2} V_+^\top`
and :math:`r = \Lambda_+^{-1/2} V_+^\top h_i / \sigma` (because :math:`R^\top R = G_i` and
:math:`R^\top r = h_i/\sigma`, as :math:`h_i` lies in the range of :math:`G_i`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import lsq_linear

#: Eigenvalues of a Gram matrix below ``RCOND * largest`` count as zero.
RCOND = 1e-12


def chebyshev_features(z: ArrayLike, terms: int) -> np.ndarray:
    r"""Chebyshev polynomials :math:`T_0(z), \dots, T_{m-1}(z)` along a new last axis."""
    z = np.asarray(z, dtype=float)
    out = np.empty((*z.shape, terms))
    out[..., 0] = 1.0
    if terms > 1:
        out[..., 1] = z
    for j in range(2, terms):
        out[..., j] = 2.0 * z * out[..., j - 1] - out[..., j - 2]
    return out


def bounded_lstsq(R: np.ndarray, r: np.ndarray, ub: np.ndarray) -> np.ndarray:
    r""":math:`\arg\min \|R\theta - r\|^2` subject to :math:`-u \le \theta \le u`.

    Coefficients with :math:`u_j = 0` are fixed at zero and the rest solved by bounded-variable
    least squares (``scipy.optimize.lsq_linear``, which needs strictly ordered bounds).
    """
    theta = np.zeros(R.shape[1])
    free = ub > 0
    if R.shape[0] == 0 or not free.any():
        return theta
    fit = lsq_linear(R[:, free], r, bounds=(-ub[free], ub[free]), method="bvls")
    theta[free] = np.clip(fit.x, -ub[free], ub[free])
    return theta


class ChebyshevRegression:
    """Gram-matrix bookkeeping and fits of one Chebyshev regressor per arm.

    Parameters
    ----------
    n_arms : int
        Number of regressors :math:`A`.
    terms : int
        Number of features :math:`m`.
    context_range : (float, float)
        Contexts mapped affinely onto :math:`[-1, 1]`; callers clip contexts first.
    """

    def __init__(self, n_arms: int, terms: int, context_range: tuple[float, float]):
        self.terms = terms
        self.context_range = context_range
        self.gram = np.zeros((n_arms, terms, terms))
        self.moment = np.zeros((n_arms, terms))
        self.counts = np.zeros(n_arms, dtype=np.int64)
        self.coefficients = np.zeros((n_arms, terms))
        # per arm: min-norm solution for sigma = 1, square-root factor R and target r
        self._factors: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
            (np.zeros(terms), np.zeros((0, terms)), np.zeros(0)) for _ in range(n_arms)
        ]

    def features(self, context: ArrayLike) -> np.ndarray:
        r""":math:`\phi(c)` for (already clipped) contexts."""
        lo, hi = self.context_range
        z = 2.0 * (np.asarray(context, dtype=float) - lo) / (hi - lo) - 1.0
        return chebyshev_features(np.clip(z, -1.0, 1.0), self.terms)

    def predict(self, context: float) -> np.ndarray:
        r""":math:`\hat y_i = \theta_i \cdot \phi(c)` for every arm."""
        return self.coefficients @ self.features(context)

    def add(self, arm: int, context: float, loss: float) -> None:
        r"""Record loss :math:`k - 1` of ``arm`` at ``context``: :math:`G \mathrel{+}= \phi
        \phi^\top`, :math:`h \mathrel{+}= \phi (k - 1)`, and refactor that arm's Gram matrix."""
        phi = self.features(context)
        self.gram[arm] += np.outer(phi, phi)
        self.moment[arm] += loss * phi
        self.counts[arm] += 1
        lam, V = np.linalg.eigh(self.gram[arm])
        keep = lam > RCOND * lam[-1]
        lam, V = lam[keep], V[:, keep]
        proj = V.T @ self.moment[arm]
        root = np.sqrt(lam)
        self._factors[arm] = (V @ (proj / lam), root[:, None] * V.T, proj / root)

    def fit(self, arm: int, scale: float, ub: np.ndarray) -> None:
        r"""Set :math:`\theta_i`: the minimum-norm solution if every :math:`|\theta_{ij}| \le
        u_j`, otherwise the bound-constrained least-squares solution."""
        w, R, r = self._factors[arm]
        theta = w / scale
        if np.any(np.abs(theta) > ub):
            theta = bounded_lstsq(R, r / scale, ub)
        self.coefficients[arm] = theta
