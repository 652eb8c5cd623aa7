"""Rollouts against closed forms, SARSOP's Tiger value, and each other."""

import numpy as np
import pytest

from decide import results
from decide.errors import ModelError, UsageError
from decide.pomdp._kernels.simulate import rollout_alpha
from decide.pomdp.kernel_arrays import belief_model, emission_sampler, sampler
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.policyx import load_policy
from decide.pomdp.problems import rock_sample, tiger
from decide.pomdp.simulate import simulate

# SARSOP's converged Tiger policy (shared/data/pomdp/sarsop-policies/Tiger.policy), value 19.3711.
SARSOP_TIGER = AlphaVectorPolicy(
    alpha=[
        [-81.5975, 28.4025],
        [3.01448, 24.6954],
        [24.6954, 3.01452],
        [28.4025, -81.5975],
        [19.3711, 19.3711],
    ],
    actions=[1, 0, 0, 2, 0],
)
SARSOP_TIGER_VALUE = 19.3711


class Constant:
    """A generic agent (not alpha vectors): always the same action."""

    def __init__(self, action):
        self.a = action

    def action(self, belief):
        return self.a


class Wrapped:
    """An alpha-vector policy hidden from the kernel, to exercise the Python loop."""

    def __init__(self, policy):
        self.policy = policy

    def action(self, belief):
        return self.policy.action(belief)


@pytest.mark.parametrize("policy", [AlphaVectorPolicy([[0.0, 0.0]], [0]), Constant(0)])
def test_always_listen_closed_form(policy):
    model, steps = tiger(), 40
    ds = simulate(model, policy, replicates=50, steps=steps, seed=3)
    expected = -(1 - model.discount**steps) / (1 - model.discount)
    np.testing.assert_allclose(ds["discounted_return"], expected, rtol=0, atol=1e-12)
    assert ds.attrs["standard_error"] == 0.0
    assert np.all(ds["action"] == 0) and np.all(ds["reward"] == -1)
    assert np.all(ds["state"] == ds["state"][:, :1])  # listening never moves the tiger


def test_sarsop_tiger_policy_value():
    ds = simulate(tiger(), SARSOP_TIGER, replicates=2000, steps=150, seed=20240601)
    mean, se = ds.attrs["mean_discounted_return"], ds.attrs["standard_error"]
    assert 0.3 < se < 1.0
    assert abs(mean - SARSOP_TIGER_VALUE) <= 3 * se
    assert ds.attrs["ci95_half_width"] == pytest.approx(1.959964 * se)
    assert ds["impossible_observations"].sum() == 0


def test_sarsop_rock_sample_policy_value(shared_file):
    policy = load_policy(shared_file("pomdp/sarsop-policies/RockSample_4_4.policy"))
    model = rock_sample(4, 4)
    assert policy.value(model.b0) == pytest.approx(17.9245, abs=1e-4)  # SARSOP's lower bound
    ds = simulate(model, policy, replicates=2000, steps=150, seed=44)
    mean, se = ds.attrs["mean_discounted_return"], ds.attrs["standard_error"]
    assert abs(mean - policy.value(model.b0)) <= 3 * se
    assert ds["impossible_observations"].sum() == 0


def test_rock_sample_always_east_is_the_blind_bound():
    model = rock_sample(4, 4)
    ds = simulate(model, Constant(model.actions.index("ame")), replicates=5, steps=30, seed=0)
    np.testing.assert_allclose(ds["discounted_return"], 10 * model.discount**3, atol=1e-12)
    assert np.all(ds["state"][:, 4:] == model.n_states - 1)


def test_engines_agree_on_the_same_draws():
    kwargs = dict(replicates=200, steps=60, seed=11, agent_model=tiger(noise=0.25))
    fast = simulate(tiger(), SARSOP_TIGER, **kwargs)
    slow = simulate(tiger(), SARSOP_TIGER, engine="python", **kwargs)
    for name in ("state", "action", "observation", "reward", "impossible_observations"):
        np.testing.assert_array_equal(fast[name], slow[name])


def test_engines_agree_statistically():
    fast = simulate(tiger(), SARSOP_TIGER, replicates=1000, steps=100, seed=1)
    slow = simulate(tiger(), Wrapped(SARSOP_TIGER), replicates=1000, steps=100, seed=2)
    difference = fast.attrs["mean_discounted_return"] - slow.attrs["mean_discounted_return"]
    assert abs(difference) <= 3 * np.hypot(
        fast.attrs["standard_error"], slow.attrs["standard_error"]
    )


def test_kernel_in_pure_python_matches_compiled():
    model, rng = tiger(), np.random.default_rng(5)
    u_init, u = rng.random(4), rng.random((4, 12, 2))
    outputs = []
    for run in (rollout_alpha, getattr(rollout_alpha, "py_func", rollout_alpha)):
        ints = [np.zeros((4, 12), np.int64) for _ in range(3)]
        out = [*ints, np.zeros((4, 12)), np.zeros(4, np.int64)]
        run(sampler(model.T_rows), emission_sampler(model), model.R, np.cumsum(model.b0), -1,
            belief_model(model), model.b0, SARSOP_TIGER.kernel_arrays(2), SARSOP_TIGER.actions,
            u_init, u, *out)  # fmt: skip
        outputs.append(out)
    for compiled, python in zip(*outputs, strict=True):
        np.testing.assert_array_equal(compiled, python)


@pytest.mark.parametrize("agent", [AlphaVectorPolicy([[0.0, 0.0]], [0]), Constant(0)])
def test_agent_model_that_rules_out_true_observations(agent):
    # The agent believes listening is noiseless; the true sensor errs 15 % of the time, so a
    # second listen can contradict a certain belief. The agent keeps its prediction then.
    ds = simulate(tiger(), agent, agent_model=tiger(noise=0.0), replicates=100, steps=50, seed=4)
    counts = ds["impossible_observations"].values
    assert counts.sum() > 0
    heard = ds["observation"].values
    contradictions = (heard[:, 1:] != heard[:, :1]).sum(axis=1)
    np.testing.assert_array_equal(counts, contradictions)  # each one contradicting the first


def test_dataset_schema_and_round_trip(tmp_path):
    ds = simulate(
        tiger(), SARSOP_TIGER, replicates=20, steps=15, seed=9, initial_state="tiger-right"
    )
    results.validate(ds, required_vars=("state", "action", "observation", "reward"))
    assert dict(ds.sizes) == {"replicate": 20, "step": 15}
    assert np.all(ds["state"][:, 0] == 1)
    assert results.parameters(ds)["initial_state"] == "tiger-right"
    back = results.read(results.write(ds, tmp_path / "sim.nc"))
    np.testing.assert_array_equal(back["discounted_return"], ds["discounted_return"])
    assert back.attrs["mean_discounted_return"] == ds.attrs["mean_discounted_return"]
    assert back.attrs["problem"] == "Tiger" and back.attrs["method"] == "simulate"


def test_same_seed_same_output():
    first = simulate(tiger(), SARSOP_TIGER, replicates=30, steps=20, seed=123)
    second = simulate(
        tiger(), SARSOP_TIGER, replicates=30, steps=20, seed=np.random.default_rng(123)
    )
    other = simulate(tiger(), SARSOP_TIGER, replicates=30, steps=20, seed=124)
    for name in ("state", "action", "observation", "reward"):
        np.testing.assert_array_equal(first[name], second[name])
    assert not np.array_equal(first["observation"], other["observation"])


def test_misuse_is_reported():
    with pytest.raises(ModelError, match="agent_model"):
        simulate(tiger(), SARSOP_TIGER, agent_model=rock_sample(4, 4))
    with pytest.raises(ModelError, match="alpha"):
        simulate(rock_sample(4, 4), SARSOP_TIGER)
    with pytest.raises(UsageError, match="AlphaVectorPolicy"):
        simulate(tiger(), Constant(0), engine="numba")
    with pytest.raises(UsageError, match="replicates"):
        simulate(tiger(), Constant(0), replicates=0)
    with pytest.raises(UsageError, match="action 3"):
        simulate(tiger(), Constant(3))
