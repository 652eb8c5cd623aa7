r"""Descent maps ``g``: one image per test point, every objective smaller (or the point critical).

:class:`SmoothDescent` steps along the common descent direction q of
:mod:`decide.pareto.direction` with an Armijo rule on all objectives,
:math:`f_i(x + h q) \le f_i(x) + \beta h\, \nabla f_i(x)^\top q` for every i, halving h from 1.

:class:`EpsilonDescent` is the non-smooth method of Gebken & Peitz (2021): the direction
:math:`v = -\operatorname{argmin}_{\xi \in \operatorname{conv} W} \|\xi\|` of a growing set W of
subgradients approximates the Goldstein ε-subdifferential. The step :math:`t = \varepsilon / \|v\|`
is taken once it decreases every objective by :math:`c\,\varepsilon\|v\|`; otherwise, for each
objective j that fails, a bisection on :math:`(0, t]` finds a subgradient ξ with
:math:`\langle v, \xi\rangle > -c\|v\|^2`, which is added to W. A point with
:math:`\|v\| \le \delta` is (ε, δ)-critical. ε is tied to the box size: ``epsilon`` times the
radius of the current boxes, and each test point takes several steps; with a single ε-step per
level the points cannot travel along a kink and the covering stalls (the pitfall of the
reference prototype).

Both maps return the images, their objective values and the values at the test points;
evaluations go through an :class:`~decide.pareto.problem.Evaluator`, which counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decide.errors import ModelError
from decide.pareto.direction import common_direction, min_norm_point
from decide.pareto.problem import Evaluator, require_positive


@dataclass(frozen=True)
class SmoothDescent:
    """Projected Armijo steps along the common descent direction, until each point settles.

    The direction is that of the unit gradients (same critical points, less drift along the
    Pareto set than with raw gradients of very different size). A point stops after ``steps``
    steps, or once its step is shorter than ``settle`` times the box radius.
    """

    steps: int = 1
    settle: float = 0.05
    normalize: bool = True
    armijo: float = 1e-4
    backtracks: int = 16

    def __post_init__(self) -> None:
        require_positive(self, "steps", "backtracks")
        if not self.settle >= 0:
            raise ModelError("settle", f"expected a number ≥ 0, got {self.settle!r}")
        if not 0 < self.armijo < 1:
            raise ModelError("armijo", f"expected a number in (0, 1), got {self.armijo!r}")

    def __call__(
        self, ev: Evaluator, X: np.ndarray, radius: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        F0 = ev.f(X)
        X, F = X.copy(), F0.copy()
        moving = np.arange(len(X))
        for _ in range(self.steps):
            if moving.size == 0:
                break
            G = ev.jac(X[moving])
            q = self.direction(ev, X[moving], G)
            Y, FY = self._armijo(ev, X[moving], F[moving], G, q)
            step = np.linalg.norm(Y - X[moving], axis=1)
            X[moving], F[moving] = Y, FY
            moving = moving[step > self.settle * radius]
        return X, F, F0

    def direction(self, ev: Evaluator, X: np.ndarray, G: np.ndarray) -> np.ndarray:
        """The common descent direction at X (of the unit gradients if ``normalize``)."""
        if self.normalize:
            G = G / np.maximum(np.linalg.norm(G, axis=2, keepdims=True), 1e-300)
        q, _ = common_direction(G, ev.problem.lower - X, ev.problem.upper - X)
        return q

    def _armijo(self, ev, X, F, G, q) -> tuple[np.ndarray, np.ndarray]:
        active = np.linalg.norm(q, axis=1) > 1e-14 * (1.0 + np.linalg.norm(X, axis=1))
        X, F = X.copy(), F.copy()
        h = 1.0
        for _ in range(self.backtracks):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            trial = np.clip(X[idx] + h * q[idx], ev.problem.lower, ev.problem.upper)
            F_trial = ev.f(trial)
            decrease = np.einsum("nmd,nd->nm", G[idx], trial - X[idx])
            ok = np.all(F_trial <= F[idx] + self.armijo * decrease, axis=1)
            X[idx[ok]], F[idx[ok]] = trial[ok], F_trial[ok]
            active[idx[ok]] = False
            h *= 0.5
        return X, F


@dataclass(frozen=True)
class EpsilonDescent:
    """Gebken & Peitz ε-subdifferential descent, ``steps`` steps of length ε per test point."""

    steps: int = 5
    epsilon: float = 0.25
    delta: float = 1e-3
    c: float = 0.25
    bisections: int = 12
    max_subgradients: int = 30
    expand: int = 8

    def __post_init__(self) -> None:
        require_positive(self, "steps", "epsilon", "delta", "bisections", "max_subgradients")
        if not 0 < self.c < 1:
            raise ModelError("c", f"expected a number in (0, 1), got {self.c!r}")

    def __call__(
        self, ev: Evaluator, X: np.ndarray, radius: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not radius > 0:
            raise ModelError("radius", f"expected a positive box radius, got {radius!r}")
        F = ev.f(X)
        Y, FY = X.copy(), F.copy()
        moving = np.arange(len(X))
        for _ in range(self.steps):  # all points in lockstep, so evaluations come in batches
            if moving.size == 0:
                break
            Y[moving], FY[moving], moved = self._step(ev, Y[moving], FY[moving], radius)
            moving = moving[moved]
        return Y, FY, F

    def _step(self, ev: Evaluator, X: np.ndarray, F: np.ndarray, radius: float):
        """One ε-step from every point; ``moved`` is False where a point is (ε, δ)-critical or
        no step was found."""
        eps = self.epsilon * radius
        W = [list(g) for g in ev.jac(X)]
        X_new, F_new = X.copy(), F.copy()
        moved = np.zeros(len(X), dtype=bool)
        searching = np.arange(len(X))
        for _ in range(self.max_subgradients):
            V = np.array([-min_norm_point(np.array(W[k])) for k in searching]).reshape(
                -1, X.shape[1]
            )
            norm = np.linalg.norm(V, axis=1)
            keep = norm > self.delta
            searching, V, norm = searching[keep], V[keep], norm[keep]
            if searching.size == 0:
                break
            t = eps / norm
            trial = self._clipped(ev, X[searching] + t[:, None] * V)
            f_trial = ev.f(trial)
            failing = f_trial > F[searching] - (self.c * t * norm**2)[:, None]
            ok = ~failing.any(axis=1)
            done = searching[ok]
            X_new[done], F_new[done] = self._expand(
                ev, X[done], F[done], V[ok], t[ok], trial[ok], f_trial[ok]
            )
            moved[done] = True
            pairs = np.argwhere(failing)
            xi = self._new_subgradients(ev, X[searching], F[searching], V, t, pairs)
            for (row, _), g in zip(pairs, xi, strict=True):
                W[searching[row]].append(g)
            searching, V = searching[~ok], V[~ok]
        return X_new, F_new, moved

    @staticmethod
    def _clipped(ev: Evaluator, Y: np.ndarray) -> np.ndarray:
        return np.clip(Y, ev.problem.lower, ev.problem.upper)

    def _expand(self, ev, X, F, V, t, accepted, f_accepted):
        """Double each step while it still decreases every objective sufficiently."""
        accepted, f_accepted = accepted.copy(), f_accepted.copy()
        norm2 = (V * V).sum(axis=1)
        growing = np.arange(len(X))
        for _ in range(self.expand):
            if growing.size == 0:
                break
            t[growing] *= 2.0
            trial = self._clipped(ev, X[growing] + t[growing, None] * V[growing])
            f_trial = ev.f(trial)
            bound = F[growing] - (self.c * t[growing] * norm2[growing])[:, None]
            good = np.all(f_trial <= bound, axis=1) & np.any(trial != accepted[growing], axis=1)
            accepted[growing[good]], f_accepted[growing[good]] = trial[good], f_trial[good]
            growing = growing[good]
        return accepted, f_accepted

    def _new_subgradients(self, ev, X, F, V, t, pairs) -> np.ndarray:
        """For each (point, objective j) in ``pairs``: a subgradient ξ of f_j on the segment
        (x, x + t v] with ⟨v, ξ⟩ > −c‖v‖², by bisection, all pairs in lockstep."""
        if len(pairs) == 0:
            return np.empty((0, X.shape[1]))
        row, j = pairs[:, 0], pairs[:, 1]
        x, fx, v = X[row], F[row, j], V[row]
        norm2 = (v * v).sum(axis=1)
        a, b = np.zeros(len(pairs)), t[row].copy()
        excess_b = ev.f(x + b[:, None] * v)[np.arange(len(pairs)), j] - fx + self.c * b * norm2
        xi = np.zeros_like(x)
        open_ = np.arange(len(pairs))
        for _ in range(self.bisections):
            if open_.size == 0:
                break
            s = 0.5 * (a[open_] + b[open_])
            points = x[open_] + s[:, None] * v[open_]
            xi[open_] = ev.jac(points)[np.arange(open_.size), j[open_]]
            found = (v[open_] * xi[open_]).sum(axis=1) > -self.c * norm2[open_]
            rest, s = open_[~found], s[~found]
            if rest.size:
                f_s = ev.f(points[~found])[np.arange(rest.size), j[rest]]
                excess_s = f_s - fx[rest] + self.c * s * norm2[rest]
                left = excess_b[rest] > excess_s
                a[rest[left]] = s[left]
                b[rest[~left]], excess_b[rest[~left]] = s[~left], excess_s[~left]
            open_ = rest
        return xi


def weakly_dominated(
    ev: Evaluator, X: np.ndarray, values: np.ndarray, *, step: float
) -> tuple[np.ndarray]:
    """Whether a short step dominates each point, where one exists to first order.

    The step, of length ``step``, follows the direction d that minimises :math:`\\sum_i g_i^\top d`
    subject to :math:`g_i^\top d \\le 0` for every i, inside Q and :math:`\\|d\\|_\\infty \\le 1`
    (a linear programme). At Pareto points with positive weights d = 0. At the boundary of the
    Pareto set d ≠ 0, but the step fails by second order. At weakly optimal points (faces on
    which some objectives vanish) the step succeeds, and the point is flagged.
    """
    G = ev.jac(X)
    lower, upper = ev.problem.lower, ev.problem.upper
    dominated = np.zeros(len(X), dtype=bool)
    _, alpha = common_direction(G, lower - X, upper - X)
    for k in np.flatnonzero(alpha.min(axis=1) < 1e-3):  # positive weights: d = 0, no LP needed
        d = _improving_direction(G[k], X[k] <= lower, X[k] >= upper)
        if d is None:
            continue
        y = np.clip(X[k] + step * d / np.linalg.norm(d), lower, upper)
        f = ev.f(y[None])[0]
        tol = 1e-12 * (1.0 + np.abs(values[k]))
        dominated[k] = bool(np.all(f <= values[k] + tol) and np.any(f < values[k] - tol))
    return (dominated,)


def _improving_direction(G: np.ndarray, at_lower: np.ndarray, at_upper: np.ndarray):
    """The direction of :func:`weakly_dominated`, or None when no objective improves.

    One LP per objective finds which can improve while none gets worse (to first order); a last
    one maximises the smallest of their improvements, so that the step is not on the edge of the
    cone, where an improvable objective is flat to first order and may grow at second order.
    """
    from scipy.optimize import linprog

    bounds = [
        (0.0 if low else -1.0, 0.0 if high else 1.0)
        for low, high in zip(at_lower, at_upper, strict=True)
    ]
    zero = np.zeros(len(G))
    scale = 1e-9 * (1.0 + np.abs(G).sum())
    improving = np.zeros(len(G))
    for i in range(len(G)):  # can objective i improve while none gets worse?
        best = linprog(G[i], A_ub=G, b_ub=zero, bounds=bounds, method="highs")
        improving[i] = float(best.success and best.fun < -scale)
    if not improving.any():
        return None
    A = np.hstack([G, improving[:, None]])  # g_i·d + s ≤ 0 where i improves, g_j·d ≤ 0 elsewhere
    c = np.zeros(G.shape[1] + 1)
    c[-1] = -1.0
    second = linprog(c, A_ub=A, b_ub=zero, bounds=[*bounds, (0.0, 1.0)], method="highs")
    return second.x[:-1] if second.success else None
