r"""Start points for continuation: Pareto points spread over the set, from ε-constraint problems.

For ``count`` bounds ε spread between the anchors (the minimisers of each objective), the middle
first, :math:`\min f_m + 10^{-3} \sum_{i<m} f_i` subject to :math:`f_i \le \varepsilon_i` (i < m)
is solved by SLSQP; the small sum makes the minimiser Pareto optimal rather than only weakly.
Each problem is solved from the last objective's anchor and from a random point, and the better
local solution is kept; this reaches every piece of a disconnected set such as ZDT3's.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.optimize import minimize

from decide.pareto.direction import common_direction
from decide.pareto.problem import Evaluator

Start = tuple[np.ndarray, np.ndarray, np.ndarray]  # x, the weights α, the active faces


def start_points(ev: Evaluator, rng: np.random.Generator, count: int) -> Iterator[Start]:
    """``count`` start points, each with its weights and its faces (-1 lower, +1 upper)."""
    problem = ev.problem
    anchors = np.array([_minimise(ev, i, rng) for i in range(problem.n_obj)])
    values = ev.f(anchors)
    low, high = np.diag(values)[:-1], values.max(axis=0)[:-1]
    for fraction in _spread_fractions(problem.n_obj - 1, count):
        bound = low + fraction * (high - low)
        tries = (anchors[-1], rng.uniform(problem.lower, problem.upper))
        solved = [_constrained(ev, x0, bound) for x0 in tries]
        yield _as_start(ev, min(solved, key=lambda pair: pair[1])[0])


def _minimise(ev: Evaluator, i: int, rng: np.random.Generator) -> np.ndarray:
    """A minimiser of objective i over Q (L-BFGS-B from a random point): an anchor."""
    problem = ev.problem

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        return float(ev.f(x[None])[0, i]), ev.jac(x[None])[0, i]

    x0 = rng.uniform(problem.lower, problem.upper)
    bounds = list(zip(problem.lower, problem.upper, strict=True))
    return minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds).x


def _constrained(
    ev: Evaluator, x0: np.ndarray, bound: np.ndarray
) -> tuple[np.ndarray, tuple[bool, float]]:
    """The ε-constraint solution from x0 and its rank: infeasible last, then by f_m."""
    problem = ev.problem
    weights = np.append(np.full(len(bound), 1e-3), 1.0)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        return float(weights @ ev.f(x[None])[0]), weights @ ev.jac(x[None])[0]

    constraints = {
        "type": "ineq",
        "fun": lambda x: bound - ev.f(x[None])[0, :-1],
        "jac": lambda x: -ev.jac(x[None])[0, :-1],
    }
    found = minimize(
        objective,
        x0,
        jac=True,
        method="SLSQP",
        bounds=list(zip(problem.lower, problem.upper, strict=True)),
        constraints=[constraints],
        options={"maxiter": 200, "ftol": 1e-12},
    )
    x = np.clip(found.x, problem.lower, problem.upper)
    near = 1e-8 * (problem.upper - problem.lower)
    x = np.where(x - problem.lower <= near, problem.lower, x)
    x = np.where(problem.upper - x <= near, problem.upper, x)
    F = ev.f(x[None])[0]
    violation = float(np.max(F[:-1] - bound, initial=0.0))
    return x, (violation > 1e-8 * (1 + np.abs(bound).max()), float(F[-1]))


def _as_start(ev: Evaluator, x: np.ndarray) -> Start:
    """x with the weights of its common descent direction and the faces it lies on."""
    problem = ev.problem
    G = ev.jac(x[None])
    _, alpha = common_direction(G, (problem.lower - x)[None], (problem.upper - x)[None])
    face = np.where(x <= problem.lower, -1, np.where(x >= problem.upper, 1, 0))
    return x, alpha[0], face


def _spread_fractions(k: int, count: int) -> np.ndarray:
    """``count`` points of a regular grid in [0, 1]^k, those nearest the centre first."""
    side = max(1, int(np.ceil(count ** (1.0 / k)))) if k > 1 else count
    grid = np.stack(np.meshgrid(*[np.arange(side)] * k, indexing="ij"), -1).reshape(-1, k)
    grid = (grid + 0.5) / side
    order = np.argsort(np.abs(grid - 0.5).sum(axis=1), kind="stable")
    return grid[order][:count]
