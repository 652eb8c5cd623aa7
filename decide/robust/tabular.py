r"""Tabular discounted MDPs: exact policy evaluation, (soft) value iteration, policies.

The problems are tabular, discounted, infinite-horizon, fully observed MDPs given as arrays
``T[a, s, s']``, ``R[s, a]`` and γ (:class:`TabularMDP`). A stochastic policy is an array
``pi[s, a]`` whose rows sum to 1; a start distribution :math:`\mu_0` turns a state value into a
number, :math:`V(\pi) = \mu_0 \cdot v_\pi`.

**Exact evaluation.** With :math:`P_\pi[s, s'] = \sum_a \pi(a|s) T[a, s, s']` and
:math:`r_\pi(s) = \sum_a \pi(a|s) R(s, a)`, the value solves :math:`(I - \gamma P_\pi) v = r_\pi`
(:func:`policy_evaluation`); :func:`value_iteration` and :func:`soft_value_iteration` solve the
optimality equations :math:`v(s) = \max_a Q(s, a)` and, with a temperature β and a reference
:math:`\rho`, :math:`v(s) = \beta \log \sum_a \rho(a|s) \exp(Q(s, a)/\beta)` whose maximiser is
the softmax policy :math:`\pi(a|s) \propto \rho(a|s) \exp(Q(s, a)/\beta)`
(:math:`Q = R + \gamma T v`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp, softmax

from decide.errors import ModelError, UsageError

__all__ = [
    "TabularMDP",
    "greedy_policy",
    "policy_evaluation",
    "q_values",
    "soft_value_iteration",
    "softmax_policy",
    "value_iteration",
]

#: Largest deviation from 1 accepted in a row of T or of a policy.
SUM_TOLERANCE = 1e-8


def _real_array(value: ArrayLike, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise ModelError(name, f"expected a real array, got {type(value).__name__}") from error
    if array.ndim != ndim:
        raise ModelError(name, f"expected a {ndim}-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ModelError(name, "contains non-finite values")
    return array


def _check_rows(array: np.ndarray, name: str, what: str | None = None) -> None:
    """Non-negative entries and last-axis sums of 1; ``what`` names the rows in the message."""
    if np.any(array < 0):
        raise ModelError(name, f"{what} has negative entries" if what else "has negative entries")
    worst = float(np.max(np.abs(array.sum(axis=-1) - 1.0)))
    if worst > SUM_TOLERANCE:
        raise ModelError(name, f"{what or 'rows'} must sum to 1 (off by up to {worst:.3g})")


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A discounted, fully observed MDP: ``T[a, s, s']``, ``R[s, a]``, γ in (0, 1)."""

    T: np.ndarray
    R: np.ndarray
    discount: float

    def __post_init__(self) -> None:
        T = _real_array(self.T, "T", 3)
        R = _real_array(self.R, "R", 2)
        A, S, S2 = T.shape
        if S != S2 or A < 1 or S < 1:
            raise ModelError("T", f"expected shape (A, S, S), got {T.shape}")
        if R.shape != (S, A):
            raise ModelError("R", f"expected shape ({S}, {A}), got {R.shape}")
        _check_rows(T, "T")
        if not 0.0 < float(self.discount) < 1.0:
            raise ModelError("discount", f"expected a value in (0, 1), got {self.discount}")
        T.flags.writeable = False
        R.flags.writeable = False
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "discount", float(self.discount))

    @property
    def n_states(self) -> int:
        return self.T.shape[1]

    @property
    def n_actions(self) -> int:
        return self.T.shape[0]


def _policy(policy: ArrayLike, mdp: TabularMDP, name: str = "policy") -> np.ndarray:
    pi = _real_array(policy, name, 2)
    if pi.shape != (mdp.n_states, mdp.n_actions):
        raise ModelError(name, f"expected shape ({mdp.n_states}, {mdp.n_actions}), got {pi.shape}")
    _check_rows(pi, name)
    return pi


def _distribution(value: ArrayLike | None, n: int, name: str) -> np.ndarray:
    if value is None:
        return np.full(n, 1.0 / n)
    array = _real_array(value, name, 1)
    if array.shape != (n,):
        raise ModelError(name, f"expected shape ({n},), got {array.shape}")
    _check_rows(array, name)
    return array


def policy_evaluation(mdp: TabularMDP, policy: ArrayLike) -> np.ndarray:
    r"""Exact value :math:`v_\pi = (I - \gamma P_\pi)^{-1} r_\pi` of a stochastic policy (S,)."""
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


def _reference(reference: ArrayLike | None, mdp: TabularMDP) -> np.ndarray:
    if reference is None:
        return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    rho = _policy(reference, mdp, "reference")
    if np.any(rho <= 0):
        raise ModelError("reference", "expected strictly positive probabilities")
    return rho
