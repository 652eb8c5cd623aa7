"""Storage kernels of the point-based solver: belief nodes, their hash table, UB points, alphas.

A node's belief is a sorted sparse vector stored in a shared pool (``p_idx``, ``p_val``) from
``nb_start[n]`` for ``nb_len[n]`` entries. Identical beliefs reached along different paths are one
node, found through an open-addressing hash table ``htab`` of node ids (-1 = empty).

The tuple ``ns`` holds, by the index constants below: per node ``NB_START``, ``NB_LEN``,
``N_UB`` (upper bound), ``N_CDOT`` (corner values · b), ``N_DELTA`` (for UB points, ub - cdot),
``N_HASH``, ``N_POINT`` (1 if a sawtooth point), ``UB_NEXT`` (chain of its bucket), ``N_BEST``
(alpha best at its last backup), ``N_SIG`` (64-bit support signature, bit ``s % 64``) and
``N_PIVOT`` (pool position of its largest entry); then ``UB_HEAD`` (bucket heads by key state),
the pool ``P_IDX``/``P_VAL``, the hash table ``HTAB`` and ``NODE_Q[node, a]``, upper bounds on
:math:`Q^*(b, a)` (possibly stale, always valid).

Each bucket chain is kept sorted by increasing δ, so a sawtooth scan can stop at the first point
whose δ is no better than the best value found.

Alpha vectors are columns of ``alphaT[h, k]`` so that ``sum_s b(s) alphaT[h(s), :]`` — the values
of every vector at a sparse belief — runs over contiguous memory. The tuple ``al`` holds
``(alphaT, a_act, a_stamp, a_blk, a_id, a_child)``: the vectors, their actions, the trial count
when each was made, the observed value each belongs to, a unique id and, per observation, the id
of the vector its backup used (``a_child[k, o]``). For a flat model
``h(s) = s`` and every vector belongs to value 0; for a mixed-observability model a vector has
entries over the hidden part only, ``h(s)`` being the state's hidden index (``part = (observed
value, hidden index)`` per state), and counts only at beliefs of its observed value.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NB_START, NB_LEN, N_UB, N_CDOT, N_DELTA, N_HASH, N_POINT, UB_NEXT, N_BEST, N_SIG = range(10)
N_PIVOT = 10
#: Number of per-node arrays (they come first in ``ns``).
N_NODE_ARRAYS = 11
UB_HEAD, P_IDX, P_VAL, HTAB, NODE_Q = 11, 12, 13, 14, 15
# counters (int64 array ``cnt``)
C_NODES, C_POOL, C_ALPHA, C_POINTS, C_TRIALS, C_BACKUPS, C_IDS = 0, 1, 2, 3, 4, 5, 6
#: Beliefs whose entries all agree to this tolerance are the same node.
SAME_BELIEF = 1e-10


@njit(cache=True)
def belief_hash(idx, val, n):
    """A 63-bit hash of a sorted sparse belief, robust to rounding below 1e-9."""
    h = np.uint64(1469598103934665603) ^ np.uint64(n)
    for j in range(n):
        q = np.uint64(np.int64(val[j] * 1e9 + 0.5))
        h = (h ^ np.uint64(idx[j])) * np.uint64(1099511628211)
        h = (h ^ q) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64(h >> np.uint64(1))


@njit(cache=True)
def _same(ns, node, idx, val, n):
    start, p_idx, p_val = ns[NB_START][node], ns[P_IDX], ns[P_VAL]
    if ns[NB_LEN][node] != n:
        return False
    for j in range(n):
        if p_idx[start + j] != idx[j] or abs(p_val[start + j] - val[j]) > SAME_BELIEF:
            return False
    return True


@njit(cache=True)
def find_node(ns, h, idx, val, n):
    """Node id holding this belief, or ``-(slot + 1)`` for the free slot where it would go."""
    htab, n_hash = ns[HTAB], ns[N_HASH]
    mask = htab.size - 1
    slot = h & mask
    while True:
        node = htab[slot]
        if node < 0:
            return -(slot + 1)
        if n_hash[node] == h and _same(ns, node, idx, val, n):
            return node
        slot = (slot + 1) & mask


@njit(cache=True)
def add_node(ns, cnt, h, slot, idx, val, n, ub, cdot):
    """Store a new node in the pool and hash slot ``slot``; return its id."""
    node = cnt[C_NODES]
    start = cnt[C_POOL]
    ns[P_IDX][start : start + n] = idx[:n]
    ns[P_VAL][start : start + n] = val[:n]
    ns[NB_START][node], ns[NB_LEN][node], ns[N_UB][node], ns[N_CDOT][node] = start, n, ub, cdot
    ns[N_DELTA][node], ns[N_HASH][node], ns[N_POINT][node] = 0.0, h, 0
    ns[UB_NEXT][node], ns[N_BEST][node] = -1, -1
    sig, pivot = 0, 0
    for j in range(n):
        sig |= 1 << (idx[j] & 63)
        if val[j] > val[pivot]:
            pivot = j
    ns[N_SIG][node], ns[N_PIVOT][node] = sig, start + pivot
    ns[HTAB][slot] = node
    cnt[C_NODES] = node + 1
    cnt[C_POOL] = start + n
    return node


@njit(cache=True)
def rehash(n_hash, n_nodes, htab):
    """Fill an empty table ``htab`` (all -1) with the first ``n_nodes`` nodes."""
    mask = htab.size - 1
    for node in range(n_nodes):
        slot = n_hash[node] & mask
        while htab[slot] >= 0:
            slot = (slot + 1) & mask
        htab[slot] = node


@njit(cache=True)
def _unlink(ns, key, node):
    head, nxt = ns[UB_HEAD], ns[UB_NEXT]
    if head[key] == node:
        head[key] = nxt[node]
        return
    prev = head[key]
    while nxt[prev] != node:
        prev = nxt[prev]
    nxt[prev] = nxt[node]


@njit(cache=True)
def _insert_sorted(ns, key, node):
    head, nxt, delta = ns[UB_HEAD], ns[UB_NEXT], ns[N_DELTA]
    d = delta[node]
    prev, cur = -1, head[key]
    while cur >= 0 and delta[cur] < d:
        prev, cur = cur, nxt[cur]
    nxt[node] = cur
    if prev < 0:
        head[key] = node
    else:
        nxt[prev] = node


@njit(cache=True)
def set_upper(ns, cnt, node, value):
    """Lower the node's upper bound to ``value``, making it a sawtooth point if it is not one."""
    n_ub = ns[N_UB]
    if value >= n_ub[node]:
        return False
    n_ub[node] = value
    key = ns[P_IDX][ns[NB_START][node]]
    if ns[N_POINT][node] == 0:
        ns[N_POINT][node] = 1
        cnt[C_POINTS] += 1
    else:
        _unlink(ns, key, node)
    ns[N_DELTA][node] = value - ns[N_CDOT][node]
    _insert_sorted(ns, key, node)
    return True


@njit(cache=True)
def alpha_values(al, K, part, idx, val, n, out):
    """``out[k] = sum_j val[j] alphaT[h(idx[j]), k]`` for the first K vectors of the belief's
    observed value (-inf for the others); return the argmax (the first, on ties)."""
    alphaT, blk = al[0], al[3]
    observed, hidden = part
    if alphaT.shape[0] == hidden.size:  # one observed value: every vector counts
        out[:K] = 0.0
        for j in range(n):
            w = val[j]
            row = alphaT[idx[j]]
            for k in range(K):
                out[k] += w * row[k]
        best = 0
        for k in range(1, K):
            if out[k] > out[best]:
                best = k
        return best
    x = observed[idx[0]]
    mine = np.empty(K, dtype=np.int64)
    m = 0
    for k in range(K):
        out[k] = -np.inf
        if blk[k] == x:
            mine[m] = k
            out[k] = 0.0
            m += 1
    for j in range(n):
        w = val[j]
        row = alphaT[hidden[idx[j]]]
        for i in range(m):
            out[mine[i]] += w * row[mine[i]]
    best = mine[0]
    for i in range(1, m):
        if out[mine[i]] > out[best]:
            best = mine[i]
    return best


@njit(cache=True)
def node_lower(ns, al, K, part, node, work):
    """Best alpha index and lower bound at a node."""
    start, n = ns[NB_START][node], ns[NB_LEN][node]
    best = alpha_values(
        al, K, part, ns[P_IDX][start : start + n], ns[P_VAL][start : start + n], n, work
    )
    return best, work[best]


@njit(cache=True)
def keep_alphas(al, K, keep):
    """Compact the vectors flagged in ``keep`` to the front; return the new count and the map."""
    new_index = np.full(K, -1, dtype=np.int64)
    j = 0
    for k in range(K):
        if keep[k]:
            if j != k:
                al[0][:, j] = al[0][:, k]
                for labels in (al[1], al[2], al[3], al[4]):
                    labels[j] = labels[k]
                al[5][j] = al[5][k]
            new_index[k] = j
            j += 1
    return j, new_index


@njit(cache=True)
def best_at_nodes(ns, n_nodes, al, K, part, recent_stamp):
    """Flag the vectors that are best at some node, or created at ``recent_stamp`` or later
    (every node's best vector is recomputed, so the lower bound at every node is unchanged)."""
    n_best, a_stamp = ns[N_BEST], al[2]
    keep = np.zeros(K, dtype=np.bool_)
    for k in range(K):
        keep[k] = a_stamp[k] >= recent_stamp
    work = np.empty(K)
    for node in range(n_nodes):
        best, _ = node_lower(ns, al, K, part, node, work)
        n_best[node] = best
        keep[best] = True
    return keep


@njit(cache=True)
def covering(al, K, alpha, value):
    """For each row of ``alpha`` (vectors of observed values ``value``), one of the first K
    vectors of its value at least as large in every entry (-1 if none)."""
    alphaT, blk = al[0], al[3]
    L = alpha.shape[1]
    out = np.full(alpha.shape[0], -1, dtype=np.int64)
    for c in range(alpha.shape[0]):
        for j in range(K):
            if blk[j] != value[c]:
                continue
            h = 0
            while h < L and alphaT[h, j] >= alpha[c, h]:
                h += 1
            if h == L:
                out[c] = j
                break
    return out


@njit(cache=True)
def prune_alphas(ns, n_nodes, al, K, keep):
    """Keep the flagged vectors (see :func:`best_at_nodes`); return their number."""
    new_K, new_index = keep_alphas(al, K, keep)
    n_best = ns[N_BEST]
    for node in range(n_nodes):
        n_best[node] = new_index[n_best[node]]
    return new_K
