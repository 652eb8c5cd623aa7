"""Sweep and SSOR kernels against closed forms; SOR, SSOR-PCG and CG against scipy and theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve, spsolve_triangular

from decide.errors import MatrixError, ModelError
from decide.linalg import (
    CG,
    SOR,
    SSORPCG,
    SolveResult,
    poisson_2d,
    prepare,
    sor_sweep,
    ssor_apply,
    young_omega,
)


def random_spd(n: int, density: float, seed: int) -> sp.csr_array:
    """Symmetric, strictly diagonally dominant with a positive diagonal, hence SPD."""
    rng = np.random.default_rng(seed)
    off = sp.random_array((n, n), density=density, rng=rng, format="csr")
    off.data = rng.uniform(-1.0, 1.0, off.nnz)
    off = sp.triu(off, k=1)
    off = off + off.T
    diag = np.abs(off).sum(axis=1) + rng.uniform(0.1, 1.0, n)
    return sp.csr_array(off + sp.diags_array(diag))


def true_residual(A, x, b) -> float:
    return float(np.linalg.norm(b - A @ x) / np.linalg.norm(b))


def test_sor_sweep_equals_closed_form():
    A = random_spd(40, 0.2, seed=1) + sp.csr_array(np.triu(np.ones((40, 40)), 5) * 0.01)
    rng = np.random.default_rng(2)
    x, b = rng.standard_normal(40), rng.standard_normal(40)
    for omega in (0.3, 1.0, 1.7):
        M = sp.csr_array(sp.diags_array(A.diagonal() / omega) + sp.tril(A, k=-1))
        expected = x + spsolve_triangular(M, b - A @ x, lower=True)
        swept = x.copy()
        sor_sweep(A, swept, b, omega)
        np.testing.assert_allclose(swept, expected, rtol=1e-12, atol=1e-12)


def test_ssor_apply_equals_dense_inverse():
    A = random_spd(25, 0.3, seed=3).toarray()
    r = np.random.default_rng(4).standard_normal(25)
    D, L = np.diag(np.diag(A)), np.tril(A, -1)
    for omega in (0.2, 1.0, 1.5, 1.95):
        M = (D + omega * L) @ np.linalg.inv(D) @ (D + omega * L).T / (omega * (2 - omega))
        np.testing.assert_allclose(ssor_apply(A, r, omega), np.linalg.solve(M, r), rtol=1e-10)


SYSTEMS = {
    "laplacian": lambda: poisson_2d(12),
    "random_spd": lambda: random_spd(150, 0.05, seed=5),
}


@pytest.mark.parametrize("name", sorted(SYSTEMS))
@pytest.mark.parametrize(
    "solver", [SOR(omega=1.0), SOR(omega=1.6), SSORPCG(omega=1.0), SSORPCG(omega=1.4), CG()]
)
def test_solution_matches_spsolve(name, solver):
    A = SYSTEMS[name]()
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    result = solver.solve(A, b)
    exact = spsolve(sp.csc_array(A), b)
    assert isinstance(result, SolveResult)
    assert result.converged and not result.diverged
    assert 0 < result.iterations < solver.maxiter
    assert result.residual == pytest.approx(true_residual(A, result.x, b), rel=1e-6)
    assert result.residual <= solver.rtol
    condition = np.linalg.cond(A.toarray())
    assert np.linalg.norm(result.x - exact) <= 10 * condition * solver.rtol * np.linalg.norm(exact)
    assert result.omega == getattr(solver, "omega", None)


def test_young_omega_beats_gauss_seidel_as_theory_says():
    """Gauss-Seidel contracts by beta^2 per sweep, SOR(omega*) by omega* - 1 (a Jordan block)."""
    m, rtol = 10, 1e-8
    A = prepare(poisson_2d(m))
    b = np.ones(m * m)
    beta = math.cos(math.pi / (m + 1))
    omega = young_omega(A)
    gauss_seidel = SOR(omega=1.0, rtol=rtol).solve(A, b).iterations
    young = SOR(omega=omega, rtol=rtol).solve(A, b).iterations
    expected_gs = math.log(rtol) / math.log(beta**2)
    assert abs(gauss_seidel - expected_gs) <= 0.1 * expected_gs
    rate = omega - 1.0
    lower = math.log(rtol) / math.log(rate)  # pure geometric decay
    upper = next(k for k in range(1, 1000) if k * rate**k <= rtol)  # decay k * rate^k
    assert lower <= young <= upper + 3
    assert gauss_seidel > 4 * young


def test_sor_denominator_is_initial_residual():
    A = poisson_2d(6)
    b = np.ones(36)
    x0 = spsolve(sp.csc_array(A), b) + 1e-3
    result = SOR(omega=1.3).solve(A, b, x0)
    initial = np.linalg.norm(b - A @ x0)
    assert result.converged
    assert np.linalg.norm(b - A @ result.x) / initial < 1e-8
    assert result.residual == pytest.approx(np.linalg.norm(b - A @ result.x) / initial, rel=1e-6)


def test_cg_terminates_within_n_iterations():
    A = random_spd(12, 0.4, seed=7)
    b = np.random.default_rng(8).standard_normal(12)
    for solver in (CG(rtol=1e-10), SSORPCG(omega=1.2, rtol=1e-10)):
        result = solver.solve(A, b)
        assert result.converged and result.iterations <= 12


def test_warm_start_and_trivial_right_hand_side():
    A = poisson_2d(8)
    b = np.random.default_rng(9).standard_normal(64)
    cold = SSORPCG(omega=1.5).solve(A, b)
    assert SSORPCG(omega=1.5).solve(A, b, cold.x).iterations == 0
    assert SSORPCG(omega=1.5).solve(A, b, cold.x + 1e-6).iterations < cold.iterations
    for solver in (SOR(), SSORPCG(), CG()):
        result = solver.solve(A, np.zeros(64), np.ones(64))
        assert result.iterations == 0 and result.converged and not result.x.any()


def test_pcg_rejects_non_symmetric_and_indefinite_matrices():
    A = poisson_2d(5)
    b = np.ones(25)
    skew = sp.csr_array(A + sp.diags_array([np.full(24, 1e-3)], offsets=[1]))
    for solver in (SSORPCG(), CG()):
        with pytest.raises(MatrixError, match="not symmetric"):
            solver.solve(skew, b)
        with pytest.raises(MatrixError, match=r"not positive definite: pᵀAp = .* at iteration"):
            solver.solve(A - 2.0 * sp.identity(25), np.random.default_rng(0).standard_normal(25))
        with pytest.raises(MatrixError, match="row 0: matrix is not positive definite"):
            solver.solve(-A, b)
    assert SOR().solve(skew, b).converged  # SOR needs no symmetry


def test_divergence_is_reported_quickly():
    A = poisson_2d(10) - 3.0 * sp.identity(100)  # symmetric indefinite: SOR cannot converge
    result = SOR(omega=1.0).solve(A, np.ones(100))
    assert result.diverged and not result.converged
    assert result.iterations < 100
    assert not np.isfinite(result.residual) or result.residual > 1e8


def test_parameters_are_validated():
    for omega in (0.0, 2.0, -1.0, float("nan")):
        with pytest.raises(ModelError, match="omega"):
            SOR(omega=omega)
        with pytest.raises(ModelError, match="omega"):
            SSORPCG().with_omega(omega)
    with pytest.raises(ModelError, match="rtol"):
        CG(rtol=0.0)
    with pytest.raises(ModelError, match="maxiter"):
        SOR(maxiter=-1)
    assert SOR(omega=1.2).with_omega(1.7) == SOR(omega=1.7)
    with pytest.raises(ModelError, match="b"):
        SOR().solve(poisson_2d(2), np.ones(5))
    with pytest.raises(ModelError, match="x0"):
        CG().solve(poisson_2d(2), np.ones(4), np.full(4, np.inf))


def test_maxiter_caps_the_work():
    result = SOR(omega=1.0, maxiter=7).solve(poisson_2d(10), np.ones(100))
    assert result.iterations == 7 and not result.converged and not result.diverged


spd_systems = st.builds(
    random_spd,
    n=st.integers(1, 40),
    density=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)


@settings(max_examples=40, deadline=None)
@given(A=spd_systems, omega=st.floats(0.5, 1.5), seed=st.integers(0, 2**32 - 1))
def test_sor_converged_means_small_true_residual(A, omega, seed):
    b = np.random.default_rng(seed).standard_normal(A.shape[0])
    result = SOR(omega=omega).solve(A, b)
    assert result.converged
    assert true_residual(A, result.x, b) < 1e-8 * (1 + 1e-6)


@settings(max_examples=40, deadline=None)
@given(A=spd_systems, omega=st.floats(0.01, 1.99), seed=st.integers(0, 2**32 - 1))
def test_ssor_pcg_converges_for_every_omega(A, omega, seed):
    b = np.random.default_rng(seed).standard_normal(A.shape[0])
    result = SSORPCG(omega=omega).solve(A, b)
    assert result.converged and not result.diverged
    assert result.iterations <= A.shape[0] + 5
    assert true_residual(A, result.x, b) <= 1e-8 * (1 + 1e-6)
