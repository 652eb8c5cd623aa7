"""Bootstrap particle filter with entropic annealing (decide.pomdp.particles).

Independent references: the exact Kalman filter (linear-Gaussian model), the conjugate normal
posterior of an unknown mean, the floor/ceil property of systematic resampling, the moments of
the Liu–West kernel, and synthetic ground truth (the gold logistic fishery, true r = 0.75).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.envs.fisheries.data.tracking import SIGMA_SURVEY, growth_rate_rmse
from decide.errors import ImpossibleObservation, ModelError, UsageError
from decide.pomdp.particles import (
    ParticleFilter,
    annealing_temperature,
    effective_sample_size,
    liu_west_rejuvenate,
    systematic_resample,
)

# ---------------------------------------------------------------- linear-Gaussian vs Kalman

PHI, Q, R, M0, P0, STEPS = 0.9, 1.0, 0.5, 0.0, 2.0, 50


def ar1_transition(states, params, rng):
    return PHI * states + np.sqrt(Q) * rng.standard_normal(states.shape)


def ar1_log_likelihood(observation, states, params):
    return -0.5 * (observation - states) ** 2 / R


def kalman(observations):
    """Exact filtering means and variances of x_t = φ x_{t-1} + N(0, Q), y_t = x_t + N(0, R)."""
    mean, var = M0, P0
    means, variances = [], []
    for t, y in enumerate(observations):
        if t > 0:
            mean, var = PHI * mean, PHI * PHI * var + Q
        gain = var / (var + R)
        mean, var = mean + gain * (y - mean), (1.0 - gain) * var
        means.append(mean)
        variances.append(var)
    return np.array(means), np.array(variances)


@pytest.fixture(scope="module")
def ar1_data():
    rng = np.random.default_rng(1)
    x = np.empty(STEPS)
    x[0] = M0 + np.sqrt(P0) * rng.standard_normal()
    for t in range(1, STEPS):
        x[t] = PHI * x[t - 1] + np.sqrt(Q) * rng.standard_normal()
    return x + np.sqrt(R) * rng.standard_normal(STEPS)


def ar1_filter(n: int, **options) -> ParticleFilter:
    return ParticleFilter(ar1_transition, ar1_log_likelihood, n, **options)


def ar1_prior(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(100 + seed)
    return M0 + np.sqrt(P0) * rng.standard_normal(n), np.empty((n, 0))


# The Monte Carlo sd of a bootstrap filter's mean is κ σ_t / √N with κ of order 1 for a stable
# model (self-normalised importance sampling gives σ_t/√ESS at each step, ESS ≥ N/2 between
# resamplings, plus the forgotten error of earlier steps); with N = 5000, κ ≈ 1.4 makes the
# RMS over the 50 steps of (mean − Kalman mean)/σ_t about 0.02. We allow 0.05 (κ = 3.5); a
# biased filter fails it: resetting the weights to uniform after a tempered resampling (no
# importance correction) gives 0.09–0.10 on this model.
N_KALMAN = 5000
MEAN_TOLERANCE = 0.05
SD_TOLERANCE = 0.05


@pytest.mark.parametrize(
    "options",
    [
        {"resampling": "systematic"},
        {"resampling": "multinomial"},
        {"annealing": True, "anneal_until": 1.0},
    ],
    ids=["plain-systematic", "plain-multinomial", "annealed-whole-horizon"],
)
def test_filter_matches_kalman(ar1_data, options):
    mean, var = kalman(ar1_data)
    states, params = ar1_prior(N_KALMAN, seed=0)
    result = ar1_filter(N_KALMAN, **options).run(ar1_data, states, params, seed=0)
    z = (result.state_mean - mean) / np.sqrt(var)
    assert np.sqrt(np.mean(z**2)) < MEAN_TOLERANCE
    assert np.sqrt(np.mean((result.state_sd / np.sqrt(var) - 1.0) ** 2)) < SD_TOLERANCE
    assert result.resampled.sum() >= 10  # the resampling path was exercised
    if options.get("annealing"):
        assert np.nanmax(result.temperature) > 2.0


def test_annealing_at_temperature_one_is_the_plain_filter(ar1_data):
    states, params = ar1_prior(300, seed=3)
    params = np.random.default_rng(4).normal(size=(300, 2))  # rejuvenated, unused by the model
    plain = ar1_filter(300, rejuvenation=0.97)
    forced_one = replace(plain, annealing=True, anneal_until=0.0)  # t/T_max < 0 never holds
    a = plain.run(ar1_data, states, params, seed=11)
    b = forced_one.run(ar1_data, states, params, seed=11)
    assert a.resampled.any()
    for field in ("param_mean", "param_sd", "state_mean", "state_sd", "ess", "states", "params"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(b.temperature[b.resampled], 1.0)
    annealed = replace(plain, annealing=True).run(ar1_data, states, params, seed=11)
    assert not np.array_equal(annealed.state_mean, a.state_mean)


def test_temperatures_follow_the_schedule(ar1_data):
    n = 200
    states, params = ar1_prior(n, seed=5)
    result = ar1_filter(n, annealing=True).run(ar1_data, states, params, seed=5, horizon=60)
    steps = np.arange(STEPS)
    np.testing.assert_array_equal(result.resampled, result.ess < 0.5 * n)
    assert np.all(np.isnan(result.temperature[~result.resampled]))
    for t in steps[result.resampled]:
        expected = max(1.0, n / result.ess[t] * (1 - t / 60)) if t / 60 < 0.5 else 1.0
        assert result.temperature[t] == pytest.approx(expected, rel=1e-12)
    assert annealing_temperature(10.0, 100, 0, 10) == 10.0
    assert annealing_temperature(10.0, 100, 5, 10) == 5.0
    assert annealing_temperature(80.0, 100, 5, 10) == 1.0
    assert effective_sample_size(np.array([1.0, 1.0, 2.0])) == pytest.approx(16 / 6)


def test_same_seed_same_numbers(ar1_data):
    states, params = ar1_prior(100, seed=1)
    pf = ar1_filter(100, annealing=True, rejuvenation=0.9)
    params = np.ones((100, 1))
    a, b = (pf.run(ar1_data, states, params, seed=7) for _ in range(2))
    np.testing.assert_array_equal(a.state_mean, b.state_mean)
    np.testing.assert_array_equal(a.params, b.params)
    c = pf.run(ar1_data, states, params, seed=8)
    assert not np.array_equal(a.state_mean, c.state_mean)


# ---------------------------------------------------------------- systematic resampling


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e3)), min_size=1, max_size=40).filter(
        lambda w: sum(w) > 0
    ),
    n=st.integers(1, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_systematic_counts_within_one_of_expectation(weights, n, seed):
    w = np.array(weights)
    ancestors = systematic_resample(w, np.random.default_rng(seed), n)
    assert ancestors.shape == (n,)
    assert ancestors.min() >= 0 and ancestors.max() < w.size
    counts = np.bincount(ancestors, minlength=w.size)
    expected = n * w / w.sum()
    assert np.all(np.abs(counts - expected) < 1.0)
    assert np.all(counts[w == 0] == 0)


def test_systematic_default_size_is_the_number_of_weights():
    assert systematic_resample(np.ones(7), np.random.default_rng(0)).shape == (7,)


# ---------------------------------------------------------------- parameter rejuvenation


def test_liu_west_keeps_mean_and_covariance():
    rng = np.random.default_rng(0)
    mean = np.array([0.5, -1.0])
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    params = rng.multivariate_normal(mean, cov, size=200_000)
    moved = liu_west_rejuvenate(params, mean, cov, 0.9, rng)
    # sd of a sample mean: sqrt(0.09 / 2e5) ≈ 7e-4; of a sample covariance entry: ≲ 3e-4
    np.testing.assert_allclose(moved.mean(axis=0), mean, atol=4e-3)
    np.testing.assert_allclose(np.cov(moved.T), cov, atol=2e-3)
    assert np.corrcoef(moved[:, 0], params[:, 0])[0, 1] == pytest.approx(0.9, abs=0.01)


def test_rejuvenation_tracks_a_static_parameter():
    """y_t ~ N(μ, 1), μ ~ N(0, 1): posterior N(Σy / (1 + T), 1 / (1 + T)) after T = 400."""
    steps, n = 400, 500
    y = 0.7 + np.random.default_rng(5).standard_normal(steps)
    exact_mean, exact_sd = y.sum() / (1 + steps), 1 / np.sqrt(1 + steps)

    def log_likelihood(observation, states, params):
        return -0.5 * (observation - params[:, 0]) ** 2

    pf = ParticleFilter(lambda states, params, rng: states, log_likelihood, n)
    prior = np.random.default_rng(6).standard_normal((n, 1))
    jittered = replace(pf, rejuvenation=0.95).run(y, np.zeros(n), prior, seed=6)
    # MC sd of the mean ≈ 0.1 posterior sd (measured spread over seeds); 0.5 is five of them
    assert abs(jittered.param_mean[-1, 0] - exact_mean) < 0.5 * exact_sd
    assert 0.8 < jittered.param_sd[-1, 0] / exact_sd < 1.25
    assert np.unique(jittered.params).size == n
    # without rejuvenation resampling only copies values: the cloud collapses
    frozen = pf.run(y, np.zeros(n), prior, seed=6)
    assert np.unique(frozen.params).size < n // 5


# ---------------------------------------------------------------- fisheries acceptance claim

N_SEEDS = 200


@pytest.fixture(scope="module")
def fishery_rmse():
    """RMSE over seeds of the final posterior-mean r, by (assumed σm, N, annealing)."""
    return {
        (sigma, n, annealing): growth_rate_rmse(range(N_SEEDS), n, sigma, annealing=annealing)
        for sigma in (0.05, SIGMA_SURVEY)
        for n in (32, 128)
        for annealing in (False, True)
    }


def reduction(rmse, sigma, n):
    return 1.0 - rmse[sigma, n, True] / rmse[sigma, n, False]


# Measured (200 seeds, RMSE of the final posterior-mean r):
#   over-confident σm = 0.05: N = 32  plain 0.369, annealed 0.297 → 19.3 % lower
#                                     (1000 seeds: 21.5 %, 90 % bootstrap CI 18.5–24.5 %)
#                             N = 128 plain 0.376, annealed 0.243 → 35.4 % lower
#   correct σm = 0.2:         N = 32  −2.0 % (1000 seeds: +1.3 %, CI −2.4…+4.7 %)
#                             N = 128 +0.6 % (1000 seeds: +0.8 %, CI −1.6…+3.1 %)
#   The claims are tested at N = 128, where they hold with a margin at 1000 seeds; at N = 32
#   the gain (21.5 %) falls short of 25 % and the correct-likelihood cost sits at the 2 % edge.
def test_annealing_cuts_error_under_overconfident_likelihood(fishery_rmse):
    assert reduction(fishery_rmse, 0.05, 128) >= 0.25


def test_annealing_costs_little_with_correct_likelihood(fishery_rmse):
    assert reduction(fishery_rmse, SIGMA_SURVEY, 128) >= -0.02


def test_overconfident_likelihood_is_worse_than_correct(fishery_rmse):
    """Sanity of the setup: the 4×-too-small σm really hurts the plain filter."""
    for n in (32, 128):
        assert fishery_rmse[0.05, n, False] > 1.5 * fishery_rmse[SIGMA_SURVEY, n, False]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"n_particles": 1}, "n_particles"),
        ({"n_particles": 2.5}, "n_particles"),
        ({"ess_threshold": 0.0}, "ess_threshold"),
        ({"anneal_until": 1.5}, "anneal_until"),
        ({"rejuvenation": 0.0}, "rejuvenation"),
        ({"rejuvenation": 1.5}, "rejuvenation"),
        ({"resampling": "stratified"}, "resampling"),
        ({"annealing": "yes"}, "annealing"),
        ({"transition": None}, "transition"),
    ],
)
def test_bad_options(options, field):
    arguments = {
        "transition": ar1_transition,
        "log_likelihood": ar1_log_likelihood,
        "n_particles": 10,
    }
    with pytest.raises(UsageError, match=field):
        ParticleFilter(**{**arguments, **options})


def test_bad_run_arguments():
    pf = ar1_filter(10)
    states, params = np.zeros(10), np.zeros((10, 1))
    with pytest.raises(UsageError, match="observations"):
        pf.run([], states, params, seed=0)
    with pytest.raises(UsageError, match="horizon"):
        pf.run([0.0], states, params, seed=0, horizon=0)
    with pytest.raises(ModelError, match="initial_states"):
        pf.run([0.0], np.zeros(9), params, seed=0)
    with pytest.raises(ModelError, match="initial_params"):
        pf.run([0.0], states, np.zeros(10), seed=0)
    with pytest.raises(ModelError, match="initial_params"):
        pf.run([0.0], states, np.full((10, 1), np.nan), seed=0)


def test_bad_model_outputs():
    states, params = np.zeros(10), np.zeros((10, 1))
    shrinking = ParticleFilter(lambda s, p, rng: s[:5], ar1_log_likelihood, 10)
    with pytest.raises(ModelError, match="transition"):
        shrinking.run([0.0, 0.0], states, params, seed=0)
    scalar = ParticleFilter(ar1_transition, lambda y, s, p: 0.0, 10)
    with pytest.raises(ModelError, match="log_likelihood"):
        scalar.run([0.0], states, params, seed=0)
    nan = ParticleFilter(ar1_transition, lambda y, s, p: np.full(10, np.nan), 10)
    with pytest.raises(ModelError, match="log_likelihood"):
        nan.run([0.0], states, params, seed=0)
    impossible = ParticleFilter(ar1_transition, lambda y, s, p: np.full(10, -np.inf), 10)
    with pytest.raises(ImpossibleObservation, match="step 0"):
        impossible.run([0.0], states, params, seed=0)
    with pytest.raises(ModelError, match="weights"):
        systematic_resample(np.array([0.0, 0.0]), np.random.default_rng(0))
