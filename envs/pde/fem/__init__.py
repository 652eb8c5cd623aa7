"""Finite-element backends: scikit-fem (default) and dolfinx, behind one ``Backend`` protocol."""

from __future__ import annotations

from decide.envs.pde.fem.base import (
    Actuator,
    Backend,
    MeshSpec,
    Operators,
    Patch,
    Segment,
    mesh_arrays,
)
from decide.errors import UsageError

__all__ = [
    "Actuator",
    "Backend",
    "MeshSpec",
    "Operators",
    "Patch",
    "Segment",
    "get_backend",
    "mesh_arrays",
]


def get_backend(name: str = "skfem") -> Backend:
    """The backend called ``name``: "skfem" (default) or "dolfinx" (needs the system dolfinx)."""
    if name == "skfem":
        from decide.envs.pde.fem.skfem_backend import SkfemBackend

        return SkfemBackend()
    if name == "dolfinx":
        from decide.envs.pde.fem.dolfinx_backend import DolfinxBackend

        return DolfinxBackend()
    raise UsageError(f"unknown FEM backend {name!r}; expected 'skfem' or 'dolfinx'")
