"""The growable arrays of a point-based search and the Python-side operations on them.

The numba kernels only read and write arrays; this class allocates them, doubles a store when a
kernel reports that it ran out of room, and reads the bounds and the policy back. Every store is
replaced by a single assignment, so a KeyboardInterrupt between two statements leaves a
consistent state from which the best policy so far can still be read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from decide.pomdp._kernels import pb_store
from decide.pomdp._kernels.pointbased import upper_at
from decide.pomdp.bounds import blind_lower_bound, fib_upper_bound
from decide.pomdp.kernel_arrays import SparseModel
from decide.pomdp.model import ObservedPart
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.reactive import ReactiveVectors

# per-node arrays in the order of pb_store's index constants
_NODE_DTYPES = (np.int64, np.int64, np.float64, np.float64, np.float64, np.int64, np.int64)
_NODE_DTYPES += (np.int64,) * 4  # ub_next, n_best, n_sig, n_pivot


class SearchState:
    """Belief nodes, upper-bound points and alpha vectors of one solve."""

    #: Initial capacities (each store doubles when a trial might not fit).
    INITIAL_NODES = 1024
    INITIAL_POOL = 1 << 16
    INITIAL_ALPHAS = 256

    def __init__(
        self,
        model: SparseModel,
        b0: np.ndarray,
        part: ObservedPart,
        max_depth: int,
        fib_budget: dict | None = None,
        rules: Sequence[ReactiveVectors] = (),
    ):
        S = model.n_states
        self.model, self.part = model, part
        self.max_depth = max_depth
        self.fib = np.ascontiguousarray(
            fib_upper_bound(model, **(fib_budget or {})), dtype=np.float64
        )
        corner = self.fib.max(axis=1)
        self.m = (model.R, model.t_ptr, model.t_idx, model.t_val, model.z_ptr, model.z_obs)
        self.m = (*self.m, model.z_val, self.fib, corner, model.z_stride)
        blind = blind_lower_bound(model)
        self.alphas, default, n_alpha = _initial_vectors(blind, rules, part, model, max_depth)
        block_states = np.argsort(part.value, kind="stable")
        block_ptr = np.searchsorted(part.value[block_states], np.arange(part.n_values + 1))
        self.m = (*self.m, (part.value, part.hidden), default, block_ptr, block_states)
        self.cnt = np.zeros(8, dtype=np.int64)
        need = max_depth + 2
        n_cap = _power_of_two(max(self.INITIAL_NODES, 2 * need))
        pool_cap = max(self.INITIAL_POOL, 2 * S)
        nodes = tuple(np.zeros(n_cap, dtype=dt) for dt in _NODE_DTYPES)
        self.ns = (
            *nodes,
            np.full(S, -1, dtype=np.int64),
            np.zeros(pool_cap, dtype=np.int32),
            np.zeros(pool_cap, dtype=np.float64),
            np.full(4 * n_cap, -1, dtype=np.int64),
            np.zeros((n_cap, model.n_actions)),
        )
        self.cnt[pb_store.C_ALPHA] = self.cnt[pb_store.C_IDS] = n_alpha
        self.retained = Retained(self.alphas)
        self.b0_idx = np.flatnonzero(b0).astype(np.int32)
        self.b0_val = np.ascontiguousarray(b0[self.b0_idx], dtype=np.float64)
        self._add_root(corner)

    def _add_root(self, corner: np.ndarray) -> None:
        idx, val, n = self.b0_idx, self.b0_val, self.b0_idx.size
        h = pb_store.belief_hash(idx, val, n)
        slot = -pb_store.find_node(self.ns, h, idx, val, n) - 1
        ub = float(np.max(val @ self.fib[idx]))
        pb_store.add_node(self.ns, self.cnt, h, slot, idx, val, n, ub, float(val @ corner[idx]))
        self.ns[pb_store.NODE_Q][0] = val @ self.fib[idx]

    # ------------------------------------------------------------------ sizes
    @property
    def n_nodes(self) -> int:
        return int(self.cnt[pb_store.C_NODES])

    @property
    def n_alpha(self) -> int:
        return int(self.cnt[pb_store.C_ALPHA])

    @property
    def n_points(self) -> int:
        return int(self.cnt[pb_store.C_POINTS])

    def grow(self) -> None:
        """Double every store that lacks room for one more trial."""
        need = self.max_depth + 2
        S = self.model.n_states
        ns, n_nodes = self.ns, self.n_nodes
        nodes, node_q = ns[: pb_store.N_NODE_ARRAYS], ns[pb_store.NODE_Q]
        pool_idx, pool_val, htab = ns[pb_store.P_IDX], ns[pb_store.P_VAL], ns[pb_store.HTAB]
        if n_nodes + need > nodes[0].size or 2 * (n_nodes + need) > htab.size:
            size = _power_of_two(2 * max(nodes[0].size, n_nodes + need))
            nodes = tuple(_resized(array, size) for array in nodes)
            node_q = _resized(node_q, size)
            htab = np.full(4 * size, -1, dtype=np.int64)  # a power of two: slots wrap by a mask
            pb_store.rehash(nodes[pb_store.N_HASH], n_nodes, htab)
        used = int(self.cnt[pb_store.C_POOL])
        if used + S > pool_idx.size:
            size = 2 * max(pool_idx.size, used + S)
            pool_idx, pool_val = _resized(pool_idx, size), _resized(pool_val, size)
        self.ns = (*nodes, ns[pb_store.UB_HEAD], pool_idx, pool_val, htab, node_q)
        alphaT, *labels = self.alphas
        if self.n_alpha + need > alphaT.shape[1]:
            size = 2 * max(alphaT.shape[1], self.n_alpha + need)
            wider = np.zeros((alphaT.shape[0], size))
            wider[:, : self.n_alpha] = alphaT[:, : self.n_alpha]
            self.alphas = (wider, *(_resized(array, size) for array in labels))

    def prune(self, recent_stamp: int) -> None:
        """Keep the vectors best at some node, and those created at ``recent_stamp`` or later;
        move the others to :attr:`retained`, which keeps those the policy still needs."""
        ns, n_nodes, K = self.ns, self.n_nodes, self.n_alpha
        keep = pb_store.best_at_nodes(ns, n_nodes, self.alphas, K, self.m[10], recent_stamp)
        self.retained.add(self.alphas, np.flatnonzero(~keep))
        K = pb_store.prune_alphas(ns, n_nodes, self.alphas, K, keep)
        self.cnt[pb_store.C_ALPHA] = K
        self.retained.collect(self.alphas, K)

    # ------------------------------------------------------------------ read-back
    def lower_bound(self) -> float:
        """``max_k b0 · alpha_k`` over the current vectors (of b0's observed value)."""
        alphaT, K, part = self.alphas[0], self.n_alpha, self.part
        values = self.b0_val @ alphaT[part.hidden[self.b0_idx], :K]
        mine = self.alphas[3][:K] == part.value[self.b0_idx[0]]
        return float(np.max(values[mine]))

    def upper_bound(self) -> float:
        """The upper bound at b0: the root's backed-up value or the sawtooth, the smaller."""
        cb = np.zeros(self.model.n_states)
        at_b0 = upper_at(self.ns, self.m, self.b0_idx, self.b0_val, self.b0_idx.size, cb)
        return float(min(self.ns[pb_store.N_UB][0], at_b0))

    def policy(self) -> AlphaVectorPolicy:
        """The current vectors and the retained ones they build on, as a policy (a copy)."""
        alphaT, a_act, _, a_blk = self.alphas[:4]
        K, kept = self.n_alpha, self.retained
        vectors = np.concatenate((alphaT[:, :K].T, kept.alpha))
        actions = np.concatenate((a_act[:K], kept.action))
        if self.part.n_values == 1:
            return AlphaVectorPolicy(vectors, actions)
        values = np.concatenate((a_blk[:K], kept.value))
        return AlphaVectorPolicy(vectors, actions, values, self.part)


class Retained:
    r"""Pruned vectors that a current vector's backup used, directly or through others.

    A vector :math:`\alpha_k = R_{a_k} + \gamma \sum_o T \operatorname{diag}(Z_o)
    \alpha_{c(k, o)}` is worth :math:`b \cdot \alpha_k` to the policy that plays
    :math:`a_k` at b and then the best vector's action, as long as every :math:`\alpha_{c(k,o)}`
    is still among the vectors. The search prunes freely to stay fast; the policy it returns adds
    these continuations back, so that it earns at least :math:`\max_k b \cdot \alpha_k` from
    any belief b. A retained vector that a current one dominates entry by entry is replaced by it
    in every continuation (the guarantee only gets stronger).
    """

    def __init__(self, alphas: tuple):
        n_hidden, n_obs = alphas[0].shape[0], alphas[5].shape[1]
        self.alpha = np.zeros((0, n_hidden))
        self.action, self.value, self.id = (np.zeros(0, dtype=np.int64) for _ in range(3))
        self.child = np.zeros((0, n_obs), dtype=np.int64)

    def add(self, alphas: tuple, pruned: np.ndarray) -> None:
        alphaT, a_act, _, a_blk, a_id, a_child = alphas
        self.alpha = np.concatenate((self.alpha, alphaT[:, pruned].T))
        self.action = np.concatenate((self.action, a_act[pruned]))
        self.value = np.concatenate((self.value, a_blk[pruned]))
        self.id = np.concatenate((self.id, a_id[pruned]))
        self.child = np.concatenate((self.child, a_child[pruned]))

    def collect(self, alphas: tuple, K: int) -> None:
        """Replace the retained vectors that one of the K current vectors dominates by it, then
        drop what no current vector builds on."""
        cover = pb_store.covering(alphas, K, self.alpha, self.value)
        covered = cover >= 0
        for children in (alphas[5][:K], self.child):
            _rename(children, self.id[covered], alphas[4][cover[covered]])
        needed = np.zeros(self.id.size, dtype=bool)
        frontier = np.unique(alphas[5][:K])
        while frontier.size:
            new = np.isin(self.id, frontier) & ~needed
            needed |= new
            frontier = np.unique(self.child[new])
        for name in ("alpha", "action", "value", "id", "child"):
            setattr(self, name, getattr(self, name)[needed])


def _rename(children: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
    """Replace, in place, each id of ``old`` in ``children`` by its ``new`` id."""
    if not old.size or not children.size:
        return
    order = np.argsort(old)
    old, new = old[order], new[order]
    at = np.minimum(np.searchsorted(old, children), old.size - 1)
    hit = old[at] == children
    children[hit] = new[at[hit]]


def estimate_bytes(
    model: SparseModel, part: ObservedPart, max_depth: int, n_rule_vectors: int = 0
) -> dict[str, int]:
    """The largest allocations of a solve's start, by what they hold (bytes), with
    ``n_rule_vectors`` vectors of warm-start rules in the store."""
    S, A, O = model.n_states, model.n_actions, model.n_observations
    k_cap = vector_capacity(part.n_values * A + n_rule_vectors, max_depth)
    return {
        "bounds (QMDP, FIB, blind)": 8 * S * A * 5,
        f"alpha vectors ({part.n_hidden:,} entries each, room for {k_cap:,})": 8 * part.n_hidden
        * k_cap + 8 * O * k_cap,
        f"backup workspace ({O:,} observations x {S:,} states)": 12 * O * S + 40 * S,
        "belief pool": 12 * max(SearchState.INITIAL_POOL, 2 * S),
    }  # fmt: skip


def vector_capacity(n_alpha: int, max_depth: int) -> int:
    """Room in the first vector store: the start's vectors and two trials' backups."""
    return max(SearchState.INITIAL_ALPHAS, n_alpha + 2 * (max_depth + 2))


#: The stamp of vectors never pruned.
PERMANENT = np.iinfo(np.int64).max


def _initial_vectors(
    blind: AlphaVectorPolicy,
    rules: Sequence[ReactiveVectors],
    part: ObservedPart,
    model: SparseModel,
    max_depth: int,
):
    """The vector store started from the blind policies' vectors and the rules', each observed
    value's default vector, and the number of vectors.

    With one observed value these are the A blind vectors and the rules' (all prunable).
    Otherwise each blind vector is split into one per observed value x (index ``x * A + a``,
    never pruned), and the default of x is its best on average over x's states: every value
    keeps a valid vector, which a backup needs for the observations a belief cannot produce.
    A blind vector is its own continuation; a rule's vector continues with the rule's vector of
    each observation.
    """
    A, X = model.n_actions, part.n_values
    n_blind = X * A
    n_alpha = n_blind + sum(rule.action.size for rule in rules)
    k_cap = vector_capacity(n_alpha, max_depth)
    alphaT = np.zeros((part.n_hidden, k_cap))
    a_act, a_stamp, a_blk, a_id = (np.zeros(k_cap, dtype=np.int64) for _ in range(4))
    a_id[:n_alpha] = np.arange(n_alpha)
    a_child = np.zeros((k_cap, model.n_observations), dtype=np.int64)
    a_child[:n_blind] = np.arange(n_blind)[:, None]
    columns = part.value[:, None] * A + np.arange(A)
    alphaT[part.hidden[:, None], columns] = blind.alpha.T
    a_act[:n_blind] = np.tile(blind.actions, X)
    a_blk[:n_blind] = np.repeat(np.arange(X), A)
    if X > 1:
        a_stamp[:n_blind] = PERMANENT
    start = n_blind
    for rule in rules:
        end = start + rule.action.size
        alphaT[:, start:end] = rule.alpha.T
        a_act[start:end] = rule.action
        a_child[start:end] = start + rule.child[None, :]
        start = end
    totals = np.zeros((X, A))
    np.add.at(totals, part.value, blind.alpha.T)
    default = np.arange(X) * A + np.argmax(totals, axis=1)
    return (alphaT, a_act, a_stamp, a_blk, a_id, a_child), default, n_alpha


def _power_of_two(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def _resized(array: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out
