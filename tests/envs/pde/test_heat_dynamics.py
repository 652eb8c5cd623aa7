"""The dynamics of ``decide/HeatControl-v0`` against closed forms and conservation laws.

Integrals and L² norms of P1 fields are computed here from the mesh alone (per triangle:
∫y = area·mean of the vertex values, ∫e² = area/12·(Σe_i² + (Σe_i)²)), not from the env's
mass matrix, so the checks do not rest on the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from decide.envs.pde.fem import MeshSpec, Patch, Segment, mesh_arrays
from decide.envs.pde.fem.conditions import apply_dirichlet
from decide.envs.pde.heat.dynamics import step_matrix, step_rhs
from decide.envs.pde.heat.env import HeatControlEnv

SCHEMES = ("backward_euler", "crank_nicolson")


def triangle_areas(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    a, b, c = (points[cells[:, k]] for k in range(3))
    return 0.5 * np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])


def p1_integral(spec: MeshSpec, y: np.ndarray) -> float:
    points, cells = mesh_arrays(spec)
    area = triangle_areas(points, cells)
    return float(area @ y[cells].mean(axis=1))


def p1_square_norm(spec: MeshSpec, e: np.ndarray) -> float:
    points, cells = mesh_arrays(spec)
    area = triangle_areas(points, cells)
    local = e[cells]
    return float(area @ ((local**2).sum(axis=1) + local.sum(axis=1) ** 2) / 12.0)


def run(env: HeatControlEnv, steps: int, action: np.ndarray | None = None) -> np.ndarray:
    action = np.zeros(env.action_space.shape) if action is None else action
    env.reset(seed=0)
    for _ in range(steps):
        env.step(action)
    return env.y


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kappa", [0.7, "oscillating"])
def test_mean_temperature_is_conserved_without_control(scheme, kappa):
    spec = MeshSpec((16, 16))
    env = HeatControlEnv(
        mesh=spec, scheme=scheme, kappa=kappa, y0=lambda p: np.cos(3 * p[:, 0]) + p[:, 0] * p[:, 1]
    )
    env.reset(seed=0)
    y0 = env.y
    y = run(env, 50)
    assert abs(p1_integral(spec, y) - p1_integral(spec, y0)) < 1e-12
    assert np.ptp(y) < 0.9 * np.ptp(y0)  # and it does diffuse


def sine_mode(points):
    return np.sin(np.pi * points[:, 0]) * np.sin(np.pi * points[:, 1])


@pytest.mark.parametrize(
    ("scheme", "dt", "steps"), [("crank_nicolson", 1e-3, 100), ("backward_euler", 0.01, 10)]
)
def test_dirichlet_sine_mode_decays_at_the_exact_rate(scheme, dt, steps):
    kappa = 0.5
    env = HeatControlEnv(
        scheme=scheme,
        dt=dt,
        horizon=steps,
        kappa=kappa,
        dirichlet="all",
        y0=sine_mode,
        observation="field",
    )
    centre = int(np.flatnonzero(np.all(np.isclose(env.operators.points, 0.5), axis=1))[0])
    y = run(env, steps)
    lam = 2.0 * np.pi**2 * kappa
    exact = math.exp(-lam * dt * steps) if scheme == "crank_nicolson" else (1 + lam * dt) ** -steps
    assert y[centre] == pytest.approx(exact, rel=0.02)
    boundary = np.any(
        np.isclose(env.operators.points, 0.0) | np.isclose(env.operators.points, 1.0), axis=1
    )
    assert np.all(y[boundary] == 0.0)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_constant_control_heats_at_area_times_u(scheme):
    spec = MeshSpec((32, 32))
    patch = Patch((0.25, 0.25), (0.5, 0.5))  # 8×8 cells: area 1/16
    segment = Segment("bottom", 0.25, 0.75)  # 16 edges: length 1/2
    env = HeatControlEnv(mesh=spec, scheme=scheme, actuators=(patch, segment), dt=0.02, y0=0.3)
    steps, u = 25, np.array([0.6, -0.4])
    y = run(env, steps, u)
    expected = 0.3 + steps * 0.02 * (u[0] / 16 + u[1] / 2)
    assert p1_integral(spec, y) == pytest.approx(expected, abs=1e-12)


def test_robin_outside_temperature_is_a_steady_state():
    env = HeatControlEnv(mesh=MeshSpec((8, 8)), robin="all", robin_alpha=3.0, y_ext=2.0, y0=2.0)
    assert np.allclose(run(env, 20), 2.0, rtol=0, atol=1e-12)
    cooler = HeatControlEnv(mesh=MeshSpec((8, 8)), robin="all", y_ext=-1.0, y0=0.0)
    assert np.all(run(cooler, 20) < 0.0)


def observed_order(scheme: str) -> float:
    spec = MeshSpec((12, 12))
    finals = []
    for steps in (10, 20, 40, 80):
        env = HeatControlEnv(
            mesh=spec,
            scheme=scheme,
            dt=0.2 / steps,
            horizon=steps,
            kappa=lambda t: 0.2 + 0.1 * np.sin(2 * np.pi * t),
            y0=lambda p: np.cos(np.pi * p[:, 0]) * np.cos(np.pi * p[:, 1]),
        )
        finals.append(run(env, steps))
    d = [math.sqrt(p1_square_norm(spec, a - b)) for a, b in itertools.pairwise(finals)]
    return math.log2(d[-2] / d[-1])


def test_crank_nicolson_is_second_order_and_backward_euler_first_order():
    assert observed_order("crank_nicolson") == pytest.approx(2.0, abs=0.15)
    assert observed_order("backward_euler") == pytest.approx(1.0, abs=0.15)


def test_reward_is_minus_dt_times_tracking_plus_control_cost():
    spec = MeshSpec((8, 8))
    env = HeatControlEnv(mesh=spec, control_cost=0.05, dt=0.02, info_field=True, u_max=2.0)
    env.reset(seed=0)
    u = np.array([3.0, -0.5, 0.25, 1.0])  # the first is clipped to 2
    _, reward, terminated, truncated, info = env.step(u)
    points, _ = mesh_arrays(spec)
    target = 0.5 * np.exp(-((points - 0.5) ** 2).sum(axis=1) / (2 * 0.15**2))
    tracking = p1_square_norm(spec, info["y"] - target)
    assert info["tracking_error"] == pytest.approx(tracking, rel=1e-12)
    assert info["control_cost"] == pytest.approx(0.05 * (4 + 0.25 + 0.0625 + 1))
    assert reward == pytest.approx(-0.02 * (tracking + info["control_cost"]), rel=1e-12)
    assert not terminated and not truncated and info["t"] == pytest.approx(0.02)


def test_dirichlet_elimination_matches_conditions_apply_dirichlet():
    env = HeatControlEnv(
        mesh=MeshSpec((6, 5)),
        dirichlet=("left", "top"),
        y_dirichlet=0.7,
        robin=("bottom",),
        y_ext=2.0,
        robin_alpha=3.0,
    )
    s = env.system
    y = np.random.default_rng(0).normal(size=s.size)
    y[s.fixed] = 0.7
    u = np.arange(4.0)
    kappa, dt, theta = 0.3, 0.01, 0.5
    implicit = s.mass + theta * dt * (kappa * s.stiffness + s.robin)
    explicit = s.mass - (1 - theta) * dt * (kappa * s.stiffness + s.robin)
    b = explicit @ y + dt * (s.load + s.actuators @ u)
    A_ref, b_ref = apply_dirichlet(implicit, b, s.fixed, 0.7)
    assert sp.linalg.norm(A_ref - step_matrix(s, kappa, dt, theta)) < 1e-15
    assert np.allclose(step_rhs(s, y, u, kappa, dt, theta), b_ref, rtol=0, atol=1e-15)
