"""The fisheries Gymnasium envs: API conformance, seeding, and dynamics pinned to closed forms.

Reference numbers (Memarzadeh & Boettiger 2019, r = 0.75, K = 1, γ = 0.95): escapement target
S* = 0.46491, B_MSY = f(S*) = 0.65149, MSY = 0.18658.
"""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import decide.envs
from decide.envs.fisheries.fisheries_env import FisheriesEnv, FisheriesVectorEnv
from decide.envs.fisheries.model.dynamics import (
    grid_probabilities,
    nearest_index,
    sample_index,
    step_grid,
    survey_grid,
)
from decide.envs.fisheries.model.growth import Ricker
from decide.errors import ModelError, UsageError

CONTINUOUS = "decide/Fisheries-v0"
DISCRETE = "decide/FisheriesDiscrete-v0"
R, K, GAMMA = 0.75, 1.0, 0.95
ACTION_BOX_ADVICE = "For Box action spaces, we recommend"


def logistic(s: float) -> float:
    return s + R * s * (1.0 - s / K)


def test_register_envs_is_idempotent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = decide.envs.register_envs()
        second = decide.envs.register_envs()
    assert first == second == decide.envs.ENV_IDS
    assert {CONTINUOUS, DISCRETE} <= set(first)
    assert all(env_id in gym.registry for env_id in first)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [(CONTINUOUS, {}), (DISCRETE, {}), (DISCRETE, {"simulation": "continuous"})],
)
def test_check_env_passes(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    # the only warning left is Gymnasium's advice to normalise the quota box to [0, 1]
    assert [str(w.message) for w in caught if ACTION_BOX_ADVICE not in str(w.message)] == []


def test_spaces():
    env = gym.make(CONTINUOUS)
    assert env.action_space == gym.spaces.Box(0.0, 2.0, (1,), np.float64)
    assert env.observation_space == gym.spaces.Box(0.0, 2.0, (1,), np.float64)
    discrete = gym.make(DISCRETE)
    assert discrete.action_space == gym.spaces.Discrete(100)
    assert discrete.observation_space == gym.spaces.Discrete(100)


@pytest.mark.parametrize(
    ("env_id", "mode"),
    [(CONTINUOUS, "sync"), (CONTINUOUS, "vector_entry_point"), (DISCRETE, "sync")],
)
def test_make_vec(env_id, mode):
    envs = gym.make_vec(env_id, num_envs=4, vectorization_mode=mode)
    observations, info = envs.reset(seed=3)
    assert observations.shape[0] == 4 and info["x"].shape == (4,)
    for _ in range(3):
        observations, rewards, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert rewards.shape == terminated.shape == truncated.shape == (4,)
        assert observations in envs.observation_space
    envs.close()


def rollout(env, seed, actions):
    observation, info = env.reset(seed=seed)
    trajectory = [(np.asarray(observation).tolist(), info["x"])]
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
        trajectory.append((np.asarray(observation).tolist(), reward, info["x"]))
        if terminated or truncated:
            break
    return trajectory


@pytest.mark.parametrize("env_id", [CONTINUOUS, DISCRETE])
def test_seeding_is_reproducible(env_id):
    env, other = gym.make(env_id), gym.make(env_id)
    actions = [1 if env_id == DISCRETE else np.array([0.02])] * 50
    first = rollout(env, 123, actions)
    assert rollout(other, 123, actions) == first
    assert rollout(env, 123, actions) == first
    assert rollout(env, 124, actions) != first


def test_vector_env_reproduces_single_env():
    actions = [np.array([h]) for h in np.linspace(0.0, 0.2, 30)]
    single = rollout(FisheriesEnv(), 7, actions)
    vector = FisheriesVectorEnv(num_envs=1)
    observation, info = vector.reset(seed=7)
    batched = [(observation[0].tolist(), info["x"][0])]
    for action in actions:
        observation, reward, terminated, truncated, info = vector.step(action[None, :])
        batched.append((observation[0].tolist(), reward[0], info["x"][0]))
        if terminated[0] or truncated[0]:
            break
    assert batched == single


def test_vector_env_autoresets_on_the_next_step():
    envs = FisheriesVectorEnv(num_envs=3, horizon=2, sigma_g=0.0, sigma_m=0.0)
    envs.reset(seed=0)
    zero = np.zeros((3, 1))
    assert not envs.step(zero)[3].any()
    _, _, terminated, truncated, info = envs.step(zero)
    assert truncated.all() and not terminated.any() and (info["year"] == 2).all()
    observation, reward, terminated, truncated, info = envs.step(zero)
    assert (reward == 0).all() and not (terminated | truncated).any()
    np.testing.assert_allclose(observation[:, 0], K / 6)
    assert (info["year"] == 0).all()


def test_without_noise_or_harvest_the_stock_follows_the_logistic_map():
    env = FisheriesEnv(sigma_g=0.0, sigma_m=0.0)
    observation, info = env.reset(seed=0)
    x = 1.0 / 6.0
    assert observation[0] == info["x"] == x
    for year in range(1, 31):
        observation, reward, terminated, truncated, info = env.step(np.array([0.0]))
        x = x + 0.75 * x * (1.0 - x)
        assert reward == 0.0 and not terminated and not truncated
        assert info["x"] == pytest.approx(x, abs=1e-12)
        assert observation[0] == pytest.approx(x, abs=1e-12)
        if year == 1:
            assert x == pytest.approx(39 / 144)  # 1/6 + 0.75 · 1/6 · 5/6


def test_constant_escapement_reaches_msy():
    s_star = K * (1.0 + R - 1.0 / GAMMA) / (2.0 * R)  # from f'(S*) = 1 + r − 2rS*/K = 1/γ
    assert s_star == pytest.approx(0.46491, abs=5e-6)
    env = FisheriesEnv(sigma_g=0.0, sigma_m=0.0)
    y, _ = env.reset(seed=0)
    harvests, stocks = [], []
    for _ in range(40):
        stocks.append(y[0])
        y, reward, terminated, _, _ = env.step(np.array([max(y[0] - s_star, 0.0)]))
        harvests.append(reward)
        assert not terminated
    np.testing.assert_allclose(harvests[10:], 0.18658, atol=5e-6)
    np.testing.assert_allclose(stocks[10:], 0.65149, atol=5e-6)
    assert logistic(s_star) - s_star == pytest.approx(0.18658, abs=5e-6)


N_DRAWS = 20_000


def next_stocks(**params):
    envs = FisheriesVectorEnv(num_envs=N_DRAWS, sigma_m=0.0, **params)
    envs.reset(seed=11, options={"x0": 0.5})
    _, reward, _, _, info = envs.step(np.full((N_DRAWS, 1), 0.1))
    np.testing.assert_allclose(reward, 0.1)
    return info["x"]


@pytest.mark.parametrize(
    ("params", "mean", "sd"),
    [
        ({}, logistic(0.4), 0.15),
        ({"order": "recruit_first"}, logistic(0.5) - 0.1, 0.15),
        ({"noise": "lognormal"}, logistic(0.4), logistic(0.4) * math.sqrt(math.expm1(0.15**2))),
        ({"sigma_g": 0.02}, logistic(0.4), 0.02),
    ],
)
def test_process_noise_moments(params, mean, sd):
    x = next_stocks(**params)
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(N_DRAWS)
    assert abs(x.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * N_DRAWS)


def test_survey_noise_sd_is_sigma_m():
    envs = FisheriesVectorEnv(num_envs=N_DRAWS, sigma_m=0.1)
    y, info = envs.reset(seed=5, options={"x0": 0.5})
    assert (info["x"] == 0.5).all()
    assert abs(y.mean() - 0.5) < 4 * 0.1 / math.sqrt(N_DRAWS)
    assert abs(y.std(ddof=1) - 0.1) < 4 * 0.1 / math.sqrt(2 * N_DRAWS)


def test_survey_is_censored_to_the_observation_box():
    envs = FisheriesVectorEnv(num_envs=1000, sigma_m=0.5)
    y, _ = envs.reset(seed=1, options={"x0": 0.1})
    assert y.min() == 0.0 and (y >= 0).all() and (y <= 2.0).all()


@pytest.mark.parametrize("env_id", [CONTINUOUS, DISCRETE])
def test_extinction_terminates(env_id):
    env = gym.make(env_id)
    _, info = env.reset(seed=0)
    x0 = info["x"]
    action = np.array([2.0]) if env_id == CONTINUOUS else 99
    observation, reward, terminated, truncated, info = env.step(action)
    assert terminated and not truncated
    assert reward == x0 and info["x"] == 0.0 and int(np.asarray(observation).item()) == 0


def test_truncation_after_horizon():
    env = gym.make(CONTINUOUS, horizon=5, sigma_g=0.0)
    env.reset(seed=0)
    ends = [env.step(np.array([0.0]))[3] for _ in range(5)]
    assert ends == [False] * 4 + [True]


def test_discrete_grids_are_100_points_on_0_2k():
    env = gym.make(DISCRETE).unwrapped
    np.testing.assert_allclose(env.grid, [2.0 * i / 99 for i in range(100)], atol=1e-15)
    _, info = env.reset(seed=0)
    assert info["state"] == 8 and info["x"] == pytest.approx(16 / 99)  # nearest to K/6: 0.1616
    wide = gym.make(DISCRETE, model=Ricker(r=1.0, K=2.0), grid_size=50).unwrapped
    np.testing.assert_allclose(wide.grid[[0, 1, -1]], [0.0, 4.0 / 49, 4.0])


@pytest.mark.parametrize("simulation", ["grid", "continuous"])
def test_discrete_env_without_survey_noise_observes_the_state(simulation):
    env = gym.make(DISCRETE, sigma_m=0.0, simulation=simulation)
    observation, info = env.reset(seed=2)
    for _ in range(20):
        assert observation == info["state"]
        x = info["x"]
        observation, reward, *_, info = env.step(3)
        assert reward == min(x, 6 / 99)  # the quota is grid point 3


def test_grid_probabilities_follow_the_paper_rules():
    grid = np.linspace(0.0, 2.0, 100)
    sigma, mean = 0.1, 0.7
    p = grid_probabilities(grid, mean, sigma)
    assert p.sum() == pytest.approx(1.0)
    # interior points: density at the grid points, so ratios are Gaussian ratios
    for j, k in [(30, 40), (35, 36), (20, 50)]:
        expected = math.exp(-((grid[j] - mean) ** 2 - (grid[k] - mean) ** 2) / (2 * sigma**2))
        assert p[j] / p[k] == pytest.approx(expected, rel=1e-10)
    # the tail above the top point goes to the top point: at mean = top, N = Φ(0) = 1/2
    top = grid_probabilities(grid, 2.0, sigma)
    density = np.exp(-0.5 * ((grid - 2.0) / sigma) ** 2)
    assert top[-1] == pytest.approx(0.5 + 0.5 * density[-1] / density.sum(), rel=1e-10)
    # the mass below 0 (density at the mirrored points) goes to the first point
    low = grid_probabilities(grid, 0.05, sigma)
    first = sum(math.exp(-0.5 * ((-g - 0.05) / sigma) ** 2) for g in grid)  # g = 0 and -g_i
    second = math.exp(-0.5 * ((2 / 99 - 0.05) / sigma) ** 2)
    assert low[0] / low[1] == pytest.approx(first / second, rel=1e-10)
    # extinction is absorbing; no noise puts all mass on the nearest point
    np.testing.assert_array_equal(grid_probabilities(grid, 0.0, sigma), np.eye(100)[0])
    np.testing.assert_array_equal(grid_probabilities(grid, 0.7, 0.0), np.eye(100)[35])


def test_grid_sampling_matches_the_probabilities():
    grid = np.linspace(0.0, 2.0, 100)
    p = grid_probabilities(grid, np.full(40_000, 0.3), 0.15)
    draws = sample_index(p, np.random.default_rng(0))
    frequency = np.bincount(draws, minlength=100) / draws.size
    assert np.all(np.abs(frequency - p[0]) <= 5 * np.sqrt(p[0] * (1 - p[0]) / draws.size) + 1e-12)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sigma_g", -0.1),
        ("sigma_m", float("nan")),
        ("noise", "cauchy"),
        ("order", "harvest_last"),
        ("x0", -1.0),
        ("initial", "random"),
        ("horizon", 0),
        ("horizon", 2.5),
        ("discount", 1.5),
        ("h_max", 0.0),
        ("x_max", float("inf")),
        ("grid_size", 1),
        ("model", "logistic"),
    ],
)
def test_bad_parameters_name_the_field(name, value):
    with pytest.raises(ModelError) as error:
        gym.make(CONTINUOUS, **{name: value})
    assert error.value.field == f"FisheriesParams.{name}"


def test_bad_arguments():
    with pytest.raises(TypeError, match="sigma"):
        gym.make(CONTINUOUS, sigma=0.1)
    with pytest.raises(ModelError, match="simulation"):
        gym.make(DISCRETE, simulation="exact")
    with pytest.raises(ModelError, match=r"options\.x0"):
        FisheriesEnv().reset(options={"x0": -1.0})
    env = FisheriesEnv()
    env.reset(seed=0)
    with pytest.raises(UsageError, match="action"):
        env.step(np.array([np.nan]))


def test_grid_dynamics_reproduce_the_published_ce_value():
    """CE at σg = 0.15, σm = 0.1 on the paper's grids: NPV 2.41 (SE 0.035, reference table)."""
    env = gym.make(DISCRETE, sigma_g=0.15, sigma_m=0.1).unwrapped
    params, grid, rng, n = env.params, env.grid, np.random.default_rng(2019), 1000
    s_star = K * (1.0 + R - 1.0 / GAMMA) / (2.0 * R)
    s, npv = np.full(n, 8), np.zeros(n)
    for t in range(2, 101):  # the paper's protocol: 99 decisions, reward t discounted by γ^(t-1)
        y = grid[survey_grid(params, grid, s, rng)]
        a = nearest_index(grid, np.maximum(y - s_star, 0.0))
        s, harvest = step_grid(params, grid, s, a, rng)
        npv += GAMMA ** (t - 1) * harvest
    se = math.hypot(npv.std(ddof=1) / math.sqrt(n), 0.035)
    assert abs(npv.mean() - 2.41) < 3 * se
