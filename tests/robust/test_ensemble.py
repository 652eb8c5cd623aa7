"""Ensemble objectives and best-of-n: closed forms, invariances and errors.

Reference numbers are worked by hand in the comments; invariants are checked with hypothesis, and
best-of-n against a brute-force argmax over every prefix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from decide.errors import ModelError, UsageError
from decide.robust.ensemble import DEFAULT_LAM, best_of_n, ensemble_objective, standardise

SQRT_1_5 = math.sqrt(1.5)


def score_arrays(min_models: int = 1, max_models: int = 5) -> st.SearchStrategy:
    shape = st.tuples(st.integers(min_models, max_models), st.integers(2, 12))
    values = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    return shape.flatmap(lambda s: arrays(float, s, elements=values))


def has_spread(scores: np.ndarray) -> bool:
    return bool(np.all(scores.std(axis=1) > 1e-6 * (1 + np.abs(scores).max())))


# ---------------------------------------------------------------- standardise


def test_standardise_closed_form():
    # [1, 2, 3]: mean 2, population sd sqrt(2/3), so z = (−1, 0, 1)/sqrt(2/3) = ∓sqrt(1.5), 0.
    z = standardise([[1.0, 2.0, 3.0], [30.0, 20.0, 10.0]])
    expected = np.array([[-SQRT_1_5, 0.0, SQRT_1_5], [SQRT_1_5, 0.0, -SQRT_1_5]])
    np.testing.assert_allclose(z, expected, rtol=1e-14, atol=1e-14)


@settings(max_examples=60, deadline=None)
@given(
    scores=score_arrays(),
    scale=st.floats(1e-3, 1e3),
    shift=st.floats(-1e3, 1e3),
    model=st.integers(0, 4),
)
def test_standardise_invariant_to_positive_affine_maps_of_one_model(scores, scale, shift, model):
    assume(has_spread(scores))
    model %= scores.shape[0]
    moved = scores.copy()
    moved[model] = scale * moved[model] + shift
    np.testing.assert_allclose(standardise(moved), standardise(scores), rtol=1e-7, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(scores=score_arrays())
def test_standardised_rows_have_zero_mean_and_unit_sd(scores):
    assume(has_spread(scores))
    z = standardise(scores)
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(z.std(axis=1), 1.0, rtol=1e-9)


def test_standardise_rejects_a_model_without_spread():
    with pytest.raises(ModelError) as error:
        standardise([[1.0, 2.0, 3.0], [0.1, 0.1, 0.1]])
    assert error.value.field == "scores[1]"


@pytest.mark.parametrize(
    "scores",
    [[1.0, 2.0], [[1.0]], [[1.0, np.nan]], [[1.0, np.inf]], np.zeros((0, 3)), "abc"],
)
def test_standardise_rejects_bad_arrays(scores):
    with pytest.raises(ModelError):
        standardise(scores)


# ---------------------------------------------------------------- ensemble objectives


def test_objectives_closed_form_raw():
    # Models disagree at the ends and agree in the middle: means 1, minima (0, 1, 0),
    # population variances over the 2 models (1, 0, 1).
    scores = [[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]
    raw = {"standardise": False}
    np.testing.assert_allclose(ensemble_objective(scores, "mean", **raw), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(ensemble_objective(scores, "wco", **raw), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(
        ensemble_objective(scores, "uwo", lam=0.5, **raw), [0.5, 1.0, 0.5], rtol=1e-15
    )


def test_objectives_closed_form_standardised():
    # Standardised rows are ∓(sqrt 1.5, 0, −sqrt 1.5): mean 0, minimum −sqrt 1.5 at the ends,
    # variance 1.5 at the ends, so UWO = −λ·1.5 there.
    scores = [[0.0, 1.0, 2.0], [20.0, 10.0, 0.0]]
    np.testing.assert_allclose(ensemble_objective(scores, "mean"), [0.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(
        ensemble_objective(scores, "wco"), [-SQRT_1_5, 0.0, -SQRT_1_5], rtol=1e-14
    )
    np.testing.assert_allclose(
        ensemble_objective(scores, "uwo", lam=0.1), [-0.15, 0.0, -0.15], rtol=1e-13, atol=1e-15
    )
    uwo = ensemble_objective(scores, "uwo")
    np.testing.assert_allclose(uwo, [-1.5 * DEFAULT_LAM, 0.0, -1.5 * DEFAULT_LAM], atol=1e-14)


@settings(max_examples=60, deadline=None)
@given(scores=score_arrays(), lam=st.floats(0, 10), standardised=st.booleans())
def test_worst_case_and_uwo_never_exceed_the_mean(scores, lam, standardised):
    assume(has_spread(scores))
    mean = ensemble_objective(scores, "mean", standardise=standardised)
    wco = ensemble_objective(scores, "wco", standardise=standardised)
    uwo = ensemble_objective(scores, "uwo", lam=lam, standardise=standardised)
    assert np.all(wco <= mean + 1e-9)
    assert np.all(uwo <= mean + 1e-9)


@settings(max_examples=40, deadline=None)
@given(
    row=arrays(float, st.integers(2, 12), elements=st.floats(-50, 50)),
    k=st.integers(1, 5),
    lam=st.floats(0, 10),
)
def test_all_objectives_agree_when_the_models_agree(row, k, lam):
    scores = np.tile(row, (k, 1))
    assume(has_spread(scores))
    mean = ensemble_objective(scores, "mean")
    np.testing.assert_allclose(mean, standardise(row[None, :])[0], atol=1e-12)
    np.testing.assert_allclose(ensemble_objective(scores, "wco"), mean, atol=1e-12)
    np.testing.assert_allclose(ensemble_objective(scores, "uwo", lam=lam), mean, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(scores=score_arrays(min_models=2), scales=st.lists(st.floats(1e-2, 1e2), min_size=5))
def test_standardised_objectives_ignore_each_models_units(scores, scales):
    assume(has_spread(scores))
    moved = scores * np.array(scales[: scores.shape[0]])[:, None] + 7.0
    for method in ("mean", "wco", "uwo"):
        np.testing.assert_allclose(
            ensemble_objective(moved, method), ensemble_objective(scores, method), atol=1e-7
        )


def test_objective_errors():
    scores = [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(UsageError, match="method"):
        ensemble_objective(scores, "median")
    for lam in (-0.1, math.nan, math.inf, True, "0.5"):
        with pytest.raises(UsageError, match="lam"):
            ensemble_objective(scores, "uwo", lam=lam)
    with pytest.raises(ModelError):
        ensemble_objective([[0.0, math.nan]], "mean", standardise=False)


# ---------------------------------------------------------------- best of n


def test_best_of_n_closed_form():
    objective = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]
    assert list(best_of_n(objective, [1, 2, 3, 4, 5, 6, 7])) == [0, 0, 2, 2, 4, 5, 5]
    assert best_of_n(objective, 4) == 2
    assert isinstance(best_of_n(objective, 4), int)
    # Reversed order: 2, 9, 5, 1, 4, 1, 3 (indices 6, 5, 4, …): the 9 at index 5 wins from n = 2.
    assert list(best_of_n(objective, [1, 2, 7], order=np.arange(7)[::-1])) == [6, 5, 5]


@settings(max_examples=60, deadline=None)
@given(
    objective=arrays(int, st.integers(1, 30), elements=st.integers(0, 5)),
    data=st.data(),
)
def test_best_of_n_matches_brute_force_argmax_with_ties(objective, data):
    order = np.array(data.draw(st.permutations(range(objective.size))), dtype=int)
    ns = np.arange(1, objective.size + 1)
    expected = [order[np.argmax(objective[order[:n]])] for n in ns]
    assert list(best_of_n(objective, ns, order)) == expected


def test_best_of_n_random_orders_are_reproducible_and_uniform():
    objective = np.arange(10.0)
    assert best_of_n(objective, 3, 5) == best_of_n(objective, 3, np.random.default_rng(5))
    # Best of 1 from a random order is a uniform draw: each index about 1/10 of 5000 draws.
    rng = np.random.default_rng(0)
    picks = np.array([best_of_n(objective, 1, rng) for _ in range(5000)])
    counts = np.bincount(picks, minlength=10)
    assert np.all(np.abs(counts - 500) < 4 * math.sqrt(5000 * 0.1 * 0.9))
    # Best of 3 from 0..9: P(max = j) = C(j, 2) / C(10, 3), so E[index] = 3·11/4 − 1 = 7.25.
    picks = np.array([best_of_n(objective, 3, rng) for _ in range(4000)])
    expected = sum(j * math.comb(j, 2) for j in range(10)) / math.comb(10, 3)
    assert expected == pytest.approx(7.25)
    assert abs(picks.mean() - expected) < 4 * picks.std() / math.sqrt(4000)


def test_best_of_n_errors():
    objective = [1.0, 2.0, 3.0]
    for n in (0, 4, 1.5, True, []):
        with pytest.raises(UsageError, match="n"):
            best_of_n(objective, n)
    for order in ([0, 0, 1], [0, 3], [[0, 1]], [0.0, 1.0], []):
        with pytest.raises(UsageError, match="order"):
            best_of_n(objective, 1, order)
    with pytest.raises(UsageError, match="n"):
        best_of_n(objective, 3, order=[2, 1])
    for bad in ([1.0, math.nan], [], [[1.0, 2.0]]):
        with pytest.raises(ModelError):
            best_of_n(bad, 1)
