r"""The common descent direction of several objectives, inside the box domain.

For gradients :math:`g_1, \dots, g_m` at :math:`x \in Q = [l, u]` the direction is

.. math:: q(x) = \operatorname{argmin}_{x + q \in Q}\; \max_i\, g_i^\top q + \tfrac12 \|q\|^2 .

Its dual is :math:`\max_{\alpha \in \Delta_m} \varphi(\alpha)` with
:math:`v(\alpha) = \sum_i \alpha_i g_i` and
:math:`\varphi(\alpha) = \sum_j \min_{q_j \in [l_j - x_j,\, u_j - x_j]} (v_j q_j + q_j^2/2)`,
whose inner minimiser is :math:`q = \operatorname{clip}(-v, l - x, u - x)`. Without active bounds
this is the classical simplex QP :math:`\min_{\alpha \in \Delta} \|\sum_i \alpha_i g_i\|^2`
(closed form for two objectives). :math:`q = 0` exactly at Pareto-critical points of the
box-constrained problem; otherwise :math:`g_i^\top q \le -\|q\|^2 / 2 < 0` for every i, so q
decreases every objective.

The dual is solved by pairwise coordinate ascent: moving weight s from objective k to i changes
:math:`\varphi` with derivative :math:`(g_i - g_k)^\top q(s)`, a non-increasing piecewise-linear
function of s whose root is found by safeguarded Newton steps, vectorised over all points.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def common_direction(
    G: np.ndarray, low: np.ndarray, high: np.ndarray, *, sweeps: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """The direction ``q[n, d]`` and the weights ``alpha[n, m]`` for gradients ``G[n, m, d]``.

    ``low`` and ``high`` are the gaps to the box, ``lower - x`` (≤ 0) and ``upper - x`` (≥ 0).
    """
    n, m, _ = G.shape
    alpha = np.full((n, m), 1.0 / m)
    pairs = list(combinations(range(m), 2))
    active = np.arange(n)  # points whose weights still change
    for _ in range(sweeps if m > 2 else 1):
        if active.size == 0:
            break
        weights = alpha[active]
        for i, k in pairs:
            _pair_ascent(G[active], weights, i, k, low[active], high[active])
        change = np.max(np.abs(weights - alpha[active]), axis=1)
        alpha[active] = weights
        active = active[change > 1e-13]
    v = np.einsum("nm,nmd->nd", alpha, G)
    return np.clip(-v, low, high), alpha


def _pair_ascent(
    G: np.ndarray, alpha: np.ndarray, i: int, k: int, low: np.ndarray, high: np.ndarray
) -> None:
    """Move weight between objectives i and k to the maximum of the dual (in place)."""
    w = G[:, i] - G[:, k]
    v = np.einsum("nm,nmd->nd", alpha, G)
    lo, hi = -alpha[:, i], alpha[:, k].copy()
    s = np.zeros(len(G))
    for _ in range(60):
        q = -(v + s[:, None] * w)
        free = (q > low) & (q < high)
        slope = np.einsum("nd,nd->n", w, np.clip(q, low, high))
        lo = np.where(slope > 0, s, lo)
        hi = np.where(slope < 0, s, hi)
        curvature = np.einsum("nd,nd->n", w * w, free)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = s + slope / curvature
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        s_next = np.where(inside, newton, 0.5 * (lo + hi))
        s_next = np.where(slope == 0, s, s_next)
        if np.all(np.abs(s_next - s) <= 1e-15 * (1.0 + np.abs(s))):
            break
        s = s_next
    alpha[:, i] += s
    alpha[:, k] -= s
    np.clip(alpha, 0.0, 1.0, out=alpha)
    alpha /= alpha.sum(axis=1, keepdims=True)


def min_norm_point(W: np.ndarray, *, iterations: int = 200, tol: float = 1e-12) -> np.ndarray:
    r"""The element of least norm of the convex hull of the rows of ``W[k, d]``.

    Pairwise (Gilbert-type) steps: move weight from the support vector most aligned with the
    current point v to the vector least aligned, by the exact line minimiser
    :math:`s = v^\top(w_j - w_i) / \|w_j - w_i\|^2`.
    """
    k = len(W)
    beta = np.full(k, 1.0 / k)
    v = beta @ W
    for _ in range(iterations):
        scores = W @ v
        i = int(np.argmin(scores))
        support = np.flatnonzero(beta > 0)
        j = int(support[np.argmax(scores[support])])
        gap = scores[j] - scores[i]
        if gap <= tol * max(1.0, v @ v):
            break
        direction = W[j] - W[i]
        s = min(beta[j], gap / float(direction @ direction))
        beta[i] += s
        beta[j] -= s
        v = v - s * direction
    return v
