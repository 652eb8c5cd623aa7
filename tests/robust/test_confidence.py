"""Likelihood confidence sets against closed forms: the χ² thresholds of a table and of
p = 2 (−log α), and the z-interval of a normal mean with known σ."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.errors import UsageError
from decide.robust.confidence import likelihood_set, likelihood_threshold


def test_thresholds_match_the_chi_square_table():
    # printed χ² quantiles at 0.95: 3.841 (1 dof), 7.815 (3 dof)
    assert likelihood_threshold(1) == pytest.approx(3.841 / 2, abs=5e-4)
    assert likelihood_threshold(3) == pytest.approx(7.815 / 2, abs=5e-4)


@given(alpha=st.floats(1e-4, 0.5))
@settings(max_examples=30, deadline=None)
def test_two_parameter_threshold_is_minus_log_alpha(alpha):
    # χ²₂ is exponential with mean 2: its (1 − α) quantile is −2 log α
    assert likelihood_threshold(2, 1.0 - alpha) == pytest.approx(-np.log(alpha), rel=1e-10)


def test_normal_mean_set_is_the_z_interval():
    rng = np.random.default_rng(0)
    sigma, n = 2.0, 25
    x = rng.normal(1.0, sigma, n)
    mu = np.linspace(-1.0, 3.0, 4001)
    log_lik = -0.5 * np.sum((x[None, :] - mu[:, None]) ** 2, axis=1) / sigma**2
    best = -0.5 * np.sum((x - x.mean()) ** 2) / sigma**2
    inside = likelihood_set(log_lik, best, 1, 0.95)
    half_width = 1.959964 * sigma / np.sqrt(n)
    expected = np.abs(mu - x.mean()) <= half_width
    # the two can differ only at grid points within rounding of the interval's ends
    boundary = np.abs(np.abs(mu - x.mean()) - half_width) < 1e-6
    np.testing.assert_array_equal(inside[~boundary], expected[~boundary])
    assert inside.any() and not inside.all()


def test_non_finite_candidates_are_outside_and_bad_options_are_rejected():
    np.testing.assert_array_equal(
        likelihood_set([0.0, -np.inf, np.nan, -10.0], 0.0, 2), [True, False, False, False]
    )
    with pytest.raises(UsageError, match="level"):
        likelihood_threshold(2, 1.0)
    with pytest.raises(UsageError, match="n_parameters"):
        likelihood_threshold(0)
    with pytest.raises(UsageError, match="max_log_likelihood"):
        likelihood_set([0.0], np.inf, 2)
