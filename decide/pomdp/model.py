"""The tabular POMDP every solver, simulator and file format works on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

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


def _check_distribution(name: str, array: np.ndarray) -> None:
    if np.any(array < 0):
        index = tuple(int(i) for i in np.argwhere(array < 0)[0])
        raise ModelError(f"{name}{list(index)}", f"negative probability {array[index]}")
    sums = array.sum(axis=-1)
    bad = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ModelError(f"{name}{list(index)}", f"row sums to {sums[index]:.9g}, expected 1")


def _labels(name: str, labels: Sequence[str], n: int, prefix: str) -> tuple[str, ...]:
    if not labels:
        return tuple(f"{prefix}{i}" for i in range(n))
    labels = tuple(str(label) for label in labels)
    if len(labels) != n:
        raise ModelError(name, f"{len(labels)} labels for {n} entries")
    if len(set(labels)) != n:
        raise ModelError(name, "labels are not unique")
    return labels


@dataclass(frozen=True, eq=False)
class TabularPOMDP:
    r"""A finite, discounted POMDP held as dense arrays.

    Parameters
    ----------
    T : array (A, S, S)
        ``T[a, s, s2]`` = P(s' = s2 | s, a).
    Z : array (A, S, O)
        ``Z[a, s2, o]`` = P(o | s' = s2, a), the observation after arriving in ``s2``.
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
    """

    T: np.ndarray
    Z: np.ndarray
    R: np.ndarray
    discount: float
    b0: np.ndarray
    states: tuple[str, ...] = field(default=())
    actions: tuple[str, ...] = field(default=())
    observations: tuple[str, ...] = field(default=())
    name: str = "pomdp"

    def __post_init__(self) -> None:
        T, Z, R = _frozen("T", self.T, 3), _frozen("Z", self.Z, 3), _frozen("R", self.R, 2)
        b0 = _frozen("b0", self.b0, 1)
        A, S, S2 = T.shape
        if S != S2:
            raise ModelError("T", f"expected shape (A, S, S), got {T.shape}")
        if Z.shape[:2] != (A, S) or Z.shape[2] < 1:
            raise ModelError("Z", f"expected shape ({A}, {S}, O), got {Z.shape}")
        if R.shape != (S, A):
            raise ModelError("R", f"expected shape ({S}, {A}), got {R.shape}")
        if b0.shape != (S,):
            raise ModelError("b0", f"expected shape ({S},), got {b0.shape}")
        if A < 1 or S < 1:
            raise ModelError("T", "a POMDP needs at least one state and one action")
        discount = float(self.discount)
        if not 0.0 < discount < 1.0:
            raise ModelError("discount", f"expected a value in (0, 1), got {discount}")
        for name, array in (("T", T), ("Z", Z), ("b0", b0)):
            _check_distribution(name, array)
        set_ = object.__setattr__
        for name, value in (("T", T), ("Z", Z), ("R", R), ("b0", b0), ("discount", discount)):
            set_(self, name, value)
        set_(self, "states", _labels("states", self.states, S, "s"))
        set_(self, "actions", _labels("actions", self.actions, A, "a"))
        set_(self, "observations", _labels("observations", self.observations, Z.shape[2], "o"))

    @property
    def n_states(self) -> int:
        return self.T.shape[1]

    @property
    def n_actions(self) -> int:
        return self.T.shape[0]

    @property
    def n_observations(self) -> int:
        return self.Z.shape[2]

    def __repr__(self) -> str:
        return (
            f"TabularPOMDP({self.name!r}, states={self.n_states}, actions={self.n_actions}, "
            f"observations={self.n_observations}, discount={self.discount})"
        )
