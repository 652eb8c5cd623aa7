r"""Pareto dominance for minimisation.

A point a dominates b, :math:`a \prec b`, when :math:`a_i \le b_i` for every objective and
:math:`a_i < b_i` for at least one. A row of ``F[n, m]`` is non-dominated when no other row
dominates it; identical rows do not dominate each other, so duplicates are kept together.

For m = 2, after sorting by :math:`(f_1, f_2)` a row is dominated exactly when some row with a
strictly smaller :math:`f_1` has :math:`f_2` no larger (a running minimum) or a row with the same
:math:`f_1` has a smaller :math:`f_2`. For m = 3 the distinct rows are swept in lexicographic
order, in which every dominator comes first: a row is dominated exactly when an earlier row is no
worse in :math:`(f_2, f_3)`, which a 2-D staircase of the earlier rows answers by binary search
(Kung, Luccio & Preparata), O(n log n) plus list moves. For m ≥ 4 the rows are swept in order of
their sum (ties broken lexicographically), so again a dominator comes first, and each block of
rows is compared, vectorised, with the non-dominated rows found so far: a row dominated by
anything is dominated by some non-dominated row.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError

#: Number of (dominator, candidate) pairs compared in one vectorised step of the sweep.
_PAIR_BUDGET = 1 << 20


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """Whether ``a`` dominates ``b``: no worse in every objective, better in one."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ModelError("b", f"need two vectors of equal length, got {a.shape} and {b.shape}")
    return bool(np.all(a <= b) and np.any(a < b))


def check_objectives(F: ArrayLike, field: str = "F") -> np.ndarray:
    """``F`` as a float array of shape (n, m) with m ≥ 1 and no NaN."""
    F = np.asarray(F, dtype=float)
    if F.ndim != 2 or F.shape[1] == 0:
        raise ModelError(field, f"need objective values of shape (n, m), got {F.shape}")
    if np.isnan(F).any():
        raise ModelError(field, "objective values contain NaN")
    return F


def non_dominated(F: ArrayLike) -> np.ndarray:
    """Boolean mask of the rows of ``F[n, m]`` that no other row dominates."""
    F = check_objectives(F)
    n, m = F.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 1:
        return F[:, 0] == F[:, 0].min()
    if m == 2:
        return _non_dominated_2(F)
    if m == 3:
        return _non_dominated_3(F)
    return _non_dominated_sweep(F)


def staircase_span(xs: list[float], ys: list[float], x: float, y: float) -> tuple[int, int] | None:
    """Where (x, y) enters a 2-D staircase of mutually non-dominated points (minimisation).

    ``xs`` increases and ``ys`` decreases. Returns None when a point of the staircase is no worse
    in both coordinates; otherwise ``(start, stop)``: the points ``start:stop`` that (x, y)
    weakly dominates, to be replaced by it (``xs[start:stop] = [x]``).
    """
    last_left = bisect_right(xs, x) - 1  # the lowest y among the points with x' ≤ x
    if last_left >= 0 and ys[last_left] <= y:
        return None
    start = stop = bisect_left(xs, x)
    while stop < len(xs) and ys[stop] >= y:
        stop += 1
    return start, stop


def _non_dominated_2(F: np.ndarray) -> np.ndarray:
    order = np.lexsort((F[:, 1], F[:, 0]))
    f1, f2 = F[order, 0], F[order, 1]
    group_start = np.searchsorted(f1, f1, side="left")  # first row with the same f1
    running_min = np.minimum.accumulate(f2)
    best_before = np.where(group_start > 0, running_min[group_start - 1], np.inf)
    keep = (f2 < best_before) & (f2 == f2[group_start])
    mask = np.empty(len(F), dtype=bool)
    mask[order] = keep
    return mask


def _non_dominated_3(F: np.ndarray) -> np.ndarray:
    order = np.lexsort(F.T[::-1])
    G = F[order]
    first = np.concatenate([[True], np.any(G[1:] != G[:-1], axis=1)])  # first of equal rows
    xs: list[float] = []
    ys: list[float] = []
    keep_distinct = np.zeros(int(first.sum()), dtype=bool)
    for i, (x, y) in enumerate(G[first, 1:].tolist()):
        span = staircase_span(xs, ys, x, y)
        if span is not None:
            keep_distinct[i] = True
            xs[span[0] : span[1]] = [x]
            ys[span[0] : span[1]] = [y]
    mask = np.empty(len(F), dtype=bool)
    mask[order] = keep_distinct[np.cumsum(first) - 1]
    return mask


def _dominated_by(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """For each row of Q, whether some row of P dominates it."""
    no_worse = np.ones((len(P), len(Q)), dtype=bool)
    better = np.zeros((len(P), len(Q)), dtype=bool)
    for j in range(P.shape[1]):
        no_worse &= P[:, j, None] <= Q[None, :, j]
        better |= P[:, j, None] < Q[None, :, j]
    return np.any(no_worse & better, axis=0)


def _non_dominated_sweep(F: np.ndarray) -> np.ndarray:
    # Summation is monotone in every term, so a dominator's sum is ≤ the dominated row's, and on
    # equal sums it comes first lexicographically.
    order = np.lexsort(np.vstack([F[:, ::-1].T, F.sum(axis=1)]))
    G = F[order]
    keep = np.zeros(len(G), dtype=bool)
    front = G[:0]
    start = 0
    while start < len(G):
        size = int(np.clip(_PAIR_BUDGET // max(len(front), 1), 64, 1024))
        block = G[start : start + size]
        alive = np.flatnonzero(~_dominated_by(front, block))
        survivors = alive[~_dominated_by(block[alive], block[alive])]
        keep[start + survivors] = True
        front = np.concatenate([front, block[survivors]])
        start += len(block)
    mask = np.empty(len(F), dtype=bool)
    mask[order] = keep
    return mask


def nearly_non_dominated(F: ArrayLike, tolerance: ArrayLike) -> np.ndarray:
    r"""Rows of ``F`` that no row dominates by more than ``tolerance``.

    Row y is dropped when some z with :math:`z \le y` improves on it by
    :math:`\sum_j (y_j - z_j) / \eta_j > 1`; points closer than η to being non-dominated (e.g.
    within a box of the Pareto set) are kept, while weakly optimal pieces far from the set
    (better in one objective only by a lot) are dropped. Only the non-dominated rows need be
    tried as z: whatever dominates y is dominated by, or is, a non-dominated row with a smaller
    scaled sum.
    """
    F = check_objectives(F)
    eta = np.broadcast_to(np.asarray(tolerance, dtype=float), F.shape[1:])
    if np.any(eta <= 0):
        raise ModelError("tolerance", f"expected positive tolerances, got {eta}")
    front = F[non_dominated(F)]
    scaled_front = (front / eta).sum(axis=1)
    keep = np.empty(len(F), dtype=bool)
    size = max(1, _PAIR_BUDGET // max(len(front), 1))
    for start in range(0, len(F), size):
        block = F[start : start + size]
        below = np.all(front[None, :, :] <= block[:, None, :], axis=2)
        best = np.min(np.where(below, scaled_front[None, :], np.inf), axis=1)
        keep[start : start + size] = (block / eta).sum(axis=1) - best <= 1.0
    return keep
