r"""Value-iteration kernels for the blind, QMDP and FIB bounds on compressed-row models.

Each iteration starts from a valid bound and applies a monotone operator, so every iterate is
itself a valid bound; iteration stops when the largest change falls below ``tol``.

The blind and QMDP sweeps solve each state's own equation exactly for its self-transition:
with :math:`p = T(s|s,a)` and :math:`c = R(s,a) + \gamma \sum_{s' \ne s} T(s'|s,a) v(s')`,
:math:`v(s) = c / (1 - \gamma p)`, so absorbing states (RockSample's terminal, a check that
leaves the state as it is) take one sweep instead of hundreds. The operator is still monotone
with the same fixed point and contracts by at most γ.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _others(t_ptr, t_idx, t_val, row, s, v):
    """(sum over successors other than s of T v, the probability of staying in s)."""
    acc, stay = 0.0, 0.0
    for k in range(t_ptr[row], t_ptr[row + 1]):
        if t_idx[k] == s:
            stay += t_val[k]
        else:
            acc += t_val[k] * v[t_idx[k]]
    return acc, stay


@njit(cache=True)
def blind_alphas(R, t_ptr, t_idx, t_val, gamma, tol, max_iter):
    """Alpha vectors of the blind policies, ``alpha[a] = R[:, a] + gamma T_a alpha[a]``."""
    S, A = R.shape
    alpha = np.empty((A, S))
    start = R.min() / (1.0 - gamma)
    for a in range(A):
        v = np.full(S, start)
        new = np.empty(S)
        for _ in range(max_iter):
            change = 0.0
            for s in range(S):
                acc, stay = _others(t_ptr, t_idx, t_val, a * S + s, s, v)
                new[s] = (R[s, a] + gamma * acc) / (1.0 - gamma * stay)
                change = max(change, abs(new[s] - v[s]))
            v[:] = new
            if change <= tol:
                break
        alpha[a] = v
    return alpha


@njit(cache=True)
def qmdp_values(R, t_ptr, t_idx, t_val, gamma, v, tol, max_iter):
    """Q-values of the fully observable MDP iterated down from the upper bound ``v`` (updated in
    place); returns them and whether the last sweep changed ``v`` by at most ``tol``."""
    S, A = R.shape
    new = np.empty(S)
    Q = np.empty((S, A))
    stays = np.empty(A)
    for _ in range(max_iter):
        change = 0.0
        for s in range(S):
            best = -np.inf
            for a in range(A):
                acc, stays[a] = _others(t_ptr, t_idx, t_val, a * S + s, s, v)
                Q[s, a] = R[s, a] + gamma * acc
                best = max(best, Q[s, a] / (1.0 - gamma * stays[a]))
            for a in range(A):
                Q[s, a] += gamma * stays[a] * best
            new[s] = best
            change = max(change, abs(best - v[s]))
        v[:] = new
        if change <= tol:
            return Q, True
    return Q, False


@njit(cache=True)
def row_hashes(t_ptr, t_idx, t_bits, S, by_action):
    """A 64-bit FNV-1a hash of each transition row's successors and probability bits (and of its
    action when ``by_action``)."""
    n = t_ptr.size - 1
    prime = np.uint64(1099511628211)
    out = np.empty(n, dtype=np.uint64)
    for row in range(n):
        h = np.uint64(14695981039346656037)
        if by_action:
            h = (h ^ np.uint64(row // S)) * prime
        for k in range(t_ptr[row], t_ptr[row + 1]):
            h = (h ^ np.uint64(t_idx[k])) * prime
            h = (h ^ t_bits[k]) * prime
        out[row] = h
    return out


@njit(cache=True)
def _same_row(t_ptr, t_idx, t_val, S, by_action, r1, r2):
    if by_action and r1 // S != r2 // S:
        return False
    n = t_ptr[r1 + 1] - t_ptr[r1]
    if t_ptr[r2 + 1] - t_ptr[r2] != n:
        return False
    for k in range(n):
        i, j = t_ptr[r1] + k, t_ptr[r2] + k
        if t_idx[i] != t_idx[j] or t_val[i] != t_val[j]:
            return False
    return True


@njit(cache=True)
def row_classes(t_ptr, t_idx, t_val, S, by_action, hashes, order):
    """Classes of identical transition rows: ``(representatives, class of each row)``.

    ``order`` sorts ``hashes``; rows of one hash are compared entry by entry, so a collision only
    costs sharing, never correctness."""
    n = hashes.size
    classes = np.empty(n, dtype=np.int32)
    reps = np.empty(n, dtype=np.int64)
    n_classes = 0
    i = 0
    while i < n:
        first = n_classes
        j = i
        while j < n and hashes[order[j]] == hashes[order[i]]:
            row = order[j]
            found = -1
            for c in range(first, n_classes):
                if _same_row(t_ptr, t_idx, t_val, S, by_action, reps[c], row):
                    found = c
                    break
            if found < 0:
                reps[n_classes] = row
                found = n_classes
                n_classes += 1
            classes[row] = found
            j += 1
        i = j
    return reps[:n_classes].copy(), classes


@njit(cache=True)
def _informed_future(
    t_ptr, t_idx, t_val, z_ptr, z_obs, z_val, z_stride, S, row, Q, acc, used, touched
):
    r""":math:`\sum_o \max_{a'} \sum_{s'} T(s'|row) Z(o|s',a) Q(s', a')` for one transition row."""
    A = Q.shape[1]
    a = row // S
    n_touched = 0
    for k in range(t_ptr[row], t_ptr[row + 1]):
        s2 = t_idx[k]
        zrow = a * z_stride + s2
        for j in range(z_ptr[zrow], z_ptr[zrow + 1]):
            o = z_obs[j]
            w = t_val[k] * z_val[j]
            if not used[o]:
                used[o] = True
                touched[n_touched] = o
                n_touched += 1
                acc[o, :] = 0.0
            for b in range(A):
                acc[o, b] += w * Q[s2, b]
    total = 0.0
    for i in range(n_touched):
        o = touched[i]
        used[o] = False
        total += acc[o].max()
    return total


@njit(cache=True)
def fib_values(
    R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val, z_stride, reps, classes, gamma, Q0, tol, max_iter
):
    r"""Fast Informed Bound Q-values iterated from an upper bound ``Q0`` (e.g. QMDP),
    :math:`Q'(s,a) = R + \gamma \sum_o \max_{a'} \sum_{s'} T Z Q(s', a')`.

    The sum depends on (s, a) only through the transition row (and the action, when Z does), so
    it is computed once per class of identical rows (``reps``, ``classes`` from
    :func:`row_classes`): the fisheries models, whose rows depend on the escapement alone, have
    a few hundred classes among 10,000 rows. Returns the Q-values and whether the last sweep
    changed them by at most ``tol``.
    """
    S, A = R.shape
    n_obs = z_obs.max() + 1 if z_obs.size else 1
    Q = Q0.copy()
    future = np.empty(reps.size)
    acc = np.zeros((n_obs, A))
    used = np.zeros(n_obs, dtype=np.bool_)
    touched = np.empty(n_obs, dtype=np.int64)
    for _ in range(max_iter):
        for u in range(reps.size):
            future[u] = _informed_future(
                t_ptr,
                t_idx,
                t_val,
                z_ptr,
                z_obs,
                z_val,
                z_stride,
                S,
                reps[u],
                Q,
                acc,
                used,
                touched,
            )
        change = 0.0
        for a in range(A):
            for s in range(S):
                new = R[s, a] + gamma * future[classes[a * S + s]]
                change = max(change, abs(new - Q[s, a]))
                Q[s, a] = new
        if change <= tol:
            return Q, True
    return Q, False
