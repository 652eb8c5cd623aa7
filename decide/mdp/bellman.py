r"""The Bellman equations of a discounted MDP: exact evaluation, (soft) value iteration, policies.

The problems are tabular, discounted, infinite-horizon, fully observed MDPs given as arrays
``T[a, s, s']``, ``R[s, a]`` and γ (:class:`~decide.mdp.model.TabularMDP`); γ = 1 is refused
here (``ModelError("discount", …)``), since the values may not exist. A stochastic policy is an
array ``pi[s, a]`` whose rows sum to 1; a start distribution :math:`\mu_0` turns a state value
into a number, :math:`V(\pi) = \mu_0 \cdot v_\pi`.

**Exact evaluation.** With :math:`P_\pi[s, s'] = \sum_a \pi(a|s) T[a, s, s']` and
:math:`r_\pi(s) = \sum_a \pi(a|s) R(s, a)`, the value solves :math:`(I - \gamma P_\pi) v = r_\pi`
(:func:`policy_evaluation`); :func:`value_iteration` and :func:`soft_value_iteration` solve the
optimality equations :math:`v(s) = \max_a Q(s, a)` and, with a temperature β and a reference
:math:`\rho`, :math:`v(s) = \beta \log \sum_a \rho(a|s) \exp(Q(s, a)/\beta)` whose maximiser is
the softmax policy :math:`\pi(a|s) \propto \rho(a|s) \exp(Q(s, a)/\beta)`
(:math:`Q = R + \gamma T v`, :func:`q_values`, a one-step backup valid for any γ).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp, softmax

from decide.errors import UsageError
from decide.mdp.model import TabularMDP, _policy, _reference, _require_discounted

__all__ = [
    "greedy_policy",
    "policy_evaluation",
    "q_values",
    "soft_value_iteration",
    "softmax_policy",
    "value_iteration",
]


def policy_evaluation(mdp: TabularMDP, policy: ArrayLike) -> np.ndarray:
    r"""Exact value :math:`v_\pi = (I - \gamma P_\pi)^{-1} r_\pi` of a stochastic policy (S,)."""
    _require_discounted(mdp)
    pi = _policy(policy, mdp)
    P = np.einsum("sa,ast->st", pi, mdp.T)
    r = np.sum(pi * mdp.R, axis=1)
    return np.linalg.solve(np.eye(mdp.n_states) - mdp.discount * P, r)


def q_values(mdp: TabularMDP, v: ArrayLike) -> np.ndarray:
    r""":math:`Q(s, a) = R(s, a) + \gamma \sum_{s'} T[a, s, s'] v(s')` (S, A)."""
    v = np.asarray(v, dtype=float)
    return mdp.R + mdp.discount * np.einsum("ast,t->sa", mdp.T, v)


def greedy_policy(q: ArrayLike) -> np.ndarray:
    """Deterministic policy (one-hot rows) playing ``argmax_a q[s, a]`` (lowest index on ties)."""
    q = np.asarray(q, dtype=float)
    pi = np.zeros_like(q)
    pi[np.arange(q.shape[0]), np.argmax(q, axis=1)] = 1.0
    return pi


def softmax_policy(q: ArrayLike, beta: float, reference: ArrayLike | None = None) -> np.ndarray:
    r""":math:`\pi(a|s) \propto \rho(a|s) \exp(q(s, a)/\beta)` (ρ uniform by default); β = 0 is
    the greedy policy."""
    q = np.asarray(q, dtype=float)
    if beta < 0 or not np.isfinite(beta):
        raise UsageError(f"beta: expected a finite value >= 0, got {beta}")
    if beta == 0:
        return greedy_policy(q)
    log_ref = 0.0 if reference is None else np.log(np.asarray(reference, dtype=float))
    return softmax(q / beta + log_ref, axis=1)


def value_iteration(
    mdp: TabularMDP, *, tol: float = 1e-10, max_iter: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    r"""Optimal value and Q by value iteration, finished by exact evaluation of the greedy policy.

    Iterates :math:`v \leftarrow \max_a Q_v` until the sup-norm change is below
    ``tol (1 - γ) / (2 γ)`` (so the greedy policy is ``tol``-optimal), then returns the exact value
    of that greedy policy and its Q.
    """
    _require_discounted(mdp)
    v = np.zeros(mdp.n_states)
    threshold = tol * (1.0 - mdp.discount) / (2.0 * mdp.discount)
    for _ in range(max_iter):
        new = q_values(mdp, v).max(axis=1)
        change = float(np.max(np.abs(new - v)))
        v = new
        if change < threshold:
            break
    v = policy_evaluation(mdp, greedy_policy(q_values(mdp, v)))
    return v, q_values(mdp, v)


def soft_value_iteration(
    mdp: TabularMDP,
    beta: float,
    reference: ArrayLike | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Soft-optimal value, Q and policy of the KL-regularised problem (temperature β > 0).

    Iterates :math:`v(s) \leftarrow \beta \log \sum_a \rho(a|s) \exp(Q_v(s, a)/\beta)`, a
    γ-contraction, until the change is below ``tol``; the policy is
    :math:`\pi \propto \rho\, e^{Q/\beta}`.
    """
    if not (np.isfinite(beta) and beta > 0):
        raise UsageError(f"beta: expected a finite value > 0, got {beta}")
    _require_discounted(mdp)
    rho = _reference(reference, mdp)
    log_rho = np.log(rho)
    v = np.zeros(mdp.n_states)
    for _ in range(max_iter):
        q = q_values(mdp, v)
        new = beta * logsumexp(q / beta + log_rho, axis=1)
        change = float(np.max(np.abs(new - v)))
        v = new
        if change < tol:
            break
    q = q_values(mdp, v)
    return v, q, softmax_policy(q, beta, rho)
