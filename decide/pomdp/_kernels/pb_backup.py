r"""Bellman backups of both bounds at a sparse belief.

For action ``a`` and observation ``o`` the unnormalised successor belief is

.. math:: \tilde b_{a,o}(s') = Z(o|s',a) \sum_s T(s'|s,a) b(s),
          \qquad p(o|b,a) = \sum_{s'} \tilde b_{a,o}(s'),

and the backups are :math:`Q(b,a) = R(b,a) + \gamma \sum_o p(o|b,a) V(b_{a,o})` with ``V`` the
sawtooth upper bound or :math:`\max_k \tilde b_{a,o} \cdot \alpha_k` for the lower bound.

Model tuple ``m``: ``(R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val, qfib, corner, z_stride,
part, block_default, block_ptr, block_states)`` with ``part`` the (observed value, hidden index) of
each state, ``block_default[x]`` a vector of observed value x that is never pruned and
``block_states[block_ptr[x]:block_ptr[x + 1]]`` the states of value x.
Workspace tuple ``ws`` (see :func:`workspace`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from decide.pomdp._kernels.pb_store import (
    N_DELTA,
    N_PIVOT,
    N_SIG,
    NB_LEN,
    NB_START,
    P_IDX,
    P_VAL,
    UB_HEAD,
    UB_NEXT,
    alpha_values,
)


@njit(cache=True)
def workspace(S, A, O, K_cap):
    """Scratch arrays of one backup; dense vectors stay all-zero between uses."""
    return (
        np.zeros(S),  # 0 ba: T_a^T b
        np.empty(S, dtype=np.int32),  # 1 support of ba
        np.zeros(O, dtype=np.int64),  # 2 child_len[o]
        np.empty((O, S), dtype=np.int32),  # 3 child_idx[o, j]
        np.empty((O, S)),  # 4 child_val[o, j] (unnormalised)
        np.zeros(O),  # 5 p[o]
        np.zeros(S),  # 6 cb: dense normalised child belief
        np.empty(K_cap),  # 7 alpha values at a belief
        np.empty(A),  # 8 Q_ub[a]
        np.empty(A),  # 9 Q_lb[a]
        np.zeros((A, O), dtype=np.int64),  # 10 best_k[a, o]
        np.zeros((A, O)),  # 11 lbc[a, o] = max_k b~_ao . alpha_k (unnormalised)
        np.zeros((A, O)),  # 12 ubc[a, o] = V_ub(b_ao) (normalised)
        np.empty(S),  # 13 g: observation-weighted next values
        np.zeros(S, dtype=np.bool_),  # 14 states already in the support of ba
    )


@njit(cache=True)
def expand(m, a, idx, val, n, ws):
    """Fill the children ``b~_{a,o}`` (child_len/idx/val) and ``p[o]``; return ``R(b, a)``."""
    R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val = m[0], m[1], m[2], m[3], m[4], m[5], m[6]
    ba, supp, clen, cidx, cval, p, seen = ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[14]
    S = R.shape[0]
    n_supp = 0
    reward = 0.0
    for j in range(n):
        s, w = idx[j], val[j]
        reward += w * R[s, a]
        row = a * S + s
        for k in range(t_ptr[row], t_ptr[row + 1]):
            s2 = t_idx[k]
            if not seen[s2]:
                seen[s2] = True
                supp[n_supp] = s2
                n_supp += 1
            ba[s2] += w * t_val[k]
    clen[:] = 0
    p[:] = 0.0
    for j in range(n_supp):
        s2 = supp[j]
        w = ba[s2]
        ba[s2] = 0.0
        seen[s2] = False
        if w == 0.0:  # underflow
            continue
        row = a * m[9] + s2
        for k in range(z_ptr[row], z_ptr[row + 1]):
            o = z_obs[k]
            x = w * z_val[k]
            if x == 0.0:
                continue
            c = clen[o]
            cidx[o, c] = s2
            cval[o, c] = x
            clen[o] = c + 1
            p[o] += x
    return reward


@njit(cache=True)
def sawtooth(ns, m, cb, idx, n):
    r"""Upper bound at the dense belief ``cb`` with support ``idx[:n]``.

    .. math:: U(b) = \min\Big(\max_a b\cdot Q_{FIB}(\cdot,a),\;
              c\cdot b + \min_i \delta_i \phi_i(b)\Big),
              \qquad \phi_i(b) = \min_{s: b_i(s) > 0} \frac{b(s)}{b_i(s)} \le 1,

    with corner values ``c`` and points ``b_i`` of value ``c·b_i + δ_i`` (δ_i ≤ 0). A point
    counts only when its support lies inside b's: points are chained in buckets by their first
    support state, only the buckets of b's support are visited (each sorted by δ, so a scan
    stops once δ_i is no better than the best so far), and a 64-bit support signature rejects
    most other points at once. Any single ratio bounds φ_i from above, so the ratio at
    the point's largest entry is tried first to discard points that cannot beat the best so far.
    """
    qfib, corner = m[7], m[8]
    nb_start, nb_len, n_delta, ub_next = ns[NB_START], ns[NB_LEN], ns[N_DELTA], ns[UB_NEXT]
    ub_head, n_sig, n_pivot, p_idx, p_val = (
        ns[UB_HEAD],
        ns[N_SIG],
        ns[N_PIVOT],
        ns[P_IDX],
        ns[P_VAL],
    )
    cdot = 0.0
    sig = 0
    for j in range(n):
        cdot += corner[idx[j]] * cb[idx[j]]
        sig |= 1 << (idx[j] & 63)
    outside = ~sig
    fib = -np.inf
    for a in range(qfib.shape[1]):
        acc = 0.0
        for j in range(n):
            acc += cb[idx[j]] * qfib[idx[j], a]
        fib = max(fib, acc)
    best = 0.0
    for j in range(n):
        node = ub_head[idx[j]]
        while node >= 0:
            d = n_delta[node]
            if d >= best:
                break
            if (n_sig[node] & outside) == 0:
                pivot = n_pivot[node]
                phi = min(1.0, cb[p_idx[pivot]] / p_val[pivot])
                if d * phi < best:
                    start = nb_start[node]
                    for e in range(start, start + nb_len[node]):
                        r = cb[p_idx[e]] / p_val[e]
                        if r < phi:
                            phi = r
                            if d * phi >= best:
                                break
                    if d * phi < best:
                        best = d * phi
            node = ub_next[node]
    return min(cdot + best, fib)


@njit(cache=True)
def ub_children(ns, m, a, ws):
    """Store ``V_ub(b_{a,o})`` in ``ubc[a]``; return ``sum_o p(o) V_ub(b_{a,o})``."""
    clen, cidx, cval, p, cb, ubc = ws[2], ws[3], ws[4], ws[5], ws[6], ws[12]
    total = 0.0
    for o in range(clen.size):
        c = clen[o]
        ubc[a, o] = 0.0
        if c == 0 or p[o] <= 0.0:
            continue
        inv = 1.0 / p[o]
        for j in range(c):
            cb[cidx[o, j]] = cval[o, j] * inv
        v = sawtooth(ns, m, cb, cidx[o], c)
        for j in range(c):
            cb[cidx[o, j]] = 0.0
        ubc[a, o] = v
        total += p[o] * v
    return total


@njit(cache=True)
def lb_children(al, K, part, default_k, a, ws):
    """Store the best vector at each ``b~_{a,o}``; return ``sum_o max_k b~_{a,o} . alpha_k``."""
    clen, cidx, cval, kbuf, best_k, lbc = ws[2], ws[3], ws[4], ws[7], ws[10], ws[11]
    total = 0.0
    for o in range(clen.size):
        c = clen[o]
        if c == 0:
            best_k[a, o] = default_k
            lbc[a, o] = 0.0
            continue
        k = alpha_values(al, K, part, cidx[o], cval[o], c, kbuf)
        best_k[a, o] = k
        lbc[a, o] = kbuf[k]
        total += kbuf[k]
    return total


@njit(cache=True)
def make_alpha(m, gamma, al, a, best_k_row, col, x, ws):
    r"""Write :math:`\alpha = R_a + \gamma \sum_o T_a \operatorname{diag}(Z_{a,o}) \alpha_{k(o)}`
    into column ``col`` of ``alphaT``, over the states of observed value ``x``."""
    R, t_ptr, t_idx, t_val, z_ptr, z_obs, z_val = m[0], m[1], m[2], m[3], m[4], m[5], m[6]
    alphaT = al[0]
    S = R.shape[0]
    if alphaT.shape[0] == S:  # one observed value
        g = ws[13]
        for s2 in range(S):
            row = a * m[9] + s2
            acc = 0.0
            for k in range(z_ptr[row], z_ptr[row + 1]):
                acc += z_val[k] * alphaT[s2, best_k_row[z_obs[k]]]
            g[s2] = acc
        for s in range(S):
            row = a * S + s
            acc = 0.0
            for k in range(t_ptr[row], t_ptr[row + 1]):
                acc += t_val[k] * g[t_idx[k]]
            alphaT[s, col] = R[s, a] + gamma * acc
        return
    (observed, hidden), default, a_blk = m[10], m[11], al[3]
    block_ptr, block_states = m[12], m[13]
    for i in range(block_ptr[x], block_ptr[x + 1]):
        s = block_states[i]
        row = a * S + s
        acc = 0.0
        for k in range(t_ptr[row], t_ptr[row + 1]):
            s2 = t_idx[k]
            x2, h2 = observed[s2], hidden[s2]
            z_row = a * m[9] + s2
            g = 0.0
            for j in range(z_ptr[z_row], z_ptr[z_row + 1]):
                kk = best_k_row[z_obs[j]]
                if a_blk[kk] != x2:  # o was impossible at the belief: any vector of x2 is valid
                    kk = default[x2]
                g += z_val[j] * alphaT[h2, kk]
            acc += t_val[k] * g
        alphaT[hidden[s], col] = R[s, a] + gamma * acc
