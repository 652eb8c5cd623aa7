r"""Planning under a chance constraint: maximise reward subject to P(failure) ≤ δ.

A finite-horizon tabular MDP with a failure set :math:`F`. From :math:`s_0 \sim \mu` a policy
chooses :math:`a_t` at :math:`t = 0, \dots, H-1`, earns :math:`\gamma^t R(s_t, a_t)` and moves to
:math:`s_{t+1} \sim T[a_t, s_t, \cdot]`. The problem is

.. math::

    \max_\pi \; V(\pi) = \mathbb{E}_\pi \sum_{t=0}^{H-1} \gamma^t R(s_t, a_t)\,
        \mathbb{1}\{s_0, \dots, s_t \notin F\}
    \quad \text{s.t.} \quad
    P_\pi(\exists\, t \le H : s_t \in F) \le \delta .

**Failure states are terminal.** Once the stock enters :math:`F` (at :math:`s_0`, or at any
:math:`s_1, \dots, s_H`, the last transition included) the episode has failed and earns nothing
more; what would happen afterwards is never modelled. So "failed within the horizon" is the
event of a *first* entry, entries are disjoint events, and with the occupation measures
:math:`x_t(s, a) = P_\pi(s_t = s, a_t = a, \text{not failed})` of the non-failure states

.. math::

    V(\pi) = \sum_{t,s,a} \gamma^t R(s, a)\, x_t(s, a), \qquad
    P_{\text{fail}}(\pi) = \mu(F) + \sum_{t,s,a} c(s, a)\, x_t(s, a), \qquad
    c(s, a) = \sum_{s' \in F} T[a, s, s'],

both linear in :math:`x`. The flow constraints :math:`\sum_a x_0(s, a) = \mu(s)` and
:math:`\sum_a x_{t+1}(s', a) = \sum_{s,a} T[a, s, s']\, x_t(s, a)` (:math:`s, s' \notin F`)
describe exactly the occupation measures of the (randomised, time-dependent) Markov policies,
so the constrained optimum is a linear programme (:func:`lp_plan`). The policy is recovered as
:math:`\pi_t(a \mid s) = x_t(s, a) / \sum_b x_t(s, b)`.

:func:`lagrangian_plan` solves the dual instead: for a multiplier :math:`\lambda \ge 0`,

.. math::

    g(\lambda) = \max_\pi \; V(\pi) - \lambda\,\big(P_{\text{fail}}(\pi) - \delta\big)

is attained by a deterministic policy (backward induction on the per-step payoff
:math:`\gamma^t R(s, a) - \lambda c(s, a)`), :math:`g` is convex and piecewise linear with
derivative :math:`\delta - P_{\text{fail}}(\pi_\lambda)`, and :math:`g(\lambda) \ge V^*` for every
:math:`\lambda \ge 0` (weak duality; equality at the minimiser, since the problem is an LP).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.optimize import linprog

from decide.errors import ModelError, UsageError

__all__ = [
    "ConstrainedMDP",
    "ConstrainedPlan",
    "DualStep",
    "dual_value",
    "evaluate",
    "lagrangian_plan",
    "least_failure_probability",
    "lp_plan",
]

#: Entries of T at or below this are left out of the LP, as HiGHS would (its small_matrix_value).
SMALL_ENTRY = 1e-9
#: Largest deviation from 1 accepted in a row of T, in ``initial`` and in a policy's rows.
SUM_TOLERANCE = 1e-8


def _as_real(value: ArrayLike, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise ModelError(name, f"expected a real array, got {type(value).__name__}") from error
    if array.ndim != ndim:
        raise ModelError(name, f"expected a {ndim}-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ModelError(name, "contains non-finite values")
    return array


def _check_distribution(array: np.ndarray, name: str, what: str) -> None:
    if np.any(array < 0):
        raise ModelError(name, f"{what} has negative entries")
    worst = float(np.max(np.abs(array.sum(axis=-1) - 1.0)))
    if worst > SUM_TOLERANCE:
        raise ModelError(name, f"{what} must sum to 1 (off by up to {worst:.3g})")


def _as_mask(value: ArrayLike, n_states: int) -> np.ndarray:
    array = np.asarray(value)
    if array.shape != (n_states,):
        raise ModelError("failure", f"expected shape ({n_states},), got {array.shape}")
    if array.dtype != bool:
        if not np.all(np.isin(array, (0, 1))):
            raise ModelError("failure", "expected a boolean mask (or 0/1 values)")
        array = array.astype(bool)
    if array.all():
        raise ModelError("failure", "every state is a failure state: nothing to plan")
    return array.copy()


@dataclass(frozen=True, eq=False)
class ConstrainedMDP:
    r"""A finite-horizon tabular MDP with a failure set (see the module docstring).

    Parameters
    ----------
    T : array (A, S, S)
        ``T[a, s, s']`` = P(next state s' | state s, action a); rows sum to 1.
    R : array (S, A)
        Reward of action a in state s (never earned in a failure state).
    discount : float
        γ in (0, 1].
    horizon : int
        H ≥ 1 decisions, at t = 0, …, H − 1.
    initial : array (S,)
        Distribution of :math:`s_0`; its mass on failure states counts as failed at once.
    failure : bool array (S,)
        The failure set F (terminal: entering it ends the episode as failed).

    Attributes
    ----------
    entry : array (S, A)
        :math:`c(s, a) = \sum_{s' \in F} T[a, s, s']`, the probability of entering F at the next
        step.
    """

    T: np.ndarray
    R: np.ndarray
    discount: float
    horizon: int
    initial: np.ndarray
    failure: np.ndarray
    entry: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        T = _as_real(self.T, "T", 3)
        n_actions, n_states = T.shape[0], T.shape[1]
        if n_actions == 0 or n_states == 0 or T.shape[2] != n_states:
            raise ModelError("T", f"expected shape (A, S, S) with A, S ≥ 1, got {T.shape}")
        _check_distribution(T, "T", "each row T[a, s, :]")
        R = _as_real(self.R, "R", 2)
        if R.shape != (n_states, n_actions):
            raise ModelError("R", f"expected shape (S, A) = {(n_states, n_actions)}, got {R.shape}")
        discount = float(self.discount)
        if not 0.0 < discount <= 1.0:
            raise ModelError("discount", f"expected a value in (0, 1], got {self.discount}")
        horizon = self.horizon
        if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1:
            raise ModelError("horizon", f"expected an integer ≥ 1, got {horizon}")
        initial = _as_real(self.initial, "initial", 1)
        if initial.shape != (n_states,):
            raise ModelError("initial", f"expected shape ({n_states},), got {initial.shape}")
        _check_distribution(initial, "initial", "the initial distribution")
        failure = _as_mask(self.failure, n_states)
        for name, value in (
            ("T", T),
            ("R", R),
            ("discount", discount),
            ("horizon", int(horizon)),
            ("initial", initial),
            ("failure", failure),
            ("entry", T[:, :, failure].sum(axis=2).T.copy()),
        ):
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            object.__setattr__(self, name, value)

    @property
    def n_states(self) -> int:
        return self.T.shape[1]

    @property
    def n_actions(self) -> int:
        return self.T.shape[0]

    @property
    def initial_failure(self) -> float:
        """μ(F): the probability of starting in a failure state."""
        return float(self.initial[self.failure].sum())


@dataclass(frozen=True)
class DualStep:
    """One evaluation of the dual: the best response to ``lambda_`` and what it achieves."""

    lambda_: float
    value: float
    failure_probability: float
    dual_value: float
    phase: str  # "bracket" (subgradient steps) or "bisect"


@dataclass(frozen=True, eq=False)
class ConstrainedPlan:
    """A plan for a :class:`ConstrainedMDP`: a mixture of Markov policies.

    At the start of an episode policy ``policies[i]`` (an array ``[t, s, a]`` of action
    probabilities) is drawn with probability ``weights[i]`` and followed to the end. The LP gives
    one randomised policy (weights ``(1,)``); the Lagrangian method two deterministic ones
    (weights ``(q, 1 - q)``, the riskier first), so that value and failure probability are the
    same mixture of those of the two policies.

    Attributes
    ----------
    policies : tuple of arrays (H, S, A)
    weights : array
    value, failure_probability : float
        Of the plan; for ``method="lp"`` the LP's numbers, otherwise exact evaluations.
    lambda_ : float
        The multiplier of the failure constraint (0 when it does not bind).
    history : tuple of DualStep
        The Lagrangian method's evaluations of the dual, in order (empty for the LP).
    method : str
        ``"lp"`` or ``"lagrangian"``.
    """

    policies: tuple[np.ndarray, ...]
    weights: np.ndarray
    value: float
    failure_probability: float
    lambda_: float
    history: tuple[DualStep, ...]
    method: str

    def draw(self, seed: int | np.random.Generator) -> np.ndarray:
        """The policy to follow for one episode, drawn with probabilities ``weights``."""
        rng = np.random.default_rng(seed)
        return self.policies[int(rng.choice(len(self.policies), p=self.weights))]

    def action_probabilities(self, cmdp: ConstrainedMDP) -> np.ndarray:
        r"""Per-time action distribution :math:`P(a_t = a \mid s_t = s)`, an array (H, S, A).

        For a mixture, the policy followed is weighted by its posterior given the state:
        :math:`\pi_t(a \mid s) \propto \sum_i w_i\, d^i_t(s)\, \pi^i_t(a \mid s)` with
        :math:`d^i_t` the (not failed) state distribution under policy i. This single Markov
        policy has the mixture's occupation measures, hence the same value and failure
        probability. Where no policy reaches s the prior weights are used.
        """
        if len(self.policies) == 1:
            return self.policies[0]
        numerator = np.zeros_like(self.policies[0])
        prior = np.zeros_like(self.policies[0])
        for weight, policy in zip(self.weights, self.policies, strict=True):
            reach = _state_distributions(cmdp, policy)
            numerator += weight * reach[:, :, None] * policy
            prior += weight * policy
        total = numerator.sum(axis=2, keepdims=True)
        safe = np.where(total > 0, total, 1.0)
        return np.where(total > 0, numerator / safe, prior)


def _check_policy(cmdp: ConstrainedMDP, policy: ArrayLike) -> np.ndarray:
    shape = (cmdp.horizon, cmdp.n_states, cmdp.n_actions)
    array = np.asarray(policy, dtype=float)
    if array.shape != shape:
        raise UsageError(f"policy: expected shape (H, S, A) = {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise UsageError("policy: expected non-negative action probabilities")
    worst = float(np.max(np.abs(array.sum(axis=2) - 1.0)))
    if worst > SUM_TOLERANCE:
        raise UsageError(f"policy: each policy[t, s, :] must sum to 1 (off by up to {worst:.3g})")
    return array


def _check_delta(delta: float) -> float:
    delta = float(delta)
    if not 0.0 <= delta <= 1.0:
        raise UsageError(f"delta: expected a probability in [0, 1], got {delta}")
    return delta


def _state_distributions(cmdp: ConstrainedMDP, policy: np.ndarray) -> np.ndarray:
    """:math:`d_t(s) = P(s_t = s, \\text{not failed})`, t = 0..H−1 (zero on failure states)."""
    alive = ~cmdp.failure
    reach = np.zeros((cmdp.horizon, cmdp.n_states))
    d = np.where(alive, cmdp.initial, 0.0)
    for t in range(cmdp.horizon):
        reach[t] = d
        occupation = d[:, None] * policy[t]
        d = np.einsum("sa,ast->t", occupation, cmdp.T) * alive
    return reach


def _evaluate(cmdp: ConstrainedMDP, policy: np.ndarray) -> tuple[float, float]:
    reach = _state_distributions(cmdp, policy)
    occupation = reach[:, :, None] * policy  # x_t(s, a)
    discounts = cmdp.discount ** np.arange(cmdp.horizon)
    value = float(np.einsum("t,tsa,sa->", discounts, occupation, cmdp.R))
    failure = cmdp.initial_failure + float(np.einsum("tsa,sa->", occupation, cmdp.entry))
    return value, failure


def evaluate(cmdp: ConstrainedMDP, policy: ArrayLike) -> tuple[float, float]:
    r"""Exact value and failure probability of a Markov policy, by forward propagation.

    With :math:`d_0 = \mu` off F, :math:`x_t(s, a) = d_t(s)\, \pi_t(a \mid s)` and
    :math:`d_{t+1}(s') = \sum_{s,a} x_t(s, a) T[a, s, s']` for :math:`s' \notin F`:
    :math:`V = \sum_t \gamma^t \sum_{s,a} R(s, a) x_t(s, a)` and
    :math:`P_{\text{fail}} = \mu(F) + \sum_t \sum_{s,a} c(s, a) x_t(s, a)`.

    Parameters
    ----------
    cmdp : ConstrainedMDP
    policy : array (H, S, A)
        ``policy[t, s, a]`` = probability of action a in state s at time t.

    Returns
    -------
    (value, failure_probability) : tuple of float
    """
    return _evaluate(cmdp, _check_policy(cmdp, policy))


def _one_hot(cmdp: ConstrainedMDP, actions: np.ndarray) -> np.ndarray:
    return np.eye(cmdp.n_actions)[actions]


def _backward(cmdp: ConstrainedMDP, payoff) -> np.ndarray:
    """Deterministic policy (H, S, A) maximising :math:`\\sum_t` payoff(t) by backward induction.

    ``payoff(t)`` is an (S, A) array in time-0 units; nothing is earned after entering F.
    """
    alive = ~cmdp.failure
    actions = np.zeros((cmdp.horizon, cmdp.n_states), dtype=np.intp)
    future = np.zeros(cmdp.n_states)
    for t in reversed(range(cmdp.horizon)):
        q = payoff(t) + np.einsum("ast,t->sa", cmdp.T, future)
        actions[t] = q.argmax(axis=1)
        future = np.where(alive, q.max(axis=1), 0.0)
    return _one_hot(cmdp, actions)


def _best_response(cmdp: ConstrainedMDP, lambda_: float) -> np.ndarray:
    r"""A deterministic maximiser of :math:`V - \lambda P_{\text{fail}}`: per-step payoff
    :math:`\gamma^t R - \lambda c` (the failure probability is not discounted)."""
    discounts = cmdp.discount ** np.arange(cmdp.horizon)
    return _backward(cmdp, lambda t: discounts[t] * cmdp.R - lambda_ * cmdp.entry)


def _safest(cmdp: ConstrainedMDP) -> np.ndarray:
    """A deterministic policy of least failure probability (maximises −P_fail)."""
    return _backward(cmdp, lambda t: -cmdp.entry)


def least_failure_probability(cmdp: ConstrainedMDP) -> float:
    """The least failure probability any policy achieves (by backward induction on −c).

    Deterministic Markov policies attain it, so a constraint with a smaller δ is infeasible.
    """
    return _evaluate(cmdp, _safest(cmdp))[1]


def dual_value(cmdp: ConstrainedMDP, delta: float, lambda_: float) -> float:
    r"""The Lagrangian dual :math:`g(\lambda) = \max_\pi V(\pi) - \lambda (P_{\text{fail}}(\pi)
    - \delta)`, an upper bound on the constrained optimum for every :math:`\lambda \ge 0`."""
    delta = _check_delta(delta)
    if not (np.isfinite(lambda_) and lambda_ >= 0):
        raise UsageError(f"lambda_: expected a finite value ≥ 0, got {lambda_}")
    value, failure = _evaluate(cmdp, _best_response(cmdp, float(lambda_)))
    return value - lambda_ * (failure - delta)


def _require_feasible(cmdp: ConstrainedMDP, delta: float) -> None:
    least = least_failure_probability(cmdp)
    if delta < least:
        raise UsageError(
            f"delta: {delta:.6g} is infeasible; the least achievable failure probability "
            f"is {least:.10g}"
        )


# --- the exact linear programme ------------------------------------------------------------


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
    rows = cmdp.T[:, alive].transpose(1, 0, 2).reshape(n * n_actions, -1)[:, alive]  # (l a, l')
    rows = np.where(rows > SMALL_ENTRY, rows, 0.0)
    outflow = sparse.kron(sparse.eye_array(n), np.ones((1, n_actions)), format="csr")
    flows = sparse.kron(sparse.eye_array(horizon), outflow, format="csr")
    unique, group = np.unique(rows, axis=0, return_inverse=True)
    group = group.reshape(-1)
    n_unique = unique.shape[0]
    if horizon == 1 or n * n_actions + np.count_nonzero(unique) >= np.count_nonzero(rows):
        inflow = sparse.kron(sparse.eye_array(horizon, k=-1), sparse.csr_array(rows.T))
        return sparse.csr_array(flows - inflow)
    members = sparse.csr_array(
        (np.ones(n * n_actions), (group, np.arange(n * n_actions))), shape=(n_unique, n * n_actions)
    )
    shift = sparse.eye_array(horizon, horizon - 1, k=-1)  # flow at t from z_{t-1}
    first = sparse.eye_array(horizon - 1, horizon)  # z_t from x_t, t = 0..H−2
    return sparse.csr_array(
        sparse.block_array(
            [
                [flows, -sparse.kron(shift, sparse.csr_array(unique.T))],
                [sparse.kron(first, members), -sparse.eye_array((horizon - 1) * n_unique)],
            ],
            format="csr",
        )
    )


def _recover_policy(cmdp: ConstrainedMDP, alive: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:math:`\\pi_t(a | s) = x_t(s, a) / \\sum_b x_t(s, b)`; where the LP puts (almost) no mass,
    and on failure states, the action least likely to enter F."""
    default = _one_hot(cmdp, cmdp.entry.argmin(axis=1))
    policy = np.broadcast_to(default, (cmdp.horizon, *default.shape)).copy()
    x = np.clip(x.reshape(cmdp.horizon, alive.size, cmdp.n_actions), 0.0, None)
    mass = x.sum(axis=2, keepdims=True)
    reached = mass[:, :, 0] > 1e-14
    fraction = x / np.where(mass > 0, mass, 1.0)
    policy[:, alive] = np.where(reached[:, :, None], fraction, policy[:, alive])
    return policy


def lp_plan(cmdp: ConstrainedMDP, delta: float) -> ConstrainedPlan:
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

    Parameters
    ----------
    cmdp : ConstrainedMDP
    delta : float
        The bound on the failure probability, in [0, 1].

    Returns
    -------
    ConstrainedPlan
        One randomised policy; ``value`` and ``failure_probability`` are the LP's (computed
        from x with the exact R and c); ``lambda_`` is the constraint's dual value.

    Raises
    ------
    UsageError
        If δ is below :func:`least_failure_probability` (the message gives that value).
    """
    delta = _check_delta(delta)
    _require_feasible(cmdp, delta)
    alive = np.flatnonzero(~cmdp.failure)
    horizon = cmdp.horizon
    discounts = cmdp.discount ** np.arange(horizon)
    reward = (discounts[:, None, None] * cmdp.R[alive][None]).ravel()
    entry = np.tile(cmdp.entry[alive].ravel(), horizon)
    kept_entry = np.where(entry > SMALL_ENTRY, entry, 0.0)
    A_eq = _flow_matrix(cmdp, alive)
    padding = A_eq.shape[1] - reward.size  # the shared-row variables z, if any
    b_eq = np.zeros(A_eq.shape[0])
    b_eq[: alive.size] = cmdp.initial[alive]
    result = linprog(
        -np.append(reward, np.zeros(padding)),
        A_ub=sparse.csr_array(np.append(kept_entry, np.zeros(padding))[None, :]),
        b_ub=[delta - cmdp.initial_failure],
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=(0, None),
        method="highs-ipm",
    )
    if result.status == 2:  # δ within the solver's tolerance of the least achievable value
        raise UsageError(
            f"delta: {delta:.6g} is numerically infeasible for the LP; the least achievable "
            f"failure probability is {least_failure_probability(cmdp):.10g}"
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
        method="lp",
    )


# --- dual ascent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Response:
    lambda_: float
    policy: np.ndarray
    value: float
    failure: float


def _mixture(risky: _Response, safe: _Response, delta: float) -> tuple[float, float, float]:
    """Probability q of the risky policy so that the mixture fails with probability δ (or q = 0
    when the safe one already does), and the mixture's value and failure probability."""
    spread = risky.failure - safe.failure
    q = float(np.clip((delta - safe.failure) / spread, 0.0, 1.0)) if spread > 0 else 0.0
    value = q * risky.value + (1 - q) * safe.value
    return q, value, q * risky.failure + (1 - q) * safe.failure


def lagrangian_plan(
    cmdp: ConstrainedMDP,
    delta: float,
    *,
    iterations: int = 100,
    step: float = 1.0,
    tolerance: float = 1e-10,
) -> ConstrainedPlan:
    r"""The constrained optimum by dual ascent on the multiplier λ of the failure constraint.

    Each λ is answered by the deterministic policy :math:`\pi_\lambda` that maximises
    :math:`V - \lambda P_{\text{fail}}` (backward induction on :math:`\gamma^t R - \lambda c`),
    evaluated exactly (:func:`evaluate`); :math:`g(\lambda) = V(\pi_\lambda) -
    \lambda (P_{\text{fail}}(\pi_\lambda) - \delta)` is recorded in ``history``.

    1. *Bracketing* by projected subgradient steps on the dual,
       :math:`\lambda_{k+1} = \max(0, \lambda_k + \eta_k (P_{\text{fail}}(\pi_{\lambda_k}) -
       \delta))`, from λ = 0, with :math:`\eta_k = \text{step} \cdot 2^k`: the step doubles while
       the constraint stays violated so that a step that is too small for the problem's scale
       cannot stall the search. It stops at the first λ whose policy satisfies the constraint.
    2. *Bisection* on the bracket: :math:`P_{\text{fail}}(\pi_\lambda)` does not increase with
       λ (the subgradient of a convex function is monotone), so the sign of
       :math:`P_{\text{fail}} - \delta` at the midpoint tells which half holds the minimiser
       :math:`\lambda^*` of the 1-D convex dual. Bisection halves the bracket every step,
       where fixed subgradient steps would oscillate around the kink of a piecewise-linear g.
    3. *Mixing*: with the last violating policy (from the lower end) and the last feasible one
       (upper end), choose the first with probability
       :math:`q = (\delta - P^{\text{hi}}) / (P^{\text{lo}} - P^{\text{hi}})` at the start of
       the episode; the mixture fails with probability exactly δ. When both policies maximise
       the Lagrangian at :math:`\lambda^*` the mixture's value equals :math:`g(\lambda^*)`,
       the constrained optimum.

    The search stops when the duality gap :math:`\min_k g(\lambda_k) - V_{\text{mix}}` (a
    certificate: the mixture is feasible, every :math:`g(\lambda_k)` is an upper bound) is at
    most ``tolerance`` · max(1, |g|), or after ``iterations`` evaluations of the dual. If the
    bracket is not closed by then, the safest policy (least failure probability) is mixed in.

    Parameters
    ----------
    cmdp : ConstrainedMDP
    delta : float
        The bound on the failure probability, in [0, 1].
    iterations : int
        Most evaluations of the dual.
    step : float
        First subgradient step η₀ > 0.
    tolerance : float
        Relative duality gap at which to stop.

    Returns
    -------
    ConstrainedPlan
        One deterministic policy when the constraint does not bind (λ = 0), otherwise two with
        weights (q, 1 − q); ``lambda_`` is the λ with the least dual value seen.

    Raises
    ------
    UsageError
        If δ is below :func:`least_failure_probability`, or on bad options.
    """
    delta = _check_delta(delta)
    if isinstance(iterations, bool) or int(iterations) != iterations or iterations < 1:
        raise UsageError(f"iterations: expected an integer ≥ 1, got {iterations}")
    if not (np.isfinite(step) and step > 0):
        raise UsageError(f"step: expected a finite value > 0, got {step}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise UsageError(f"tolerance: expected a finite value ≥ 0, got {tolerance}")
    _require_feasible(cmdp, delta)
    history: list[DualStep] = []

    def respond(lambda_: float, phase: str) -> _Response:
        policy = _best_response(cmdp, lambda_)
        value, failure = _evaluate(cmdp, policy)
        history.append(
            DualStep(lambda_, value, failure, value - lambda_ * (failure - delta), phase)
        )
        return _Response(lambda_, policy, value, failure)

    def finish(responses: tuple[_Response, ...], weights: tuple[float, ...]) -> ConstrainedPlan:
        best = min(history, key=lambda s: s.dual_value)
        w = np.array(weights)
        return ConstrainedPlan(
            policies=tuple(r.policy for r in responses),
            weights=w,
            value=float(sum(wi * r.value for wi, r in zip(w, responses, strict=True))),
            failure_probability=float(
                sum(wi * r.failure for wi, r in zip(w, responses, strict=True))
            ),
            lambda_=best.lambda_,
            history=tuple(history),
            method="lagrangian",
        )

    low = respond(0.0, "bracket")
    if low.failure <= delta:
        return finish((low,), (1.0,))
    high: _Response | None = None
    eta = float(step)
    while high is None and len(history) < iterations:
        response = respond(max(0.0, low.lambda_ + eta * (low.failure - delta)), "bracket")
        if response.failure <= delta:
            high = response
        else:
            low, eta = response, 2.0 * eta
    if high is None:
        safest = _safest(cmdp)
        high = _Response(np.inf, safest, *_evaluate(cmdp, safest))
    while len(history) < iterations and np.isfinite(high.lambda_):
        _, mixed, _ = _mixture(low, high, delta)
        bound = min(s.dual_value for s in history)
        if bound - mixed <= tolerance * max(1.0, abs(bound)):
            break
        middle = 0.5 * (low.lambda_ + high.lambda_)
        if not low.lambda_ < middle < high.lambda_:
            break  # the bracket cannot be split in floating point
        response = respond(middle, "bisect")
        if response.failure <= delta:
            high = response
        else:
            low = response
    q, _, _ = _mixture(low, high, delta)
    return finish((low, high), (q, 1.0 - q))
