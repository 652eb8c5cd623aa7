r"""Trials of the point-based solver (HSVI2/SARSOP-style belief-tree sampling).

A trial descends from b0: at belief ``b`` at depth ``t`` it backs up the upper bound, stops once
the gap :math:`U(b) - L(b) \le \epsilon \gamma^{-t}`, else follows the action greedy for the
upper bound and the observation of largest weighted excess gap

.. math:: p(o|b,a) \big(U(b_{a,o}) - L(b_{a,o}) - \epsilon\gamma^{-(t+1)}\big),

then backs up both bounds at every belief of the path, deepest first. On the way up only the
path's child changed, so the upper-bound backup reuses the Q-values of the descent and corrects
the one term :math:`\gamma p(o^*|b,a^*) U(b_{a^*,o^*})`.

Parameters ``prm``: ``[epsilon, max_depth, gamma, stamp, n_observations]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from decide.pomdp._kernels.pb_backup import (
    expand,
    lb_children,
    make_alpha,
    sawtooth,
    ub_children,
    workspace,
)
from decide.pomdp._kernels.pb_store import (
    C_ALPHA,
    C_BACKUPS,
    C_IDS,
    C_NODES,
    C_POOL,
    C_TRIALS,
    HTAB,
    N_BEST,
    N_UB,
    NB_LEN,
    NB_START,
    NODE_Q,
    P_IDX,
    P_VAL,
    add_node,
    belief_hash,
    find_node,
    node_lower,
    set_upper,
)

#: A new vector must beat the current lower bound at its belief by this relative margin.
IMPROVEMENT = 1e-12


@njit(cache=True)
def _belief(ns, node):
    start, n = ns[NB_START][node], ns[NB_LEN][node]
    return ns[P_IDX][start : start + n], ns[P_VAL][start : start + n], n


@njit(cache=True)
def upper_at(ns, m, idx, val, n, cb):
    """Sawtooth upper bound at a sparse belief (``cb`` is an all-zero dense scratch)."""
    for j in range(n):
        cb[idx[j]] = val[j]
    v = sawtooth(ns, m, cb, idx, n)
    for j in range(n):
        cb[idx[j]] = 0.0
    return v


@njit(cache=True)
def child_node(ns, cnt, m, o, ws):
    """Node of the normalised child ``b_{a,o}`` held in the workspace, created if new.

    Returns -1 when the belief pool has no room for a new belief.
    """
    clen, cidx, cval, p = ws[2], ws[3], ws[4], ws[5]
    c = clen[o]
    order = np.argsort(cidx[o, :c])
    idx = np.empty(c, dtype=np.int32)
    val = np.empty(c)
    inv = 1.0 / p[o]
    for j in range(c):
        idx[j] = cidx[o, order[j]]
        val[j] = cval[o, order[j]] * inv
    h = belief_hash(idx, val, c)
    found = find_node(ns, h, idx, val, c)
    if found >= 0:
        return found
    if cnt[C_POOL] + c > ns[P_IDX].size:
        return -1  # the pool is full: the trial ends here and the next call makes room
    corner = m[8]
    cdot = 0.0
    for j in range(c):
        cdot += corner[idx[j]] * val[j]
    ub = upper_at(ns, m, idx, val, c, ws[6])
    node = add_node(ns, cnt, h, -found - 1, idx, val, c, ub, cdot)
    fib_q(m[7], idx, val, c, ns[NODE_Q][node])
    return node


@njit(cache=True)
def fib_q(qfib, idx, val, n, out):
    """``out[a] = sum_s b(s) Q_FIB(s, a)``, an upper bound on ``Q*(b, a)``."""
    out[:] = 0.0
    for j in range(n):
        out += val[j] * qfib[idx[j]]


@njit(cache=True)
def greedy_upper(ns, m, gamma, node, idx, val, n, ws, fresh):
    """Refresh the node's upper Q-values lazily until the largest one is fresh; return its action.

    Stored values only ever overestimate, so once the largest stored value is a fresh backup,
    its action is greedy for the backed-up bound without backing up the other actions.
    """
    q = ns[NODE_Q][node]
    fresh[:] = False
    while True:
        a = np.argmax(q)
        if fresh[a]:
            return a
        reward = expand(m, a, idx, val, n, ws)
        value = reward + gamma * ub_children(ns, m, a, ws)
        ws[8][a] = value
        q[a] = min(q[a], value)
        fresh[a] = True


@njit(cache=True)
def lower_backup(ns, cnt, m, gamma, al, stamp, node, ws):
    """Point-based backup of the lower bound at ``node``; keep the vector if it improves there."""
    idx, val, n = _belief(ns, node)
    K = cnt[C_ALPHA]
    best, current = node_lower(ns, al, K, m[10], node, ws[7])
    Q_lb, q_ub = ws[9], ns[NODE_Q][node]
    Q_lb[:] = -np.inf
    top = current
    for a in np.argsort(-q_ub):
        if q_ub[a] <= top:  # Q*(b, a) <= q_ub[a]: this action cannot give a better vector
            break
        reward = expand(m, a, idx, val, n, ws)
        Q_lb[a] = reward + gamma * lb_children(al, K, m[10], best, a, ws)
        top = max(top, Q_lb[a])
    a = np.argmax(Q_lb)
    cnt[C_BACKUPS] += 1
    if Q_lb[a] > current + IMPROVEMENT * max(1.0, abs(current)):
        x = m[10][0][idx[0]]
        make_alpha(m, gamma, al, a, ws[10][a], K, x, ws)
        al[1][K], al[2][K], al[3][K], al[4][K] = a, stamp, x, cnt[C_IDS]
        cnt[C_IDS] += 1
        for o in range(al[5].shape[1]):
            al[5][K, o] = al[4][ws[10][a, o]]
        cnt[C_ALPHA] = K + 1
        ns[N_BEST][node] = K
    else:
        ns[N_BEST][node] = best


@njit(cache=True)
def _choose(ws, a, threshold):
    """Observation of largest weighted excess gap after action ``a`` (-1 if none is possible)."""
    p, lbc, ubc = ws[5], ws[11], ws[12]
    best_o, best_x = -1, -np.inf
    for o in range(p.size):
        if p[o] <= 0.0:
            continue
        x = p[o] * (ubc[a, o] - threshold) - lbc[a, o]
        if x > best_x:
            best_o, best_x = o, x
    return best_o


@njit(cache=True)
def trial(ns, cnt, m, al, prm, ws, path, path_x):
    """One descent from the root and the backups along its path; return the depth reached.

    ``path_x[d]`` keeps the action taken at depth ``d``, the probability of the observation
    followed, the child's upper bound then, and the fresh upper Q-value of that action.
    """
    eps, max_depth, gamma, stamp = prm[0], int(prm[1]), prm[2], int(prm[3])
    n_ub, node_q = ns[N_UB], ns[NODE_Q]
    node, depth, threshold = np.int64(0), 0, eps
    fresh = np.zeros(node_q.shape[1], dtype=np.bool_)
    while True:
        K = cnt[C_ALPHA]
        idx, val, n = _belief(ns, node)
        a = greedy_upper(ns, m, gamma, node, idx, val, n, ws, fresh)
        set_upper(ns, cnt, node, node_q[node, a])
        best, lower = node_lower(ns, al, K, m[10], node, ws[7])
        ns[N_BEST][node] = best
        if n_ub[node] - lower <= threshold or depth >= max_depth:
            break
        expand(m, a, idx, val, n, ws)
        lb_children(al, K, m[10], best, a, ws)
        threshold /= gamma
        o = _choose(ws, a, threshold)
        if o < 0:
            break
        child = child_node(ns, cnt, m, o, ws)
        if child < 0:
            break
        path[depth] = node
        path_x[depth, 0], path_x[depth, 1] = a, ws[5][o]
        path_x[depth, 2], path_x[depth, 3] = ws[12][a, o], ws[8][a]
        depth += 1
        node = child
    for i in range(depth - 1, -1, -1):
        child = node if i == depth - 1 else path[i + 1]
        a, p, before, fresh_q = int(path_x[i, 0]), path_x[i, 1], path_x[i, 2], path_x[i, 3]
        q = node_q[path[i]]
        q[a] = min(q[a], fresh_q - gamma * p * max(0.0, before - n_ub[child]))
        set_upper(ns, cnt, path[i], q.max())
        lower_backup(ns, cnt, m, gamma, al, stamp, path[i], ws)
    return depth


@njit(cache=True)
def run_trials(n_trials, ns, cnt, m, al, prm):
    """Run up to ``n_trials`` trials; stop early (returning the count done) when out of room.

    Room means space for a trial's worth of nodes and vectors and for one more belief of any
    size; a trial that fills the belief pool stops its descent there.
    """
    S, A = m[0].shape
    O = int(prm[4])
    max_depth = int(prm[1])
    ws = workspace(S, A, O, al[0].shape[1])
    path = np.empty(max_depth + 1, dtype=np.int64)
    path_x = np.empty((max_depth + 1, 4))
    need_nodes = max_depth + 2
    for t in range(n_trials):
        if (
            cnt[C_NODES] + need_nodes > ns[NB_START].size
            or cnt[C_POOL] + S > ns[P_IDX].size
            or cnt[C_ALPHA] + need_nodes > al[0].shape[1]
            or 2 * (cnt[C_NODES] + need_nodes) > ns[HTAB].size
        ):
            return t
        trial(ns, cnt, m, al, prm, ws, path, path_x)
        cnt[C_TRIALS] += 1
    return n_trials
