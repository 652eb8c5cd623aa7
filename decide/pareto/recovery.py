"""Recovery: grow a covering at its final level until no neighbouring box holds a good point.

Boxes lost to sparse sampling are next to boxes that survived. Each round draws test points in
the neighbours of the covering and adds the neighbours holding a point that no point of the
covering or of the round dominates by more than the box tolerance of
:mod:`decide.pareto.tolerance`; it stops when a round adds nothing (or after ``rounds``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from decide.contract import Callback, Seed
from decide.pareto.dominance import nearly_non_dominated
from decide.pareto.evaluate import map_points, values
from decide.pareto.problem import Problem, require_positive
from decide.pareto.result import ParetoSet
from decide.pareto.subdivision import Sampling, Subdivision


@dataclass(frozen=True)
class Recovery:
    """Run ``base`` (a subdivision or sampling), then recover lost boxes at its final level."""

    base: Subdivision | Sampling
    points_per_box: int = 4
    rounds: int = 50

    method = "recovery"

    def __post_init__(self) -> None:
        require_positive(self, "points_per_box", "rounds")

    def solve(
        self, problem: Problem, *, seed: Seed = None, callback: Callback | None = None
    ) -> ParetoSet:
        """The base covering, recovered; a base stopped by its callback or by Ctrl-C is
        returned as it is."""
        rng = np.random.default_rng(seed)
        found = self.base.solve(problem, seed=rng, callback=callback)
        if found.stop_reason in ("callback", "interrupted"):
            return found
        return self.recover(problem, found, rng)

    def recover(self, problem: Problem, found: ParetoSet, rng: np.random.Generator) -> ParetoSet:
        """``found`` with the neighbouring boxes that hold non-dominated points added."""
        boxes, points, vals, counts = found.boxes, found.points, found.values, found.counts
        added, reason = 0, "iteration limit"
        for _ in range(self.rounds):
            candidates = boxes.neighbours()
            if len(candidates) == 0:
                reason = "converged"
                break
            X = candidates.sample(self.points_per_box, rng)
            (F,) = map_points(
                values, problem, X, counts, backend=self.base.backend, label="recovery"
            )
            eta = self.base.tolerance(X, F, boxes)
            new = nearly_non_dominated(np.concatenate([vals, F]), eta)[len(vals) :]
            if not new.any():
                reason = "converged"
                break
            found_in = np.unique(candidates.locate(X[new]))
            boxes = boxes | candidates.select(found_in)
            points = np.concatenate([points, X[new]])
            vals = np.concatenate([vals, F[new]])
            added += found_in.size
        parameters = {
            **found.parameters,
            "base": found.method,
            "recovery_points_per_box": self.points_per_box,
            "recovered_boxes": added,
        }
        return replace(
            found,
            boxes=boxes,
            points=points,
            values=vals,
            method=self.method,
            stop_reason=reason,
            parameters=parameters,
        )
