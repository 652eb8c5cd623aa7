"""The tabular POMDP every solver, simulator and file format works on, held as sparse rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from decide.errors import ModelError

#: Largest tolerated deviation of a probability row's sum from 1.
ROW_SUM_TOLERANCE = 1e-5


def _frozen(name: str, value: object, ndim: int) -> np.ndarray:
    array = np.array(value, dtype=np.float64, order="C")
    if array.ndim != ndim:
        raise ModelError(name, f"expected a {ndim}-dimensional array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ModelError(name, "contains NaN or infinite values")
    array.flags.writeable = False
    return array


def _rows(name: str, value: Any, n_states: int | None) -> sparse.csr_array:
    """``value`` (dense (A, S, C) or (S, C), or sparse (A*S, C) or (S, C)) as canonical rows."""
    if sparse.issparse(value):
        rows = sparse.csr_array(value, dtype=np.float64, copy=True)
        rows.sum_duplicates()
    else:
        dense = np.asarray(value, dtype=np.float64)
        if dense.ndim == 3:
            dense = dense.reshape(dense.shape[0] * dense.shape[1], dense.shape[2])
        elif dense.ndim != 2 or n_states is None:
            raise ModelError(name, f"expected a 3-dimensional array, got shape {dense.shape}")
        rows = sparse.csr_array(dense)
    if not np.all(np.isfinite(rows.data)):
        raise ModelError(name, "contains NaN or infinite values")
    rows.eliminate_zeros()
    rows.sort_indices()
    return rows


def first_invalid_row(rows: sparse.csr_array) -> tuple[int, int | None, float] | None:
    """The first fault of probability ``rows``: (row, column, value) of a negative entry, else
    (row, None, sum) of a row whose sum is off 1 by more than the tolerance; None if valid."""
    negative = np.flatnonzero(rows.data < 0)
    if negative.size:
        k = int(negative[0])
        row = int(np.searchsorted(rows.indptr, k, side="right") - 1)
        return row, int(rows.indices[k]), float(rows.data[k])
    sums = np.asarray(rows.sum(axis=1)).ravel()
    bad = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
    return (int(bad[0]), None, float(sums[bad[0]])) if bad.size else None


def _check_rows(name: str, rows: sparse.csr_array, n_states: int, shared: bool) -> None:
    fault = first_invalid_row(rows)
    if fault is None:
        return
    row, column, value = fault
    head = ":" if shared else row // n_states
    where = (head, row % n_states) if column is None else (head, row % n_states, column)
    field = f"{name}[{', '.join(map(str, where))}]"
    if column is None:
        raise ModelError(field, f"row sums to {value:.9g}, expected 1")
    raise ModelError(field, f"negative probability {value}")


def _shared_block(rows: sparse.csr_array, n_blocks: int, n_states: int) -> sparse.csr_array:
    """The single (S, C) block when every action's block of ``rows`` is the same, else ``rows``."""
    if rows.shape[0] == n_states:
        return rows
    counts = np.diff(rows.indptr).reshape(n_blocks, n_states)
    if np.any(counts != counts[0]):
        return rows
    columns = rows.indices.reshape(n_blocks, -1)
    values = rows.data.reshape(n_blocks, -1)
    if np.all(columns == columns[0]) and np.all(values == values[0]):
        return rows[:n_states]
    return rows


def _freeze(rows: sparse.csr_array) -> sparse.csr_array:
    for array in (rows.data, rows.indices, rows.indptr):
        array.flags.writeable = False
    return rows


def _labels(name: str, labels: Sequence[str], n: int, prefix: str) -> tuple[str, ...]:
    if not labels:
        return tuple(f"{prefix}{i}" for i in range(n))
    labels = tuple(str(label) for label in labels)
    if len(labels) != n:
        raise ModelError(name, f"{len(labels)} labels for {n} entries")
    if len(set(labels)) != n:
        raise ModelError(name, "labels are not unique")
    return labels


class TabularPOMDP:
    r"""A finite, discounted POMDP whose probabilities are stored as compressed sparse rows.

    Parameters
    ----------
    T : array (A, S, S) or sparse matrix (A*S, S)
        ``T[a, s, s2]`` = P(s' = s2 | s, a); sparse row ``a * S + s``.
    Z : array (A, S, O) or (S, O), or sparse matrix (A*S, O) or (S, O)
        ``Z[a, s2, o]`` = P(o | s' = s2, a), the observation after arriving in ``s2``. Given
        (S, O), or when every action's table is the same, it is stored once.
    R : array (S, A)
        Expected immediate reward :math:`R(s, a) = \sum_{s', o} T Z R(a, s, s', o)`.
    discount : float
        Discount factor γ in (0, 1).
    b0 : array (S,)
        Initial belief.
    states, actions, observations : sequences of str
        Labels; default ``s0, s1, …`` etc.
    name : str
        A short name used in output metadata.

    Attributes
    ----------
    T_rows : scipy.sparse.csr_array (A*S, S)
        Transition rows, row ``a * S + s``.
    Z_rows : scipy.sparse.csr_array (A*S, O) or (S, O)
        Observation rows, row ``a * z_stride + s'`` (``z_stride`` is S, or 0 when shared).
    """

    __slots__ = (
        "R",
        "T_rows",
        "Z_rows",
        "actions",
        "b0",
        "discount",
        "name",
        "observations",
        "states"
    )  # fmt: skip

    def __init__(
        self,
        T: Any,
        Z: Any,
        R: Any,
        discount: float,
        b0: Any,
        states: Sequence[str] = (),
        actions: Sequence[str] = (),
        observations: Sequence[str] = (),
        name: str = "pomdp",
    ) -> None:
        R, b0 = _frozen("R", R, 2), _frozen("b0", b0, 1)
        S = b0.shape[0]
        T_rows = _rows("T", T, None)
        if S < 1 or T_rows.shape[1] != S or T_rows.shape[0] % S or T_rows.shape[0] == 0:
            raise ModelError("T", f"expected shape (A, {S}, {S}) or sparse (A*{S}, {S}), got "
                             f"{getattr(T, 'shape', None)}")  # fmt: skip
        A = T_rows.shape[0] // S
        Z_rows = _rows("Z", Z, S)
        if Z_rows.shape[0] not in (S, A * S) or Z_rows.shape[1] < 1:
            raise ModelError("Z", f"expected shape ({A}, {S}, O) or ({S}, O), got "
                             f"{getattr(Z, 'shape', None)}")  # fmt: skip
        if R.shape != (S, A):
            raise ModelError("R", f"expected shape ({S}, {A}), got {R.shape}")
        discount = float(discount)
        if not 0.0 < discount < 1.0:
            raise ModelError("discount", f"expected a value in (0, 1), got {discount}")
        _check_rows("T", T_rows, S, shared=False)
        _check_rows("Z", Z_rows, S, shared=Z_rows.shape[0] == S and A > 1)
        _check_distribution_b0(b0)
        set_ = object.__setattr__
        set_(self, "T_rows", _freeze(T_rows))
        set_(self, "Z_rows", _freeze(_shared_block(Z_rows, A, S)))
        for key, value in (("R", R), ("discount", discount), ("b0", b0), ("name", str(name))):
            set_(self, key, value)
        set_(self, "states", _labels("states", states, S, "s"))
        set_(self, "actions", _labels("actions", actions, A, "a"))
        set_(self, "observations", _labels("observations", observations, Z_rows.shape[1], "o"))

    def __reduce__(self) -> tuple:
        fields = (self.T_rows, self.Z_rows, self.R, self.discount, self.b0)
        return TabularPOMDP, (*fields, self.states, self.actions, self.observations, self.name)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"TabularPOMDP is immutable; use .replace({key}=…)")

    @property
    def n_states(self) -> int:
        return self.b0.shape[0]

    @property
    def n_actions(self) -> int:
        return self.T_rows.shape[0] // self.n_states

    @property
    def n_observations(self) -> int:
        return self.Z_rows.shape[1]

    @property
    def z_stride(self) -> int:
        """Row of ``Z_rows`` for (a, s') is ``a * z_stride + s'``: S, or 0 when shared."""
        return 0 if self.Z_rows.shape[0] == self.n_states else self.n_states

    @property
    def nbytes(self) -> int:
        """Bytes held by the probability rows, rewards and initial belief."""
        rows = sum(
            m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in (self.T_rows, self.Z_rows)
        )
        return rows + self.R.nbytes + self.b0.nbytes

    def transition(self, action: int) -> sparse.csr_array:
        """The (S, S) matrix ``T[action]``."""
        S = self.n_states
        return self.T_rows[action * S : (action + 1) * S]

    def observation(self, action: int) -> sparse.csr_array:
        """The (S, O) matrix ``Z[action]`` over the arrival state."""
        start = action * self.z_stride
        return self.Z_rows[start : start + self.n_states]

    def dense_transitions(self) -> np.ndarray:
        """``T`` as a dense (A, S, S) array (small models only: this is A·S² numbers)."""
        return self.T_rows.toarray().reshape(self.n_actions, self.n_states, self.n_states)

    def dense_observations(self) -> np.ndarray:
        """``Z`` as a dense (A, S, O) array."""
        Z = self.Z_rows.toarray()
        if self.z_stride == 0:
            return np.broadcast_to(Z, (self.n_actions, *Z.shape)).copy()
        return Z.reshape(self.n_actions, self.n_states, self.n_observations)

    def replace(self, **changes: Any) -> TabularPOMDP:
        """A copy with some constructor arguments changed (``T``, ``Z``, ``R``, ``b0``, …)."""
        arguments = {
            "T": self.T_rows, "Z": self.Z_rows, "R": self.R, "discount": self.discount,
            "b0": self.b0, "states": self.states, "actions": self.actions,
            "observations": self.observations, "name": self.name,
        }  # fmt: skip
        unknown = set(changes) - set(arguments)
        if unknown:
            raise TypeError(f"replace() got unknown fields {sorted(unknown)}")
        return TabularPOMDP(**{**arguments, **changes})

    def __repr__(self) -> str:
        return (
            f"TabularPOMDP({self.name!r}, states={self.n_states}, actions={self.n_actions}, "
            f"observations={self.n_observations}, discount={self.discount})"
        )


def _check_distribution_b0(b0: np.ndarray) -> None:
    if np.any(b0 < 0):
        i = int(np.argmax(b0 < 0))
        raise ModelError(f"b0[{i}]", f"negative probability {b0[i]}")
    if abs(b0.sum() - 1.0) > ROW_SUM_TOLERANCE:
        raise ModelError("b0", f"sums to {b0.sum():.9g}, expected 1")
