r"""The ZDT problems (Zitzler, Deb & Thiele 2000) on :math:`[0, 1]^d`.

:math:`f_1 = x_1`, :math:`f_2 = g\,h(f_1, g)` with :math:`g = 1 + 9/(d-1) \sum_{i\ge2} x_i`; the
Pareto set is :math:`g = 1` (:math:`x_{2..d} = 0`) and, for ZDT3, only those :math:`x_1` whose
value of h is below h at every smaller :math:`x_1`.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.optimize import brentq

from decide.pareto.curves import CURVE_POINTS, check_int, cumulative_length
from decide.pareto.problem import Problem, check_points


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
