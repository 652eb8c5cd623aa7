"""Alpha-vector policies: the output of offline solvers, stored as netCDF or SARSOP XML."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from decide.errors import ModelError
from decide.pomdp.model import ObservedPart

if TYPE_CHECKING:  # xarray is imported on use: solvers need not pay its memory and start-up
    import xarray as xr

    from decide.pomdp.model import TabularPOMDP


@dataclass(frozen=True, eq=False)
class AlphaVectorPolicy:
    r"""A value function :math:`V(b) = \max_k b \cdot \alpha_k` and the policy it defines.

    Parameters
    ----------
    alpha : array (K, L)
        Alpha vectors: over the S states (L = S), or for a mixed-observability model over the
        hidden part of the state (L = its size).
    actions : int array (K,)
        The action of each vector; the policy plays ``actions[argmax_k b·alpha_k]``.
    obs_value : int array (K,), optional
        For a mixed-observability policy, the observed value each vector belongs to; at a belief
        over states of observed value x only the vectors of x count, each entry ``alpha[k, h]``
        standing for the state of value x and hidden index h.
    observed : ObservedPart, optional
        The model's observed part, which maps states to (value, hidden index); a mixed policy
        read from a file gets it from its model with :meth:`for_model`.
    """

    alpha: np.ndarray
    actions: np.ndarray
    obs_value: np.ndarray | None = None
    observed: ObservedPart | None = None

    def __post_init__(self) -> None:
        alpha = np.array(self.alpha, dtype=np.float64, order="C", ndmin=2)
        actions = np.array(self.actions, dtype=np.int64).reshape(-1)
        if alpha.ndim != 2 or alpha.shape[0] != actions.shape[0] or alpha.shape[0] == 0:
            raise ModelError("alpha", f"expected (K, S) vectors for {actions.shape[0]} actions")
        if not np.all(np.isfinite(alpha)):
            raise ModelError("alpha", "contains NaN or infinite values")
        if np.any(actions < 0):
            raise ModelError("actions", "negative action index")
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "actions", actions)
        if self.obs_value is not None:
            obs_value = np.array(self.obs_value, dtype=np.int64).reshape(-1)
            if obs_value.shape != actions.shape or np.any(obs_value < 0):
                raise ModelError("obs_value", f"expected {actions.size} values >= 0")
            object.__setattr__(self, "obs_value", obs_value)
        if self.observed is not None:
            self._check_part(self.observed)

    @property
    def n_vectors(self) -> int:
        return self.alpha.shape[0]

    @property
    def mixed(self) -> bool:
        """Whether the vectors are over the hidden part, per observed value."""
        return self.obs_value is not None

    def for_model(self, pomdp: TabularPOMDP) -> AlphaVectorPolicy:
        """This policy checked against ``pomdp``'s sizes and, if mixed, bound to its observed
        part; raises :class:`ModelError` on a mismatch."""
        if not self.mixed and self.alpha.shape[1] != pomdp.n_states:
            raise ModelError("alpha", f"vectors have {self.alpha.shape[1]} entries, model has "
                             f"{pomdp.n_states} states")  # fmt: skip
        if self.mixed and pomdp.observed is None:
            raise ModelError("obs_value", "a mixed-observability policy needs a model with "
                             "fully observed state variables")  # fmt: skip
        if self.actions.max() >= pomdp.n_actions:
            raise ModelError("actions", f"index {self.actions.max()} but model has "
                             f"{pomdp.n_actions} actions")  # fmt: skip
        return replace(self, observed=pomdp.observed) if self.mixed else self

    def _check_part(self, part: ObservedPart) -> None:
        if self.alpha.shape[1] != part.n_hidden:
            raise ModelError("alpha", f"vectors have {self.alpha.shape[1]} entries, the model's "
                             f"hidden part has {part.n_hidden}")  # fmt: skip
        if self.obs_value.max() >= part.n_values:
            raise ModelError("obs_value", f"value {self.obs_value.max()} but the model's "
                             f"observed part has {part.n_values}")  # fmt: skip

    def kernel_arrays(self, n_states: int) -> tuple[np.ndarray, ...]:
        """(alpha, obs_value, observed value of each state, hidden index of each state)."""
        part = self._part() if self.mixed else ObservedPart.flat(n_states)
        obs_value = self.obs_value if self.mixed else np.zeros(self.n_vectors, dtype=np.int64)
        return self.alpha, obs_value, part.value, part.hidden

    def _part(self) -> ObservedPart:
        if self.observed is None:
            raise ModelError("observed", "a mixed-observability policy must be bound to its "
                             "model first: policy.for_model(pomdp)")  # fmt: skip
        return self.observed

    def values(self, belief: np.ndarray) -> np.ndarray:
        r""":math:`b\cdot\alpha_k` for every vector (-inf for vectors of another observed
        value)."""
        if not self.mixed:
            return self.alpha @ belief
        part = self._part()
        support = np.flatnonzero(belief)
        x = np.unique(part.value[support])
        if x.size != 1:
            raise ModelError("belief", f"spans observed values {x.tolist()}; a mixed policy "
                             "acts at beliefs of one observed value")  # fmt: skip
        out = np.full(self.n_vectors, -np.inf)
        mine = self.obs_value == x[0]
        out[mine] = self.alpha[mine][:, part.hidden[support]] @ belief[support]
        return out

    def best(self, belief: np.ndarray) -> int:
        """Index of the maximising vector at ``belief``."""
        return int(np.argmax(self.values(belief)))

    def value(self, belief: np.ndarray) -> float:
        r"""The lower bound :math:`\max_k b \cdot \alpha_k`."""
        return float(np.max(self.values(belief)))

    def action(self, belief: np.ndarray) -> int:
        """The action the policy plays at ``belief``."""
        return int(self.actions[self.best(belief)])

    def to_dataset(self, attrs: dict, states: tuple[str, ...] | None = None) -> xr.Dataset:
        """The policy Dataset: ``alpha_vector(alpha, state)`` and ``action(alpha)``; a mixed
        policy has ``alpha_vector(alpha, hidden)``, ``obs_value(alpha)`` and, when bound,
        ``observed_value(state)`` and ``hidden_index(state)``.

        The vectors are not called ``alpha`` because xarray reserves a variable named like a
        dimension for that dimension's coordinate (see docs/output_schema.md).
        """
        import xarray as xr

        entry = "hidden" if self.mixed else "state"
        data = {
            "alpha_vector": (
                ("alpha", entry),
                self.alpha,
                {"long_name": "alpha vector (value of each state)", "units": "reward"},
            ),
            "action": (("alpha",), self.actions, _coord("action index of the vector")),
        }
        coords = {"alpha": ("alpha", np.arange(self.n_vectors), _coord("alpha vector index"))}
        n_states = self.alpha.shape[1]
        if self.mixed:
            hidden = np.arange(n_states)
            coords["hidden"] = ("hidden", hidden, _coord("index of the hidden part of the state"))
            data["obs_value"] = (("alpha",), self.obs_value, _coord("observed value of the vector"))
            if self.observed is not None:
                n_states = self.observed.value.size
                data["observed_value"] = (("state",), self.observed.value,
                                          _coord("observed value of the state"))  # fmt: skip
            else:
                states = None
        if not self.mixed or self.observed is not None:
            states = states or tuple(f"s{i}" for i in range(n_states))
            coords["state"] = ("state", np.array(states, dtype=object), _coord("state label"))
        return xr.Dataset(data, coords=coords, attrs=attrs)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> AlphaVectorPolicy:
        if "obs_value" not in ds:
            return cls(alpha=ds["alpha_vector"].values, actions=ds["action"].values)
        part = ObservedPart(ds["observed_value"].values) if "observed_value" in ds else None
        return cls(ds["alpha_vector"].values, ds["action"].values, ds["obs_value"].values, part)


def _coord(long_name: str) -> dict[str, str]:
    return {"long_name": long_name, "units": "1"}
