r"""How far a value may be from the front and still be kept: a box-size tolerance.

Points inside one box of diameter :math:`\rho` differ in objective j by at most
:math:`L_j \rho`, :math:`L_j` the Lipschitz constant of :math:`f_j`. Dominance tests on sampled
points therefore compare with the tolerance :math:`\eta_j = c\, L_j \rho`, where :math:`L_j` is
estimated without derivatives from nearest-neighbour difference quotients of the points at hand
(a high quantile, robust to the odd steep pair).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def lipschitz(X: np.ndarray, F: np.ndarray, quantile: float = 0.9) -> np.ndarray:
    """Per-objective estimate of the Lipschitz constants from nearest-neighbour pairs."""
    unique, index = np.unique(X, axis=0, return_index=True)
    if len(unique) < 2:
        return np.ones(F.shape[1])
    distance, neighbour = cKDTree(unique).query(unique, k=2)
    slopes = np.abs(F[index] - F[index[neighbour[:, 1]]]) / distance[:, 1, None]
    L = np.quantile(slopes, quantile, axis=0)
    return np.where(L > 0, L, np.max(L, initial=0.0) or 1.0)


def box_tolerance(X: np.ndarray, F: np.ndarray, diameter: float, margin: float) -> np.ndarray:
    """:math:`\\eta_j = margin \\cdot L_j \\cdot diameter`, per objective."""
    return margin * lipschitz(X, F) * diameter
