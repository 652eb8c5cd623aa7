"""Sparse views of a :class:`TabularPOMDP` in the dtypes the numba kernels take.

Transitions and observations of benchmark POMDPs are very sparse (RockSample and TagAvoid have a
handful of successors per state), so every kernel walks compressed rows instead of dense arrays:

* ``T`` rows ``a * S + s`` list the successors ``s'`` with ``T[a, s, s'] > 0``;
* ``Z`` rows ``a * z_stride + s'`` list the observations ``o`` with ``Z[a, s', o] > 0``
  (``z_stride`` is S, or 0 when the observations do not depend on the action).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse

from decide.pomdp._kernels.simulate import row_cdf
from decide.pomdp.model import TabularPOMDP


class SparseModel(NamedTuple):
    """Compressed-row transition and observation tables plus the rewards and discount."""

    R: np.ndarray  # (S, A) float64
    t_ptr: np.ndarray  # (A*S + 1,) int64
    t_idx: np.ndarray  # (nnz,) int32 successor state
    t_val: np.ndarray  # (nnz,) float64 probability
    z_ptr: np.ndarray  # (A*S + 1,) or (S + 1,) int64
    z_obs: np.ndarray  # (nnz,) int32 observation
    z_val: np.ndarray  # (nnz,) float64 probability
    z_stride: int
    discount: float
    n_states: int
    n_actions: int
    n_observations: int


def _csr(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ptr = np.asarray(rows.indptr, dtype=np.int64)
    return ptr, np.asarray(rows.indices, dtype=np.int32), np.asarray(rows.data, dtype=np.float64)


def sparse_model(pomdp: TabularPOMDP) -> SparseModel:
    """The kernels' view of ``pomdp`` (index arrays in the kernels' dtypes)."""
    return SparseModel(
        np.ascontiguousarray(pomdp.R, dtype=np.float64),
        *_csr(pomdp.T_rows),
        *_csr(pomdp.Z_rows),
        pomdp.z_stride,
        float(pomdp.discount),
        pomdp.n_states,
        pomdp.n_actions,
        pomdp.n_observations,
    )


def sampler(rows: sparse.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, cdf) of ``rows`` for :func:`~decide.pomdp._kernels.simulate.sample_row`."""
    ptr = np.asarray(rows.indptr, dtype=np.int64)
    return ptr, np.asarray(rows.indices, dtype=np.int64), row_cdf(ptr, rows.data)


def emission_sampler(pomdp: TabularPOMDP) -> tuple:
    """The observation rows' sampler and ``z_stride``."""
    return (*sampler(pomdp.Z_rows), pomdp.z_stride)


def belief_model(pomdp: TabularPOMDP) -> tuple:
    """Transition rows and the (sorted) observation rows with ``z_stride`` for
    :func:`~decide.pomdp._kernels.simulate.update_belief_sparse`."""
    return (*_csr(pomdp.T_rows), *_csr(pomdp.Z_rows), pomdp.z_stride)
