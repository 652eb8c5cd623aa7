"""What a Pareto method returns: a box covering, the points found in it, and the work it cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from decide.contract import stop_reason
from decide.pareto.boxes import BoxSet
from decide.pareto.dominance import non_dominated
from decide.pareto.problem import Counts
from decide.results import make_attrs


@dataclass(frozen=True, eq=False)
class ParetoSet:
    """A covering of the Pareto set and the images that landed in it.

    ``x[i]``/``f[i]`` is the representative of box i: a non-dominated image inside it where there
    is one. ``points``/``values`` hold every image in the covering (the approximation of the
    front is their non-dominated subset, :meth:`front`). ``history`` is the number of boxes after
    each level.
    """

    boxes: BoxSet
    points: np.ndarray
    values: np.ndarray
    counts: Counts
    problem: str
    method: str
    stop_reason: str
    parameters: dict[str, Any] = field(default_factory=dict)
    history: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        stop_reason(self.stop_reason)

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def representative(self) -> np.ndarray:
        """Index into ``points`` of each box's representative, -1 for a box without a point
        (one kept only for being within reach of a point next door)."""
        owner = self.boxes.locate(self.points)
        rank = np.where(non_dominated(self.values), 0, 1)
        order = np.lexsort((rank, owner))
        owners = owner[order]
        first = np.r_[True, owners[1:] != owners[:-1]] & (owners >= 0)
        index = np.full(len(self.boxes), -1)
        index[owners[first]] = order[first]
        return index

    def _per_box(self, array: np.ndarray) -> np.ndarray:
        index = self.representative
        out = np.full((len(index), array.shape[1]), np.nan)
        out[index >= 0] = array[index[index >= 0]]
        return out

    @property
    def x(self) -> np.ndarray:
        """Each box's representative point (NaN for a box without one)."""
        return self._per_box(self.points)

    @property
    def f(self) -> np.ndarray:
        """The objective values at the representatives (NaN for a box without one)."""
        return self._per_box(self.values)

    def front(self) -> tuple[np.ndarray, np.ndarray]:
        """The non-dominated images: points ``X[k, d]`` and their values ``F[k, m]``."""
        keep = non_dominated(self.values)
        return self.points[keep], self.values[keep]

    def to_dataset(self) -> xr.Dataset:
        """The Dataset of docs/output_schema.md (Pareto sets)."""
        d, m = self.boxes.dim, self.values.shape[1]
        f = self.f
        box_vars = {
            "centre": (("box", "dim"), self.boxes.centres, "box centre", "1"),
            "radius": (("box", "dim"), self.boxes.radii, "box half-width", "1"),
            "key": (("box", "dim"), self.boxes.keys, "integer grid index of the box", "1"),
            "x": (("box", "dim"), self.x, "representative point in the box", "1"),
            "f": (("box", "objective"), f, "objective values at the representative", "1"),
            "nondominated": (("box",), _flags(f), "1 if no representative dominates it", "1"),
            "boxes": (("level",), np.array(self.history, dtype=np.int64), "boxes after level", "1"),
        }
        data = {
            name: xr.Variable(dims, value, {"long_name": long, "units": units})
            for name, (dims, value, long, units) in box_vars.items()
        }
        coords = {
            "box": ("box", np.arange(len(self)), {"long_name": "box index", "units": "1"}),
            "dim": (
                "dim",
                [f"x{j + 1}" for j in range(d)],
                {"long_name": "coordinate", "units": "1"},
            ),
            "objective": (
                "objective",
                [f"f{j + 1}" for j in range(m)],
                {"long_name": "objective", "units": "1"},
            ),
            "level": (
                "level",
                np.arange(1, len(self.history) + 1),
                {"long_name": "subdivision level", "units": "1"},
            ),
        }
        attrs = make_attrs(
            self.problem,
            self.method,
            self.parameters,
            stop_reason=self.stop_reason,
            lower=self.boxes.lower,
            upper=self.boxes.upper,
            depth=self.boxes.depth,
            final_level=int(self.boxes.level),
            box_diameter=self.boxes.diameter,
            f_evaluations=self.counts.f,
            jac_evaluations=self.counts.jac,
            cost_adjoint=self.counts.cost_adjoint,
            cost_fd=self.counts.cost_fd,
            pde_solves=self.counts.pde_solves,
        )
        return xr.Dataset(data, coords=coords, attrs=attrs)


def _flags(f: np.ndarray) -> np.ndarray:
    """1 for representatives no other dominates, 0 otherwise and for boxes without one."""
    flags = np.zeros(len(f), dtype=np.int8)
    known = ~np.isnan(f).any(axis=1)
    flags[known] = non_dominated(f[known])
    return flags
