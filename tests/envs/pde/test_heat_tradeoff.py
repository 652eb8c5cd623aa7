"""The heat trade-off problem: adjoint gradients, affinity, rollouts and the reference Pareto set.

Independent checks: central differences of ``f`` (exact for a quadratic up to rounding), rollouts
through the gymnasium env and through ``theta_step`` with scipy's ``spsolve``, KKT conditions
written out coordinate by coordinate, scipy's bounded least squares for the best tracking control,
and random controls.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import lsq_linear

import decide.envs  # noqa: F401 - registers decide/HeatControl-v0
from decide.envs.pde.fem import MeshSpec, Patch
from decide.envs.pde.heat.dynamics import fix_dirichlet, theta_step, tracking_error
from decide.envs.pde.heat.tradeoff import HeatTradeoff
from decide.errors import ModelError
from decide.pareto.problem import Evaluator

N_REF = 30
HEAT_L2 = HeatTradeoff()
#: A 2-D variant that exercises what the 1-D default does not: Dirichlet elimination with a
#: nonzero value, Robin with a nonzero outside temperature, Crank–Nicolson, two actuators.
SQUARE = {
    "mesh": MeshSpec((8, 8)),
    "actuators": (Patch((0.1, 0.1), (0.4, 0.5)), Patch((0.5, 0.5), (0.9, 0.9))),
    "dirichlet": ("left",),
    "y_dirichlet": 0.2,
    "robin": ("top",),
    "y_ext": 0.5,
    "scheme": "crank_nicolson",
    "dt": 0.05,
    "horizon": 12,
    "u_max": 1.0,
}


@pytest.fixture(scope="module", params=["l2", "l1"])
def problem(request) -> HeatTradeoff:
    return HeatTradeoff(dim=4, cost=request.param)


def central_differences(problem: HeatTradeoff, c: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """d × 2 central differences of f at c, all 2d points in one call."""
    steps = h * np.eye(problem.dim)
    F = problem.f(np.vstack([c + steps, c - steps]))
    return ((F[: problem.dim] - F[problem.dim :]) / (2 * h)).T


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize(
    ("dim", "options"), [(2, {}), (6, {}), (4, SQUARE)], ids=["1d-d2", "1d-d6", "2d-square"]
)
def test_adjoint_gradient_equals_central_differences(dim, options):
    problem = HeatTradeoff(dim=dim, **options)
    rng = np.random.default_rng(dim)
    X = rng.uniform(problem.lower, problem.upper, (3, dim))
    J = problem.jac(X)
    for c, grads in zip(X, J, strict=True):
        expected = central_differences(problem, c)
        assert relative_error(grads[0], expected[0]) <= 1e-6
        np.testing.assert_allclose(grads[1], 2 * problem.tau * c, rtol=1e-14)
        assert relative_error(grads[1], expected[1]) <= 1e-6


def test_l1_subgradient_away_from_zero_and_sign_at_zero():
    problem = HeatTradeoff(dim=6, cost="l1")
    rng = np.random.default_rng(1)
    c = rng.choice([-1, 1], 6) * rng.uniform(0.1, 2.0, 6)
    J = problem.jac(c[None])[0]
    expected = central_differences(problem, c)
    assert relative_error(J[0], expected[0]) <= 1e-6
    assert relative_error(J[1], expected[1]) <= 1e-6
    c[2] = 0.0
    assert problem.jac(c[None])[0, 1, 2] == 0.0
    assert problem.f(c[None])[0, 1] == pytest.approx(np.sum(np.abs(c)) / 6, rel=1e-14)


@settings(max_examples=20, deadline=None)
@given(arrays(float, 4, elements=st.floats(-2.0, 2.0)))
def test_quadratic_form_equals_pde_objective(c):
    problem = HEAT_L2
    H, g, r = problem.quadratic_form()
    assert problem.f(c[None])[0, 0] == pytest.approx(c @ H @ c + 2 * g @ c + r, rel=1e-12)


def test_f1_without_control_is_the_envs_summed_tracking_cost():
    problem = HeatTradeoff(dim=3)
    env = gym.make("decide/HeatControl-v0", params=problem.params, control_cost=0.0)
    env.reset(seed=0)
    total = sum(env.step(np.zeros(1))[1] for _ in range(problem.params.horizon))
    env.close()
    assert problem.f(np.zeros((1, 3)))[0, 0] == pytest.approx(-total, rel=1e-12)


@pytest.mark.parametrize("options", [{}, SQUARE], ids=["1d", "2d-square"])
def test_f_equals_a_hand_rolled_theta_scheme_rollout(options):
    problem = HeatTradeoff(dim=4, **options)
    p, system = problem.params, problem.system
    c = np.random.default_rng(2).uniform(problem.lower, problem.upper)
    controls = c.reshape(problem.n_windows, problem.n_actuators)
    steps_per_window = p.horizon // problem.n_windows
    y, total = fix_dirichlet(system, problem.y0), 0.0
    for n in range(p.horizon):
        u = controls[n // steps_per_window]
        y = theta_step(system, y, u, float(p.kappa), p.dt, p.theta, spla.spsolve)
        total += p.dt * tracking_error(system, y, problem.target)
    assert problem.f(c[None])[0, 0] == pytest.approx(total, rel=1e-11)


def kkt_residual(H, g, tau, b, cost, w, c) -> float:
    """Largest violation of 0 ∈ ∇f1 + w ∂f2 + N_[-b, b](c) over the coordinates."""
    if np.isinf(w):
        return 0.0 if np.all(c == 0) else np.inf
    grad = 2 * (H @ c + g)
    worst = 0.0
    for k in range(len(c)):
        if cost == "l2":
            gk = grad[k] + 2 * w * tau[k] * c[k]
            if c[k] == b:  # may only want to grow: gk <= 0
                worst = max(worst, gk)
            elif c[k] == -b:
                worst = max(worst, -gk)
            else:
                worst = max(worst, abs(gk))
        else:
            a = w * tau[k]
            if c[k] == b:
                worst = max(worst, grad[k] + a)
            elif c[k] == -b:
                worst = max(worst, a - grad[k])
            elif c[k] == 0:
                worst = max(worst, abs(grad[k]) - a)
            else:
                worst = max(worst, abs(grad[k] + a * np.sign(c[k])))
    return worst


def test_pareto_points_satisfy_the_weighted_sum_kkt_conditions(problem):
    H, g, _ = problem.quadratic_form()
    C, W = problem.pareto_set(N_REF), problem.pareto_weights(N_REF)
    assert C.shape == (N_REF, 4)
    assert np.all(np.abs(C) <= problem.params.u_max)
    scale = np.abs(2 * g).max()
    for c, w in zip(C, W, strict=True):
        assert kkt_residual(H, g, problem.tau, problem.params.u_max, problem.cost, w, c) <= (
            1e-9 * scale
        )


def dominates(A: np.ndarray, B: np.ndarray, margin: float) -> np.ndarray:
    """``out[i, j]``: row i of A is better than row j of B by ``margin`` in both objectives."""
    return np.all(A[:, None, :] < B[None, :, :] - margin, axis=2)


def test_pareto_front_is_non_dominated_spread_and_spans_both_ends(problem):
    C = problem.pareto_set(N_REF)
    F = problem.f(C)
    order = np.argsort(F[:, 1])
    assert np.all(np.diff(F[order, 1]) > 0) and np.all(np.diff(F[order, 0]) < 0)
    # one end: no control at all
    assert np.all(C[order[0]] == 0.0)
    # the other: the best tracking control on the box, by bounded least squares
    H, g, _ = problem.quadratic_form()
    L = la.cholesky(H, lower=True)
    best = lsq_linear(L.T, -la.solve_triangular(L, g, lower=True), bounds=(-2, 2), tol=1e-14).x
    np.testing.assert_allclose(C[order[-1]], best, atol=1e-7)
    # a real trade-off, partly inside the box and partly on its boundary
    assert F[order[-1], 0] < 0.25 * F[order[0], 0]
    assert np.any(np.all(np.abs(C) < 2, axis=1)) and np.any(np.abs(C) == 2)
    # spread: steps along the front scaled to the unit square are roughly equal
    scaled = (F[order] - F.min(axis=0)) / np.ptp(F, axis=0)
    gaps = np.hypot(*np.diff(scaled, axis=0).T)
    assert gaps.max() < 1.5 * gaps.mean()


def test_random_controls_never_beat_the_reference_set(problem):
    C, W = problem.pareto_set(N_REF), problem.pareto_weights(N_REF)
    rng = np.random.default_rng(3)
    near = C[rng.integers(N_REF, size=1500)] + rng.normal(0, 0.05, (1500, 4))
    R = np.clip(np.vstack([rng.uniform(-2, 2, (1500, 4)), near]), -2, 2)
    F, FR = problem.f(C), problem.f(R)
    assert not dominates(FR, F, margin=1e-12).any()
    for f, w in zip(F, W, strict=True):
        if np.isfinite(w):
            assert f[0] + w * f[1] <= (FR[:, 0] + w * FR[:, 1]).min() + 1e-12


def test_f_and_jac_on_a_stack_equal_row_by_row(problem):
    X = np.random.default_rng(4).uniform(-2, 2, (7, 4))
    F, J = problem.f(X), problem.jac(X)
    for i, x in enumerate(X):
        np.testing.assert_allclose(F[i], problem.f(x[None])[0], rtol=1e-13)
        np.testing.assert_allclose(J[i], problem.jac(x[None])[0], rtol=1e-12, atol=1e-15)


def test_attributes_and_counted_solves(problem):
    assert problem.name == {"l2": "heat", "l1": "heat-l1"}[problem.cost]
    assert problem.smooth == (problem.cost == "l2")
    assert problem.dim == 4 and problem.has_jac and problem.has_pareto_set
    np.testing.assert_allclose(problem.tau, 0.25)
    evaluator = Evaluator(problem)
    evaluator.f(np.zeros((5, 4)))
    evaluator.jac(np.zeros((3, 4)))
    assert evaluator.counts.pde_solves == 5 + 2 * 3


def test_windows_of_unequal_length_when_the_horizon_is_not_a_multiple():
    problem = HeatTradeoff(dim=4, horizon=10)
    np.testing.assert_allclose(problem.tau / problem.params.dt, [3, 3, 2, 2])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dim": 0}, "dim"),
        ({"dim": 61}, "dim"),
        ({"dim": 2.5}, "dim"),
        ({"dim": True}, "dim"),
        ({"dim": 3, **SQUARE}, "dim"),  # two actuators: d must be even
        ({"cost": "l3"}, "cost"),
        ({"kappa": "oscillating"}, "HeatParams.kappa"),
        ({"dt": -1.0}, "HeatParams.dt"),
    ],
)
def test_bad_options_raise_model_error(kwargs, field):
    with pytest.raises(ModelError) as error:
        HeatTradeoff(**kwargs)
    assert error.value.field == field


def test_bad_points_and_reference_sizes_raise_model_error():
    with pytest.raises(ModelError):
        HEAT_L2.f(np.zeros(4))
    with pytest.raises(ModelError):
        HEAT_L2.pareto_set(1)


def test_problem_pickles_for_worker_processes():
    import pickle

    problem = HeatTradeoff(dim=3)
    X = np.random.default_rng(0).uniform(-1, 1, (4, 3))
    copy = pickle.loads(pickle.dumps(problem))
    np.testing.assert_array_equal(copy.f(X), problem.f(X))
    np.testing.assert_array_equal(copy.jac(X), problem.jac(X))
