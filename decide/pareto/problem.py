"""What a multiobjective problem is to decide: ``f(X[n, d]) -> F[n, m]`` on a box domain.

A problem is minimised over the box :math:`Q = [lower, upper]`. ``jac`` (optional) returns one
gradient per objective, or for a non-smooth objective one subgradient; ``pareto_set`` (optional,
for tests and benchmarks) samples the known Pareto set. Counting is separate from the problem:
an :class:`Evaluator` wraps it for one solve and counts rows of ``f`` and ``jac`` and the PDE
solves they cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from decide.errors import ModelError


class Problem:
    """Base class of a multiobjective problem on a box (override ``f``; ``jac`` if known).

    Attributes
    ----------
    name : str
        Short identifier (used by the CLI and in Dataset attributes).
    lower, upper : ndarray of shape (d,)
        The domain :math:`Q`.
    n_obj : int
        Number of objectives m.
    smooth : bool
        Whether ``jac`` returns true gradients (False: subgradients of a non-smooth objective).
    solves_per_f, solves_per_jac : int
        PDE solves one row of ``f`` and of ``jac`` costs (0 for closed-form problems).
    """

    name: str = "problem"
    lower: np.ndarray
    upper: np.ndarray
    n_obj: int = 2
    smooth: bool = True
    solves_per_f: int = 0
    solves_per_jac: int = 0

    @property
    def dim(self) -> int:
        return int(np.size(self.lower))

    @property
    def has_jac(self) -> bool:
        return type(self).jac is not Problem.jac

    @property
    def has_pareto_set(self) -> bool:
        return type(self).pareto_set is not Problem.pareto_set

    def f(self, X: np.ndarray) -> np.ndarray:
        """Objective values ``F[n, m]`` of the points ``X[n, d]``."""
        raise NotImplementedError

    def jac(self, X: np.ndarray) -> np.ndarray:
        """Gradients (or subgradients) ``J[n, m, d]``: ``J[i, j]`` is objective j's at X[i]."""
        raise NotImplementedError(f"{self.name} has no derivatives")

    def pareto_set(self, n: int) -> np.ndarray:
        """``n`` points spread over the known Pareto set (tests and benchmarks only)."""
        raise NotImplementedError(f"{self.name} has no known Pareto set")

    def pareto_front(self, n: int) -> np.ndarray:
        """The objective values of :meth:`pareto_set`."""
        return self.f(self.pareto_set(n))


def require_positive(owner: object, *names: str) -> None:
    """A :class:`ModelError` naming the first of ``owner``'s fields that is not positive."""
    for name in names:
        value = getattr(owner, name)
        if not (isinstance(value, (int, float, np.number)) and value > 0):
            raise ModelError(name, f"expected a positive number, got {value!r}")


def check_points(problem: Problem, X: np.ndarray) -> np.ndarray:
    """``X`` as a float array of shape (n, d), or a :class:`ModelError` naming the mismatch."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != problem.dim:
        raise ModelError("X", f"expected points of shape (n, {problem.dim}), got {X.shape}")
    return X


@dataclass
class Counts:
    """Evaluations spent: rows of ``f``, rows of ``jac`` and the PDE solves they cost."""

    f: int = 0
    jac: int = 0
    pde_solves: int = 0

    @property
    def evaluations(self) -> int:
        """Function plus gradient evaluations (a gradient counts as one evaluation)."""
        return self.f + self.jac

    def __iadd__(self, other: Counts) -> Counts:
        self.f += other.f
        self.jac += other.jac
        self.pde_solves += other.pde_solves
        return self


@dataclass
class Evaluator:
    """A problem with counters: every algorithm evaluates through one of these."""

    problem: Problem
    counts: Counts = field(default_factory=Counts)

    def f(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self.problem, X)
        self.counts.f += len(X)
        self.counts.pde_solves += len(X) * self.problem.solves_per_f
        return np.asarray(self.problem.f(X), dtype=float).reshape(len(X), self.problem.n_obj)

    def jac(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self.problem, X)
        self.counts.jac += len(X)
        self.counts.pde_solves += len(X) * self.problem.solves_per_jac
        J = np.asarray(self.problem.jac(X), dtype=float)
        return J.reshape(len(X), self.problem.n_obj, self.problem.dim)
