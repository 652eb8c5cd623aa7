"""What a finite-element backend provides: P1 operators on decide's own mesh, in vertex order.

Both backends discretise the same mesh (``mesh_arrays``), so their operators can be compared
entry by entry. Boundary conditions, time stepping and solvers work on these arrays only and
never see the backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import scipy.sparse as sp

from decide.errors import ModelError

BOUNDARIES = {1: ("left", "right"), 2: ("left", "right", "bottom", "top")}


@dataclass(frozen=True)
class MeshSpec:
    """A structured P1 mesh: ``cells`` per direction over ``extent`` (one (lo, hi) per axis).

    A rectangle's cells are split into two triangles along the lower-left to upper-right diagonal.
    """

    cells: tuple[int, ...] = (32, 32)
    extent: tuple[tuple[float, float], ...] = ((0.0, 1.0), (0.0, 1.0))

    def __post_init__(self) -> None:
        if len(self.cells) not in (1, 2) or len(self.extent) != len(self.cells):
            raise ModelError("mesh", "expected 1 or 2 axes, with one (lo, hi) extent per axis")
        if any(int(n) < 1 for n in self.cells):
            raise ModelError("mesh.cells", f"expected positive cell counts, got {self.cells}")
        if any(hi <= lo for lo, hi in self.extent):
            raise ModelError("mesh.extent", f"expected lo < hi on every axis, got {self.extent}")

    @property
    def dim(self) -> int:
        return len(self.cells)

    @property
    def kind(self) -> Literal["interval", "rectangle"]:
        return "interval" if self.dim == 1 else "rectangle"


def mesh_arrays(spec: MeshSpec) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``points[n_vertices, dim]`` and cells ``cells[n_cells, dim + 1]`` of ``spec``.

    Vertices are numbered x fastest; this numbering is the dof order of every backend.
    """
    axes = [np.linspace(lo, hi, n + 1) for n, (lo, hi) in zip(spec.cells, spec.extent, strict=True)]
    if spec.dim == 1:
        points = axes[0][:, None]
        i = np.arange(spec.cells[0])
        return points, np.stack([i, i + 1], axis=1)
    nx, ny = spec.cells
    gx, gy = np.meshgrid(axes[0], axes[1])
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny))
    v00 = (j * (nx + 1) + i).ravel()
    v10, v01, v11 = v00 + 1, v00 + nx + 1, v00 + nx + 2
    lower = np.stack([v00, v10, v11], axis=1)
    upper = np.stack([v00, v11, v01], axis=1)
    return points, np.concatenate([lower, upper])


@dataclass(frozen=True)
class Patch:
    """A distributed actuator: the indicator of the cells whose centroid lies in the box."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]


@dataclass(frozen=True)
class Segment:
    """A boundary actuator: the facets of ``boundary`` whose midpoint lies in [start, end]
    (coordinate along that boundary: y on left/right, x on bottom/top)."""

    boundary: str
    start: float
    end: float


Actuator = Patch | Segment


@dataclass(frozen=True)
class Operators:
    """P1 operators in vertex order (``n`` vertices, ``m`` actuators).

    mass            M_ij = ∫ φ_i φ_j
    stiffness       K_ij = ∫ ∇φ_i · ∇φ_j
    boundary_mass   per boundary name: ∫_Γ φ_i φ_j        (Robin terms)
    boundary_load   per boundary name: ∫_Γ φ_i            (Neumann / Robin data of value 1)
    boundary_dofs   per boundary name: vertex indices on Γ (Dirichlet)
    actuators       B[n, m], column j = ∫ χ_j φ_i (patch) or ∫_{Γ_j} φ_i (segment)
    """

    points: np.ndarray
    mass: sp.csr_matrix
    stiffness: sp.csr_matrix
    boundary_mass: dict[str, sp.csr_matrix] = field(default_factory=dict)
    boundary_load: dict[str, np.ndarray] = field(default_factory=dict)
    boundary_dofs: dict[str, np.ndarray] = field(default_factory=dict)
    actuators: sp.csr_matrix | None = None


class Backend(Protocol):
    """A finite-element library that assembles ``Operators`` on ``mesh_arrays(spec)``."""

    name: str

    def assemble(self, spec: MeshSpec, actuators: tuple[Actuator, ...] = ()) -> Operators: ...
