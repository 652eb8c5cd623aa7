"""Boundary conditions on assembled operators, against closed-form solutions.

In 1-D, P1 elements are exact at the vertices for -u'' = constant with exactly integrated data,
so the discrete solutions must match the closed forms to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from decide.envs.pde.fem import Backend, MeshSpec
from decide.envs.pde.fem.conditions import apply_dirichlet, neumann_load, robin_terms

LINE = MeshSpec(cells=(12,), extent=((0.0, 1.0),))


def test_dirichlet_on_both_ends_is_exact_at_vertices(skfem_backend: Backend) -> None:
    """-u'' = 1, u(0) = p, u(1) = q  →  u = -x²/2 + (q - p + 1/2) x + p."""
    ops = skfem_backend.assemble(LINE)
    x = ops.points[:, 0]
    p, q = 0.7, -1.2
    dofs = np.concatenate([ops.boundary_dofs["left"], ops.boundary_dofs["right"]])
    A, rhs = apply_dirichlet(ops.stiffness, ops.mass @ np.ones_like(x), dofs, [p, q])
    u = spsolve(A.tocsc(), rhs)
    np.testing.assert_allclose(u, -(x**2) / 2 + (q - p + 0.5) * x + p, atol=1e-13)


def test_neumann_and_robin_are_exact_at_vertices(skfem_backend: Backend) -> None:
    """-u'' = 1, outward flux -u'(0) = g, u'(1) = α (u_ext - u(1))."""
    ops = skfem_backend.assemble(LINE)
    x = ops.points[:, 0]
    g, alpha, u_ext = 0.4, 3.0, 2.0
    robin_matrix, robin_rhs = robin_terms(ops, "right", alpha, u_ext)
    A = ops.stiffness + robin_matrix
    rhs = ops.mass @ np.ones_like(x) + neumann_load(ops, "left", g) + robin_rhs
    u = spsolve(sp.csc_matrix(A), rhs)
    a = -g
    b = u_ext + 0.5 - a - (a - 1.0) / alpha
    np.testing.assert_allclose(u, -(x**2) / 2 + a * x + b, atol=1e-12)


def test_vertex_data_equal_constant_data(skfem_backend: Backend) -> None:
    ops = skfem_backend.assemble(MeshSpec((5, 4), ((0.0, 1.0), (0.0, 2.0))))
    ones = np.ones(len(ops.points))
    for name in ops.boundary_dofs:
        np.testing.assert_allclose(
            neumann_load(ops, name, 1.5 * ones), neumann_load(ops, name, 1.5), atol=1e-15
        )
        matrix, rhs = robin_terms(ops, name, 2.0, -0.5 * ones)
        np.testing.assert_allclose(rhs, robin_terms(ops, name, 2.0, -0.5)[1], atol=1e-15)
        assert abs(matrix - 2.0 * ops.boundary_mass[name]).max() == 0.0


def test_neumann_load_integrates_linear_data_exactly(skfem_backend: Backend) -> None:
    """Σ_i ∫_top g φ_i = ∫_0^1 (1 + 2x) dx = 2 on the top side y = 2."""
    ops = skfem_backend.assemble(MeshSpec((5, 4), ((0.0, 1.0), (0.0, 2.0))))
    g = 1.0 + 2.0 * ops.points[:, 0]
    assert neumann_load(ops, "top", g).sum() == pytest.approx(2.0, rel=1e-14)
    assert neumann_load(ops, "bottom", g).sum() == pytest.approx(2.0, rel=1e-14)


def test_symmetric_elimination_equals_the_reduced_system(skfem_backend: Backend) -> None:
    ops = skfem_backend.assemble(MeshSpec((6, 5), ((0.0, 1.0), (0.0, 1.0))))
    A0 = (ops.stiffness + ops.mass).tocsr()
    rng = np.random.default_rng(0)
    rhs0 = rng.normal(size=A0.shape[0])
    dofs = ops.boundary_dofs["left"]
    values = rng.normal(size=dofs.size)
    A, rhs = apply_dirichlet(A0, rhs0, dofs, values)
    assert abs(A - A.T).max() <= 1e-15
    np.testing.assert_array_equal(A[dofs].toarray(), np.eye(A.shape[0])[dofs])
    u = spsolve(A.tocsc(), rhs)
    free = np.setdiff1d(np.arange(A0.shape[0]), dofs)
    reduced = A0[free][:, free].tocsc()
    expected = spsolve(reduced, rhs0[free] - A0[free][:, dofs] @ values)
    np.testing.assert_allclose(u[dofs], values, atol=1e-14)
    np.testing.assert_allclose(u[free], expected, rtol=1e-12, atol=1e-12)
    assert abs(A0 - (ops.stiffness + ops.mass)).max() == 0.0  # the input is untouched
