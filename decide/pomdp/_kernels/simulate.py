"""numba kernels for Monte Carlo rollouts of alpha-vector policies (arrays and scalars only).

Sparse rows: a matrix (A, S, S) is stored row-wise over ``row = a * S + s`` as ``indptr``,
``indices`` (column s'), ``probs`` or ``cdf`` (cumulative probabilities within the row).
Sampling with a uniform u picks the first entry j whose cumulative probability exceeds
``u * cdf[last]``, the same rule as ``np.searchsorted(cdf, u * cdf[-1], side="right")``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def row_cdf(indptr, values):
    """Cumulative sums of ``values`` restarted at every row of ``indptr``."""
    cdf = np.empty(values.shape[0])
    for r in range(indptr.shape[0] - 1):
        running = 0.0
        for j in range(indptr[r], indptr[r + 1]):
            running += values[j]
            cdf[j] = running
    return cdf


@njit(cache=True)
def sample_row(sampler, row, u):
    """Column drawn from row ``row`` of ``sampler`` = (indptr, indices, cdf) with uniform u."""
    indptr, indices, cdf = sampler
    return indices[sample_position(cdf, indptr[row], indptr[row + 1], u)]


@njit(cache=True)
def sample_position(cdf, start, stop, u):
    """First position j in [start, stop) with ``cdf[j] > u * cdf[stop - 1]``."""
    target = u * cdf[stop - 1]
    lo, hi = start, stop - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cdf[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def update_belief_sparse(belief, a, o, model, scratch):
    """Exact Bayes update of ``belief`` in place; False (and ``belief`` = the normalised
    prediction) when the observation has probability 0.

    ``model`` = (t_ptr, t_idx, t_val, l_ptr, l_idx, l_val, l_stride, n_obs): transition rows
    ``a * S + s`` and likelihood rows ``a * l_stride + o`` listing the states s' with Z > 0.
    """
    t_ptr, t_idx, t_val, l_ptr, l_idx, l_val, l_stride = model[:7]
    n_states = belief.shape[0]
    scratch[:] = 0.0
    for s in range(n_states):
        weight = belief[s]
        if weight == 0.0:
            continue
        row = a * n_states + s
        for j in range(t_ptr[row], t_ptr[row + 1]):
            scratch[t_idx[j]] += t_val[j] * weight
    row = a * l_stride + o
    total = 0.0
    for j in range(l_ptr[row], l_ptr[row + 1]):
        total += scratch[l_idx[j]] * l_val[j]
    if total > 0.0:
        belief[:] = 0.0
        for j in range(l_ptr[row], l_ptr[row + 1]):
            belief[l_idx[j]] = scratch[l_idx[j]] * l_val[j] / total
        return True
    belief[:] = scratch / scratch.sum()
    return False


@njit(cache=True)
def best_vector(vectors, belief, support):
    """argmax_k alpha[k]·belief over the nonzero entries of belief (first maximum wins), among
    the vectors of the belief's observed value; ``vectors`` is
    :meth:`~decide.pomdp.policy.AlphaVectorPolicy.kernel_arrays`."""
    alpha, obs_value, observed, hidden = vectors
    m = 0
    for s in range(belief.shape[0]):
        if belief[s] != 0.0:
            support[m] = s
            m += 1
    x = observed[support[0]]
    best, best_k = -np.inf, 0
    for k in range(alpha.shape[0]):
        if obs_value[k] != x:
            continue
        value = 0.0
        for j in range(m):
            value += alpha[k, hidden[support[j]]] * belief[support[j]]
        if value > best:
            best, best_k = value, k
    return best_k


@njit(cache=True)
def rollout_alpha(
    transitions, emissions, reward, init_cdf, initial_state, agent, g_b0, vectors, alpha_action,
    u_init, u, states, actions, observations, rewards, impossible,
):  # fmt: skip
    """Roll out the alpha-vector policy for every replicate (first axis of ``u``).

    The true model draws from ``transitions`` (rows ``a * S + s``) and ``emissions`` (rows
    ``a * z_stride + s'``, with ``z_stride`` its last item), each (indptr, indices, cdf); it
    pays ``reward`` and starts from ``init_cdf``. The agent's belief follows ``agent`` (see
    :func:`update_belief_sparse`) from ``g_b0``. ``u_init`` (N,) draws the initial state (unless
    ``initial_state >= 0``) and ``u[:, t, 0]``, ``u[:, t, 1]`` the transition and the
    observation of step t. Outputs are filled in place.
    """
    n_rep, n_steps = u.shape[0], u.shape[1]
    n_states = g_b0.shape[0]
    z_sampler, z_stride = emissions[:3], emissions[3]
    belief = np.empty(n_states)
    scratch = np.empty(n_states)
    support = np.empty(n_states, dtype=np.int64)
    for r in range(n_rep):
        if initial_state >= 0:
            s = initial_state
        else:
            s = sample_position(init_cdf, 0, n_states, u_init[r])
        belief[:] = g_b0
        for t in range(n_steps):
            a = alpha_action[best_vector(vectors, belief, support)]
            s_next = sample_row(transitions, a * n_states + s, u[r, t, 0])
            o = sample_row(z_sampler, a * z_stride + s_next, u[r, t, 1])
            states[r, t], actions[r, t], observations[r, t] = s, a, o
            rewards[r, t] = reward[s, a]
            if not update_belief_sparse(belief, a, o, agent, scratch):
                impossible[r] += 1
            s = s_next
