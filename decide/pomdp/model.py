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
    observed : int array (S,), optional
        For a mixed-observability model (MOMDP): the joint value of the fully observed state
        variables in each state. The observation must reveal it (every observation is seen
        from arrival states of one observed value only); solvers then keep beliefs and alpha
        vectors over the hidden part per observed value (see :class:`ObservedPart`).

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
        "observed",
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
        observed: Any = None,
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
        set_(self, "observed", None if observed is None else ObservedPart.of(observed, self))

    def __reduce__(self) -> tuple:
        fields = (self.T_rows, self.Z_rows, self.R, self.discount, self.b0)
        labels = (self.states, self.actions, self.observations, self.name)
        observed = None if self.observed is None else self.observed.value
        return TabularPOMDP, (*fields, *labels, observed)

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
            "observed": None if self.observed is None else self.observed.value,
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


class ObservedPart:
    """The fully observed part of a MOMDP's state: its value ``value[s]`` in each state and the
    state's index ``hidden[s]`` among the states of that value (in state order).

    With the state the product of variables, ``value`` is the joint index of the observed
    variables and ``hidden`` that of the others, as in SARSOP's policy files. A flat model is the
    case of one observed value.
    """

    __slots__ = ("hidden", "n_hidden", "n_values", "value")

    def __init__(self, value: np.ndarray):
        S = value.size
        order = np.argsort(value, kind="stable")
        counts = np.bincount(value)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        hidden = np.empty(S, dtype=np.int64)
        hidden[order] = np.arange(S) - np.repeat(starts, counts)
        for name, array in (("value", value), ("hidden", hidden)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "n_values", int(counts.size))
        object.__setattr__(self, "n_hidden", int(counts.max()))

    @classmethod
    def flat(cls, n_states: int) -> ObservedPart:
        """One observed value: the whole state is hidden."""
        return cls(np.zeros(n_states, dtype=np.int64))

    @classmethod
    def of(cls, value: Any, pomdp: TabularPOMDP) -> ObservedPart:
        """The part ``value`` of ``pomdp``, checked (see :func:`observed_part_fault`)."""
        value = np.array(value, dtype=np.int64).reshape(-1)
        if value.size != pomdp.n_states or (value.size and value.min() < 0):
            raise ModelError("observed", f"expected {pomdp.n_states} values >= 0")
        fault = observed_part_fault(pomdp, value)
        if fault:
            raise ModelError("observed", fault)
        return cls(value)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("ObservedPart is immutable")


def observed_part_fault(pomdp: TabularPOMDP, value: np.ndarray) -> str | None:
    """Why the observed part ``value`` would not stay known, or None.

    It stays known when, from any observed value x, action a and observation o, every arrival
    state s' with T(s'|s, a) Z(o|s', a) > 0 for some s of value x has the same value: because
    the action moves x to one value (RockSample's robot), or the observation reveals it.
    """
    S, X = pomdp.n_states, int(value.max()) + 1
    T, Z = pomdp.T_rows, pomdp.Z_rows
    source = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))
    moves = np.unique(((source // S) * X + value[source % S]) * X + value[T.indices])
    arrival = np.repeat(np.arange(Z.shape[0]), np.diff(Z.indptr))
    z_action = arrival // S if pomdp.z_stride else np.zeros_like(arrival)
    seen = np.unique((z_action * X + value[arrival % S]) * Z.shape[1] + Z.indices)
    # join the moves (a, x, x') with the observations seen from (a, x') when shared or not
    key = moves // (X * X) * X + moves % X if pomdp.z_stride else moves % X
    seen_key = seen // Z.shape[1]
    lo, hi = np.searchsorted(seen_key, key), np.searchsorted(seen_key, key, side="right")
    counts = hi - lo
    pick = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    move = np.repeat(moves, counts)
    group = (move // X) * Z.shape[1] + seen[pick] % Z.shape[1]  # (a, x, o)
    low, high = _spread(group, move % X)
    bad = np.flatnonzero(low != high)
    if not bad.size:
        return None
    a, rest = divmod(int(bad[0]), X * Z.shape[1])
    x, o = divmod(rest, Z.shape[1])
    return (f"after action {pomdp.actions[a]!r} from observed value {x}, observation "
            f"{pomdp.observations[o]!r} leaves values {low[bad[0]]} and {high[bad[0]]} possible: "
            "the observed part would not stay known")  # fmt: skip


def _spread(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest of ``values`` in each group (equal for groups without values)."""
    n = int(groups.max()) + 1 if groups.size else 0
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.full(n, -1)
    np.minimum.at(low, groups, values)
    np.maximum.at(high, groups, values)
    empty = high < 0
    low[empty] = high[empty] = 0
    return low, high
