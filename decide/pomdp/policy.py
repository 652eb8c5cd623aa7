"""Alpha-vector policies: the output of offline solvers, stored as netCDF or SARSOP XML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from decide.errors import FormatError, ModelError

if TYPE_CHECKING:  # xarray is imported on use: solvers need not pay its memory and start-up
    import xarray as xr


@dataclass(frozen=True, eq=False)
class AlphaVectorPolicy:
    r"""A value function :math:`V(b) = \max_k b \cdot \alpha_k` and the policy it defines.

    Parameters
    ----------
    alpha : array (K, S)
        Alpha vectors.
    actions : int array (K,)
        The action of each vector; the policy plays ``actions[argmax_k b·alpha_k]``.
    """

    alpha: np.ndarray
    actions: np.ndarray

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

    @property
    def n_vectors(self) -> int:
        return self.alpha.shape[0]

    @property
    def n_states(self) -> int:
        return self.alpha.shape[1]

    def best(self, belief: np.ndarray) -> int:
        """Index of the maximising vector at ``belief``."""
        return int(np.argmax(self.alpha @ belief))

    def value(self, belief: np.ndarray) -> float:
        """The lower bound :math:`\\max_k b \\cdot \\alpha_k`."""
        return float(np.max(self.alpha @ belief))

    def action(self, belief: np.ndarray) -> int:
        """The action the policy plays at ``belief``."""
        return int(self.actions[self.best(belief)])

    def check_against(self, n_states: int, n_actions: int) -> None:
        """Raise :class:`ModelError` unless the policy fits a model of the given sizes."""
        if self.n_states != n_states:
            raise ModelError("alpha", f"vectors have {self.n_states} entries, model has {n_states}")
        if self.actions.max() >= n_actions:
            raise ModelError("actions", f"index {self.actions.max()} but model has {n_actions}")

    def to_dataset(self, attrs: dict, states: tuple[str, ...] | None = None) -> xr.Dataset:
        """The policy Dataset: ``alpha_vector(alpha, state)`` and ``action(alpha)``.

        The vectors are not called ``alpha`` because xarray reserves a variable named like a
        dimension for that dimension's coordinate (see docs/output_schema.md).
        """
        import xarray as xr

        states = states or tuple(f"s{i}" for i in range(self.n_states))
        return xr.Dataset(
            {
                "alpha_vector": (
                    ("alpha", "state"),
                    self.alpha,
                    {"long_name": "alpha vector (value of each state)", "units": "reward"},
                ),
                "action": (
                    ("alpha",),
                    self.actions,
                    {"long_name": "action index of the vector", "units": "1"},
                ),
            },
            coords={
                "alpha": ("alpha", np.arange(self.n_vectors), _coord("alpha vector index")),
                "state": ("state", np.array(states, dtype=object), _coord("state label")),
            },
            attrs=attrs,
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> AlphaVectorPolicy:
        return cls(alpha=ds["alpha_vector"].values, actions=ds["action"].values)


def _coord(long_name: str) -> dict[str, str]:
    return {"long_name": long_name, "units": "1"}


def load_policy(path: str | Path) -> AlphaVectorPolicy:
    """Read a policy from our netCDF (``.nc``) or a SARSOP XML file (``.policy``/``.policyx``)."""
    from decide import results
    from decide.pomdp.policyx import read_policyx

    path = Path(path)
    if not path.is_file():
        raise FormatError("no such policy file", path=path)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\x89HDF") or head.startswith(b"CDF"):
        return AlphaVectorPolicy.from_dataset(
            results.read(path, required_vars=("alpha_vector", "action"))
        )
    return read_policyx(path)
