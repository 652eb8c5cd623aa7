"""FEM backends: scikit-fem against closed forms, and dolfinx against scikit-fem (parity).

The dolfinx tests are marked ``dolfinx`` and need the system dolfinx (``make test-dolfinx``);
elsewhere they skip (see conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve

from decide.envs.pde.fem import Backend, MeshSpec, Operators, Patch, Segment, mesh_arrays
from decide.envs.pde.fem.conditions import apply_dirichlet, robin_terms
from decide.envs.pde.fem.geometry import sensor_matrix

INTERVAL = MeshSpec(cells=(10,), extent=((0.0, 2.0),))
RECTANGLE = MeshSpec(cells=(8, 6), extent=((0.0, 2.0), (-1.0, 0.5)))  # h = 0.25 both ways
SPECS = [pytest.param(INTERVAL, id="interval"), pytest.param(RECTANGLE, id="rectangle")]

# Aligned with the mesh lines, so the chosen cells and facets cover exactly these boxes.
INTERVAL_ACTUATORS = (Patch((0.4,), (1.0,)), Patch((1.6,), (2.0,)))
RECTANGLE_ACTUATORS = (
    Patch((0.5, -0.5), (1.0, 0.0)),
    Segment("left", -0.75, 0.25),
    Segment("top", 0.25, 1.25),
    Segment("right", -1.0, 0.5),
)
ACTUATOR_MEASURES = {INTERVAL: [0.6, 0.4], RECTANGLE: [0.25, 1.0, 1.0, 1.5]}


def actuators_of(spec: MeshSpec) -> tuple:
    return INTERVAL_ACTUATORS if spec.dim == 1 else RECTANGLE_ACTUATORS


def lengths(spec: MeshSpec) -> dict[str, float]:
    """Measure of each named boundary: a point (1) in 1-D, a side in 2-D."""
    if spec.dim == 1:
        return {"left": 1.0, "right": 1.0}
    (x0, x1), (y0, y1) = spec.extent
    return {"left": y1 - y0, "right": y1 - y0, "bottom": x1 - x0, "top": x1 - x0}


# --- scikit-fem against closed forms -------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_mass_sums_to_the_domain_measure(skfem_backend: Backend, spec: MeshSpec) -> None:
    ops = skfem_backend.assemble(spec)
    measure = np.prod([hi - lo for lo, hi in spec.extent])
    assert ops.mass.sum() == pytest.approx(measure, rel=1e-13)
    assert ops.mass.shape == (len(mesh_arrays(spec)[0]),) * 2


@pytest.mark.parametrize("spec", SPECS)
def test_stiffness_is_symmetric_psd_and_kills_constants(
    skfem_backend: Backend, spec: MeshSpec
) -> None:
    K = skfem_backend.assemble(spec).stiffness
    scale = abs(K).max()
    assert np.abs(K @ np.ones(K.shape[0])).max() <= 1e-13 * scale
    assert abs(K - K.T).max() <= 1e-14 * scale
    eigenvalues = np.linalg.eigvalsh(K.toarray())
    assert eigenvalues.min() >= -1e-12 * scale
    assert np.sum(eigenvalues < 1e-10 * scale) == 1  # only the constants


@pytest.mark.parametrize("spec", SPECS)
def test_boundary_operators_integrate_to_the_boundary_measure(
    skfem_backend: Backend, spec: MeshSpec
) -> None:
    ops = skfem_backend.assemble(spec)
    points = ops.points
    for name, length in lengths(spec).items():
        assert ops.boundary_load[name].sum() == pytest.approx(length, rel=1e-13)
        assert ops.boundary_mass[name].sum() == pytest.approx(length, rel=1e-13)
        support = np.flatnonzero(ops.boundary_load[name])
        np.testing.assert_array_equal(support, ops.boundary_dofs[name])
        if spec.dim == 2:  # ∫_Γ x φ_i summed over i is ∫_Γ x
            along = points[:, 1] if name in ("left", "right") else points[:, 0]
            lo, hi = spec.extent[1] if name in ("left", "right") else spec.extent[0]
            expected = (hi**2 - lo**2) / 2
            assert ops.boundary_load[name] @ along == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("spec", SPECS)
def test_actuator_columns_integrate_to_patch_area_and_segment_length(
    skfem_backend: Backend, spec: MeshSpec
) -> None:
    ops = skfem_backend.assemble(spec, actuators_of(spec))
    assert isinstance(ops.actuators, sp.csr_matrix)
    sums = np.asarray(ops.actuators.sum(axis=0)).ravel()
    np.testing.assert_allclose(sums, ACTUATOR_MEASURES[spec], rtol=1e-13)
    assert (ops.actuators.toarray() >= 0).all()


def test_no_actuators_means_no_actuator_matrix(skfem_backend: Backend) -> None:
    assert skfem_backend.assemble(INTERVAL).actuators is None


@st.composite
def sensor_case(draw: st.DrawFn) -> tuple[MeshSpec, np.ndarray, np.ndarray]:
    spec = draw(st.sampled_from([INTERVAL, RECTANGLE, MeshSpec((3, 5), ((1.0, 1.5), (2.0, 4.0)))]))
    unit = st.floats(0.0, 1.0, allow_nan=False)
    k = draw(st.integers(1, 6))
    u = np.array([[draw(unit) for _ in range(spec.dim)] for _ in range(k)])
    lo = np.array([e[0] for e in spec.extent])
    hi = np.array([e[1] for e in spec.extent])
    coefficients = np.array([draw(st.floats(-3.0, 3.0)) for _ in range(spec.dim + 1)])
    return spec, lo + u * (hi - lo), coefficients


@settings(max_examples=100, deadline=None)
@given(sensor_case())
def test_sensor_matrix_is_p1_interpolation(case: tuple) -> None:
    spec, locations, coefficients = case
    points, _ = mesh_arrays(spec)
    C = sensor_matrix(spec, points, locations)
    weights = C.toarray()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    assert weights.min() >= -1e-12 and weights.max() <= 1.0 + 1e-12
    assert (C.getnnz(axis=1) <= spec.dim + 1).all()

    def linear(x: np.ndarray) -> np.ndarray:
        return coefficients[0] + x @ coefficients[1:]

    scale = 1.0 + np.abs(coefficients).sum() * np.abs(points).max()
    np.testing.assert_allclose(C @ linear(points), linear(locations), rtol=0, atol=1e-12 * scale)


def poisson_error(backend: Backend, n: int) -> float:
    """Max vertex error of P1 for -Δu = f on the unit square, u = e^x sin(πy) + y² on Γ."""
    spec = MeshSpec((n, n), ((0.0, 1.0), (0.0, 1.0)))
    ops = backend.assemble(spec)
    x, y = ops.points.T
    exact = np.exp(x) * np.sin(np.pi * y) + y**2
    f = (np.pi**2 - 1.0) * np.exp(x) * np.sin(np.pi * y) - 2.0
    boundary = np.unique(np.concatenate(list(ops.boundary_dofs.values())))
    A, rhs = apply_dirichlet(ops.stiffness, ops.mass @ f, boundary, exact[boundary])
    u = spsolve(A.tocsc(), rhs)
    return float(np.abs(u - exact).max())


def test_poisson_converges_at_second_order(skfem_backend: Backend) -> None:
    coarse, fine = poisson_error(skfem_backend, 16), poisson_error(skfem_backend, 32)
    assert fine < 1e-3
    order = np.log2(coarse / fine)
    assert 1.8 < order < 2.2, order


# --- dolfinx against scikit-fem --------------------------------------------------------------


def relative_difference(a: sp.spmatrix | np.ndarray, b: sp.spmatrix | np.ndarray) -> float:
    if sp.issparse(a):
        return float(sp.linalg.norm(a - b) / sp.linalg.norm(a))
    return float(np.linalg.norm(a - b) / np.linalg.norm(a))


def assert_same_operators(a: Operators, b: Operators, rtol: float = 1e-12) -> None:
    np.testing.assert_array_equal(a.points, b.points)
    for name in ("mass", "stiffness", "actuators"):
        A, B = getattr(a, name), getattr(b, name)
        assert isinstance(B, sp.csr_matrix), name
        assert A.shape == B.shape, name
        assert relative_difference(A, B) <= rtol, name
    assert a.boundary_dofs.keys() == b.boundary_dofs.keys()
    for name in a.boundary_dofs:
        np.testing.assert_array_equal(a.boundary_dofs[name], b.boundary_dofs[name])
        assert isinstance(b.boundary_mass[name], sp.csr_matrix)
        assert relative_difference(a.boundary_mass[name], b.boundary_mass[name]) <= rtol, name
        assert relative_difference(a.boundary_load[name], b.boundary_load[name]) <= rtol, name


@pytest.mark.dolfinx
@pytest.mark.parametrize("spec", SPECS)
def test_dolfinx_operators_match_skfem(
    skfem_backend: Backend, dolfinx_backend: Backend, spec: MeshSpec
) -> None:
    a = skfem_backend.assemble(spec, actuators_of(spec))
    b = dolfinx_backend.assemble(spec, actuators_of(spec))
    assert_same_operators(a, b)


@pytest.mark.dolfinx
def test_dolfinx_matches_skfem_off_grid_actuators(
    skfem_backend: Backend, dolfinx_backend: Backend
) -> None:
    """Boxes that cut cells: both backends choose the same cells and facets."""
    spec = MeshSpec((9, 7), ((-1.0, 1.0), (0.0, 3.0)))
    actuators = (
        Patch((-0.37, 0.41), (0.52, 1.93)),
        Segment("bottom", -0.61, 0.2),
        Segment("left", 1.1, 2.9),
    )
    assert_same_operators(
        skfem_backend.assemble(spec, actuators), dolfinx_backend.assemble(spec, actuators)
    )


def heat_step(ops: Operators, u0: np.ndarray, c: np.ndarray) -> np.ndarray:
    """One backward-Euler step of u_t = κΔu + Bc: u = 0 on the left, Robin on the right."""
    dt, kappa, alpha, u_ext = 0.01, 0.5, 2.0, 0.3
    A = ops.mass + dt * kappa * ops.stiffness
    rhs = ops.mass @ u0 + dt * (ops.actuators @ c)
    robin_matrix, robin_rhs = robin_terms(ops, "right", alpha, u_ext)
    A, rhs = A + dt * kappa * robin_matrix, rhs + dt * kappa * robin_rhs
    A, rhs = apply_dirichlet(A, rhs, ops.boundary_dofs["left"], 0.0)
    return spsolve(A.tocsc(), rhs)


@pytest.mark.dolfinx
def test_heat_step_is_the_same_from_both_backends(
    skfem_backend: Backend, dolfinx_backend: Backend
) -> None:
    spec = MeshSpec((32, 32), ((0.0, 1.0), (0.0, 1.0)))
    actuators = (Patch((0.25, 0.25), (0.5, 0.75)), Segment("top", 0.5, 1.0))
    x, y = mesh_arrays(spec)[0].T
    u0 = np.sin(np.pi * x / 2) * (1.0 + y)
    c = np.array([1.5, -0.5])
    u_skfem = heat_step(skfem_backend.assemble(spec, actuators), u0, c)
    u_dolfinx = heat_step(dolfinx_backend.assemble(spec, actuators), u0, c)
    assert np.linalg.norm(u_skfem - u0) > 1e-3  # the step does something
    assert relative_difference(u_skfem, u_dolfinx) <= 1e-8
