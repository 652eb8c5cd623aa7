"""TensorChebCB: tensor Chebyshev features, the ridge fit, the warm-up and learning."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial import chebyshev

from decide.bandits import ChebCB, TensorChebCB, make_bandit
from decide.errors import ModelError

OMEGAS = np.linspace(1.0, 1.95, 20)


def mean_cost(c):
    """Expected cost of every arm at context c in [0, 1]; the best arm moves smoothly with c."""
    return 10.0 + 50.0 * (OMEGAS - 1.2 - 0.6 * np.sin(np.pi * c) ** 2) ** 2


def play(bandit, rounds: int, seed: int):
    """Poisson costs around ``mean_cost``; returns (contexts, costs, ratio to the optimum)."""
    rng = np.random.default_rng(seed)
    contexts, costs, optimum = rng.random(rounds), [], 0.0
    for c in contexts:
        arm = bandit.ask(c)
        costs.append(float(rng.poisson(mean_cost(c)[arm])))
        bandit.tell(arm, costs[-1])
        optimum += mean_cost(c).min()
    return contexts, np.array(costs), sum(costs) / optimum


def test_features_are_products_of_chebyshev_polynomials():
    bandit = TensorChebCB(OMEGAS, context_range=(0.0, 2.0), context_degree=3, arm_degree=2)
    c = 1.5  # z_c = 0.5
    expected = np.einsum(
        "i,aj->aij",
        chebyshev.chebvander(np.array([0.5]), 3)[0],
        chebyshev.chebvander(np.linspace(-1, 1, 20), 2),
    ).reshape(20, -1)
    assert np.allclose(bandit.features(c), expected)


def test_warm_up_plays_every_arm_once():
    bandit = TensorChebCB(OMEGAS, context_range=(0.0, 1.0), seed=4)
    play(bandit, 20, seed=1)
    assert sorted(bandit.history.arms) == list(range(20))
    assert np.all(bandit.history.probabilities == 1.0)


def test_coefficients_are_the_ridge_fit_of_log_cost():
    bandit = TensorChebCB(OMEGAS, context_range=(0.0, 1.0), ridge=0.05, seed=3)
    contexts, costs, _ = play(bandit, 300, seed=5)
    rows = np.array(
        [bandit.features(c)[a] for c, a in zip(contexts, bandit.history.arms, strict=True)]
    )
    degrees = np.add.outer(np.arange(9), np.arange(7)).ravel()
    penalty = np.sqrt(0.05) * np.diag(degrees.astype(float))
    design = np.vstack([rows, penalty])
    target = np.concatenate([np.log(np.maximum(costs, 1.0)), np.zeros(len(degrees))])
    direct = np.linalg.lstsq(design, target, rcond=None)[0]
    assert np.allclose(bandit.coefficients, direct, atol=1e-6)


def test_learns_faster_than_per_arm_chebcb_and_nears_the_optimum():
    ratios = {}
    for name, cls in (("tensor", TensorChebCB), ("chebcb", ChebCB)):
        ratios[name] = np.mean(
            [play(cls(OMEGAS, context_range=(0.0, 1.0), seed=s), 2000, seed=s)[2] for s in range(3)]
        )
    assert ratios["tensor"] < ratios["chebcb"]
    assert ratios["tensor"] < 1.1


def test_same_seed_same_arms_and_factory():
    first = make_bandit("tensor-chebcb", OMEGAS, context_range=(0.0, 1.0), seed=7, ridge=0.02)
    second = TensorChebCB(OMEGAS, context_range=(0.0, 1.0), seed=7, ridge=0.02)
    play(first, 100, seed=2)
    play(second, 100, seed=2)
    assert np.array_equal(first.history.arms, second.history.arms)


@pytest.mark.parametrize(
    ("arms", "options", "field"),
    [
        ([1.5, 1.2, 1.8], {}, "arms"),
        ([1.0], {}, "arms"),
        (OMEGAS, {"ridge": -1.0}, "ridge"),
        (OMEGAS, {"eta_factor": 0.0}, "eta_factor"),
        (OMEGAS, {"context_degree": 0}, "context_degree"),
    ],
)
def test_bad_parameters_name_the_field(arms, options, field):
    with pytest.raises(ModelError, match=field):
        TensorChebCB(arms, context_range=(0.0, 1.0), **options)
