r"""Test problems with known Pareto sets, minimised over a box, and a registry by name.

- ``Quadratics``: :math:`f_i(x) = \|x - a_i\|^2`. Every weighted sum :math:`\sum_i w_i f_i` is
  minimised at :math:`\sum_i w_i a_i`, so the Pareto set is the convex hull of the centres.
- ``ZDT1/2/3`` (Zitzler, Deb, Thiele 2000): :math:`f_1 = x_1`, :math:`f_2 = g\,h(f_1, g)` with
  :math:`g = 1 + 9/(d-1) \sum_{i\ge2} x_i`; the Pareto set is :math:`g = 1` (:math:`x_{2..d} = 0`)
  and, for ZDT3, only those :math:`x_1` whose value of h is below h at every smaller :math:`x_1`.
- ``DTLZ2`` (Deb, Thiele, Laumanns, Zitzler 2002): :math:`(1+g)` times products of cosines and a
  sine of :math:`\theta_j = x_j \pi/2`, :math:`g = \sum_{i\ge m}(x_i - 1/2)^2`; the front is the
  unit sphere in the positive orthant, reached at :math:`x_{m..d} = 1/2`.
- ``L1Quadratic``: :math:`f_1 = \|x\|_1`, :math:`f_2 = \|x - b\|^2`. Minimising
  :math:`2t\|x\|_1 + \|x - b\|^2` coordinate by coordinate gives the soft threshold
  :math:`x_i(t) = \mathrm{sign}(b_i)\max(|b_i| - t, 0)`, :math:`t \in [0, \max|b_i|]`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache, partial

import numpy as np
from scipy.optimize import brentq

from decide.errors import ModelError, UsageError
from decide.pareto.problem import Problem, check_points

CURVE_POINTS = 20001  # polyline resolution when spreading points by arc length


def check_int(field: str, value: int, minimum: int) -> int:
    """``value`` as an ``int`` ≥ ``minimum``."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= minimum
    if not ok:
        raise ModelError(field, f"need an integer ≥ {minimum}, got {value!r}")
    return int(value)


def box_around(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[-2, 2]^d, enlarged where needed so every point is at least 1 inside it."""
    return np.minimum(-2.0, points.min(axis=0) - 1.0), np.maximum(2.0, points.max(axis=0) + 1.0)


def simplex_grid(m: int, n: int) -> np.ndarray:
    """Das–Dennis weights ``W[k, m]`` (rows ≥ 0 summing to 1): the coarsest grid with ≥ n rows.

    The grid holds every ``c / H`` with non-negative integers ``c`` summing to ``H``; n = 1 gives
    the centroid.
    """
    if n == 1:
        return np.full((1, m), 1.0 / m)
    H = 1
    while math.comb(H + m - 1, m - 1) < n:
        H += 1
    counts = np.zeros((1, 0), dtype=int)
    left = np.array([H])
    for _ in range(m - 1):  # choose each coordinate in turn from 0..left
        reps = left + 1
        parent = np.repeat(np.arange(len(counts)), reps)
        value = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        counts = np.column_stack([counts[parent], value])
        left = left[parent] - value
    return np.column_stack([counts, left])[::-1] / H  # starting at the first vertex


def cumulative_length(P: np.ndarray) -> np.ndarray:
    """Arc length from ``P[0]`` to each vertex of the polyline ``P[k]``."""
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(P, axis=0), axis=1))])


def even_in_arc_length(t: np.ndarray, P: np.ndarray, n: int) -> np.ndarray:
    """Parameters of n points evenly spaced in arc length along the polyline ``P[k]`` at t[k]."""
    s = cumulative_length(P)
    return np.interp(np.linspace(0.0, s[-1], n), s, t)


class Quadratics(Problem):
    """``f_i(x) = ‖x − a_i‖²`` for the rows ``a_i`` of ``centres``; Pareto set conv{a_i}."""

    name = "quadratics"

    def __init__(
        self, centres: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None
    ):
        a = np.array(centres, dtype=float)
        if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1 or not np.all(np.isfinite(a)):
            raise ModelError("centres", f"need finite centres of shape (m ≥ 2, d ≥ 1), got {a}")
        lo, hi = box_around(a)
        lo = lo if lower is None else np.array(lower, dtype=float)
        hi = hi if upper is None else np.array(upper, dtype=float)
        if lo.shape != (a.shape[1],) or hi.shape != lo.shape or not np.all(lo < hi):
            raise ModelError("lower", f"need lower < upper, both of shape ({a.shape[1]},)")
        if not np.all((a >= lo) & (a <= hi)):
            raise ModelError("centres", "must lie in [lower, upper] (their hull is the Pareto set)")
        self.centres, self.lower, self.upper, self.n_obj = a, lo, hi, len(a)

    @classmethod
    def default(cls, dim: int = 2, n_obj: int = 2) -> Quadratics:
        """Fixed, non-symmetric centres in [-1, 1]^dim (domain [-2, 2]^dim); n_obj is 2 or 3."""
        dim = check_int("dim", dim, 1)
        if n_obj not in (2, 3):
            raise ModelError("n_obj", f"the default quadratics have 2 or 3 objectives, got {n_obj}")
        head = np.array([[-1.0, -0.5], [1.0, 0.5], [0.25, 1.0]])
        tail = np.array([0.0, 0.2, -0.3])
        centres = np.column_stack([head, np.repeat(tail[:, None], max(dim - 2, 0), axis=1)])
        return cls(centres[:n_obj, :dim])

    def f(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        return np.sum((X[:, None, :] - self.centres) ** 2, axis=2)

    def jac(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        return 2.0 * (X[:, None, :] - self.centres)

    def pareto_set(self, n: int) -> np.ndarray:
        """Barycentric grid of about n points (exactly n for two centres) on the hull."""
        return simplex_grid(self.n_obj, check_int("n", n, 1)) @ self.centres


class ZDT(Problem):
    """Shared ZDT structure; subclasses give :math:`f_2(f_1, g)` and its two partials."""

    def __init__(self, dim: int = 6):
        d = check_int("dim", dim, 2)
        self.lower, self.upper = np.zeros(d), np.ones(d)

    def g(self, X: np.ndarray) -> np.ndarray:
        return 1.0 + 9.0 / (self.dim - 1) * X[:, 1:].sum(axis=1)

    def f(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        return np.column_stack([X[:, 0], self.f2(X[:, 0], self.g(X))])

    def jac(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        d_f1, d_g = self.f2_partials(X[:, 0], self.g(X))
        J = np.zeros((len(X), 2, self.dim))
        J[:, 0, 0] = 1.0
        J[:, 1, 0] = d_f1
        J[:, 1, 1:] = (d_g * 9.0 / (self.dim - 1))[:, None]
        return J

    def pareto_set(self, n: int) -> np.ndarray:
        """n points with x_{2..d} = 0, evenly spaced along the front's arc length."""
        x1 = self.front_x1(check_int("n", n, 1))
        return np.column_stack([x1, np.zeros((len(x1), self.dim - 1))])

    def front_pieces(self) -> list[np.ndarray]:
        """The Pareto x1 set as fine grids, one per connected piece (default: all of [0, 1])."""
        return [np.linspace(0.0, 1.0, CURVE_POINTS)]

    def front_x1(self, n: int) -> np.ndarray:
        pieces = self.front_pieces()
        along = [cumulative_length(np.column_stack([t, self.f2(t, 1.0)])) for t in pieces]
        lengths = np.array([a[-1] for a in along])
        ends = np.cumsum(lengths)
        s = np.linspace(0.0, ends[-1], n)
        # a point at a join belongs to the earlier piece: a later piece's left end is dominated
        piece = np.minimum(np.searchsorted(ends, s, side="left"), len(pieces) - 1)
        x1 = np.empty(n)
        for k, t in enumerate(pieces):
            x1[piece == k] = np.interp(s[piece == k] - (ends[k] - lengths[k]), along[k], t)
        return x1


def sqrt_safe(f1: np.ndarray) -> np.ndarray:
    """x1 clipped below at 1e-12, where d sqrt(x1)/dx1 is finite."""
    return np.maximum(f1, 1e-12)


class ZDT1(ZDT):
    """ZDT1: h = 1 − sqrt(f1/g), convex front f2 = 1 − sqrt(f1).

    ``jac`` evaluates the x1-derivative at max(x1, 1e-12): it is infinite at x1 = 0.
    """

    name = "zdt1"

    def f2(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g - np.sqrt(f1 * g)

    def f2_partials(self, f1: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = sqrt_safe(f1) / g
        return -0.5 / np.sqrt(r), 1.0 - 0.5 * np.sqrt(r)

    def front_pieces(self) -> list[np.ndarray]:
        return [np.linspace(0.0, 1.0, CURVE_POINTS) ** 2]  # dense where the front is steep


class ZDT2(ZDT):
    """ZDT2: h = 1 − (f1/g)², concave front f2 = 1 − f1²."""

    name = "zdt2"

    def f2(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g - f1**2 / g

    def f2_partials(self, f1: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -2.0 * f1 / g, 1.0 + (f1 / g) ** 2


class ZDT3(ZDT):
    """ZDT3: h = 1 − sqrt(f1/g) − (f1/g) sin(10π f1), a front in five pieces.

    ``jac`` evaluates the x1-derivative at max(x1, 1e-12): it is infinite at x1 = 0.
    """

    name = "zdt3"

    def f2(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g - np.sqrt(f1 * g) - f1 * np.sin(10 * np.pi * f1)

    def f2_partials(self, f1: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = sqrt_safe(f1)
        wave = np.sin(10 * np.pi * f1) + 10 * np.pi * f1 * np.cos(10 * np.pi * f1)
        return -0.5 * np.sqrt(g / x) - wave, 1.0 - 0.5 * np.sqrt(x / g)

    def front_pieces(self) -> list[np.ndarray]:
        u = np.linspace(0.0, 1.0, CURVE_POINTS)
        return [a + (b - a) * (u**2 if a == 0 else u) for a, b in zdt3_pareto_intervals()]


def zdt3_h(t, level=0.0):
    return 1.0 - np.sqrt(t) - t * np.sin(10 * np.pi * t) - level


def zdt3_dh(t):
    return -0.5 / np.sqrt(t) - np.sin(10 * np.pi * t) - 10 * np.pi * t * np.cos(10 * np.pi * t)


@cache
def zdt3_pareto_intervals() -> np.ndarray:
    """``[[a_k, b_k]]``: the x1 pieces of ZDT3's Pareto set, found numerically to ~1e-12.

    On g = 1 a point x1 is Pareto optimal iff h(x1) < h(s) for every s < x1, so the pieces are
    the runs of new minima of h: each ends at a local minimum (h' = 0) and the next starts where
    h falls below that minimum again. A fine grid finds the runs, root finding their ends.
    """
    t = np.linspace(0.0, 1.0, 200001)
    h = zdt3_h(t)
    record = h < np.minimum.accumulate(np.concatenate([[np.inf], h[:-1]]))
    edges = np.diff(np.concatenate([[0], record.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    intervals = []
    for start, stop in zip(starts, stops, strict=True):
        if start == 0:
            a = 0.0
        else:
            level = zdt3_h(intervals[-1][1])
            a = brentq(zdt3_h, t[start - 1], t[start + 1], args=(level,), xtol=1e-14)
        b = 1.0 if stop == len(t) - 1 else brentq(zdt3_dh, t[stop - 1], t[stop + 1], xtol=1e-14)
        intervals.append((a, b))
    result = np.array(intervals)
    result.setflags(write=False)
    return result


class DTLZ2(Problem):
    """DTLZ2 on [0, 1]^d with m objectives and k = d − m + 1 distance variables."""

    name = "dtlz2"

    def __init__(self, dim: int = 6, n_obj: int = 3):
        self.n_obj = check_int("n_obj", n_obj, 2)
        d = check_int("dim", dim, self.n_obj)
        self.lower, self.upper = np.zeros(d), np.ones(d)
        j, k = np.arange(self.n_obj - 1), np.arange(self.n_obj)[:, None]
        self.cos_mask = j < self.n_obj - 1 - k  # objective k has cos θ_j for these j …
        self.sin_mask = (j == self.n_obj - 1 - k) & (k > 0)  # … and sin θ_j for this one

    def factors(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The factors ``[n, m, m−1]`` whose products are f/(1+g), and their θ-derivatives."""
        theta = X[:, None, : self.n_obj - 1] * (np.pi / 2)
        c, s = np.cos(theta), np.sin(theta)
        value = np.where(self.cos_mask, c, np.where(self.sin_mask, s, 1.0))
        slope = np.where(self.cos_mask, -s, np.where(self.sin_mask, c, 0.0))
        return value, slope

    def f(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        g = np.sum((X[:, self.n_obj - 1 :] - 0.5) ** 2, axis=1)
        return (1.0 + g)[:, None] * np.prod(self.factors(X)[0], axis=2)

    def jac(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        m = self.n_obj
        value, slope = self.factors(X)
        g = np.sum((X[:, m - 1 :] - 0.5) ** 2, axis=1)
        J = np.empty((len(X), m, self.dim))
        for j in range(m - 1):  # product rule: factor j replaced by its derivative
            swapped = value.copy()
            swapped[..., j] = slope[..., j]
            J[:, :, j] = (1.0 + g)[:, None] * np.prod(swapped, axis=2) * (np.pi / 2)
        J[:, :, m - 1 :] = np.prod(value, axis=2)[:, :, None] * 2.0 * (X[:, None, m - 1 :] - 0.5)
        return J

    def pareto_set(self, n: int) -> np.ndarray:
        """Das–Dennis directions (about n) projected on the unit sphere, mapped back to x.

        From f_m = sin θ_1, f_{m−1} = cos θ_1 sin θ_2, …: θ_j = atan2(u_{m+1−j}, ‖u_{1..m−j}‖).
        """
        m = self.n_obj
        W = simplex_grid(m, check_int("n", n, 1))
        U = W / np.linalg.norm(W, axis=1, keepdims=True)
        radius = np.sqrt(np.cumsum(U**2, axis=1))
        opposite = m - 1 - np.arange(m - 1)
        theta = np.arctan2(U[:, opposite], radius[:, opposite - 1])
        return np.column_stack([theta * (2 / np.pi), np.full((len(W), self.dim - m + 1), 0.5)])


class L1Quadratic(Problem):
    """``f1 = ‖x‖₁`` (non-smooth), ``f2 = ‖x − b‖²``; default b_i = 1/i (b = (1, 0.5) in 2-d).

    ``jac`` returns the subgradient sign(x) of f1 (0 at a kink) and the gradient 2(x − b).
    """

    name = "l1-quadratic"
    smooth = False

    def __init__(self, b: np.ndarray | None = None, dim: int | None = None):
        if b is None:
            b = 1.0 / np.arange(1, check_int("dim", 2 if dim is None else dim, 1) + 1)
        b = np.array(b, dtype=float)
        if b.ndim != 1 or len(b) == 0 or not np.all(np.isfinite(b)):
            raise ModelError("b", f"need a non-empty finite vector, got {b}")
        if dim is not None and dim != len(b):
            raise ModelError("dim", f"b has {len(b)} entries but dim={dim}")
        self.b = b
        self.lower, self.upper = box_around(np.vstack([b, np.zeros_like(b)]))

    def f(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        return np.column_stack([np.abs(X).sum(axis=1), np.sum((X - self.b) ** 2, axis=1)])

    def jac(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        return np.stack([np.sign(X), 2.0 * (X - self.b)], axis=1)

    def soft_threshold(self, t: np.ndarray) -> np.ndarray:
        return np.sign(self.b) * np.maximum(np.abs(self.b) - t[:, None], 0.0)

    def pareto_set(self, n: int) -> np.ndarray:
        """n points evenly spaced in arc length along the soft-threshold path from b to 0."""
        knots = np.unique(np.concatenate([[0.0], np.abs(self.b)]))  # the path is linear between
        t = even_in_arc_length(knots, self.soft_threshold(knots), check_int("n", n, 1))
        return self.soft_threshold(t)


def heat_factory(cost: str) -> Callable[..., Problem]:
    """A factory importing the PDE problem only when called (it needs the FEM stack)."""

    def make(dim: int | None = None) -> Problem:
        from decide.envs.pde.heat_tradeoff import HeatTradeoff

        return HeatTradeoff(cost=cost) if dim is None else HeatTradeoff(cost=cost, dim=dim)

    return make


PROBLEMS: dict[str, Callable[..., Problem]] = {
    "quadratics": Quadratics.default,
    "quadratics3": partial(Quadratics.default, n_obj=3),
    "zdt1": ZDT1,
    "zdt2": ZDT2,
    "zdt3": ZDT3,
    "dtlz2": DTLZ2,
    "l1-quadratic": L1Quadratic,
    "heat": heat_factory("l2"),
    "heat-l1": heat_factory("l1"),
}


def make_problem(name: str, *, dim: int | None = None) -> Problem:
    """The problem registered as ``name`` (see :data:`PROBLEMS`), in ``dim`` variables if given."""
    if name not in PROBLEMS:
        raise UsageError(f"unknown problem {name!r}; choose one of {', '.join(PROBLEMS)}")
    if dim is None:
        return PROBLEMS[name]()
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
        raise UsageError(f"dim must be an integer ≥ 1, got {dim!r}")
    return PROBLEMS[name](dim=int(dim))
