"""``decide/HeatControl-v0``: API conformance, seeding, linear solvers and parameter errors."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import decide.envs
from decide.envs.pde.fem import MeshSpec, Patch, Segment
from decide.envs.pde.heat.dynamics import oscillating_kappa
from decide.envs.pde.heat.env import HeatControlEnv
from decide.envs.pde.heat.params import HeatParams
from decide.errors import ModelError, UsageError

ENV_ID = "decide/HeatControl-v0"
SCHEMES = ("backward_euler", "crank_nicolson")


def run(env: HeatControlEnv, steps: int, action: np.ndarray | None = None) -> np.ndarray:
    action = np.zeros(env.action_space.shape) if action is None else action
    env.reset(seed=0)
    for _ in range(steps):
        env.step(action)
    return env.y


def cg(A, b, x0, tol=1e-13, maxiter=5000):
    """A plain conjugate-gradient solver, independent of decide.linalg."""
    x = x0.copy()
    r = b - A @ x
    p = r.copy()
    rr = r @ r
    stop = tol**2 * (b @ b)
    for k in range(maxiter):
        if rr <= stop:
            return x, k
        Ap = A @ p
        alpha = rr / (p @ Ap)
        x += alpha * p
        r -= alpha * Ap
        rr, rr_old = r @ r, rr
        p = r + (rr / rr_old) * p
    return x, maxiter


class PlainCG:
    def solve(self, A, b, x0=None):
        return cg(A, b, np.zeros_like(b) if x0 is None else x0)[0]


class RecordingSolver:
    """Takes ``context=`` like a TunedSolver and reports iterations and ω."""

    def __init__(self):
        self.contexts = []

    def solve(self, A, b, x0=None, *, context=None):
        self.contexts.append(context)
        x, iterations = cg(A, b, x0)
        return type("Result", (), {"x": x, "iterations": iterations, "omega": 1.5})()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"observation": "field"},
        {
            "kappa": "oscillating",
            "scheme": "crank_nicolson",
            "dirichlet": ("left",),
            "robin": ("top", "bottom"),
            "actuators": (Patch((0.5, 0.5), (0.75, 0.75)), Segment("right", 0.25, 0.75)),
            "mesh": MeshSpec((12, 8)),
        },
        {"mesh": MeshSpec((16,), ((0.0, 2.0),))},
    ],
)
def test_check_env_passes_without_warnings(kwargs):
    env = gym.make(ENV_ID, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


def test_spaces_and_registration():
    assert ENV_ID in decide.envs.ENV_IDS and ENV_ID in gym.registry
    env = gym.make(ENV_ID)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (4,), np.float64)
    assert env.observation_space == gym.spaces.Box(-10.0, 10.0, (9,), np.float64)
    field = gym.make(ENV_ID, observation="field", mesh=MeshSpec((4, 4)))
    assert field.observation_space.shape == (25,)
    observation, _ = field.reset(seed=1)
    assert np.array_equal(observation, np.zeros(25))  # y0 = 0 and no noise on the field


def test_seeding_is_reproducible():
    actions = np.random.default_rng(5).uniform(-1.0, 1.0, (10, 4))

    def trajectory(seed):
        env = gym.make(ENV_ID, mesh=MeshSpec((8, 8)))
        observations = [env.reset(seed=seed)[0]]
        observations += [env.step(a)[0] for a in actions]
        return np.array(observations)

    assert np.array_equal(trajectory(3), trajectory(3))
    assert not np.allclose(trajectory(3), trajectory(4))


def test_episode_is_truncated_after_horizon():
    env = HeatControlEnv(mesh=MeshSpec((4, 4)), horizon=3)
    env.reset(seed=0)
    flags = [env.step(np.zeros(4))[3] for _ in range(3)]
    assert flags == [False, False, True]


class FixedBandit:
    """Always plays its last arm; records the contexts it was asked with."""

    def __init__(self):
        self.arms = np.array([1.2, 1.5])
        self.contexts, self.costs = [], []

    def ask(self, context=None):
        self.contexts.append(context)
        return 1

    def tell(self, arm, cost):
        self.costs.append(cost)


def linear_solvers():
    solvers = [PlainCG()]
    try:
        from decide.linalg import CG, SSORPCG, TunedSolver
    except ImportError:  # decide.linalg not there: the plain CG above still runs
        return solvers
    tuned = TunedSolver(SSORPCG(rtol=1e-12), FixedBandit())
    return [*solvers, CG(rtol=1e-12), SSORPCG(omega=1.5, rtol=1e-12), tuned]


@pytest.mark.parametrize("solver", linear_solvers(), ids=lambda s: type(s).__name__)
def test_linear_solver_gives_the_direct_trajectory(solver):
    kwargs = {
        "mesh": MeshSpec((16, 16)),
        "kappa": "oscillating",
        "scheme": "crank_nicolson",
        "dirichlet": ("left",),
        "y_dirichlet": 0.5,
        "robin": ("top",),
        "info_field": True,
    }
    direct, iterative = HeatControlEnv(**kwargs), HeatControlEnv(linear_solver=solver, **kwargs)
    actions = np.random.default_rng(0).uniform(-1, 1, (30, 4))
    for env in (direct, iterative):
        env.reset(seed=0)
    for a in actions:
        y_direct, y_iterative = direct.step(a)[4]["y"], iterative.step(a)[4]["y"]
        assert np.max(np.abs(y_direct - y_iterative)) < 1e-7


@pytest.mark.parametrize("scheme", SCHEMES)
def test_tuned_solver_gets_kappa_at_the_step_time(scheme):
    solver = RecordingSolver()
    env = HeatControlEnv(
        mesh=MeshSpec((8, 8)), kappa="oscillating", scheme=scheme, linear_solver=solver
    )
    env.reset(seed=0)
    theta = 1.0 if scheme == "backward_euler" else 0.5
    for n in range(5):
        info = env.step(np.ones(4))[4]
        assert solver.contexts[-1] == info["kappa"]
        assert info["kappa"] == pytest.approx(oscillating_kappa((n + theta) * 0.01), rel=1e-12)
        assert info["omega"] == 1.5 and info["iterations"] > 0
    assert HeatControlEnv(mesh=MeshSpec((4, 4))).reset(seed=0)[1]["omega"] is None


def test_direct_solve_factorises_once_per_kappa():
    env = HeatControlEnv(mesh=MeshSpec((8, 8)))
    run(env, 20)
    run(env, 20)
    assert env._direct.factorisations == 1
    oscillating = HeatControlEnv(mesh=MeshSpec((8, 8)), kappa="oscillating")
    run(oscillating, 20)
    run(oscillating, 20)
    assert oscillating._direct.factorisations == 20


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dt": 0.0}, "dt"),
        ({"horizon": 0}, "horizon"),
        ({"kappa": -1.0}, "kappa"),
        ({"kappa": "wobbly"}, "kappa"),
        ({"scheme": "leapfrog"}, "scheme"),
        ({"u_max": -1.0}, "u_max"),
        ({"control_cost": math.nan}, "control_cost"),
        ({"dirichlet": ("north",)}, "dirichlet"),
        ({"dirichlet": "left", "robin": ("left",)}, "robin"),
        ({"robin_alpha": 0.0}, "robin_alpha"),
        ({"dirichlet": "left", "actuators": (Segment("left", 0.0, 1.0),)}, "actuators"),
        ({"actuators": ("heater",)}, "actuators"),
        ({"observation": "pixels"}, "observation"),
        ({"sensors": [[0.5, 1.5]]}, "sensors"),
        ({"sensor_noise": -0.1}, "sensor_noise"),
        ({"target": np.zeros(7)}, "target"),
        ({"y0": lambda p: np.full(3, np.inf)}, "y0"),
        ({"backend": "fenics"}, "backend"),
    ],
)
def test_bad_parameters_raise_model_error_naming_the_field(kwargs, field):
    with pytest.raises(ModelError) as caught:
        HeatControlEnv(mesh=MeshSpec((4, 4)), **kwargs)
    assert caught.value.field == f"HeatParams.{field}"


def test_bad_kappa_function_and_bad_actions():
    env = HeatControlEnv(mesh=MeshSpec((4, 4)), kappa=lambda t: -t)
    env.reset(seed=0)
    with pytest.raises(ModelError, match="kappa"):
        env.step(np.zeros(4))
    env = HeatControlEnv(mesh=MeshSpec((4, 4)))
    env.reset(seed=0)
    with pytest.raises(UsageError):
        env.step(np.zeros(3))
    with pytest.raises(UsageError):
        env.step(np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(TypeError, match="unknown parameter"):
        HeatControlEnv(kappaa=1.0)
    assert HeatParams(dirichlet="all").dirichlet == ("left", "right", "bottom", "top")


def test_tuned_solver_from_decide_linalg_reports_omega():
    from decide.linalg import solvers
    from decide.linalg import tuned as linalg

    bandit = FixedBandit()
    tuned = linalg.TunedSolver(solvers.SSORPCG(rtol=1e-10), bandit)
    env = HeatControlEnv(mesh=MeshSpec((8, 8)), kappa="oscillating", linear_solver=tuned)
    env.reset(seed=0)
    infos = [env.step(np.ones(4))[4] for _ in range(3)]
    assert bandit.contexts == [info["kappa"] for info in infos]
    assert bandit.costs == [info["iterations"] for info in infos]
    assert all(info["omega"] == 1.5 and info["converged"] for info in infos)


def test_params_object_overrides_and_reset_options():
    params = HeatParams(mesh=MeshSpec((6, 6)), observation="field", info_field=True)
    env = gym.make(ENV_ID, params=params, kappa="oscillating").unwrapped
    assert env.params.mesh == MeshSpec((6, 6)) and env.params.kappa == "oscillating"
    observation, info = env.reset(seed=0, options={"y0": 0.25})
    assert np.array_equal(observation, np.full(49, 0.25)) and np.array_equal(info["y"], observation)
    observation, info = env.reset(seed=0)
    assert np.array_equal(info["y"], np.zeros(49))
    assert "y" not in HeatControlEnv(mesh=MeshSpec((4, 4))).reset(seed=0)[1]
