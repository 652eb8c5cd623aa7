"""Numba kernels of the POMCP planner: tree search, particle refill, subtree extraction.

The search tree is held in parallel arrays. A belief (history) node ``v`` has ``v_visits[v]``,
``v_qbase[v]`` (index of its first action node, ``-1`` until expanded; the node's action nodes are
``v_qbase[v] + a`` for every action ``a``), ``v_obs[v]`` (the observation that led to it) and
``v_next[v]`` (next sibling under the same action node). An action node ``q`` has
``q_visits[q]``, ``q_value[q]`` (running mean of the discounted return) and ``q_child[q]`` (head
of the linked list of its belief-node children). ``sizes`` holds the counters listed below.

Sampling uses sparse cumulative rows ``table = (indptr, indices, cdf, stride, probs)``: the
distribution given (a, s) is row ``a * stride + s`` (``stride`` 0 for observations that do not
depend on the action), its ``cdf`` ending at exactly 1, searched by bisection. Random numbers
come from SplitMix64 with its state in a one-element ``uint64`` array ``rng`` owned by the
caller: about 3x faster here than numba's ``np.random`` (Mersenne Twister), and each planner's
stream is its own, so seeded runs repeat whatever else runs alongside.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Slots of the ``sizes`` counter array.
N_V, N_Q, N_REC, N_STEPS = 0, 1, 2, 3

# SplitMix64 (Steele, Lea & Flood 2014): increment and the two multipliers of its output mix.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_M53 = 1.0 / 9007199254740992.0


@njit(cache=True)
def random(rng):
    """A uniform draw in [0, 1) from the SplitMix64 generator whose state is ``rng[0]``."""
    rng[0] += _GOLDEN
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)) * _TWO_POW_M53


@njit(cache=True)
def draw(rng, table, a, s):
    """Sample an index from row (a, s) of the sparse cumulative ``table``."""
    indptr, indices, cdf, stride = table[0], table[1], table[2], table[3]
    row = a * stride + s
    u = random(rng)
    lo = indptr[row]
    hi = indptr[row + 1] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return indices[lo]


@njit(cache=True)
def probability(table, a, s, o):
    """Entry ``o`` of row (a, s) of ``table`` (0 when absent)."""
    indptr, indices, probs, stride = table[0], table[1], table[4], table[3]
    row = a * stride + s
    for j in range(indptr[row], indptr[row + 1]):
        if indices[j] == o:
            return probs[j]
    return 0.0


@njit(cache=True)
def uniform_index(rng, n):
    i = int(random(rng) * n)
    return n - 1 if i >= n else i


@njit(cache=True)
def sample_transitions(rng, T_cdf, a, s, n):
    """``n`` independent draws of s' ~ T(· | s, a) (used by the tests)."""
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = draw(rng, T_cdf, a, s)
    return out


@njit(cache=True)
def _ucb(v, n_actions, v_visits, v_qbase, q_visits, q_value, c):
    """UCB1 action at node ``v``; untried actions first, in index order."""
    qb = v_qbase[v]
    log_n = np.log(v_visits[v])
    best = 0
    best_u = -np.inf
    for a in range(n_actions):
        n = q_visits[qb + a]
        if n == 0:
            return a
        u = q_value[qb + a] + c * np.sqrt(log_n / n)
        if u > best_u:
            best_u = u
            best = a
    return best


@njit(cache=True)
def _child(q, o, v_visits, v_qbase, v_obs, v_next, q_child, sizes):
    """The child of action node ``q`` reached by observation ``o``; created when absent."""
    v = q_child[q]
    while v >= 0:
        if v_obs[v] == o:
            return v
        v = v_next[v]
    v = sizes[N_V]
    sizes[N_V] += 1
    v_visits[v] = 0
    v_qbase[v] = -1
    v_obs[v] = o
    v_next[v] = q_child[q]
    q_child[q] = v
    return v


@njit(cache=True)
def _expand(v, n_actions, v_qbase, q_visits, q_value, q_child, sizes):
    qb = sizes[N_Q]
    sizes[N_Q] += n_actions
    v_qbase[v] = qb
    for a in range(n_actions):
        q_visits[qb + a] = 0
        q_value[qb + a] = 0.0
        q_child[qb + a] = -1


@njit(cache=True)
def _rollout(rng, T_cdf, R, discount, rollout_actions, s, depth, max_depth):
    """Discounted return of the rollout policy from ``s`` until ``max_depth``; also the steps."""
    n_actions = R.shape[1]
    total = 0.0
    weight = 1.0
    steps = 0
    while depth + steps < max_depth:
        a = rollout_actions[s]
        if a < 0:
            a = uniform_index(rng, n_actions)
        total += weight * R[s, a]
        weight *= discount
        s = draw(rng, T_cdf, a, s)
        steps += 1
    return total, steps


@njit(cache=True)
def search(
    rng, T_cdf, Z_cdf, R, discount, rollout_actions, particles, root, n_sims, max_depth, c,
    v_visits, v_qbase, v_obs, v_next, q_visits, q_value, q_child, rec_node, rec_state, sizes,
):  # fmt: skip
    """Run up to ``n_sims`` POMCP simulations from ``root``; return how many ran.

    Each simulation samples a start state from ``particles``, descends the tree by UCB1 sampling
    s', o from the model, adds one belief node, expands it and estimates its value by a rollout
    (total depth at most ``max_depth``), then backs the discounted return up the path. The state
    s' arriving in each child of the root is recorded in ``rec_node``/``rec_state`` for the
    particle filter. The search stops early when the arrays have no room for one more simulation.
    """
    n_actions = R.shape[1]
    path_q = np.empty(max_depth, dtype=np.int64)
    path_r = np.empty(max_depth, dtype=np.float64)
    if v_qbase[root] < 0:
        if sizes[N_Q] + n_actions > q_visits.shape[0]:
            return 0
        _expand(root, n_actions, v_qbase, q_visits, q_value, q_child, sizes)
    done = 0
    while done < n_sims:
        if (
            sizes[N_V] >= v_visits.shape[0]
            or sizes[N_Q] + n_actions > q_visits.shape[0]
            or sizes[N_REC] >= rec_node.shape[0]
        ):
            break
        s = particles[uniform_index(rng, particles.shape[0])]
        v = root
        depth = 0
        leaf = 0.0
        while True:
            v_visits[v] += 1
            if depth >= max_depth:
                break
            if v_qbase[v] < 0:
                _expand(v, n_actions, v_qbase, q_visits, q_value, q_child, sizes)
                leaf, steps = _rollout(
                    rng, T_cdf, R, discount, rollout_actions, s, depth, max_depth
                )
                sizes[N_STEPS] += steps
                break
            a = _ucb(v, n_actions, v_visits, v_qbase, q_visits, q_value, c)
            q = v_qbase[v] + a
            s2 = draw(rng, T_cdf, a, s)
            o = draw(rng, Z_cdf, a, s2)
            path_q[depth] = q
            path_r[depth] = R[s, a]
            v = _child(q, o, v_visits, v_qbase, v_obs, v_next, q_child, sizes)
            if depth == 0:
                k = sizes[N_REC]
                rec_node[k] = v
                rec_state[k] = s2
                sizes[N_REC] = k + 1
            s = s2
            depth += 1
        sizes[N_STEPS] += depth
        ret = leaf
        for d in range(depth - 1, -1, -1):
            ret = path_r[d] + discount * ret
            q = path_q[d]
            q_visits[q] += 1
            q_value[q] += (ret - q_value[q]) / q_visits[q]
        done += 1
    return done


@njit(cache=True)
def refill(rng, previous, a, o, T_cdf, Z_cdf, out, start, max_tries):
    """Fill ``out[start:]`` by rejection: s ~ previous, s' ~ T(·|s,a), accepted w.p. Z(o|s',a).

    Returns the number of filled entries of ``out`` (``start`` plus the accepted draws).
    """
    k = start
    tries = 0
    while k < out.shape[0] and tries < max_tries:
        s = previous[uniform_index(rng, previous.shape[0])]
        s2 = draw(rng, T_cdf, a, s)
        tries += 1
        if random(rng) < probability(Z_cdf, a, s2, o):
            out[k] = s2
            k += 1
    return k


@njit(cache=True)
def subtree_order(root, n_actions, v_qbase, v_next, q_child, n_v):
    """Belief nodes of the subtree under ``root`` in breadth-first order."""
    order = np.empty(n_v, dtype=np.int64)
    order[0] = root
    length = 1
    head = 0
    while head < length:
        qb = v_qbase[order[head]]
        head += 1
        if qb < 0:
            continue
        for a in range(n_actions):
            v = q_child[qb + a]
            while v >= 0:
                order[length] = v
                length += 1
                v = v_next[v]
    return order[:length]


@njit(cache=True)
def copy_subtree(
    order, n_actions, v_visits, v_qbase, v_obs, v_next, q_visits, q_value, q_child,
    new_v_visits, new_v_qbase, new_v_obs, new_v_next, new_q_visits, new_q_value, new_q_child,
):  # fmt: skip
    """Copy the nodes in ``order`` to the new arrays, renumbered ``0..len(order)-1``.

    Returns the number of action nodes written. ``order[0]`` becomes the root (no sibling).
    """
    new_index = np.empty(v_visits.shape[0], dtype=np.int64)
    for i in range(order.shape[0]):
        new_index[order[i]] = i
    n_q = 0
    for i in range(order.shape[0]):
        v = order[i]
        new_v_visits[i] = v_visits[v]
        new_v_obs[i] = v_obs[v]
        nxt = v_next[v]
        new_v_next[i] = new_index[nxt] if i > 0 and nxt >= 0 else -1
        qb = v_qbase[v]
        if qb < 0:
            new_v_qbase[i] = -1
            continue
        new_v_qbase[i] = n_q
        for a in range(n_actions):
            new_q_visits[n_q + a] = q_visits[qb + a]
            new_q_value[n_q + a] = q_value[qb + a]
            head = q_child[qb + a]
            new_q_child[n_q + a] = new_index[head] if head >= 0 else -1
        n_q += n_actions
    return n_q


class Tree:
    """Storage of the search tree (plain Python): the arrays above, grown between kernel calls.

    Node 0 is always the root. ``arrays()`` is the tail of the :func:`search` arguments.
    """

    def __init__(self, n_actions: int, capacity: int = 1024):
        self.n_actions = n_actions
        self.sizes = np.zeros(4, dtype=np.int64)
        self._set_nodes(*_node_arrays(capacity, n_actions * capacity))
        self.rec_node = np.empty(capacity, dtype=np.int64)
        self.rec_state = np.empty(capacity, dtype=np.int64)
        self.clear()

    def _set_nodes(self, v_visits, v_qbase, v_obs, v_next, q_visits, q_value, q_child):
        self.v_visits, self.v_qbase, self.v_obs, self.v_next = v_visits, v_qbase, v_obs, v_next
        self.q_visits, self.q_value, self.q_child = q_visits, q_value, q_child

    def nodes(self) -> tuple[np.ndarray, ...]:
        return (
            self.v_visits, self.v_qbase, self.v_obs, self.v_next,
            self.q_visits, self.q_value, self.q_child,
        )  # fmt: skip

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (*self.nodes(), self.rec_node, self.rec_state, self.sizes)

    @property
    def n_nodes(self) -> int:
        return int(self.sizes[N_V])

    @property
    def n_qnodes(self) -> int:
        return int(self.sizes[N_Q])

    def clear(self) -> None:
        """An empty tree: one unexpanded root."""
        self.sizes[:] = 0
        self.sizes[N_V] = 1
        self.v_visits[0], self.v_qbase[0], self.v_obs[0], self.v_next[0] = 0, -1, -1, -1

    def reserve(self, n_sims: int) -> None:
        """Grow the arrays so that ``n_sims`` more simulations fit."""
        need_v = self.n_nodes + n_sims
        need_q = self.n_qnodes + self.n_actions * (n_sims + 1)
        need_rec = int(self.sizes[N_REC]) + n_sims
        if need_v > self.v_visits.size or need_q > self.q_visits.size:
            cap_v = max(need_v, 2 * self.v_visits.size)
            cap_q = max(need_q, 2 * self.q_visits.size)
            new = _node_arrays(cap_v, cap_q)
            for old, fresh in zip(self.nodes(), new, strict=True):
                fresh[: old.size] = old
            self._set_nodes(*new)
        if need_rec > self.rec_node.size:
            size = max(need_rec, 2 * self.rec_node.size)
            self.rec_node = np.resize(self.rec_node, size)
            self.rec_state = np.resize(self.rec_state, size)

    def root_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Q-values (NaN where unvisited) and visit counts of the root's actions."""
        qb = self.v_qbase[0]
        if qb < 0:
            return np.full(self.n_actions, np.nan), np.zeros(self.n_actions, dtype=np.int64)
        visits = self.q_visits[qb : qb + self.n_actions].copy()
        values = np.where(visits > 0, self.q_value[qb : qb + self.n_actions], np.nan)
        return values, visits

    def child(self, action: int, observation: int) -> int:
        """The root's child after (action, observation), or -1."""
        qb = self.v_qbase[0]
        v = -1 if qb < 0 else self.q_child[qb + action]
        while v >= 0 and self.v_obs[v] != observation:
            v = self.v_next[v]
        return int(v)

    def recorded(self, child: int) -> np.ndarray:
        """States that arrived in root child ``child`` during the searches from this root."""
        n = int(self.sizes[N_REC])
        if child < 0:
            return np.empty(0, dtype=np.int64)
        return self.rec_state[:n][self.rec_node[:n] == child].copy()

    def reroot(self, child: int) -> None:
        """Keep only the subtree under ``child``, renumbered with ``child`` as node 0."""
        order = subtree_order(
            child, self.n_actions, self.v_qbase, self.v_next, self.q_child, self.n_nodes
        )
        n_v = order.size
        new = _node_arrays(self.v_visits.size, self.q_visits.size)
        n_q = copy_subtree(order, self.n_actions, *self.nodes(), *new)
        self._set_nodes(*new)
        self.sizes[:] = 0
        self.sizes[N_V], self.sizes[N_Q] = n_v, n_q


def _node_arrays(cap_v: int, cap_q: int) -> tuple[np.ndarray, ...]:
    int64 = np.int64
    return (
        np.zeros(cap_v, int64), np.empty(cap_v, int64), np.empty(cap_v, int64),
        np.empty(cap_v, int64), np.zeros(cap_q, int64), np.zeros(cap_q), np.empty(cap_q, int64),
    )  # fmt: skip
