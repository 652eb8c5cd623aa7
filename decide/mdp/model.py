r"""The fully observed tabular MDP and the checks on arrays that go with it.

A :class:`TabularMDP` is ``T[a, s, s']``, ``R[s, a]`` and a discount γ in (0, 1]. It is the one
place where transition and reward shapes are validated: infinite-horizon tools
(:mod:`decide.mdp.tools`) take it as it is and refuse γ = 1 (:func:`_require_discounted`), and
the finite-horizon chance-constrained model :class:`decide.robust.constrained.ConstrainedMDP`
holds one and adds a horizon, a start distribution and a failure set. A stochastic policy is an
array ``pi[s, a]`` whose rows sum to 1 (:func:`_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError

__all__ = ["SUM_TOLERANCE", "TabularMDP"]

#: Largest deviation from 1 accepted in a row of T or of a policy.
SUM_TOLERANCE = 1e-8


def _real_array(value: ArrayLike, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise ModelError(name, f"expected a real array, got {type(value).__name__}") from error
    if array.ndim != ndim:
        raise ModelError(name, f"expected a {ndim}-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ModelError(name, "contains non-finite values")
    return array


def _check_rows(array: np.ndarray, name: str, what: str | None = None) -> None:
    """Non-negative entries and last-axis sums of 1; ``what`` names the rows in the message."""
    if np.any(array < 0):
        raise ModelError(name, f"{what} has negative entries" if what else "has negative entries")
    worst = float(np.max(np.abs(array.sum(axis=-1) - 1.0)))
    if worst > SUM_TOLERANCE:
        raise ModelError(name, f"{what or 'rows'} must sum to 1 (off by up to {worst:.3g})")


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A fully observed MDP: ``T[a, s, s']`` (rows sum to 1), ``R[s, a]``, γ in (0, 1]."""

    T: np.ndarray
    R: np.ndarray
    discount: float

    def __post_init__(self) -> None:
        T = _real_array(self.T, "T", 3)
        R = _real_array(self.R, "R", 2)
        A, S, S2 = T.shape
        if S != S2 or A < 1 or S < 1:
            raise ModelError("T", f"expected shape (A, S, S), got {T.shape}")
        if R.shape != (S, A):
            raise ModelError("R", f"expected shape ({S}, {A}), got {R.shape}")
        _check_rows(T, "T")
        if not 0.0 < float(self.discount) <= 1.0:
            raise ModelError("discount", f"expected a value in (0, 1], got {self.discount}")
        T.flags.writeable = False
        R.flags.writeable = False
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "discount", float(self.discount))

    @property
    def n_states(self) -> int:
        return self.T.shape[1]

    @property
    def n_actions(self) -> int:
        return self.T.shape[0]


def _require_discounted(mdp: TabularMDP) -> None:
    """Refuse γ = 1 where an infinite-horizon value is asked for (it need not exist)."""
    if mdp.discount >= 1.0:
        raise ModelError(
            "discount",
            f"expected a value in (0, 1) for an infinite-horizon value, got {mdp.discount}",
        )


def _policy(policy: ArrayLike, mdp: TabularMDP, name: str = "policy") -> np.ndarray:
    pi = _real_array(policy, name, 2)
    if pi.shape != (mdp.n_states, mdp.n_actions):
        raise ModelError(name, f"expected shape ({mdp.n_states}, {mdp.n_actions}), got {pi.shape}")
    _check_rows(pi, name)
    return pi


def _distribution(value: ArrayLike | None, n: int, name: str) -> np.ndarray:
    if value is None:
        return np.full(n, 1.0 / n)
    array = _real_array(value, name, 1)
    if array.shape != (n,):
        raise ModelError(name, f"expected shape ({n},), got {array.shape}")
    _check_rows(array, name)
    return array


def _reference(reference: ArrayLike | None, mdp: TabularMDP) -> np.ndarray:
    if reference is None:
        return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    rho = _policy(reference, mdp, "reference")
    if np.any(rho <= 0):
        raise ModelError("reference", "expected strictly positive probabilities")
    return rho
