"""Model fits pinned to published posterior means (appendix B; the 211-stock fits)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from decide.envs.fisheries.data.catch_data import load_stock
from decide.envs.fisheries.data.fitting import NAMES, fit, log_likelihood, maximum_likelihood
from decide.errors import ModelError, UsageError

PAPER = "fisheries/paper_stocks_ram_v3_ARGHAKENARG_PLAICNS.csv"
#: Memarzadeh & Boettiger (2019), appendix B: posterior means (r, K, sigma_g).
PUBLISHED = {"ARGHAKENARG": (1.038, 1.198, 0.112), "PLAICNS": (0.906, 1.777, 0.127)}
FAST = {"n_walkers": 32, "n_steps": 800, "burn": 300}


@pytest.mark.parametrize("stock", sorted(PUBLISHED))
def test_posterior_means_within_10_percent_of_published(shared_file, stock):
    series = load_stock(stock, shared_file(PAPER))
    result = fit(series.biomass, series.scaled_catch, seed=1, **FAST)
    for name, published in zip(NAMES, PUBLISHED[stock], strict=True):
        assert result.mean[name] == pytest.approx(published, rel=0.10), name
        low, high = result.interval[name]
        assert low < published < high
    assert 0.2 < result.acceptance < 0.8
    assert result.samples.shape == (32 * 500, 3)


def test_211_stock_fits_use_the_harvest_first_model(shared_file):
    """future-of-fish fitted s = x - min(x, h), x' ~ N(s + r s (1 - s/K), σ).

    Its priors were K ~ U(0, 1) and σ ~ U(0, 0.5) (r ~ U(0, 2) as in the paper).
    """
    with open(shared_file("fisheries/ram_v3_211stocks_logistic_fits.csv")) as handle:
        published = {int(row["stock_index"]): row for row in csv.DictReader(handle)}
    priors = {"r": (0.0, 2.0), "K": (0.0, 1.0), "sigma_g": (0.0, 0.5)}
    for index in (20, 137):  # Argentine hake, North Sea plaice
        series = load_stock(index, shared_file("fisheries/ram_v3_ssb_tc_211stocks.csv"))
        result = fit(
            series.biomass,
            series.scaled_catch,
            seed=2,
            order="harvest_first",
            priors=priors,
            **FAST,
        )
        row = published[index]
        for name, column in zip(NAMES, ("r_mean", "K_mean", "sigma_g_mean"), strict=True):
            assert result.mean[name] == pytest.approx(float(row[column]), rel=0.05), (index, name)


def test_seeded_fit_is_reproducible():
    rng = np.random.default_rng(5)
    x, h = [0.8], 0.1 * np.ones(30)
    for _ in range(29):
        x.append(x[-1] + 0.6 * x[-1] * (1 - x[-1]) - h[0] + 0.05 * rng.standard_normal())
    a = fit(np.array(x), h, seed=3, n_steps=200, burn=50)
    b = fit(np.array(x), h, seed=3, n_steps=200, burn=50)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.mean["r"] == pytest.approx(0.6, abs=0.3)


def test_maximum_likelihood_on_noise_free_data_recovers_the_truth():
    r, K, h = 0.8, 1.2, 0.15
    x = [0.3]
    for _ in range(25):
        x.append(x[-1] + r * x[-1] * (1 - x[-1] / K) - min(h, x[-1]) + 1e-4 * np.sin(len(x)))
    values, _ = maximum_likelihood(np.array(x), np.full(len(x), h))
    assert values["r"] == pytest.approx(r, rel=1e-2)
    assert values["K"] == pytest.approx(K, rel=1e-2)
    assert values["sigma_g"] < 1e-3


def test_log_likelihood_by_hand():
    x, h = np.array([0.5, 0.6, 0.55]), np.array([0.1, 0.2, 0.0])
    theta = np.array([1.0, 1.0, 0.1])
    mu = x[:2] + 1.0 * x[:2] * (1 - x[:2]) - np.minimum(x[:2], h[:2])
    z = (x[1:] - mu) / 0.1
    expected = np.sum(-0.5 * z**2 - np.log(0.1) - 0.5 * np.log(2 * np.pi))
    assert log_likelihood(theta, x, h) == pytest.approx(expected)


def test_bad_input():
    with pytest.raises(ModelError, match="equal length"):
        log_likelihood(np.ones(3), np.ones(4), np.ones(3))
    with pytest.raises(ModelError, match="order"):
        log_likelihood(np.ones(3), np.ones(4), np.ones(4), order="sideways")
    with pytest.raises(UsageError, match="priors"):
        maximum_likelihood(np.ones(5), np.zeros(5), priors={"r": (0, 1)})
