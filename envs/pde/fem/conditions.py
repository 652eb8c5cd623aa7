"""Boundary conditions on assembled operators, independent of the backend that assembled them.

For ``-∇·(∇u) = f`` with outward normal ``n`` on a boundary Γ:

- Dirichlet ``u = g``: ``apply_dirichlet`` eliminates the dofs symmetrically;
- Neumann ``∂u/∂n = g``: add ``neumann_load`` to the right-hand side;
- Robin ``∂u/∂n = α (u_ext - u)``: ``robin_terms`` gives the matrix and right-hand-side terms.

Boundary data are a number (constant on Γ) or a vertex array (its P1 interpolant is used).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from decide.envs.pde.fem.base import Operators


def apply_dirichlet(
    A: sp.spmatrix, rhs: np.ndarray, dofs: np.ndarray, values: float | np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Impose ``u[dofs] = values`` on ``A u = rhs`` by symmetric elimination.

    Parameters
    ----------
    A
        System matrix, ``n × n``.
    rhs
        Right-hand side, length ``n``.
    dofs
        Constrained vertex indices.
    values
        Their values: one number or one per dof.

    Returns
    -------
    tuple of scipy.sparse.csr_matrix and numpy.ndarray
        The matrix with identity rows and columns at ``dofs`` (symmetric if ``A`` is) and the
        right-hand side with the known values moved over and set at ``dofs``. Neither input is
        modified.
    """
    A = sp.csr_matrix(A)
    dofs = np.asarray(dofs, dtype=np.int64)
    values = np.broadcast_to(np.asarray(values, dtype=float), dofs.shape)
    known = np.zeros(A.shape[0])
    known[dofs] = values
    rhs = np.asarray(rhs, dtype=float) - A @ known
    free = np.ones(A.shape[0])
    free[dofs] = 0.0
    keep = sp.diags(free)
    A = (keep @ A @ keep + sp.diags(1.0 - free)).tocsr()
    A.eliminate_zeros()
    rhs[dofs] = values
    return A, rhs


def robin_terms(
    ops: Operators, boundary: str, alpha: float, u_ext: float | np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Terms of the Robin condition ``∂u/∂n = α (u_ext - u)`` on ``boundary``.

    Parameters
    ----------
    ops
        Assembled operators.
    boundary
        Boundary name ("left", "right", "bottom", "top").
    alpha
        Transfer coefficient ``α``.
    u_ext
        Exterior value: a number or a vertex array.

    Returns
    -------
    tuple of scipy.sparse.csr_matrix and numpy.ndarray
        ``α · boundary_mass`` to add to the matrix and ``α ∫_Γ u_ext φ_i`` to add to the
        right-hand side.
    """
    return alpha * ops.boundary_mass[boundary], alpha * _boundary_integral(ops, boundary, u_ext)


def neumann_load(ops: Operators, boundary: str, g: float | np.ndarray) -> np.ndarray:
    """Right-hand-side term ``∫_Γ g φ_i`` of the Neumann condition ``∂u/∂n = g``.

    Parameters
    ----------
    ops
        Assembled operators.
    boundary
        Boundary name.
    g
        Outward flux: a number or a vertex array.

    Returns
    -------
    numpy.ndarray
        The load vector, length ``n``.
    """
    return _boundary_integral(ops, boundary, g)


def _boundary_integral(ops: Operators, boundary: str, g: float | np.ndarray) -> np.ndarray:
    g = np.asarray(g, dtype=float)
    if g.ndim == 0:
        return float(g) * ops.boundary_load[boundary]
    return ops.boundary_mass[boundary] @ g
