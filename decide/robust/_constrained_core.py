r"""The chance-constrained MDP, its plans, exact evaluation and backward induction.

The problem is stated in :mod:`decide.robust.constrained`. Failure states are terminal, so entries
into F are first entries (disjoint events) and, with the occupation measures
:math:`x_t(s, a) = P_\pi(s_t = s, a_t = a, \text{not failed}) = d_t(s)\, \pi_t(a \mid s)` of
the non-failure states (:math:`d_0 = \mu` off F, :math:`d_{t+1}(s') = \sum_{s,a} x_t(s, a)\,
T[a, s, s']` for :math:`s' \notin F`),

.. math::

    V(\pi) = \sum_{t,s,a} \gamma^t R(s, a)\, x_t(s, a), \qquad
    P_{\text{fail}}(\pi) = \mu(F) + \sum_{t,s,a} c(s, a)\, x_t(s, a), \qquad
    c(s, a) = \sum_{s' \in F} T[a, s, s'].

A per-step payoff :math:`p_t(s, a)` earned while alive is maximised by the deterministic policy
:math:`\arg\max_a Q_t` of backward induction, :math:`Q_t = p_t + \sum_{s'} T[a, s, s']\,
W_{t+1}(s')`, :math:`W_t = \max_a Q_t` off F and 0 on F, :math:`W_H = 0`.

**The model** (:class:`ConstrainedMDP`) is a :class:`~decide.mdp.model.TabularMDP` (T, R, γ,
whose shapes it has already checked; γ = 1 is allowed) plus what the chance constraint needs: the
horizon H, the start distribution μ and the failure mask F, checked against the MDP's number of
states. It holds the MDP as a field rather than extending it, because it is not one: the
infinite-horizon tools of :mod:`decide.mdp` must not accept it. So the arrays are
``cmdp.mdp.T``, ``cmdp.mdp.R`` and ``cmdp.mdp.discount``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from decide.contract import stop_reason
from decide.errors import ModelError, UsageError
from decide.mdp.model import SUM_TOLERANCE, TabularMDP, _check_rows, _real_array


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


def is_positive_int(value: float) -> bool:
    """Whether ``value`` is an integer ≥ 1 (bools excluded)."""
    return not isinstance(value, bool) and int(value) == value and value >= 1


@dataclass(frozen=True, eq=False)
class ConstrainedMDP:
    r"""A finite-horizon tabular MDP with a failure set (see :mod:`decide.robust.constrained`).

    Parameters
    ----------
    mdp : TabularMDP
        ``T[a, s, s']``, ``R[s, a]`` (never earned in a failure state) and γ in (0, 1]; it has
        checked their shapes.
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

    mdp: TabularMDP
    horizon: int
    initial: np.ndarray
    failure: np.ndarray
    entry: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.mdp, TabularMDP):
            raise UsageError(f"mdp: expected a TabularMDP, got {type(self.mdp).__name__}")
        if not is_positive_int(self.horizon):
            raise ModelError("horizon", f"expected an integer ≥ 1, got {self.horizon}")
        initial = _real_array(self.initial, "initial", 1)
        if initial.shape != (self.n_states,):
            raise ModelError("initial", f"expected shape ({self.n_states},), got {initial.shape}")
        _check_rows(initial, "initial", "the initial distribution")
        failure = _as_mask(self.failure, self.n_states)
        entry = self.mdp.T[:, :, failure].sum(axis=2).T.copy()
        for array in (initial, failure, entry):
            array.flags.writeable = False
        values = {"horizon": int(self.horizon), "initial": initial, "failure": failure}
        for name, value in (values | {"entry": entry}).items():
            object.__setattr__(self, name, value)

    @property
    def n_states(self) -> int:
        return self.mdp.n_states

    @property
    def n_actions(self) -> int:
        return self.mdp.n_actions

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
    stop_reason : str
        Why the method stopped, in :data:`decide.contract.STOP_REASONS`' words.
    parameters : dict
        The method's parameters and the δ it was given.
    """

    policies: tuple[np.ndarray, ...]
    weights: np.ndarray
    value: float
    failure_probability: float
    lambda_: float
    history: tuple[DualStep, ...]
    method: str
    stop_reason: str
    parameters: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        stop_reason(self.stop_reason)

    def to_dataset(self, problem: str = "constrained MDP"):
        """The plan as a Dataset: ``policy`` (component, time, state, action) and ``weight``
        (component), the dual evaluations (step) of the Lagrangian method, and the value,
        failure probability, multiplier, parameters and stop reason in the attributes."""
        import xarray as xr

        from decide.results import make_attrs

        def meta(long_name: str) -> dict[str, str]:
            return {"long_name": long_name, "units": "1"}

        steps = self.history
        data = {
            "policy": (
                ("component", "time", "state", "action"),
                np.stack(self.policies),
                meta("P(action | state, time) of each policy of the mixture"),
            ),
            "weight": ("component", np.asarray(self.weights), meta("probability of the policy")),
            "dual_lambda": ("step", [d.lambda_ for d in steps], meta("multiplier tried")),
            "dual_value": ("step", [d.dual_value for d in steps], meta("dual g(lambda)")),
            "dual_failure": (
                "step",
                [d.failure_probability for d in steps],
                meta("failure probability of the best response"),
            ),
        }
        shape = np.stack(self.policies).shape
        sizes = dict(zip(("component", "time", "state", "action"), shape, strict=True))
        coords = {dim: (dim, np.arange(n), meta(f"{dim} index")) for dim, n in sizes.items()}
        coords["step"] = ("step", np.arange(len(steps)), meta("evaluation of the dual"))
        attrs = make_attrs(
            problem,
            self.method,
            self.parameters,
            value=self.value,
            failure_probability=self.failure_probability,
            multiplier=self.lambda_,
            stop_reason=self.stop_reason,
        )
        return xr.Dataset(data, coords=coords, attrs=attrs)

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
            numerator += weight * state_distributions(cmdp, policy)[:, :, None] * policy
            prior += weight * policy
        total = numerator.sum(axis=2, keepdims=True)
        safe = np.where(total > 0, total, 1.0)
        return np.where(total > 0, numerator / safe, prior)


def check_delta(delta: float) -> float:
    delta = float(delta)
    if not 0.0 <= delta <= 1.0:
        raise UsageError(f"delta: expected a probability in [0, 1], got {delta}")
    return delta


def state_distributions(cmdp: ConstrainedMDP, policy: np.ndarray) -> np.ndarray:
    r""":math:`d_t(s) = P(s_t = s, \text{not failed})`, t = 0..H−1 (zero on failure states)."""
    alive = ~cmdp.failure
    reach = np.zeros((cmdp.horizon, cmdp.n_states))
    d = np.where(alive, cmdp.initial, 0.0)
    for t in range(cmdp.horizon):
        reach[t] = d
        d = np.einsum("sa,ast->t", d[:, None] * policy[t], cmdp.mdp.T) * alive
    return reach


def evaluate_unchecked(cmdp: ConstrainedMDP, policy: np.ndarray) -> tuple[float, float]:
    """:func:`evaluate` without checking ``policy``."""
    occupation = state_distributions(cmdp, policy)[:, :, None] * policy  # x_t(s, a)
    discounts = cmdp.mdp.discount ** np.arange(cmdp.horizon)
    value = float(np.einsum("t,tsa,sa->", discounts, occupation, cmdp.mdp.R))
    failure = cmdp.initial_failure + float(np.einsum("tsa,sa->", occupation, cmdp.entry))
    return value, failure


def evaluate(cmdp: ConstrainedMDP, policy: ArrayLike) -> tuple[float, float]:
    r"""Exact value and failure probability of a Markov policy, by forward propagation.

    :math:`V = \sum_t \gamma^t \sum_{s,a} R(s, a) x_t(s, a)` and
    :math:`P_{\text{fail}} = \mu(F) + \sum_t \sum_{s,a} c(s, a) x_t(s, a)` with the occupation
    measures :math:`x_t` propagated forward from :math:`\mu` (see the module docstring).

    Parameters
    ----------
    cmdp : ConstrainedMDP
    policy : array (H, S, A)
        ``policy[t, s, a]`` = probability of action a in state s at time t.

    Returns
    -------
    (value, failure_probability) : tuple of float
    """
    shape = (cmdp.horizon, cmdp.n_states, cmdp.n_actions)
    array = np.asarray(policy, dtype=float)
    if array.shape != shape:
        raise UsageError(f"policy: expected shape (H, S, A) = {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise UsageError("policy: expected non-negative action probabilities")
    worst = float(np.max(np.abs(array.sum(axis=2) - 1.0)))
    if worst > SUM_TOLERANCE:
        raise UsageError(f"policy: each policy[t, s, :] must sum to 1 (off by up to {worst:.3g})")
    return evaluate_unchecked(cmdp, array)


def backward_induction(cmdp: ConstrainedMDP, payoff: Callable[[int], np.ndarray]) -> np.ndarray:
    r"""Deterministic policy (H, S, A) maximising :math:`\sum_t` payoff(t) by backward induction.

    ``payoff(t)`` is an (S, A) array in time-0 units; nothing is earned after entering F.
    """
    alive = ~cmdp.failure
    actions = np.zeros((cmdp.horizon, cmdp.n_states), dtype=np.intp)
    future = np.zeros(cmdp.n_states)
    for t in reversed(range(cmdp.horizon)):
        q = payoff(t) + np.einsum("ast,t->sa", cmdp.mdp.T, future)
        actions[t] = q.argmax(axis=1)
        future = np.where(alive, q.max(axis=1), 0.0)
    return np.eye(cmdp.n_actions)[actions]


def safest_policy(cmdp: ConstrainedMDP) -> np.ndarray:
    """A deterministic policy of least failure probability (payoff −c, so it maximises −P_fail)."""
    return backward_induction(cmdp, lambda t: -cmdp.entry)


def least_failure_probability(cmdp: ConstrainedMDP) -> float:
    """The least failure probability any policy achieves (by backward induction on −c).

    Deterministic Markov policies attain it, so a constraint with a smaller δ is infeasible.
    """
    return evaluate_unchecked(cmdp, safest_policy(cmdp))[1]


def require_feasible(cmdp: ConstrainedMDP, delta: float) -> float:
    """Raise a UsageError if δ is below the least failure probability; return that least value."""
    least = least_failure_probability(cmdp)
    if delta < least:
        raise UsageError(
            f"delta: {delta:.6g} is infeasible; the least achievable failure probability "
            f"is {least:.10g}"
        )
    return least
