"""The growable arrays of a point-based search and the Python-side operations on them.

The numba kernels only read and write arrays; this class allocates them, doubles a store when a
kernel reports that it ran out of room, and reads the bounds and the policy back. Every store is
replaced by a single assignment, so a KeyboardInterrupt between two statements leaves a
consistent state from which the best policy so far can still be read.
"""

from __future__ import annotations

import numpy as np

from decide.pomdp._kernels import pb_store
from decide.pomdp._kernels.pointbased import upper_at
from decide.pomdp._pointbased_model import SparseModel
from decide.pomdp.bounds import blind_lower_bound, fib_upper_bound
from decide.pomdp.policy import AlphaVectorPolicy

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
        self, model: SparseModel, b0: np.ndarray, max_depth: int, fib_budget: dict | None = None
    ):
        S = model.n_states
        self.model = model
        self.max_depth = max_depth
        self.fib = np.ascontiguousarray(
            fib_upper_bound(model, **(fib_budget or {})), dtype=np.float64
        )
        corner = self.fib.max(axis=1)
        self.m = (model.R, model.t_ptr, model.t_idx, model.t_val, model.z_ptr, model.z_obs)
        self.m = (*self.m, model.z_val, self.fib, corner, model.z_stride)
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
        blind = blind_lower_bound(model)
        k_cap = max(self.INITIAL_ALPHAS, model.n_actions + 2 * need)
        alphaT = np.zeros((S, k_cap))
        alphaT[:, : model.n_actions] = blind.alpha.T
        a_act = np.zeros(k_cap, dtype=np.int64)
        a_act[: model.n_actions] = blind.actions
        self.alphas = (alphaT, a_act, np.zeros(k_cap, dtype=np.int64))
        self.cnt[pb_store.C_ALPHA] = model.n_actions
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
        alphaT, a_act, a_stamp = self.alphas
        if self.n_alpha + need > alphaT.shape[1]:
            size = 2 * max(alphaT.shape[1], self.n_alpha + need)
            wider = np.zeros((S, size))
            wider[:, : self.n_alpha] = alphaT[:, : self.n_alpha]
            self.alphas = (wider, _resized(a_act, size), _resized(a_stamp, size))

    def prune(self, recent_stamp: int) -> None:
        """Keep the vectors best at some node, and those created at ``recent_stamp`` or later."""
        alphaT, a_act, a_stamp = self.alphas
        K = pb_store.prune_alphas(
            self.ns, self.n_nodes, alphaT, a_act, a_stamp, self.n_alpha, recent_stamp
        )
        self.cnt[pb_store.C_ALPHA] = K

    # ------------------------------------------------------------------ read-back
    def lower_bound(self) -> float:
        """``max_k b0 · alpha_k`` over the current vectors."""
        alphaT = self.alphas[0]
        return float(np.max(self.b0_val @ alphaT[self.b0_idx, : self.n_alpha]))

    def upper_bound(self) -> float:
        """The upper bound at b0: the root's backed-up value or the sawtooth, the smaller."""
        cb = np.zeros(self.model.n_states)
        at_b0 = upper_at(self.ns, self.m, self.b0_idx, self.b0_val, self.b0_idx.size, cb)
        return float(min(self.ns[pb_store.N_UB][0], at_b0))

    def policy(self) -> AlphaVectorPolicy:
        """The current vectors as a policy (a copy)."""
        alphaT, a_act, _ = self.alphas
        K = self.n_alpha
        return AlphaVectorPolicy(alphaT[:, :K].T.copy(), a_act[:K].copy())


def _power_of_two(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def _resized(array: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out
