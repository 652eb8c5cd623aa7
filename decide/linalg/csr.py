"""Validated compressed-sparse-row systems, prepared once for many solves.

``prepare(A)`` turns a scipy sparse matrix (any format), a dense 2-D array or an existing
:class:`CSRSystem` into a :class:`CSRSystem`: float64 values, sorted column indices without
duplicates, int32 indices whenever they fit (less memory traffic per sweep), the position of each
diagonal entry and the reciprocal diagonal ``1 / a_ii``. A sequence of solves with different
relaxation parameters on the same matrix validates it only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from decide.errors import MatrixError, ModelError
from decide.linalg import _kernels

SYMMETRY_RTOL = 1e-12
_INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True, eq=False)
class CSRSystem:
    """A square sparse matrix ready for the kernels; build it with :func:`prepare`.

    Attributes
    ----------
    indptr, indices, data : np.ndarray
        CSR arrays; ``indices`` sorted within each row, no duplicates, int32 or int64.
    diag_pos : np.ndarray
        ``data[diag_pos[i]] = a_ii``.
    inv_diag : np.ndarray
        ``1 / a_ii``.

    All arrays are read-only.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    diag_pos: np.ndarray
    inv_diag: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows (= columns)."""
        return self.indptr.size - 1

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return self.data.size

    @property
    def diagonal(self) -> np.ndarray:
        """The diagonal ``a_ii``."""
        return self.data[self.diag_pos]

    def shifted(self, c: float) -> CSRSystem:
        """``A + c I`` as a new system, without re-validating the sparsity structure."""
        data = self.data.copy()
        data[self.diag_pos] += c
        diagonal = data[self.diag_pos]
        zero = np.flatnonzero(diagonal == 0.0)
        if zero.size:
            raise MatrixError(f"zero diagonal entry after the shift by {c}", row=int(zero[0]))
        data.setflags(write=False)
        inv_diag = 1.0 / diagonal
        inv_diag.setflags(write=False)
        return CSRSystem(self.indptr, self.indices, data, self.diag_pos, inv_diag)

    def to_scipy(self) -> sp.csr_array:
        """The matrix as a scipy ``csr_array`` sharing this system's (read-only) arrays."""
        return sp.csr_array((self.data, self.indices, self.indptr), shape=(self.n, self.n))

    @cached_property
    def asymmetry(self) -> tuple[float, int, int]:
        """``(max |a_ij - a_ji|, i, j)`` at the largest deviation from symmetry."""
        A = self.to_scipy()
        diff = (A - A.T).tocoo()
        if diff.nnz == 0:
            return 0.0, 0, 0
        k = int(np.argmax(np.abs(diff.data)))
        return float(abs(diff.data[k])), int(diff.row[k]), int(diff.col[k])

    @property
    def is_symmetric(self) -> bool:
        """``max |A - A^T| <= 1e-12 max |A|``."""
        scale = float(np.abs(self.data).max()) if self.nnz else 0.0
        return self.asymmetry[0] <= SYMMETRY_RTOL * scale

    def require_spd_candidate(self) -> None:
        """Raise :class:`MatrixError` unless A is symmetric with a positive diagonal.

        Both are necessary for A to be symmetric positive definite (and for the SSOR
        preconditioner to be); definiteness itself is checked during CG (``p^T A p > 0``).
        """
        if not self.is_symmetric:
            value, i, j = self.asymmetry
            raise MatrixError(
                f"matrix is not symmetric: |a_ij - a_ji| = {value:.3g} at row {i}, column {j}"
                f" (tolerance {SYMMETRY_RTOL:g} x max |a_ij|); CG needs a symmetric matrix"
            )
        negative = np.flatnonzero(self.diagonal <= 0.0)
        if negative.size:
            i = int(negative[0])
            raise MatrixError(
                f"matrix is not positive definite: diagonal entry {self.diagonal[i]:.6g}",
                row=i,
            )


MatrixLike: TypeAlias = sp.sparray | sp.spmatrix | np.ndarray | CSRSystem
"""What the solvers accept as A: scipy sparse (any format), a 2-D array, or a prepared system."""


def prepare(A: MatrixLike) -> CSRSystem:
    """Validate a square matrix and convert it to a :class:`CSRSystem` (returned as is if one).

    Raises
    ------
    MatrixError
        If A is not square, has non-finite or complex entries, or a missing or zero diagonal
        entry (the message names the first such row, counting from 0).
    """
    if isinstance(A, CSRSystem):
        return A
    if sp.issparse(A):
        if np.issubdtype(A.dtype, np.complexfloating):
            raise MatrixError("complex matrices are not supported")
        csr = sp.csr_array(A, dtype=np.float64, copy=True)
    else:
        dense = np.asarray(A)
        if dense.ndim != 2 or not np.issubdtype(dense.dtype, np.number):
            raise MatrixError(
                f"expected a square scipy sparse matrix or 2-D array, got {type(A).__name__}"
                f" with shape {getattr(dense, 'shape', ())}"
            )
        if np.iscomplexobj(dense):
            raise MatrixError("complex matrices are not supported")
        csr = sp.csr_array(dense.astype(np.float64))
    n, m = csr.shape
    if n != m:
        raise MatrixError(f"matrix must be square, got shape {n} x {m}")
    csr.sum_duplicates()  # also sorts the column indices
    indptr = csr.indptr.astype(np.int64)
    indices = csr.indices.astype(np.int64)
    data = csr.data
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))

    bad = np.flatnonzero(~np.isfinite(data))
    if bad.size:
        k = int(bad[0])
        raise MatrixError(f"non-finite entry {data[k]} in column {indices[k]}", row=int(rows[k]))

    diag_pos = np.full(n, -1, dtype=np.int64)
    on_diag = np.flatnonzero(indices == rows)
    diag_pos[rows[on_diag]] = on_diag
    missing = np.flatnonzero(diag_pos < 0)
    if missing.size:
        raise MatrixError("no diagonal entry (the diagonal must be non-zero)", row=int(missing[0]))
    diagonal = data[diag_pos]
    zero = np.flatnonzero(diagonal == 0.0)
    if zero.size:
        raise MatrixError("zero diagonal entry", row=int(zero[0]))

    index_type = np.int32 if max(n, data.size) <= _INT32_MAX else np.int64
    arrays = {
        "indptr": indptr.astype(index_type),
        "indices": indices.astype(index_type),
        "data": np.ascontiguousarray(data, dtype=np.float64),
        "diag_pos": diag_pos.astype(index_type),
        "inv_diag": 1.0 / diagonal,
    }
    for array in arrays.values():
        array.setflags(write=False)
    return CSRSystem(**arrays)


def as_vector(v: ArrayLike, n: int, field: str) -> np.ndarray:
    """A fresh, finite, contiguous float64 copy of a vector of shape ``(n,)`` or ``(n, 1)``."""
    array = np.asarray(v)
    if np.iscomplexobj(array) or not np.issubdtype(array.dtype, np.number):
        raise ModelError(field, f"expected a real vector, got dtype {array.dtype}")
    if array.shape not in ((n,), (n, 1)):
        raise ModelError(field, f"expected shape ({n},), got {array.shape}")
    out = np.array(array.reshape(n), dtype=np.float64, order="C", copy=True)
    if not np.isfinite(out).all():
        raise ModelError(field, f"non-finite entry at index {int(np.argmin(np.isfinite(out)))}")
    return out


def sor_sweep(A: MatrixLike, x: np.ndarray, b: np.ndarray, omega: float) -> None:
    """One forward SOR sweep in place: ``x <- x + M^{-1} (b - A x)``, ``M = D/omega + tril(A, -1)``.

    The kernel :class:`decide.linalg.SOR` runs. ``x`` must be a writable, contiguous float64
    vector; ``b`` a float64 vector of the same length.
    """
    system = prepare(A)
    if x.dtype != np.float64 or x.shape != (system.n,) or not x.flags.c_contiguous:
        raise ValueError(f"x must be a contiguous float64 vector of shape ({system.n},)")
    if b.dtype != np.float64 or b.shape != (system.n,):
        raise ValueError(f"b must be a float64 vector of shape ({system.n},)")
    _kernels.sor_sweep(
        system.indptr, system.indices, system.data, system.inv_diag, x, b, float(omega)
    )


def ssor_apply(A: MatrixLike, r: ArrayLike, omega: float) -> np.ndarray:
    """``M^{-1} r`` for the SSOR preconditioner of a symmetric matrix A.

    .. math::
        M = \\frac{(D + \\omega L) D^{-1} (D + \\omega L)^T}{\\omega (2 - \\omega)},

    with D the diagonal and L the strict lower triangle of A: a forward and a backward triangular
    sweep.
    """
    system = prepare(A)
    r = as_vector(r, system.n, "r")
    z = np.empty_like(r)
    _kernels.ssor_apply(
        system.indptr,
        system.indices,
        system.data,
        system.diag_pos,
        system.inv_diag,
        r,
        z,
        float(omega),
    )
    return z
