"""Mixed observability: beliefs and vectors over the hidden part, one set per observed value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from required import require_file

from decide.cli import main
from decide.errors import ModelError
from decide.pomdp.model import ObservedPart, TabularPOMDP
from decide.pomdp.pointbased import PointBased
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.policyx import load_policy, read_policyx, write_policyx
from decide.pomdp.pomdpx import read_pomdpx
from decide.pomdp.simulate import simulate

#: SARSOP's 60 s bounds on RockSample_7_8 (shared/reference/pomdp.md).
SARSOP_60S = (21.142, 24.479)


def test_observed_part_indexes_the_hidden_states_in_order():
    part = ObservedPart(np.array([1, 0, 1, 1, 0]))
    assert part.n_values == 2 and part.n_hidden == 3
    assert part.hidden.tolist() == [0, 0, 1, 2, 1]


def test_a_part_the_model_does_not_keep_known_is_refused():
    """Tiger's tiger position moves at random after opening a door and is not observed exactly."""
    from decide.pomdp.problems import tiger

    with pytest.raises(ModelError, match="would not stay known"):
        tiger().replace(observed=[0, 1])


@pytest.fixture(scope="module")
def rock_sample_7_8():
    return read_pomdpx(require_file("pomdp/RockSample_7_8.pomdpx")).pomdp


def test_rock_sample_7_8_is_read_as_a_momdp(rock_sample_7_8):
    part = rock_sample_7_8.observed
    assert (part.n_values, part.n_hidden) == (50, 256)  # robot cells + exit × 2^8 rocks
    assert rock_sample_7_8.n_observations == 2  # the robot's moves keep it known


@pytest.fixture(scope="module")
def rock_sample_solved(rock_sample_7_8):
    solver = PointBased(time_limit=math.inf, max_iterations=60, target_gap=1e-3)
    return solver.solve(rock_sample_7_8)


def test_rock_sample_7_8_bounds_and_written_policy(rock_sample_7_8, rock_sample_solved, tmp_path):
    result = rock_sample_solved
    policy = result.policy
    assert policy.mixed and policy.alpha.shape[1] == 256
    # valid bounds: below SARSOP's 60 s upper bound, above its lower bound at 60 s
    assert SARSOP_60S[0] - 2.0 < result.lower_bound <= SARSOP_60S[1]
    assert result.upper_bound >= SARSOP_60S[0]
    path = write_policyx(policy, tmp_path / "rs78.policy", model="RockSample_7_8")
    text = path.read_text(encoding="latin-1")
    assert 'vectorLength="256" numObsValue="50"' in text
    read = read_policyx(path)
    assert read.mixed and read.observed is None
    bound = read.for_model(rock_sample_7_8)
    assert bound.value(rock_sample_7_8.b0) == result.lower_bound
    start = int(rock_sample_7_8.observed.value[np.flatnonzero(rock_sample_7_8.b0)[0]])
    mine = read.obs_value == start
    b0 = rock_sample_7_8.b0[rock_sample_7_8.observed.value == start]
    assert np.max(read.alpha[mine] @ b0) == pytest.approx(result.lower_bound, abs=1e-9)


def test_mixed_policy_needs_its_model(rock_sample_7_8, rock_sample_solved):
    policy = rock_sample_solved.policy
    unbound = AlphaVectorPolicy(policy.alpha, policy.actions, policy.obs_value)
    with pytest.raises(ModelError, match="bound to its model"):
        unbound.value(rock_sample_7_8.b0)
    with pytest.raises(ModelError, match="fully observed"):
        unbound.for_model(rock_sample_7_8.replace(observed=None))


def test_rock_sample_7_8_policy_earns_its_lower_bound(rock_sample_7_8, rock_sample_solved):
    """The greedy policy of the vectors is worth at least their value at b0."""
    ds = simulate(rock_sample_7_8, rock_sample_solved.policy, replicates=400, steps=90, seed=3)
    mean, half = ds.attrs["mean_discounted_return"], ds.attrs["ci95_half_width"]
    assert mean + half >= rock_sample_solved.lower_bound - 0.95**90 * 10
    assert ds["impossible_observations"].sum() == 0


def _two_valued() -> TabularPOMDP:
    """x in {0, 1} moved at random and observed through the observation; y hidden in {0, 1}
    (a tiger behind x's door). Built flat, then given its observed part."""
    S = 4  # s = 2 x + y
    T = np.zeros((3, S, S))
    for s in range(S):
        x, y = divmod(s, 2)
        T[0, s, 2 * x + y] = 1.0  # listen
        for a in (1, 2):  # open: y resets, x moves
            for x2 in (0, 1):
                for y2 in (0, 1):
                    T[a, s, 2 * x2 + y2] = (0.7 if x2 == x else 0.3) * 0.5
    Z = np.zeros((3, S, 4))  # o = 2 x' + noisy y'
    for s2 in range(S):
        x2, y2 = divmod(s2, 2)
        Z[:, s2, 2 * x2 + y2] = 0.85
        Z[:, s2, 2 * x2 + 1 - y2] = 0.15
    R = np.array([[-1.0, -100, 10], [-1, 10, -100], [-1, -90, 20], [-1, 20, -90]])
    return TabularPOMDP(T, Z, R, 0.95, [0.5, 0.5, 0, 0])


def test_mixed_and_flat_solves_agree_on_a_small_momdp():
    flat = _two_valued()
    mixed = flat.replace(observed=[0, 0, 1, 1])
    solver = PointBased(time_limit=math.inf, max_iterations=3000, target_gap=1e-4)
    a, b = solver.solve(flat), solver.solve(mixed)
    assert a.gap <= 1e-4 and b.gap <= 1e-4
    assert b.policy.mixed and not a.policy.mixed
    assert b.lower_bound == pytest.approx(a.lower_bound, abs=2e-4)
    # the mixed vectors are lower bounds at every belief of their value; so are the flat ones
    rng = np.random.default_rng(0)
    for _ in range(50):
        x, p = rng.integers(2), rng.random()
        belief = np.zeros(4)
        belief[2 * x : 2 * x + 2] = (p, 1 - p)
        assert b.policy.value(belief) <= a.policy.value(belief) + 2e-3
        assert a.policy.value(belief) <= b.policy.value(belief) + 2e-3


def test_decide_simulate_runs_a_mixed_policy(rock_sample_solved, shared_file, tmp_path, capsys):
    policy = write_policyx(rock_sample_solved.policy, tmp_path / "rs.policy")
    assert load_policy(policy).mixed
    out = tmp_path / "sim.nc"
    problem = str(shared_file("pomdp/RockSample_7_8.pomdpx"))
    code = main(["simulate", problem, str(policy), "--replicates", "20", "--steps", "30",
                 "--out", str(out)])  # fmt: skip
    assert code == 0 and out.is_file()
