"""Tsallis-INF: the FTRL distribution, the loss bookkeeping and convergence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.bandits import TsallisINF, TsallisINFCB, tsallis_probabilities


def implied_normaliser(u: np.ndarray, eta: float, p: np.ndarray) -> np.ndarray:
    """x_i = u_i − 2/(η √p_i): one value per arm, all equal when p is the closed form."""
    return u - 2.0 / (eta * np.sqrt(p))


@pytest.mark.parametrize("eta", [0.01, 0.5, 2.0])
def test_equal_losses_give_uniform(eta):
    p = tsallis_probabilities(np.full(7, 3.25), eta)
    np.testing.assert_allclose(p, 1 / 7, rtol=1e-12)


def test_two_arms_solve_the_normaliser_equation():
    u, eta = np.array([0.0, 1.5]), 0.8
    p = tsallis_probabilities(u, eta)
    x = implied_normaliser(u, eta, p)
    assert x[0] == pytest.approx(x[1], abs=1e-9)
    assert x[0] < u.min()
    # Σ 4/(η(u_i − x))² = 1 at that x
    assert np.sum(4.0 / (eta * (u - x[0])) ** 2) == pytest.approx(1.0, abs=1e-10)
    assert p[0] > p[1] > 0


def test_single_arm():
    assert tsallis_probabilities([12.0], 1.0).tolist() == [1.0]


@settings(max_examples=200, deadline=None)
@given(
    losses=st.lists(st.floats(0.0, 1e5, allow_nan=False), min_size=1, max_size=30),
    eta=st.floats(1e-3, 10.0),
)
def test_random_losses(losses, eta):
    u = np.array(losses)
    p = tsallis_probabilities(u, eta)
    assert abs(p.sum() - 1.0) < 1e-10
    assert np.all(p > 0)
    order = np.argsort(u, kind="stable")
    assert np.all(np.diff(p[order]) <= 1e-15)  # smaller loss, larger probability
    x = implied_normaliser(u, eta, p)
    assert np.all(x < u.min())
    # recovering x from a tiny p cancels digits of u: compare on the scale of u and 1/η
    np.testing.assert_allclose(x, x[0], rtol=0, atol=1e-10 * (u.max() + 2 / eta))


def test_update_rule_matches_history():
    """L̂_i = Σ (k − 1)/p over the rounds arm i was played; s = mean(k) − 1; η = 2/√t."""
    rng = np.random.default_rng(5)
    bandit = TsallisINF(np.linspace(1, 1.9, 6), seed=3)
    for _ in range(40):
        arm = bandit.ask()
        bandit.tell(arm, float(1 + rng.poisson(5 + arm)))
    h = bandit.history
    expected = np.zeros(6)
    np.add.at(expected, h.arms, (h.costs - 1) / h.probabilities)
    np.testing.assert_allclose(bandit.cumulative_losses, expected, rtol=1e-12)
    assert bandit.scale == pytest.approx(h.costs.mean() - 1)
    np.testing.assert_allclose(
        bandit.probabilities(), tsallis_probabilities(expected / bandit.scale, 2 / np.sqrt(41))
    )


def test_converges_to_the_best_arm():
    rng = np.random.default_rng(0)
    means = 20.0 + 3.0 * np.abs(np.arange(10) - 3)
    means[3] = 15.0
    bandit = TsallisINF(np.arange(10), seed=1)
    for _ in range(3000):
        arm = bandit.ask()
        bandit.tell(arm, float(1 + rng.poisson(means[arm] - 1)))
    arms = bandit.history.arms
    assert np.mean(arms[-500:] == 3) >= 0.8
    regret = means[arms] - means.min()
    assert regret[1500:].sum() < regret[:1500].sum()


def test_binned_learns_each_bin():
    rng = np.random.default_rng(1)
    bins, n_arms = 4, 6
    best = np.array([0, 2, 5, 3])  # best arm per bin
    bandit = TsallisINFCB(np.arange(n_arms), context_range=(0.0, 1.0), bins=bins, seed=2)
    for _ in range(6000):
        c = rng.random()
        b = min(int(c * bins), bins - 1)
        arm = bandit.ask(c)
        mean = 12.0 if arm == best[b] else 20.0
        bandit.tell(arm, float(1 + rng.poisson(mean - 1)))
    for b, centre in enumerate(bandit.bin_centres):
        assert bandit.bin_of(centre) == b
        assert int(np.argmax(bandit.probabilities(centre))) == best[b]
    h = bandit.history
    last = slice(-1000, None)
    in_bin = np.minimum((h.contexts[last] * bins).astype(int), bins - 1)
    assert np.mean(h.arms[last] == best[in_bin]) >= 0.8


def test_binned_clips_contexts():
    bandit = TsallisINFCB([1.0, 1.5], context_range=(-1.0, 1.0), bins=5)
    assert bandit.bin_of(-7.0) == 0
    assert bandit.bin_of(1.0) == 4
    assert bandit.bin_of(3.0) == 4
