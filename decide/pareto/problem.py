"""What a multiobjective problem is to decide: ``f(X[n, d]) -> F[n, m]`` on a box domain.

A problem is minimised over the box :math:`Q = [lower, upper]`. ``jac`` (optional) returns one
gradient per objective, or for a non-smooth objective one subgradient; ``pareto_set`` (optional,
for tests and benchmarks) samples the known Pareto set. Counting is separate from the problem:
an :class:`Evaluator` wraps it for one solve and counts the points at which ``f`` and ``jac``
were evaluated and the PDE solves they cost (:class:`Counts`, which also prices a Jacobian).
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
    r"""Work spent on a problem with ``n_obj`` = m objectives in ``dim`` = d variables.

    ``f`` counts the points at which ``f`` was evaluated (each yields all m values), ``jac`` the
    points at which ``jac`` was evaluated (each yields the whole m × d Jacobian) and
    ``pde_solves`` the PDE solves they cost. Two prices of a Jacobian give the costs, in
    evaluations of ``f``:

    - :attr:`cost_adjoint` :math:`= n_f + m\,n_{jac}`: each objective's gradient costs one
      evaluation, as with an adjoint solve;
    - :attr:`cost_fd` :math:`= n_f + d\,n_{jac}`: forward differences, where one evaluation of
      ``f`` at each of d shifted points gives every objective's partial derivatives at once.
    """

    n_obj: int
    dim: int
    f: int = 0
    jac: int = 0
    pde_solves: int = 0

    @classmethod
    def of(cls, problem: Problem) -> Counts:
        """Zero counts for ``problem``."""
        return cls(problem.n_obj, problem.dim)

    @property
    def cost_adjoint(self) -> int:
        r""":math:`n_f + m\,n_{jac}`: one evaluation per objective's gradient."""
        return self.f + self.n_obj * self.jac

    @property
    def cost_fd(self) -> int:
        r""":math:`n_f + d\,n_{jac}`: a Jacobian by forward differences."""
        return self.f + self.dim * self.jac

    def __iadd__(self, other: Counts) -> Counts:
        if (other.n_obj, other.dim) != (self.n_obj, self.dim):
            raise ValueError(
                f"cannot add counts of a problem with (m, d) = ({other.n_obj}, {other.dim}) "
                f"to counts with (m, d) = ({self.n_obj}, {self.dim})"
            )
        self.f += other.f
        self.jac += other.jac
        self.pde_solves += other.pde_solves
        return self


@dataclass
class Evaluator:
    """A problem with counters: every algorithm evaluates through one of these."""

    problem: Problem
    counts: Counts = field(init=False)

    def __post_init__(self) -> None:
        self.counts = Counts.of(self.problem)

    def f(self, X: np.ndarray) -> np.ndarray:
        """``problem.f(X)``, counting ``len(X)`` function evaluations."""
        X = check_points(self.problem, X)
        self.counts.f += len(X)
        self.counts.pde_solves += len(X) * self.problem.solves_per_f
        return np.asarray(self.problem.f(X), dtype=float).reshape(len(X), self.problem.n_obj)

    def jac(self, X: np.ndarray) -> np.ndarray:
        """``problem.jac(X)``, counting ``len(X)`` Jacobian evaluations."""
        X = check_points(self.problem, X)
        self.counts.jac += len(X)
        self.counts.pde_solves += len(X) * self.problem.solves_per_jac
        J = np.asarray(self.problem.jac(X), dtype=float)
        return J.reshape(len(X), self.problem.n_obj, self.problem.dim)
