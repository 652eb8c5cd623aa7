"""The ask/tell protocol, history, reproducibility, misuse errors and make_bandit."""

from __future__ import annotations

import numpy as np
import pytest

from decide.bandits import ChebCB, TsallisINF, TsallisINFCB, make_bandit
from decide.errors import ModelError, UsageError

ARMS = np.linspace(1.0, 1.95, 8)
NAMES = ["tsallis-inf", "tsallis-inf-cb", "chebcb"]


def run(bandit, rounds=150, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        c = rng.random()
        arm = bandit.ask(c)
        bandit.tell(arm, float(1 + rng.poisson(10 + 20 * (ARMS[arm] - 1.2 - 0.5 * c) ** 2)))
    return bandit.history


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_arms(name):
    a = run(make_bandit(name, ARMS, context_range=(0, 1), seed=7))
    b = run(make_bandit(name, ARMS, context_range=(0, 1), seed=np.random.default_rng(7)))
    c = run(make_bandit(name, ARMS, context_range=(0, 1), seed=8))
    np.testing.assert_array_equal(a.arms, b.arms)
    np.testing.assert_array_equal(a.costs, b.costs)
    assert not np.array_equal(a.arms, c.arms)


@pytest.mark.parametrize("name", NAMES)
def test_history_and_probabilities(name):
    bandit = make_bandit(name, ARMS, context_range=(0, 1), seed=1)
    h = run(bandit, rounds=30)
    assert len(h) == 30 and h.arms.dtype == np.int64
    assert h.costs.shape == h.contexts.shape == h.probabilities.shape == (30,)
    assert np.all((h.contexts >= 0) & (h.contexts <= 1))
    assert np.all((h.probabilities > 0) & (h.probabilities <= 1))
    p = bandit.probabilities(0.4)
    assert p.shape == (8,) and p.sum() == pytest.approx(1.0, abs=1e-12) and np.all(p >= 0)
    # the recorded propensity is the probability the arm had when it was drawn
    arm = bandit.ask(0.4)
    bandit.tell(arm, 12.0)
    assert bandit.history.probabilities[-1] == pytest.approx(p[arm], abs=1e-15)
    assert bandit.arms is not None and np.array_equal(bandit.arms, ARMS)


def test_contexts_recorded_as_given():
    bandit = TsallisINF(ARMS, seed=0)
    bandit.tell(bandit.ask(), 3.0)
    bandit.tell(bandit.ask(0.25), 3.0)
    cb = ChebCB(ARMS, context_range=(0, 1), seed=0)
    cb.tell(cb.ask(5.0), 3.0)  # clipped to 1 for the learner, recorded as 5
    np.testing.assert_array_equal(bandit.history.contexts, [np.nan, 0.25])
    np.testing.assert_array_equal(cb.history.contexts, [5.0])
    np.testing.assert_array_equal(cb.predict(5.0), cb.predict(1.0))


@pytest.mark.parametrize("name", NAMES)
def test_misuse(name):
    bandit = make_bandit(name, ARMS, context_range=(0, 1), seed=0)
    with pytest.raises(UsageError):
        bandit.tell(0, 5.0)  # no ask
    arm = bandit.ask(0.5)
    with pytest.raises(UsageError):
        bandit.ask(0.5)  # two asks
    with pytest.raises(UsageError):
        bandit.tell((arm + 1) % len(ARMS), 5.0)  # wrong arm
    for bad in [float("nan"), -1.0, "many"]:
        with pytest.raises(UsageError):
            bandit.tell(arm, bad)
    bandit.tell(arm, 5.0)  # the round is still open after the errors
    assert len(bandit.history) == 1


@pytest.mark.parametrize("cls", [TsallisINFCB, ChebCB])
def test_contextual_needs_context(cls):
    bandit = cls(ARMS, context_range=(0.0, 1.0))
    with pytest.raises(UsageError):
        bandit.ask()
    with pytest.raises(UsageError):
        bandit.ask(float("inf"))
    with pytest.raises(UsageError):
        bandit.probabilities()


def test_bad_parameters():
    with pytest.raises(ModelError, match="arms"):
        TsallisINF([])
    with pytest.raises(ModelError, match="context_range"):
        make_bandit("chebcb", ARMS)
    with pytest.raises(ModelError, match="context_range"):
        ChebCB(ARMS, context_range=(1.0, 1.0))
    with pytest.raises(ModelError, match="bins"):
        TsallisINFCB(ARMS, context_range=(0, 1), bins=0)
    with pytest.raises(ModelError, match="terms"):
        ChebCB(ARMS, context_range=(0, 1), terms=2.5)
    with pytest.raises(ModelError, match="eta_factor"):
        ChebCB(ARMS, context_range=(0, 1), eta_factor=-1.0)


def test_make_bandit():
    assert isinstance(make_bandit("tsallis-inf", ARMS, context_range=(0, 1)), TsallisINF)
    cb = make_bandit("Tsallis_INF_CB", ARMS, context_range=(0, 1), bins=6)
    assert isinstance(cb, TsallisINFCB) and cb.bins == 6
    cheb = make_bandit("chebcb", ARMS, context_range=(0, 1), terms=4, eta_factor=1.0)
    assert cheb.terms == 4 and cheb.eta_factor == 1.0
    with pytest.raises(TypeError, match="bins"):
        make_bandit("tsallis-inf", ARMS, bins=3)
    with pytest.raises(TypeError, match="depth"):
        make_bandit("chebcb", ARMS, context_range=(0, 1), depth=3)
    with pytest.raises(UsageError):
        make_bandit("exp3", ARMS)
