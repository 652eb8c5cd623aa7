r"""Test problems with known Pareto sets, minimised over a box, and a registry by name.

- ``Quadratics``: :math:`f_i(x) = \|x - a_i\|^2`. Every weighted sum :math:`\sum_i w_i f_i` is
  minimised at :math:`\sum_i w_i a_i`, so the Pareto set is the convex hull of the centres.
- ``ZDT1/2/3``: in :mod:`decide.pareto.zdt`.
- ``DTLZ2`` (Deb, Thiele, Laumanns, Zitzler 2002): :math:`(1+g)` times products of cosines and a
  sine of :math:`\theta_j = x_j \pi/2`, :math:`g = \sum_{i\ge m}(x_i - 1/2)^2`; the front is the
  unit sphere in the positive orthant, reached at :math:`x_{m..d} = 1/2`.
- ``L1Quadratic``: :math:`f_1 = \|x\|_1`, :math:`f_2 = \|x - b\|^2`. Minimising
  :math:`2t\|x\|_1 + \|x - b\|^2` coordinate by coordinate gives the soft threshold
  :math:`x_i(t) = \mathrm{sign}(b_i)\max(|b_i| - t, 0)`, :math:`t \in [0, \max|b_i|]`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from decide.errors import ModelError, UsageError
from decide.pareto.curves import box_around, check_int, even_in_arc_length, simplex_grid
from decide.pareto.problem import Problem, check_points
from decide.pareto.zdt import ZDT1, ZDT2, ZDT3


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
        from decide.envs.pde.heat.tradeoff import HeatTradeoff

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
