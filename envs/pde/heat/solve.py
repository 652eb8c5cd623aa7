"""The implicit solves of the heat env: a cached direct solve, or any solver with ``.solve``."""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from decide.errors import UsageError


@dataclass(frozen=True)
class StepSolve:
    """What one implicit solve did: the solution and the solver's report (0 iterations and
    no ω for a direct solve)."""

    x: np.ndarray
    iterations: int = 0
    omega: float | None = None
    converged: bool = True


class DirectSolve:
    """Sparse LU solves, with one factorisation kept per distinct matrix ``key``.

    The env keys its matrices by κ (dt and θ are fixed per env), so a constant κ is factorised
    once and an oscillating κ whose values recur (episode after episode) reuses its factors. At most
    ``capacity`` factorisations are kept, the least recently used is dropped first.
    """

    def __init__(self, capacity: int = 128) -> None:
        self.capacity = capacity
        self._factors: OrderedDict[Hashable, Callable[[np.ndarray], np.ndarray]] = OrderedDict()
        self.factorisations = 0

    def solve(self, key: Hashable, matrix: Callable[[], sp.csr_matrix], b: np.ndarray) -> StepSolve:
        """Solve ``matrix() x = b``, building and factorising the matrix only for a new key."""
        factor = self._factors.get(key)
        if factor is None:
            factor = spla.splu(matrix().tocsc()).solve
            self.factorisations += 1
            self._factors[key] = factor
            if len(self._factors) > self.capacity:
                self._factors.popitem(last=False)
        else:
            self._factors.move_to_end(key)
        return StepSolve(factor(b))


class IterativeSolve:
    """Calls ``solver.solve(A, b, x0)``, adding ``context=`` when the solver accepts it.

    ``solver`` is any object whose ``solve`` returns an array or a result with ``x`` (and
    optionally ``iterations``, ``omega``, ``converged``), e.g. the solvers of
    :mod:`decide.linalg` or a ``TunedSolver`` (which takes ``context=``).
    """

    def __init__(self, solver: Any) -> None:
        method = getattr(solver, "solve", None)
        if not callable(method):
            raise UsageError(
                f"linear_solver: expected an object with .solve(A, b, x0), got {solver!r}"
            )
        self.solver = solver
        self.takes_context = _takes_context(method)

    def solve(self, A: sp.csr_matrix, b: np.ndarray, x0: np.ndarray, context: float) -> StepSolve:
        if self.takes_context:
            result = self.solver.solve(A, b, x0, context=context)
        else:
            result = self.solver.solve(A, b, x0)
        x = getattr(result, "x", result)
        x = np.asarray(x, dtype=float).reshape(b.shape)
        omega = getattr(result, "omega", None)
        return StepSolve(
            x=x,
            iterations=int(getattr(result, "iterations", 0)),
            omega=None if omega is None else float(omega),
            converged=bool(getattr(result, "converged", True)),
        )


def _takes_context(method: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return "context" in parameters
