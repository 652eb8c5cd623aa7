r"""Subdivision and sampling: box coverings of the Pareto set, refined level by level.

Both start from the domain :math:`\mathcal B_0 = \{Q\}`; at level k every box is bisected along
one coordinate (cyclically) and test points are drawn in each box.

* :class:`Subdivision` (Dellnitz, Schütze & Hestermeyer 2005) keeps the boxes that contain an
  image :math:`g^s(x)` of a test point under a descent map, so the covering converges to the
  relative global attractor of g in Q, which contains the Pareto-critical set.
* :class:`Sampling` is derivative-free: it keeps the boxes holding a test point that no other test
  point of the level dominates.

Either may lose boxes whose test points were unlucky; :class:`~decide.pareto.recovery.Recovery`
repairs that at the final level. On box-constrained problems the subdivision also lets each image
keep the boxes within ``reach`` half-widths (images drift along the set, and the set's ends would
otherwise be lost level by level), drops images dominated by more than a box tolerance, and at
the last level drops weakly optimal images (docs/pareto.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any

import numpy as np

from decide.contract import Callback, Seed, stop_requested
from decide.errors import DecideError, ModelError
from decide.parallel import Backend, session
from decide.pareto.boxes import BoxSet
from decide.pareto.descent import EpsilonDescent, SmoothDescent, weakly_dominated
from decide.pareto.dominance import nearly_non_dominated, non_dominated
from decide.pareto.evaluate import images, map_points, values
from decide.pareto.problem import Counts, Problem, require_positive
from decide.pareto.report import ParetoProgress
from decide.pareto.result import ParetoSet
from decide.pareto.tolerance import box_tolerance


@dataclass(frozen=True)
class _Covering:
    levels: int = 16
    points_per_box: int = 8
    sampling: str = "random"
    margin: float = 1.0
    backend: Backend | None = None
    chunk: int = 4096

    method = "covering"

    def __post_init__(self) -> None:
        require_positive(self, "levels", "points_per_box", "chunk", "margin")
        if self.sampling not in ("random", "grid"):
            raise ModelError("sampling", f"expected 'random' or 'grid', got {self.sampling!r}")

    def parameters(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "backend"}
        return {k: (repr(v) if not isinstance(v, (int, float, str)) else v) for k, v in out.items()}

    def tolerance(self, X: np.ndarray, F: np.ndarray, boxes: BoxSet) -> np.ndarray:
        """The dominance tolerance of this level: ``margin`` × Lipschitz × box diameter."""
        return box_tolerance(X, F, boxes.diameter, self.margin)

    def test_points(self, boxes: BoxSet, rng: np.random.Generator) -> np.ndarray:
        if self.sampling == "grid":
            per_axis = max(1, round(self.points_per_box ** (1.0 / boxes.dim)))
            return boxes.grid_points(per_axis)
        return boxes.sample(self.points_per_box, rng)

    def solve(
        self, problem: Problem, *, seed: Seed = None, callback: Callback | None = None
    ) -> ParetoSet:
        """Refine the covering for ``levels`` levels. After each level ``callback`` sees a
        :class:`~decide.pareto.report.ParetoProgress` and may stop the refinement by returning
        True; Ctrl-C also keeps the last finished level.

        Worker processes or a scheduler connection are set up once for all the levels."""
        with session(self.backend) as backend:
            return replace(self, backend=backend)._levels(problem, seed, callback)

    def _levels(self, problem: Problem, seed: Seed, callback: Callback | None) -> ParetoSet:
        rng = np.random.default_rng(seed)
        counts = Counts.of(problem)
        boxes = BoxSet.domain(problem.lower, problem.upper)
        points = np.empty((0, problem.dim))
        vals = np.empty((0, problem.n_obj))
        history: list[int] = []
        reason = "iteration limit"
        try:
            for level in range(1, self.levels + 1):
                boxes, points, vals = self.refine(problem, boxes.subdivide(), rng, counts)
                if len(boxes) == 0:
                    raise DecideError(f"level {level}: every box was discarded")
                history.append(len(boxes))
                report = ParetoProgress(level, self.levels, boxes, points, vals, counts)
                if stop_requested(callback, report) and level < self.levels:
                    reason = "callback"
                    break
        except KeyboardInterrupt:
            if not history:
                raise
            reason = "interrupted"
        boxes, points, vals = self.finish(problem, boxes, points, vals, counts)
        return ParetoSet(
            boxes,
            points,
            vals,
            counts,
            problem.name,
            self.method,
            reason,
            self.parameters(),
            tuple(history),
        )

    def refine(
        self, problem: Problem, boxes: BoxSet, rng: np.random.Generator, counts: Counts
    ) -> tuple[BoxSet, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def finish(self, problem, boxes: BoxSet, points: np.ndarray, vals: np.ndarray, counts):
        """The final covering from the last level's (the default: as it is)."""
        return boxes, points, vals


def _kept(
    boxes: BoxSet, points: np.ndarray, vals: np.ndarray, mask: np.ndarray, reach: float = 0.0
):
    """The boxes within ``reach`` half-widths of a point of ``mask``, and those points in them."""
    owner = boxes.locate(points)
    hit = [owner[mask & (owner >= 0)]]
    if reach > 0:
        signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * boxes.dim)).reshape(boxes.dim, -1).T
        for corner in signs * (reach * boxes.widths / 2):
            moved = np.clip(points[mask] + corner, boxes.lower, boxes.upper)
            found = boxes.locate(moved)
            hit.append(found[found >= 0])
    kept = boxes.select(np.unique(np.concatenate(hit)))
    inside = mask & kept.contains(points)
    return kept, points[inside], vals[inside]


@dataclass(frozen=True)
class Subdivision(_Covering):
    """Keep the boxes hit by the images of the test points under a descent map.

    ``descent`` defaults to :class:`SmoothDescent` for smooth problems and to
    :class:`EpsilonDescent` (several ε-steps, ε = ¼ of the box radius) for non-smooth ones.
    """

    descent: SmoothDescent | EpsilonDescent | None = None
    prune: bool = True
    reach: float = 1.0

    method = "subdivision"

    def descent_map(self, problem: Problem) -> SmoothDescent | EpsilonDescent:
        if not problem.has_jac:
            raise ModelError("problem", f"{problem.name} has no derivatives; use Sampling")
        if self.descent is not None:
            return self.descent
        return SmoothDescent() if problem.smooth else EpsilonDescent()

    def refine(self, problem, boxes, rng, counts):
        descent = self.descent_map(problem)
        X = self.test_points(boxes, rng)
        radius = 0.5 * boxes.diameter
        Y, FY, FX = map_points(
            images(descent, radius), problem, X, counts, backend=self.backend, chunk=self.chunk
        )
        keep = np.ones(len(Y), dtype=bool)
        if self.prune:
            keep = nearly_non_dominated(FY, self.tolerance(X, FX, boxes))
        return _kept(boxes, Y, FY, keep, self.reach)

    def finish(self, problem, boxes, points, vals, counts):
        """With ``prune``, only boxes near images that nothing dominates: at the last level the
        images are as accurate as they will be, and critical but dominated layers go. Among
        them are weakly optimal points, which a short step along one objective's steepest
        descent dominates (:func:`~decide.pareto.descent.weakly_dominated`)."""
        if not self.prune:
            return boxes, points, vals
        keep = non_dominated(vals)
        if problem.smooth:
            step = 0.5 * boxes.diameter  # one box radius
            index = np.flatnonzero(keep)
            (weak,) = map_points(
                partial(weakly_dominated, step=step),
                problem,
                points[index],
                counts,
                backend=self.backend,
                chunk=self.chunk,
                rows=(vals[index],),
            )
            keep[index[weak]] = False
        return _kept(boxes, points, vals, keep, self.reach)


@dataclass(frozen=True)
class Sampling(_Covering):
    """Keep the boxes holding a test point not dominated by any test point of the level."""

    method = "sampling"

    def refine(self, problem, boxes, rng, counts):
        X = self.test_points(boxes, rng)
        (F,) = map_points(values, problem, X, counts, backend=self.backend, chunk=self.chunk)
        return _kept(boxes, X, F, nearly_non_dominated(F, self.tolerance(X, F, boxes)))
