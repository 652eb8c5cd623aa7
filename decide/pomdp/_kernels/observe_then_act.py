"""numba kernel for rollouts in "observe, then act" order (the fisheries studies' protocol).

Each year t of replicate r: the observation ``o ~ Z[a_prev, s, :]`` of the current state is
drawn with the uniform ``u[r, t, 0]``; the agent picks ``a`` (a fixed table ``table[o]``, or the
alpha-vector action at its Bayes belief); the state moves to ``s' ~ T[a, s, :]`` drawn with
``u[r, t, 1]``. Draws invert cumulative sparse rows (see :mod:`.simulate`).
Feeding every policy the same ``u`` gives common random numbers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from decide.pomdp._kernels.simulate import (
    belief_workspace,
    reset_belief,
    sample_row,
    update_belief_sparse,
)


@njit(cache=True)
def best_vector(alpha_t, belief, support, m, values):
    """Index of the vector maximising alpha·belief over the belief's nonzero entries
    ``support[:m]`` (first maximum wins); ``alpha_t`` is (S, K), so the inner loop runs over the
    vectors and vectorises."""
    values[:] = 0.0
    for i in range(m):
        s = support[i]
        w = belief[s]
        for k in range(alpha_t.shape[1]):
            values[k] += alpha_t[s, k] * w
    best_k = 0
    for k in range(1, values.shape[0]):
        if values[k] > values[best_k]:
            best_k = k
    return best_k


@njit(cache=True, parallel=True)
def protocol_rollouts(
    transitions, emissions, agent, b0, x0, a0, table, alpha_t, alpha_action, u,
    states, actions, observations, vectors, final_states, impossible,
):  # fmt: skip
    """Roll out every replicate (first axis of ``u``) from state ``x0`` with previous action
    ``a0``; the agent uses ``table`` if ``alpha_t`` (S, K) has no columns, else its belief (from
    ``b0``, updated under ``agent``) and the vectors. ``transitions`` and ``emissions`` are the
    true model's samplers (as in :func:`.simulate.rollout_alpha`). Outputs (N, years) and (N,)
    are filled in place; ``vectors`` holds the chosen vector's index (-1 under a table).
    """
    n_rep, n_years = u.shape[0], u.shape[1]
    n_states = b0.shape[0]
    use_belief = alpha_t.shape[1] > 0
    b0_support = np.flatnonzero(b0)
    for r in prange(n_rep):
        belief = np.zeros(n_states)
        support = np.empty(n_states, dtype=np.int64)
        m = reset_belief(belief, support, 0, b0, b0_support)
        work = belief_workspace(n_states)
        values = np.empty(alpha_t.shape[1])
        s, a_prev = x0, a0
        for t in range(n_years):
            o = sample_row(emissions[:3], a_prev * emissions[3] + s, u[r, t, 0])
            if use_belief:
                m, possible = update_belief_sparse(belief, support, m, a_prev, o, agent, work)
                if not possible:
                    impossible[r] += 1
                k = best_vector(alpha_t, belief, support, m, values)
                a = alpha_action[k]
            else:
                k, a = -1, table[o]
            states[r, t], actions[r, t], observations[r, t], vectors[r, t] = s, a, o, k
            s = sample_row(transitions, a * n_states + s, u[r, t, 1])
            a_prev = a
        final_states[r] = s
