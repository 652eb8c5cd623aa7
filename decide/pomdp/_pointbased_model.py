"""Sparse views of a :class:`TabularPOMDP` shared by the bound and point-based kernels.

Transitions and observations of benchmark POMDPs are very sparse (RockSample and TagAvoid have a
handful of successors per state), so every kernel walks compressed rows instead of dense arrays:

* ``T`` rows ``a * S + s`` list the successors ``s'`` with ``T[a, s, s'] > 0``;
* ``Z`` rows ``a * S + s'`` list the observations ``o`` with ``Z[a, s', o] > 0``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from decide.pomdp.model import TabularPOMDP


class SparseModel(NamedTuple):
    """Compressed-row transition and observation tables plus the rewards and discount."""

    R: np.ndarray  # (S, A) float64
    t_ptr: np.ndarray  # (A*S + 1,) int64
    t_idx: np.ndarray  # (nnz,) int32 successor state
    t_val: np.ndarray  # (nnz,) float64 probability
    z_ptr: np.ndarray  # (A*S + 1,) int64
    z_obs: np.ndarray  # (nnz,) int32 observation
    z_val: np.ndarray  # (nnz,) float64 probability
    discount: float
    n_states: int
    n_actions: int
    n_observations: int


def _csr(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(dense)
    counts = np.bincount(rows, minlength=dense.shape[0])
    ptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, cols.astype(np.int32), np.ascontiguousarray(dense[rows, cols], dtype=np.float64)


def sparse_model(pomdp: TabularPOMDP) -> SparseModel:
    """Build the compressed tables of ``pomdp`` (done once per solve)."""
    A, S, O = pomdp.n_actions, pomdp.n_states, pomdp.n_observations
    t_ptr, t_idx, t_val = _csr(pomdp.T.reshape(A * S, S))
    z_ptr, z_obs, z_val = _csr(pomdp.Z.reshape(A * S, O))
    return SparseModel(
        np.ascontiguousarray(pomdp.R, dtype=np.float64),
        t_ptr,
        t_idx,
        t_val,
        z_ptr,
        z_obs,
        z_val,
        float(pomdp.discount),
        S,
        A,
        O,
    )
