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
def _fib_step(
    R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val, z_stride, gamma, Q, out, acc, used, touched
):
    r"""One FIB backup :math:`Q'(s,a) = R + \gamma \sum_o \max_{a'} \sum_{s'} T Z Q(s', a')`."""
    S, A = R.shape
    change = 0.0
    for a in range(A):
        for s in range(S):
            n_touched = 0
            row = a * S + s
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
            out[s, a] = R[s, a] + gamma * total
            change = max(change, abs(out[s, a] - Q[s, a]))
    return change


@njit(cache=True)
def fib_values(R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val, z_stride, gamma, Q0, tol, max_iter):
    """Fast Informed Bound Q-values iterated from an upper bound ``Q0`` (e.g. QMDP).

    Returns the Q-values and whether the last sweep changed them by at most ``tol``.
    """
    A = R.shape[1]
    n_obs = z_obs.max() + 1 if z_obs.size else 1
    Q = Q0.copy()
    out = np.empty_like(Q)
    acc = np.zeros((n_obs, A))
    used = np.zeros(n_obs, dtype=np.bool_)
    touched = np.empty(n_obs, dtype=np.int64)
    for _ in range(max_iter):
        change = _fib_step(
            R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val, z_stride, gamma, Q, out, acc, used, touched
        )
        Q, out = out, Q
        if change <= tol:
            return Q, True
    return Q, False
