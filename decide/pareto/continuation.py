r"""Continuation: trace the Pareto-critical manifold with a predictor–corrector.

The Kuhn–Tucker points of :math:`\min_{x \in Q} (f_1, \dots, f_m)` solve (Hillermeier 2001)

.. math:: H(x, \alpha) = \begin{pmatrix} \sum_i \alpha_i \partial_F f_i(x) \\ \sum_i \alpha_i - 1
          \end{pmatrix} = 0, \qquad \alpha \ge 0,

where F are the free coordinates; the active ones sit on a face of Q with the multiplier
:math:`\sum_i \alpha_i \partial_j f_i` pointing out of Q (≥ 0 on a lower bound, ≤ 0 on an
upper one).
Generically this is an (m − 1)-dimensional manifold in :math:`(x_F, \alpha)`, whose
tangent space is the kernel of

.. math:: DH = \begin{pmatrix} \sum_i \alpha_i \nabla^2_{FF} f_i & \partial_F f_1 \cdots
          \partial_F f_m \\ 0 & 1 \cdots 1 \end{pmatrix}.

The predictor steps along a tangent direction, at most ``step`` in x and ``front_step`` in the
objectives; the corrector is Newton's method with the minimum-norm step
:math:`z \leftarrow z - DH^+ H(z)`. A coordinate that leaves Q is fixed on its face, a face whose
multiplier changes sign is released, and a weight that leaves the simplex is held at zero (the
manifold's boundary). Two objectives: the curve is followed both ways from the start until it
ends. Three objectives: a breadth-first search over the boxes of a fixed grid, stepping along ±
each tangent direction from every new box that no traced point dominates (critical but
dominated regions, such as weakly optimal faces, are not explored). Traced points dominated by
others are dropped from the result.

Start points are Pareto points: solutions of ε-constraint problems (minimise the last
objective with the others bounded, by SLSQP); ``starts`` > 1 spreads the bounds between the
anchors, which reaches the pieces of a disconnected Pareto set. Hessians
come from central differences of ``jac`` in the free coordinates (2|F| gradient evaluations,
counted); a predicted point inherits its parent's Hessians while the faces stay the same, and
they are recomputed when Newton's method stalls with them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

import numpy as np

from decide.contract import Callback, Seed, stop_requested
from decide.errors import DecideError, ModelError
from decide.pareto.boxes import BoxSet
from decide.pareto.dominance import non_dominated
from decide.pareto.problem import Evaluator, Problem, require_positive
from decide.pareto.report import ParetoProgress
from decide.pareto.result import ParetoSet
from decide.pareto.starts import start_points


@dataclass
class _Point:
    """A point of the manifold: x, the weights α and the active faces (-1 lower, +1 upper)."""

    x: np.ndarray
    alpha: np.ndarray
    face: np.ndarray
    hessians: np.ndarray | None = None  # ∇²f_i in the free coordinates, possibly inherited
    gradient: np.ndarray | None = None  # ∇f_i at x, once x is corrected

    @property
    def free(self) -> np.ndarray:
        return self.face == 0


@dataclass(frozen=True)
class Continuation:
    """Predictor–corrector continuation; points are recorded on a grid of ``2**depth`` cells."""

    depth: int = 6
    step: float | None = None
    front_step: float | None = None
    tol: float = 1e-10
    newton_steps: int = 12
    max_points: int = 5000
    starts: int = 3

    method = "continuation"

    def __post_init__(self) -> None:
        require_positive(self, "depth", "newton_steps", "max_points", "starts", "tol")
        require_positive(self, *(n for n in ("step", "front_step") if getattr(self, n) is not None))

    def solve(
        self,
        problem: Problem,
        *,
        seed: Seed = None,
        callback: Callback | None = None,
    ) -> ParetoSet:
        """Trace the critical set from ε-constraint start points until every start's curve (or
        surface) is traced. After each start ``callback`` sees the points so far as a
        :class:`~decide.pareto.report.ParetoProgress` (level = start) and may stop the tracing
        by returning True; Ctrl-C also keeps the traces finished before it."""
        if not (problem.has_jac and problem.smooth) or problem.n_obj not in (2, 3):
            raise ModelError(
                "problem", "continuation needs a smooth problem with 2 or 3 objectives"
            )
        ev = Evaluator(problem)
        grid = BoxSet.domain(problem.lower, problem.upper)
        depth = np.full(problem.dim, self.depth)
        step = self.step or float(np.min(grid.widths / 2.0**depth))
        rng = np.random.default_rng(seed)
        X, F, reason = self._trace(ev, rng, grid, depth, step, callback)
        if len(X) == 0:
            raise DecideError("continuation: the corrector did not converge at any start point")
        keep = non_dominated(F)
        X, F = X[keep], F[keep]
        boxes = self._covered(grid, depth, X)
        return ParetoSet(
            boxes,
            X,
            F,
            ev.counts,
            problem.name,
            self.method,
            reason,
            asdict(self),
            (len(boxes),),
        )

    def _trace(self, ev: Evaluator, rng, grid: BoxSet, depth, step: float, callback):
        """The points traced from every start not already covered, their values, and why the
        tracing stopped (a trace that reached ``max_points`` is an iteration limit)."""
        problem = ev.problem
        X, F = np.empty((0, problem.dim)), np.empty((0, problem.n_obj))
        reason = "converged"
        try:
            for level, start in enumerate(self._starts(ev, rng), start=1):
                if start is None or np.any(start.alpha <= 1e-6) or not start.free.any():
                    continue  # no start, or one at the manifold's boundary (weakly optimal)
                if len(X) and self._covered(grid, depth, X).contains(start.x[None])[0]:
                    continue
                if problem.n_obj == 2:
                    traced = self._march(ev, start, step)
                    values = ev.f(np.array([p.x for p in traced]))
                else:
                    traced, values = self._search(ev, start, grid, depth, step)
                if len(traced) >= self.max_points:
                    reason = "iteration limit"
                X = np.concatenate([X, [p.x for p in traced]])
                F = np.concatenate([F, values])
                report = ParetoProgress(
                    level, self.starts, self._covered(grid, depth, X), X, F, ev.counts
                )
                if stop_requested(callback, report) and level < self.starts:
                    reason = "callback"
                    break
        except KeyboardInterrupt:
            if len(X) == 0:
                raise
            reason = "interrupted"
        return X, F, reason

    @staticmethod
    def _covered(grid: BoxSet, depth: np.ndarray, X: np.ndarray) -> BoxSet:
        return BoxSet.cover(grid.lower, grid.upper, depth, X)

    def _starts(self, ev: Evaluator, rng: np.random.Generator):
        """The corrected start points (None where the corrector fails)."""
        for x, alpha, face in start_points(ev, rng, self.starts):
            yield self._corrected(ev, _Point(x, alpha, face))

    # -- two objectives: follow the curve both ways -------------------------------------------
    def _march(self, ev: Evaluator, start: _Point, step: float) -> list[_Point]:
        traced = [start]
        for sign in (1.0, -1.0):
            point, heading = start, None
            while len(traced) < self.max_points:
                moved = self._advance(ev, point, step, sign, heading)
                if moved is None:
                    break
                new, heading = moved
                traced.append(new)
                if np.any(new.alpha <= 0):
                    break
                point = new
        return traced

    def _advance(self, ev, point: _Point, step: float, sign: float, heading):
        """The next corrected point along the curve, and the direction taken."""
        tangents = self._tangents(ev, point)
        if not tangents:
            return None
        direction = tangents[0]
        if heading is not None:
            sign = 1.0 if direction[: ev.problem.dim] @ heading >= 0 else -1.0
        direction = sign * direction
        h = step
        if self.front_step is not None:
            speed = np.linalg.norm(point.gradient @ direction[: ev.problem.dim])
            h = min(h, self.front_step / max(speed, 1e-300))
        for _ in range(8):
            new = self._corrected(ev, self._shifted(ev, point, h * direction))
            if new is not None:
                moved = new.x - point.x
                if np.linalg.norm(moved) <= 1e-9 * step:
                    return None
                return new, moved
            h *= 0.5
        return None

    # -- three objectives: breadth-first search over boxes -------------------------------------
    def _search(self, ev, start: _Point, grid: BoxSet, depth: np.ndarray, step: float):
        """The traced points and their values (the values decide which points to expand)."""

        def key(x: np.ndarray) -> bytes:
            cells = np.floor((x - grid.lower) / (grid.upper - grid.lower) * 2.0**depth)
            return np.clip(cells, 0, 2.0**depth - 1).astype(np.int64).tobytes()

        seen, traced, queue = {key(start.x)}, [start], deque([start])
        values = [ev.f(start.x[None])[0]]
        while queue and len(traced) < self.max_points:
            point = queue.popleft()
            for direction in self._tangents(ev, point):
                for sign in (1.0, -1.0):
                    predicted = self._shifted(ev, point, sign * step * direction)
                    if key(predicted.x) in seen:
                        continue  # the corrector would land in a box already traced
                    new = self._corrected(ev, predicted)
                    if new is None or key(new.x) in seen:
                        continue
                    seen.add(key(new.x))
                    traced.append(new)
                    values.append(ev.f(new.x[None])[0])
                    if not _dominated(values[-1], np.array(values[:-1])):
                        queue.append(new)
        return traced, np.array(values)

    # -- the manifold ---------------------------------------------------------------------------
    @staticmethod
    def _shifted(ev: Evaluator, point: _Point, delta: np.ndarray) -> _Point:
        """The predictor: it keeps the parent's Hessians while its faces stay the same."""
        d = ev.problem.dim
        shifted = _Point(point.x + delta[:d], point.alpha + delta[d:], point.face.copy())
        if not _clip(ev.problem, shifted):
            shifted.hessians = point.hessians
        return shifted

    def _tangents(self, ev: Evaluator, point: _Point) -> list[np.ndarray]:
        """An orthonormal basis (in x) of the tangent space, as full (x, α) vectors."""
        d, m = ev.problem.dim, ev.problem.n_obj
        free = point.free
        if not free.any():
            return []
        if point.hessians is None:
            point.hessians = self._hessians(ev, point)
        kernel = np.linalg.svd(_jacobian(point, point.gradient))[2][-(m - 1) :]
        x_part = kernel[:, : free.sum()]
        basis, _ = np.linalg.qr(x_part.T)
        out = []
        for k in range(min(m - 1, basis.shape[1])):
            reduced = np.linalg.lstsq(x_part.T, basis[:, k], rcond=None)[0] @ kernel
            full = np.zeros(d + m)
            full[:d][free] = reduced[: free.sum()]
            full[d:] = reduced[free.sum() :]
            out.append(full)
        return out

    @staticmethod
    def _hessians(ev: Evaluator, point: _Point) -> np.ndarray:
        """∇²f_i in the free coordinates by central differences of the gradients."""
        free = np.flatnonzero(point.free)
        h = 1e-5 * (1.0 + np.abs(point.x[free]))
        shifts = np.zeros((2 * free.size, ev.problem.dim))
        shifts[np.arange(free.size), free] = h
        shifts[free.size + np.arange(free.size), free] = -h
        J = ev.jac(point.x + shifts)
        hessians = (J[: free.size] - J[free.size :])[:, :, free] / (2.0 * h[:, None, None])
        hessians = np.moveaxis(hessians, 1, 0)  # [i, j, k] = ∂_j ∂_k f_i
        return 0.5 * (hessians + np.swapaxes(hessians, 1, 2))

    def _corrected(self, ev: Evaluator, point: _Point) -> _Point | None:
        """Newton on H; a face whose multiplier pulls into Q is released and Newton rerun."""
        point = _Point(point.x.copy(), point.alpha.copy(), point.face.copy(), point.hessians)
        for _ in range(ev.problem.dim + 1):
            G = self._newton(ev, point)
            if G is None:
                return None
            multiplier = point.alpha @ G
            inwards = point.face * multiplier > 1e-9 * (1.0 + np.abs(multiplier))
            if not inwards.any():
                point.gradient = G
                return point
            point.face[inwards] = 0
            point.hessians = None
        return None

    def _newton(self, ev: Evaluator, point: _Point) -> np.ndarray | None:
        """Newton steps in place with the point's (possibly inherited) Hessians, recomputed once
        if they do not converge within ``newton_steps // 2`` steps; the final gradients."""
        pinned = point.alpha < 0
        point.alpha[pinned] = 0.0
        fresh = point.hessians is None
        for iteration in range(self.newton_steps):
            G = ev.jac(point.x[None])[0]
            H = _residual(point, G)
            if np.linalg.norm(H) <= self.tol * (1.0 + np.linalg.norm(point.x)):
                if not np.any(point.alpha < -1e-12):
                    point.alpha = np.clip(point.alpha, 0.0, None)
                    return G
                pinned |= point.alpha < 0
                point.alpha[pinned] = 0.0
                continue
            if point.hessians is None or (not fresh and iteration == self.newton_steps // 2):
                point.hessians, fresh = self._hessians(ev, point), True
            DH = _jacobian(point, G)
            free = point.free
            keep = np.concatenate([np.ones(free.sum(), dtype=bool), ~pinned])
            delta = np.zeros(DH.shape[1])
            delta[keep] = np.linalg.lstsq(DH[:, keep], H, rcond=None)[0]
            point.x[free] -= delta[: free.sum()]
            point.alpha -= delta[free.sum() :]
            if _clip(ev.problem, point):
                point.hessians, fresh = None, False
        return None


def _residual(point: _Point, G: np.ndarray) -> np.ndarray:
    """H = (Σ α_i ∂_F f_i, Σ α_i − 1)."""
    return np.concatenate([point.alpha @ G[:, point.free], [point.alpha.sum() - 1.0]])


def _jacobian(point: _Point, G: np.ndarray) -> np.ndarray:
    """DH in the free coordinates from the point's Hessians and the gradients G."""
    free = point.free
    n, m = int(free.sum()), len(point.alpha)
    DH = np.zeros((n + 1, n + m))
    DH[:n, :n] = np.einsum("i,ijk->jk", point.alpha, point.hessians)
    DH[:n, n:] = G[:, free].T
    DH[n, n:] = 1.0
    return DH


def _clip(problem: Problem, point: _Point) -> bool:
    """Fix coordinates that left Q on the face they crossed; whether any did."""
    below, above = point.x < problem.lower, point.x > problem.upper
    if not (below.any() or above.any()):
        return False
    point.face[below], point.face[above] = -1, 1
    point.x = np.clip(point.x, problem.lower, problem.upper)
    return True


def _dominated(f: np.ndarray, others: np.ndarray) -> bool:
    """Whether some row of ``others`` dominates ``f``."""
    if len(others) == 0:
        return False
    return bool(np.any(np.all(others <= f, axis=1) & np.any(others < f, axis=1)))
