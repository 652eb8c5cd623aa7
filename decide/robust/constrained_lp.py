r"""The exact chance-constrained optimum as a linear programme over occupation measures.

Value and failure probability are linear in the occupation measures
:math:`x_t(s, a) = P_\pi(s_t = s, a_t = a, \text{not failed})` of the non-failure states
(:mod:`decide.robust._constrained_core`), and the flow constraints

.. math::

    \sum_a x_0(s, a) = \mu(s), \qquad
    \sum_a x_{t+1}(s', a) = \sum_{s,a} T[a, s, s']\, x_t(s, a) \qquad (s, s' \notin F),
    \qquad x \ge 0,

describe exactly the occupation measures of the (randomised, time-dependent) Markov policies.
So the constrained optimum is the LP

.. math::

    \max_{x} \sum_{t,s,a} \gamma^t R(s, a)\, x_t(s, a) \quad \text{s.t. the flows and} \quad
    \mu(F) + \sum_{t,s,a} c(s, a)\, x_t(s, a) \le \delta,

and the policy is recovered as :math:`\pi_t(a \mid s) = x_t(s, a) / \sum_b x_t(s, b)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from decide.errors import UsageError
from decide.robust._constrained_core import (
    ConstrainedMDP,
    ConstrainedPlan,
    check_delta,
    require_feasible,
)

__all__ = ["LinearProgramme"]

#: Entries of T at or below this are left out of the LP, as HiGHS would (its small_matrix_value).
SMALL_ENTRY = 1e-9


def _flow_matrix(cmdp: ConstrainedMDP, alive: np.ndarray) -> sparse.csr_array:
    r"""Equality constraints of the LP; the first :math:`H n A` columns are :math:`x_t(l, a)`
    (column ``(t n + l) A + a``, :math:`n` non-failure states), rows ``t n + l'`` the flows
    :math:`\sum_a x_t(l', a) - \sum_{l,a} T[a, l, l'] x_{t-1}(l, a) = \mu(l') [t = 0]`.

    Many (s, a) often share one row of T (in fisheries T depends on (s, a) only through the
    escapement). With K distinct rows :math:`U_k` the inflow is written through variables
    :math:`z_t(k) = \sum_{(l, a) \to k} x_t(l, a)`, t = 0..H−2 (extra rows and columns after
    the flows), which replaces :math:`n^2 A` non-zeros per step by :math:`n A + K n`; it is used
    when that is fewer. The LP is the same.
    """
    n, n_actions, horizon = alive.size, cmdp.n_actions, cmdp.horizon
    n_pairs = n * n_actions
    rows = cmdp.mdp.T[:, alive].transpose(1, 0, 2).reshape(n_pairs, -1)[:, alive]  # (l a, l')
    rows = np.where(rows > SMALL_ENTRY, rows, 0.0)
    outflow = sparse.kron(sparse.eye_array(n), np.ones((1, n_actions)), format="csr")
    flows = sparse.kron(sparse.eye_array(horizon), outflow, format="csr")
    unique, group = np.unique(rows, axis=0, return_inverse=True)
    if horizon == 1 or n_pairs + np.count_nonzero(unique) >= np.count_nonzero(rows):
        inflow = sparse.kron(sparse.eye_array(horizon, k=-1), sparse.csr_array(rows.T))
        return sparse.csr_array(flows - inflow)
    n_unique = unique.shape[0]
    members = sparse.csr_array(
        (np.ones(n_pairs), (group.reshape(-1), np.arange(n_pairs))), shape=(n_unique, n_pairs)
    )
    shift = sparse.eye_array(horizon, horizon - 1, k=-1)  # flow at t from z_{t-1}
    first = sparse.eye_array(horizon - 1, horizon)  # z_t from x_t, t = 0..H−2
    return sparse.block_array(
        [
            [flows, -sparse.kron(shift, sparse.csr_array(unique.T))],
            [sparse.kron(first, members), -sparse.eye_array((horizon - 1) * n_unique)],
        ],
        format="csr",
    )


def _recover_policy(cmdp: ConstrainedMDP, alive: np.ndarray, x: np.ndarray) -> np.ndarray:
    r""":math:`\pi_t(a | s) = x_t(s, a) / \sum_b x_t(s, b)`; where the LP puts (almost) no mass,
    and on failure states, the action least likely to enter F."""
    default = np.eye(cmdp.n_actions)[cmdp.entry.argmin(axis=1)]
    policy = np.broadcast_to(default, (cmdp.horizon, *default.shape)).copy()
    x = np.clip(x.reshape(cmdp.horizon, alive.size, cmdp.n_actions), 0.0, None)
    mass = x.sum(axis=2, keepdims=True)
    reached = mass > 1e-14
    fraction = x / np.where(mass > 0, mass, 1.0)
    policy[:, alive] = np.where(reached, fraction, policy[:, alive])
    return policy


@dataclass(frozen=True)
class LinearProgramme:
    r"""The exact constrained optimum: a linear programme over occupation measures.

    .. math::

        \max_{x \ge 0} \sum_{t,s,a} \gamma^t R(s, a)\, x_t(s, a) \quad \text{s.t.} \quad
        \sum_a x_0(s, a) = \mu(s), \;
        \sum_a x_{t+1}(s', a) = \sum_{s,a} T[a, s, s']\, x_t(s, a), \;
        \mu(F) + \sum_{t,s,a} c(s, a)\, x_t(s, a) \le \delta,

    over the non-failure states, solved by HiGHS's interior-point method with crossover
    (``scipy.optimize.linprog(method="highs-ipm")``; it returns a vertex, and on these
    time-staged LPs it was 3–4 times faster than the dual simplex that ``method="highs"``
    picks). The constraints are sparse, with transition rows shared by many (s, a) written
    once (see ``_flow_matrix``). Size: :math:`H |S \setminus F| A` variables; with a dense T
    of all-distinct rows about :math:`H S^2 A` non-zeros (6·10⁶ at S = A = H = 50), with
    fisheries-like T (K distinct rows) about :math:`H (2 S A + K S)`. Measured on a busy
    2-core machine: fisheries S = A = H = 50 in ≈ 7 s, S = A = H = 100 in ≈ 5 min.

    Entries of T and c at or below 10⁻⁹ are left out, as HiGHS drops them anyway
    (``small_matrix_value``), so the LP's numbers can differ from :func:`evaluate` of its
    policy by about that much per step.

    HiGHS runs to its optimum without reporting on the way, so ``solve`` takes no callback
    (and no seed: nothing is drawn).
    """

    method = "lp"

    def solve(self, cmdp: ConstrainedMDP, *, delta: float) -> ConstrainedPlan:
        """One randomised policy maximising the value with failure probability ≤ ``delta``
        (in [0, 1]): ``value`` and ``failure_probability`` are the LP's (computed from x with
        the exact R and c), ``lambda_`` is the constraint's dual value. A UsageError names the
        least failure probability when ``delta`` is below it."""
        delta = check_delta(delta)
        least = require_feasible(cmdp, delta)
        alive = np.flatnonzero(~cmdp.failure)
        discounts = cmdp.mdp.discount ** np.arange(cmdp.horizon)
        reward = (discounts[:, None, None] * cmdp.mdp.R[alive][None]).ravel()
        entry = np.tile(cmdp.entry[alive].ravel(), cmdp.horizon)
        A_eq = _flow_matrix(cmdp, alive)
        padding = np.zeros(A_eq.shape[1] - reward.size)  # for the shared-row variables z, if any
        b_eq = np.zeros(A_eq.shape[0])
        b_eq[: alive.size] = cmdp.initial[alive]
        kept_entry = np.where(entry > SMALL_ENTRY, entry, 0.0)
        result = linprog(
            -np.append(reward, padding),
            A_ub=sparse.csr_array(np.append(kept_entry, padding)[None, :]),
            b_ub=[delta - cmdp.initial_failure],
            A_eq=A_eq,
            b_eq=b_eq,
            bounds=(0, None),
            method="highs-ipm",
        )
        if result.status == 2:  # δ within the solver's tolerance of the least achievable value
            raise UsageError(
                f"delta: {delta:.6g} is numerically infeasible for the LP; the least achievable "
                f"failure probability is {least:.10g}"
            )
        if result.status != 0:
            raise RuntimeError(f"HiGHS did not solve the constrained LP: {result.message}")
        x = result.x[: reward.size]
        return ConstrainedPlan(
            policies=(_recover_policy(cmdp, alive, x),),
            weights=np.ones(1),
            value=float(reward @ x),
            failure_probability=cmdp.initial_failure + float(entry @ x),
            lambda_=max(0.0, -float(result.ineqlin.marginals[0])),
            history=(),
            method=self.method,
            stop_reason="converged",
            parameters={"delta": delta},
        )
