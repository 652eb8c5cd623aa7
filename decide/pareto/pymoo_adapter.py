"""A decide :class:`~decide.pareto.problem.Problem` as a pymoo problem, for pymoo's algorithms.

The problem is handed over unchanged: same variables, box and objective values (no scaling),
evaluated a whole population at a time. pymoo is imported only when :func:`to_pymoo` is called,
so ``decide.pareto`` works without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from decide.errors import UsageError
from decide.pareto.problem import Evaluator, Problem


def to_pymoo(problem: Problem, evaluator: Evaluator | None = None) -> Any:
    """A ``pymoo.core.problem.Problem`` evaluating ``problem.f`` on pymoo's populations.

    With ``evaluator`` (an :class:`Evaluator` of this same problem) every evaluation goes through
    it, so its counters record what pymoo spends, PDE solves included. ``pareto_front(n)`` is
    ``problem.pareto_front(n)`` when the problem knows its Pareto set, else None.
    """
    from pymoo.core.problem import Problem as PymooProblem

    if evaluator is not None and evaluator.problem is not problem:
        raise UsageError("the evaluator must wrap the problem handed to pymoo")
    objectives = problem.f if evaluator is None else evaluator.f

    class DecideProblem(PymooProblem):
        def __init__(self) -> None:
            super().__init__(
                n_var=problem.dim,
                n_obj=problem.n_obj,
                xl=np.array(problem.lower, dtype=float),
                xu=np.array(problem.upper, dtype=float),
                vtype=float,
            )
            self.decide_problem = problem

        def _evaluate(self, x: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
            out["F"] = np.asarray(objectives(x), dtype=float)

        def _calc_pareto_front(self, n_pareto_points: int = 100) -> np.ndarray | None:
            return problem.pareto_front(n_pareto_points) if problem.has_pareto_set else None

    return DecideProblem()
