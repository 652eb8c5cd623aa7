"""Test problems: derivatives, Pareto criticality, dominance, spreading, the registry."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.integrate import quad
from scipy.optimize import nnls

from decide.errors import ModelError, UsageError
from decide.pareto.curves import simplex_grid
from decide.pareto.testproblems import (
    DTLZ2,
    PROBLEMS,
    L1Quadratic,
    Quadratics,
    make_problem,
)
from decide.pareto.zdt import ZDT1, ZDT2, ZDT3, zdt3_pareto_intervals

SMOOTH = [
    Quadratics.default(),
    Quadratics.default(dim=3, n_obj=3),
    Quadratics(np.array([[0.0, 3.0], [1.0, -1.0]]), lower=[-1.0, -2.0], upper=[2.0, 4.0]),
    ZDT1(),
    ZDT2(dim=4),
    ZDT3(),
    DTLZ2(),
    DTLZ2(dim=5, n_obj=2),
    DTLZ2(dim=6, n_obj=4),
]
ALL = [*SMOOTH, L1Quadratic(), L1Quadratic(b=[-0.7, 0.3, 1.2])]


def label(problem):
    return f"{problem.name}-d{problem.dim}-m{problem.n_obj}"


def central_differences(problem, x, h=1e-6):
    """``D[j, k] = ∂f_j/∂x_k`` by central differences."""
    E = np.eye(len(x)) * h
    return ((problem.f(x + E) - problem.f(x - E)) / (2 * h)).T


@pytest.mark.parametrize("problem", ALL, ids=label)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_jac_matches_central_differences(problem, data):
    u = data.draw(arrays(float, problem.dim, elements=st.floats(0.05, 0.95)))
    x = problem.lower + u * (problem.upper - problem.lower)
    if not problem.smooth:
        assume(np.all(np.abs(x) > 1e-3))  # away from the kinks of ‖x‖₁
    J = problem.jac(x[None])[0]
    np.testing.assert_allclose(J, central_differences(problem, x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("problem", ALL, ids=label)
def test_rows_are_independent(problem):
    rng = np.random.default_rng(0)
    X = problem.lower + rng.random((5, problem.dim)) * (problem.upper - problem.lower)
    F, J = problem.f(X), problem.jac(X)
    assert F.shape == (5, problem.n_obj) and J.shape == (5, problem.n_obj, problem.dim)
    for i in range(5):
        np.testing.assert_array_equal(problem.f(X[i : i + 1])[0], F[i])
        np.testing.assert_array_equal(problem.jac(X[i : i + 1])[0], J[i])


def kkt_residual(problem, x, tol=1e-12):
    """min ‖Σ w_i ∇f_i − ν_lo + ν_up‖ over w ≥ 0 with Σ w = 1 and ν ≥ 0 on the active bounds.

    Zero at a Pareto-critical point of the box-constrained problem (an active lower bound
    needs the weighted gradient to point inward, ≥ 0; an upper bound, ≤ 0).
    """
    J = problem.jac(x[None])[0]
    scale = np.linalg.norm(J, axis=1)
    G = (
        J / np.maximum(scale, 1e-300)[:, None]
    )  # positive rescaling of each objective keeps criticality
    eye = np.eye(problem.dim)
    lower, upper = eye[x <= problem.lower + tol], eye[x >= problem.upper - tol]
    columns = np.vstack([G, -lower, upper]).T
    A = np.vstack([columns, np.r_[np.ones(len(G)), np.zeros(len(lower) + len(upper))]])
    return nnls(A, np.r_[np.zeros(problem.dim), 1.0])[1]


@pytest.mark.parametrize("problem", SMOOTH, ids=label)
def test_pareto_set_is_pareto_critical(problem):
    X = problem.pareto_set(60)
    assert np.all(problem.lower <= X) and np.all(problem.upper >= X)
    residuals = [kkt_residual(problem, x) for x in X]
    assert max(residuals) < 1e-8


@pytest.mark.parametrize("problem", [Quadratics.default(), ZDT1(), ZDT3(), DTLZ2()], ids=label)
def test_kkt_residual_detects_non_critical_points(problem):
    X = problem.pareto_set(20)
    x = X[np.argmax(problem.f(X).min(axis=1))].copy()  # inside the set: no objective at its best
    x[-1] = 0.5 * (x[-1] + problem.upper[-1]) + 0.1  # off the set in a variable with a cost
    assert kkt_residual(problem, np.minimum(x, problem.upper)) > 1e-2


@pytest.mark.parametrize("problem", [Quadratics.default(dim=3), ZDT1(), ZDT2()], ids=label)
def test_two_objective_gradients_are_antiparallel_in_free_coordinates(problem):
    X = problem.pareto_set(40)[1:-1]  # interior of the set: x1 strictly inside for ZDT
    for x in X:
        free = (x > problem.lower) & (x < problem.upper)
        g1, g2 = problem.jac(x[None])[0][:, free]
        assert g1 @ g2 == pytest.approx(-np.linalg.norm(g1) * np.linalg.norm(g2), rel=1e-9)


def dominated(P, Q, tol=1e-12):
    """Mask over rows q of Q: some row p of P has p ≤ q everywhere and p < q − tol somewhere."""
    leq = np.all(P[:, None, :] <= Q[None, :, :], axis=2)
    less = np.any(P[:, None, :] < Q[None, :, :] - tol, axis=2)
    return np.any(leq & less, axis=0)


@pytest.mark.parametrize("problem", ALL, ids=label)
def test_pareto_front_is_not_dominated(problem):
    X = problem.pareto_set(80)
    F = problem.f(X)
    assert not np.any(dominated(F, F))
    rng = np.random.default_rng(1)
    span = problem.upper - problem.lower
    uniform = problem.lower + rng.random((4000, problem.dim)) * span
    near = X[rng.integers(len(X), size=4000)] + 0.05 * span * rng.standard_normal(
        (4000, problem.dim)
    )
    others = problem.f(np.vstack([uniform, np.clip(near, problem.lower, problem.upper)]))
    assert not np.any(dominated(others, F))


def test_quadratics_sets():
    two = Quadratics.default(dim=3)
    X = two.pareto_set(11)
    a1, a2 = two.centres
    np.testing.assert_allclose(X, a1 + np.linspace(0, 1, 11)[:, None] * (a2 - a1), atol=1e-15)
    three = Quadratics.default(n_obj=3)  # a triangle in the plane: barycentric coordinates
    T = three.pareto_set(100)
    bary = np.linalg.solve(
        np.vstack([three.centres.T, np.ones(3)]), np.vstack([T.T, np.ones(len(T))])
    )
    assert np.all(bary > -1e-12)
    assert 90 <= len(T) <= 120
    for vertex in three.centres:
        assert np.min(np.linalg.norm(T - vertex, axis=1)) < 1e-12
    assert np.all((three.lower == -2) & (three.upper == 2))


@pytest.mark.parametrize(("m", "n"), [(2, 7), (3, 20), (3, 21), (4, 30)])
def test_simplex_grid_is_the_das_dennis_grid(m, n):
    W = simplex_grid(m, n)
    H = next(h for h in itertools.count(1) if math.comb(h + m - 1, m - 1) >= n)
    brute = {c for c in itertools.product(range(H + 1), repeat=m) if sum(c) == H}
    assert {tuple(row) for row in np.rint(W * H).astype(int)} == brute
    assert len(W) == len(brute)
    np.testing.assert_allclose(W * H, np.rint(W * H), atol=1e-12)


def zdt_front_length(h_prime, a=0.0, b=1.0):
    return quad(lambda t: math.sqrt(1 + h_prime(t) ** 2), a, b, limit=200)[0]


@pytest.mark.parametrize(
    ("problem", "h_prime"),
    [(ZDT1(), lambda t: -0.5 / math.sqrt(t)), (ZDT2(), lambda t: -2 * t)],
    ids=["zdt1", "zdt2"],
)
def test_zdt_points_are_evenly_spaced_along_the_front(problem, h_prime):
    F = problem.pareto_front(201)
    chords = np.linalg.norm(np.diff(F, axis=0), axis=1)
    spacing = zdt_front_length(h_prime) / 200
    np.testing.assert_allclose(chords, spacing, rtol=2e-3)
    np.testing.assert_allclose(F[[0, -1]], [[0, 1], [1, 0]], atol=1e-12)


def zdt3_h(t):
    return 1 - np.sqrt(t) - t * np.sin(10 * np.pi * t)


def test_zdt3_intervals_satisfy_their_optimality_conditions():
    ab = zdt3_pareto_intervals()
    assert ab.shape == (5, 2) and ab[0, 0] == 0.0
    right = ab[:, 1]
    slope = -0.5 / np.sqrt(right) - np.sin(10 * np.pi * right)
    slope -= 10 * np.pi * right * np.cos(10 * np.pi * right)
    np.testing.assert_allclose(slope, 0.0, atol=1e-8)  # each piece ends at a local minimum
    np.testing.assert_allclose(zdt3_h(ab[1:, 0]), zdt3_h(right[:-1]), atol=1e-12)
    # brute force: non-dominated points of a grid on g = 1 lie in the intervals
    t = np.linspace(0, 1, 4001)
    F = np.column_stack([t, zdt3_h(t)])
    keep = ~dominated(F, F, tol=0)
    inside = np.any((t[:, None] >= ab[:, 0] - 1e-9) & (t[:, None] <= ab[:, 1] + 1e-9), axis=1)
    near_end = np.min(np.abs(t[:, None] - ab.ravel()), axis=1) < 1.5 / 4000
    assert np.array_equal(keep[~near_end], inside[~near_end])


def test_l1_quadratic_path_is_optimal():
    for problem in [L1Quadratic(), L1Quadratic(b=[-0.7, 0.3, 1.2, 0.0])]:
        b, X = problem.b, problem.pareto_set(50)
        for x in X:  # 0 ∈ w ∂‖x‖₁ + 2(x − b) for one w ≥ 0
            nonzero = x != 0
            w = 2 * (b - x)[nonzero] * np.sign(x[nonzero])
            w = w[0] if len(w) else 2 * np.abs(b).max()
            assert w >= -1e-12
            np.testing.assert_allclose(
                w * np.sign(x[nonzero]) + 2 * (x - b)[nonzero], 0, atol=1e-12
            )
            assert np.all(2 * np.abs(b[~nonzero]) <= w + 1e-12)
        np.testing.assert_allclose(X[[0, -1]], [b, np.zeros_like(b)], atol=1e-15)


def test_l1_quadratic_spreads_by_arc_length():
    X = L1Quadratic().pareto_set(41)  # b = (1, 0.5): the path has length 0.5·√2 + 0.5
    chords = np.linalg.norm(np.diff(X, axis=0), axis=1)
    spacing = 0.5 * (1 + math.sqrt(2)) / 40
    assert np.all(chords <= spacing + 1e-12)
    assert np.sum(np.isclose(chords, spacing, rtol=1e-9)) >= 39  # one chord may cut the corner


def test_dtlz2_front_on_the_sphere_and_roughly_uniform():
    F = DTLZ2().pareto_front(200)
    np.testing.assert_allclose(np.linalg.norm(F, axis=1), 1.0, atol=1e-12)
    assert np.all(F >= -1e-15)
    gaps = np.sort(np.linalg.norm(F[:, None] - F[None], axis=2), axis=1)[:, 1]
    assert gaps.max() / gaps.min() < 3


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Quadratics(np.ones(3)), "centres"),
        (lambda: Quadratics([[0.0, 0.0], [np.nan, 1.0]]), "centres"),
        (lambda: Quadratics([[0.0], [3.0]], lower=[-1.0], upper=[1.0]), "centres"),
        (lambda: Quadratics([[0.0], [1.0]], lower=[2.0], upper=[1.0]), "lower"),
        (lambda: Quadratics.default(n_obj=4), "n_obj"),
        (lambda: ZDT1(dim=1), "dim"),
        (lambda: DTLZ2(dim=2, n_obj=3), "dim"),
        (lambda: L1Quadratic(b=[1.0, 2.0], dim=3), "dim"),
        (lambda: L1Quadratic(b=[[1.0]]), "b"),
        (lambda: ZDT2().pareto_set(0), "n"),
    ],
)
def test_bad_arguments(make, field):
    with pytest.raises(ModelError) as error:
        make()
    assert error.value.field == field


def test_registry_names_and_dimensions():
    names = ["quadratics", "quadratics3", "zdt1", "zdt2", "zdt3", "dtlz2", "l1-quadratic"]
    assert set(PROBLEMS) == {*names, "heat", "heat-l1"}
    for name in names:
        assert make_problem(name).name in (name, "quadratics")
    assert make_problem("quadratics3").n_obj == 3
    assert make_problem("zdt3", dim=10).dim == 10
    assert make_problem("l1-quadratic", dim=4).dim == 4


def test_unknown_name_and_bad_dim():
    with pytest.raises(UsageError) as error:
        make_problem("zdt9")
    assert all(name in str(error.value) for name in PROBLEMS)
    with pytest.raises(UsageError):
        make_problem("zdt1", dim=0)
