r"""Quality indicators of an approximation of a Pareto set or front.

* Hausdorff distance :math:`d_H(A, B) = \max(\max_{a} \min_{b} |a - b|, \max_{b} \min_{a} |a - b|)`.
  For a box covering, A is the box centres: the distance of the union of the boxes to B differs
  from it by at most half a box diameter.
* Inverted generational distance :math:`\mathrm{IGD}(F, R) = \frac{1}{|R|} \sum_{r \in R}
  \min_{f \in F} |r - f|`: how well F covers a reference sampling R of the true front.
* Hypervolume: the Lebesgue measure of :math:`\bigcup_i [F_i, r]`, the region dominated by the
  rows of F and bounded by the reference point r (minimisation). For m = 2, sorted by
  :math:`f_1`, it is :math:`\sum_i (x_{i+1} - x_i)(r_2 - \min_{j \le i} y_j)` with
  :math:`x_{n} = r_1`. For m = 3 the rows are swept in increasing :math:`f_3`; between two
  consecutive levels the dominated slice is the 2-D area of the rows seen so far, kept as a
  staircase that each insertion updates locally.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from decide.errors import ModelError
from decide.pareto.dominance import check_objectives, staircase_span


def _point_set(field: str, A: ArrayLike) -> np.ndarray:
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or len(A) == 0 or A.shape[1] == 0:
        raise ModelError(field, f"need a non-empty point set of shape (n, d), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ModelError(field, "points must be finite")
    return A


def _pair(A: ArrayLike, B: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    A, B = _point_set(names[0], A), _point_set(names[1], B)
    if A.shape[1] != B.shape[1]:
        raise ModelError(names[1], f"need {A.shape[1]} columns like {names[0]}, got {B.shape[1]}")
    return A, B


def hausdorff(A: ArrayLike, B: ArrayLike) -> float:
    """Hausdorff distance between the point sets ``A[n, d]`` and ``B[k, d]``."""
    A, B = _pair(A, B, ("A", "B"))
    a_to_b = cKDTree(B).query(A)[0]
    b_to_a = cKDTree(A).query(B)[0]
    return float(max(a_to_b.max(), b_to_a.max()))


def igd(F: ArrayLike, reference: ArrayLike) -> float:
    """Mean over the rows of ``reference`` of the distance to the nearest row of ``F``."""
    F, reference = _pair(F, reference, ("F", "reference"))
    return float(cKDTree(F).query(reference)[0].mean())


def hypervolume(F: ArrayLike, reference_point: ArrayLike) -> float:
    """Exact volume dominated by the rows of ``F[n, m]`` and bounded by ``reference_point`` (m ≤ 3).

    Rows not strictly better than the reference point in every objective contribute nothing.
    """
    F = check_objectives(F)
    r = np.asarray(reference_point, dtype=float)
    m = F.shape[1]
    if r.shape != (m,) or not np.all(np.isfinite(r)):
        raise ModelError("reference_point", f"need {m} finite numbers, got {reference_point!r}")
    if m > 3:
        raise ModelError("F", f"exact hypervolume is implemented for m ≤ 3 objectives, got {m}")
    F = F[np.less(F, r).all(axis=1)]
    if len(F) == 0:
        return 0.0
    if m == 1:
        return float(r[0] - F[:, 0].min())
    if m == 2:
        return _hypervolume_2(F, r)
    return _hypervolume_3(F, r)


def _hypervolume_2(F: np.ndarray, r: np.ndarray) -> float:
    order = np.argsort(F[:, 0], kind="stable")
    x = F[order, 0]
    lowest = np.minimum.accumulate(F[order, 1])
    return float(np.sum((np.append(x[1:], r[0]) - x) * (r[1] - lowest)))


def _hypervolume_3(F: np.ndarray, r: np.ndarray) -> float:
    order = np.argsort(F[:, 2], kind="stable")
    levels = np.append(F[order, 2], r[2])
    xs: list[float] = []  # the 2-D staircase: x increasing, y decreasing
    ys: list[float] = []
    area = volume = 0.0
    for i, (x, y) in enumerate(F[order, :2].tolist()):
        area += _insert(xs, ys, x, y, r[0], r[1])
        volume += area * (levels[i + 1] - levels[i])
    return float(volume)


def _insert(xs: list[float], ys: list[float], x: float, y: float, rx: float, ry: float) -> float:
    """Add (x, y) to the staircase; return the area this adds to the dominated region."""
    span = staircase_span(xs, ys, x, y)
    if span is None:
        return 0.0
    start, stop = span
    # Over [x, next x) the height grows from ry - (old lowest y) to ry - y, segment by segment.
    gain, left, old_y = 0.0, x, (ys[start - 1] if start > 0 else ry)
    for k in range(start, stop):
        gain += (xs[k] - left) * (old_y - y)
        left, old_y = xs[k], ys[k]
    right = xs[stop] if stop < len(xs) else rx
    gain += (right - left) * (old_y - y)
    xs[start:stop] = [x]
    ys[start:stop] = [y]
    return gain
