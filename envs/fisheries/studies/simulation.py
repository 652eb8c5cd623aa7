r"""The paper's simulation protocol on the discretised model, vectorised over replicates.

Memarzadeh & Boettiger (2019, appendix A), as their ``sim_pomdp``: the stock starts at grid
point ``x0`` (K/6 → 0.1616 on the 100-point grid) with "no harvest" as the previous action; in
each of the years t = 2, …, 100 the manager observes :math:`y_t \sim Z(\cdot \mid x_t)`, sets the
quota :math:`h_t`, earns :math:`\min(x_t, h_t)` and the stock moves to
:math:`x_{t+1} \sim T(\cdot \mid x_t, h_t)`. The net present value is

.. math:: \mathrm{NPV} = \sum_{t=2}^{100} \gamma^{t-1} \min(x_t, h_t).

Everything happens on the grids with the model's own T and Z (this reproduces the published CE,
MSY and TAC values; a continuous-stock simulation gives values about 0.04 higher).
"""

from __future__ import annotations

import numpy as np

from decide.errors import ModelError
from decide.pomdp._kernels.observe_then_act import protocol_rollouts
from decide.pomdp.kernel_arrays import belief_model, emission_sampler, sampler
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.reactive import reactive_vectors


def common_uniforms(seed: int, replicates: int, years: int) -> np.ndarray:
    """The uniforms ``u[replicate, year, (observation, transition)]`` every policy shares."""
    return np.random.default_rng(seed).random((replicates, years, 2))


def rollouts(
    pomdp: TabularPOMDP,
    policy: AlphaVectorPolicy | np.ndarray,
    u: np.ndarray,
    x0: int,
    a0: int = 0,
    *,
    agent: TabularPOMDP | None = None,
) -> dict[str, np.ndarray]:
    """Simulate the protocol for every replicate of ``u``.

    Parameters
    ----------
    pomdp : TabularPOMDP
        The true model: states and observations are drawn from its T and Z.
    policy : AlphaVectorPolicy or int array (O,)
        Alpha vectors (acting on the Bayes belief of ``agent``) or an action per observation.
    u : array (N, years, 2)
        Uniforms from :func:`common_uniforms`.
    x0, a0 : int
        Initial state index and previous action index.
    agent : TabularPOMDP, optional
        The model the manager's belief follows: it starts at ``agent.b0`` and is updated with
        ``agent``'s transitions and observations (default ``pomdp``, the manager who knows the
        truth). Must have the sizes of ``pomdp``; ignored by an action table.

    Returns
    -------
    dict
        ``state``, ``action``, ``observation`` (N, years) indices, ``vector`` (N, years) the
        index of the alpha vector that chose the action (-1 under a table), ``final_state`` (N,)
        the state after the last year, ``impossible`` (N,) observations of probability 0 under
        the belief.
    """
    n, years = u.shape[:2]
    agent = pomdp if agent is None else agent
    sizes = (pomdp.n_states, pomdp.n_actions, pomdp.n_observations)
    if (agent.n_states, agent.n_actions, agent.n_observations) != sizes:
        raise ModelError(
            "agent",
            "expected (states, actions, observations) = "
            f"{sizes} as in the true model, got "
            f"{(agent.n_states, agent.n_actions, agent.n_observations)}",
        )
    if isinstance(policy, AlphaVectorPolicy):
        policy = policy.for_model(pomdp)
        alpha_t, alpha_action = np.ascontiguousarray(policy.alpha.T), policy.actions
        table = np.zeros(pomdp.n_observations, dtype=np.int64)
    else:
        table = np.ascontiguousarray(policy, dtype=np.int64)
        alpha_t, alpha_action = np.zeros((pomdp.n_states, 0)), np.zeros(0, dtype=np.int64)
    names = ("state", "action", "observation", "vector")
    out = {name: np.zeros((n, years), dtype=np.int64) for name in names}
    out["final_state"] = np.zeros(n, dtype=np.int64)
    out["impossible"] = np.zeros(n, dtype=np.int64)
    protocol_rollouts(
        sampler(pomdp.T_rows), emission_sampler(pomdp), belief_model(agent), agent.b0,
        int(x0), int(a0), table, alpha_t, alpha_action, np.ascontiguousarray(u),
        out["state"], out["action"], out["observation"], out["vector"], out["final_state"],
        out["impossible"],
    )  # fmt: skip
    return out


def npv(pomdp: TabularPOMDP, state: np.ndarray, action: np.ndarray) -> np.ndarray:
    r""":math:`\sum_k \gamma^{k+1} R(s_k, a_k)` over the years k = 0, 1, … (t = k + 2)."""
    weights = pomdp.discount ** np.arange(1, state.shape[1] + 1)
    return (pomdp.R[state, action] * weights).sum(axis=1)


def value_with_tail(
    pomdp: TabularPOMDP, policy: AlphaVectorPolicy | np.ndarray, out: dict[str, np.ndarray]
) -> np.ndarray:
    r"""Each replicate's discounted reward over the infinite horizon: :func:`npv` for the years
    before the last, then, in the last year T, the exact value of going on from there,

    .. math:: \sum_{k<T} \gamma^{k+1} R(s_k, a_k) + \gamma^{T+1} \alpha(s_T).

    For a rule, α is its own value after the last observation (:func:`reactive_vectors`), so
    the mean is unbiased for the rule's value. For alpha vectors, α is the vector that chose the
    last action: the value of the plan it stands for, which the manager could follow from year T
    on, so the mean is a lower bound on the value of a policy available to the POMDP manager.
    ``out`` must come from :func:`rollouts` on ``pomdp`` with ``agent = pomdp``.
    """
    state, last = out["state"], out["state"][:, -1]
    if isinstance(policy, AlphaVectorPolicy):
        tail = policy.for_model(pomdp).alpha[out["vector"][:, -1], last]
    else:
        rule = reactive_vectors(pomdp, policy)
        tail = rule.alpha[rule.child[out["observation"][:, -1]], last]
    head = npv(pomdp, state[:, :-1], out["action"][:, :-1])
    return head + pomdp.discount ** state.shape[1] * tail
