"""Jacobi spectral radius and Young's omega against closed forms for the 5-point Laplacian."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from decide.errors import MatrixError
from decide.linalg import jacobi_spectral_radius, poisson_2d, prepare, spectral, young_omega


@pytest.mark.parametrize("m", [1, 3, 10, 17])
def test_laplacian_beta_is_cos_pi_over_m_plus_1(m):
    beta = jacobi_spectral_radius(poisson_2d(m))
    assert beta == pytest.approx(math.cos(math.pi / (m + 1)), abs=1e-12)


@pytest.mark.parametrize("c", [-0.15, 0.0, 0.3, 1.0])
def test_shifted_laplacian_beta_and_young_omega(c):
    m = 10
    A = poisson_2d(m) + c * sp.identity(m * m)
    beta = 4 * math.cos(math.pi / (m + 1)) / (4 + c)
    assert jacobi_spectral_radius(A) == pytest.approx(beta, abs=1e-12)
    expected = 1 + (beta / (1 + math.sqrt(1 - beta**2))) ** 2
    assert young_omega(A) == pytest.approx(expected, abs=1e-12)
    assert young_omega(A) == pytest.approx(2 / (1 + math.sqrt(1 - beta**2)), abs=1e-12)


def test_sparse_eigensolver_paths(monkeypatch):
    """Above DENSE_LIMIT unknowns eigsh (symmetric) or eigs (general) are used."""
    m = 12
    A = poisson_2d(m)
    rng = np.random.default_rng(0)
    nonsymmetric = sp.csr_array(A + sp.diags_array([rng.uniform(0, 0.5, m * m - 1)], offsets=[1]))
    dense = {}
    for name, matrix in (("sym", A), ("nonsym", nonsymmetric)):
        dense[name] = jacobi_spectral_radius(matrix)
    monkeypatch.setattr(spectral, "DENSE_LIMIT", 10)
    assert jacobi_spectral_radius(A) == pytest.approx(math.cos(math.pi / (m + 1)), abs=1e-9)
    assert jacobi_spectral_radius(-A) == pytest.approx(dense["sym"], abs=1e-9)
    assert jacobi_spectral_radius(nonsymmetric) == pytest.approx(dense["nonsym"], abs=1e-9)


def test_nonsymmetric_radius_matches_definition():
    rng = np.random.default_rng(1)
    A = rng.uniform(-1, 1, (8, 8)) + np.diag(rng.uniform(3, 5, 8))
    J = np.eye(8) - np.diag(1 / np.diag(A)) @ A
    assert jacobi_spectral_radius(A) == pytest.approx(np.abs(np.linalg.eigvals(J)).max())
    assert jacobi_spectral_radius(prepare(A)) == jacobi_spectral_radius(A)


def test_young_omega_needs_a_convergent_jacobi():
    with pytest.raises(MatrixError, match="Jacobi spectral radius"):
        young_omega(poisson_2d(6) - 2.0 * sp.identity(36))
