"""Set-oriented multiobjective optimisation: box coverings of Pareto sets.

``pareto_set(problem, method, **options)`` is the entry point; the algorithms are frozen
dataclasses of their parameters (:class:`Subdivision`, :class:`Sampling`, :class:`Recovery`,
:class:`Continuation`), each with ``solve(problem, *, seed, callback)``; the callback sees a
:class:`ParetoProgress` after every level and stops the method by returning True.
"""

from __future__ import annotations

from typing import Any

from decide.contract import Callback, Seed
from decide.errors import UsageError
from decide.pareto.boxes import BoxSet
from decide.pareto.continuation import Continuation
from decide.pareto.descent import EpsilonDescent, SmoothDescent
from decide.pareto.indicators import hausdorff, hypervolume, igd
from decide.pareto.problem import Counts, Evaluator, Problem
from decide.pareto.recovery import Recovery
from decide.pareto.report import ParetoProgress
from decide.pareto.result import ParetoSet
from decide.pareto.subdivision import Sampling, Subdivision

METHODS = {"subdivision": Subdivision, "sampling": Sampling, "continuation": Continuation}

__all__ = [
    "METHODS",
    "BoxSet",
    "Continuation",
    "Counts",
    "EpsilonDescent",
    "Evaluator",
    "ParetoProgress",
    "ParetoSet",
    "Problem",
    "Recovery",
    "Sampling",
    "SmoothDescent",
    "Subdivision",
    "hausdorff",
    "hypervolume",
    "igd",
    "pareto_set",
]


def pareto_set(
    problem: Problem,
    method: str = "subdivision",
    *,
    seed: Seed = None,
    recover: bool = False,
    callback: Callback | None = None,
    **options: Any,
) -> ParetoSet:
    """A covering of ``problem``'s Pareto set by ``method`` with its parameters as ``options``.

    ``recover=True`` follows a subdivision or sampling by :class:`Recovery` at the final level.
    Unknown options raise ``TypeError``.
    """
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    algorithm = METHODS[method](**options)
    if recover:
        if method == "continuation":
            raise UsageError("recovery applies to subdivision and sampling, not continuation")
        algorithm = Recovery(algorithm)
    return algorithm.solve(problem, seed=seed, callback=callback)
