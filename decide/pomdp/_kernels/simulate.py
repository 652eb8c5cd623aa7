"""numba kernels for Monte Carlo rollouts of alpha-vector policies (arrays and scalars only).

Sparse rows: a matrix (A, S, S) is stored row-wise over ``row = a * S + s`` as ``indptr``,
``indices`` (column s'), ``probs`` and ``cdf`` (cumulative probabilities within the row).
Sampling with a uniform u picks the first entry j whose cumulative probability exceeds
``u * cdf[last]``, the same rule as ``np.searchsorted(cdf, u * cdf[-1], side="right")``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def sparse_rows(matrix):
    """Row-wise sparse form of a dense 2-D array: (indptr, indices, probs, cdf)."""
    n_rows, n_cols = matrix.shape
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for r in range(n_rows):
        count = 0
        for c in range(n_cols):
            if matrix[r, c] != 0.0:
                count += 1
        indptr[r + 1] = indptr[r] + count
    indices = np.empty(indptr[n_rows], dtype=np.int64)
    probs = np.empty(indptr[n_rows], dtype=np.float64)
    cdf = np.empty(indptr[n_rows], dtype=np.float64)
    for r in range(n_rows):
        j = indptr[r]
        running = 0.0
        for c in range(n_cols):
            if matrix[r, c] != 0.0:
                running += matrix[r, c]
                indices[j], probs[j], cdf[j] = c, matrix[r, c], running
                j += 1
    return indptr, indices, probs, cdf


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
def update_belief_sparse(belief, a, o, indptr, indices, probs, Z, out):
    """Exact Bayes update of ``belief`` into ``out``; False (and ``out`` = the normalised
    prediction) when the observation has probability 0."""
    n_states = belief.shape[0]
    out[:] = 0.0
    for s in range(n_states):
        weight = belief[s]
        if weight == 0.0:
            continue
        row = a * n_states + s
        for j in range(indptr[row], indptr[row + 1]):
            out[indices[j]] += probs[j] * weight
    return correct(out, Z, a, o)


@njit(cache=True)
def correct(predicted, Z, a, o):
    """Multiply the prediction by the likelihood ``Z[a, :, o]`` and normalise, in place.

    Returns False, leaving the prediction normalised, when the observation has probability 0.
    """
    total = 0.0
    for s2 in range(predicted.shape[0]):
        total += predicted[s2] * Z[a, s2, o]
    if total > 0.0:
        for s2 in range(predicted.shape[0]):
            predicted[s2] = predicted[s2] * Z[a, s2, o] / total
        return True
    predicted /= predicted.sum()
    return False


@njit(cache=True)
def best_vector(alpha, belief, support):
    """argmax_k alpha[k]·belief over the nonzero entries of belief (first maximum wins)."""
    m = 0
    for s in range(belief.shape[0]):
        if belief[s] != 0.0:
            support[m] = s
            m += 1
    best, best_k = -np.inf, 0
    for k in range(alpha.shape[0]):
        value = 0.0
        for j in range(m):
            value += alpha[k, support[j]] * belief[support[j]]
        if value > best:
            best, best_k = value, k
    return best_k


@njit(cache=True)
def rollout_alpha(
    t_ptr, t_idx, t_cdf, z_cdf, reward, init_cdf, initial_state,
    g_ptr, g_idx, g_prob, g_z, g_b0, alpha, alpha_action, u_init, u,
    states, actions, observations, rewards, impossible,
):  # fmt: skip
    """Roll out the alpha-vector policy for every replicate (first axis of ``u``).

    ``t_*``/``z_cdf``/``reward``/``init_cdf`` describe the true model, ``g_*`` the agent's;
    ``u_init`` (N,) draws the initial state (unless ``initial_state >= 0``) and ``u[:, t, 0]``,
    ``u[:, t, 1]`` the transition and the observation of step t. Outputs are filled in place.
    """
    n_rep, n_steps = u.shape[0], u.shape[1]
    n_states, n_obs = g_b0.shape[0], z_cdf.shape[2]
    belief = np.empty(n_states)
    scratch = np.empty(n_states)
    support = np.empty(n_states, dtype=np.int64)
    flat_z = z_cdf.reshape(-1)
    for r in range(n_rep):
        if initial_state >= 0:
            s = initial_state
        else:
            s = sample_position(init_cdf, 0, n_states, u_init[r])
        belief[:] = g_b0
        for t in range(n_steps):
            a = alpha_action[best_vector(alpha, belief, support)]
            row = a * n_states + s
            s_next = t_idx[sample_position(t_cdf, t_ptr[row], t_ptr[row + 1], u[r, t, 0])]
            start = (a * n_states + s_next) * n_obs
            o = sample_position(flat_z, start, start + n_obs, u[r, t, 1]) - start
            states[r, t], actions[r, t], observations[r, t] = s, a, o
            rewards[r, t] = reward[s, a]
            if not update_belief_sparse(belief, a, o, g_ptr, g_idx, g_prob, g_z, scratch):
                impossible[r] += 1
            belief[:] = scratch
            s = s_next
