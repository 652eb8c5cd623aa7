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
def belief_workspace(n_states):
    """Scratch for :func:`update_belief_sparse`: prediction (zero between calls), marks, list."""
    return np.zeros(n_states), np.zeros(n_states, dtype=np.bool_), np.empty(n_states, np.int64)


@njit(cache=True)
def likelihood_of(model, a, s_next, o):
    """Z(o | s', a) from the sorted observation rows ``a * z_stride + s'`` of ``model``."""
    z_ptr, z_idx, z_val, z_stride = model[3:7]
    row = a * z_stride + s_next
    lo, hi = z_ptr[row], z_ptr[row + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if z_idx[mid] < o:
            lo = mid + 1
        else:
            hi = mid
    if lo < z_ptr[row + 1] and z_idx[lo] == o:
        return z_val[lo]
    return 0.0


@njit(cache=True)
def update_belief_sparse(belief, support, m, a, o, model, work):
    """Exact Bayes update of the belief whose nonzero entries are ``belief[support[:m]]``, in
    place; returns the new support size and False when the observation has probability 0 (the
    belief is then the normalised prediction). The cost is that of the reachable states only;
    ``support`` has room for S entries.

    ``model`` = (t_ptr, t_idx, t_val, z_ptr, z_idx, z_val, z_stride): transition rows
    ``a * S + s`` and observation rows ``a * z_stride + s'`` with sorted columns; ``work`` is
    :func:`belief_workspace`.
    """
    t_ptr, t_idx, t_val = model[:3]
    predicted, marked, reached = work
    n_states = belief.shape[0]
    n = 0
    for i in range(m):
        s = support[i]
        weight = belief[s]
        belief[s] = 0.0
        row = a * n_states + s
        for j in range(t_ptr[row], t_ptr[row + 1]):
            s_next = t_idx[j]
            if not marked[s_next]:
                marked[s_next] = True
                reached[n] = s_next
                n += 1
            predicted[s_next] += t_val[j] * weight
    total = 0.0
    for i in range(n):  # the joint P(s', o) goes into belief, zero off the old support
        s_next = reached[i]
        belief[s_next] = predicted[s_next] * likelihood_of(model, a, s_next, o)
        total += belief[s_next]
    possible = total > 0.0
    if not possible:
        for i in range(n):
            belief[reached[i]] = predicted[reached[i]]
            total += predicted[reached[i]]
    m = 0
    for i in range(n):
        s_next = reached[i]
        weight = belief[s_next]
        if weight > 0.0:
            belief[s_next] = weight / total
            support[m] = s_next
            m += 1
        predicted[s_next] = 0.0
        marked[s_next] = False
    return m, possible


@njit(cache=True)
def reset_belief(belief, support, m, b0, b0_support):
    """Set the belief (support size m) to b0 (nonzero at ``b0_support``); returns the new size."""
    for i in range(m):
        belief[support[i]] = 0.0
    for i in range(b0_support.shape[0]):
        belief[b0_support[i]] = b0[b0_support[i]]
        support[i] = b0_support[i]
    return b0_support.shape[0]


@njit(cache=True)
def best_vector(vectors, belief, support, m):
    """argmax_k alpha[k]·belief over the belief's nonzero entries ``support[:m]`` (first maximum
    wins), among the vectors of the belief's observed value; ``vectors`` is
    :meth:`~decide.pomdp.policy.AlphaVectorPolicy.kernel_arrays`."""
    alpha, obs_value, observed, hidden = vectors
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
    b0_support = np.flatnonzero(g_b0)
    belief = np.zeros(n_states)
    support = np.empty(n_states, dtype=np.int64)
    work = belief_workspace(n_states)
    m = 0
    for r in range(n_rep):
        if initial_state >= 0:
            s = initial_state
        else:
            s = sample_position(init_cdf, 0, n_states, u_init[r])
        m = reset_belief(belief, support, m, g_b0, b0_support)
        for t in range(n_steps):
            a = alpha_action[best_vector(vectors, belief, support, m)]
            s_next = sample_row(transitions, a * n_states + s, u[r, t, 0])
            o = sample_row(z_sampler, a * z_stride + s_next, u[r, t, 1])
            states[r, t], actions[r, t], observations[r, t] = s, a, o
            rewards[r, t] = reward[s, a]
            m, possible = update_belief_sparse(belief, support, m, a, o, agent, work)
            if not possible:
                impossible[r] += 1
            s = s_next
