"""Overoptimisation curves: best-of-n KL, fits of the two gold-score forms, peaks, early stopping.

Reference numbers come from quadrature, an exact discrete best-of-n computation, the closed-form
peaks and noiseless synthetic curves; noisy tolerances are stated in multiples of the standard
error of ordinary least squares, computed here from the design matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from decide.errors import UsageError
from decide.robust.curves import (
    CurveFit,
    EarlyStopping,
    best_of_n_kl,
    bon_gold,
    bon_peak,
    fit_curve,
    po_gold,
    po_peak,
)

GOLD = {"bon": bon_gold, "po": po_gold}
PEAK = {"bon": bon_peak, "po": po_peak}
# (alpha, beta) with a peak inside d in [0.1, 4]: d* = 1/(2·0.3) = 1.667 (bon),
# exp(0.8/0.5 − 1) = 1.822 (po)
TRUE = {"bon": (1.0, 0.3), "po": (0.8, 0.5)}


def curvature(d: np.ndarray, form: str) -> np.ndarray:
    return d * d if form == "bon" else d * np.log(d)


def ols_covariance(d: np.ndarray, form: str, noise_sd: float) -> np.ndarray:
    """Covariance of the OLS estimate of (alpha, beta): sigma² (XᵀX)⁻¹ with X = [d, −g(d)]."""
    design = np.column_stack([d, -curvature(d, form)])
    return noise_sd**2 * np.linalg.inv(design.T @ design)


# ---------------------------------------------------------------- best-of-n KL


def kl_by_quadrature(n: float) -> float:
    """∫_0^1 n u^(n−1) log(n u^(n−1)) du: the KL of the best-of-n quantile density from uniform."""

    def integrand(u: float) -> float:
        density = n * u ** (n - 1)
        return 0.0 if density == 0 else density * (math.log(n) + (n - 1) * math.log(u))

    value, _ = quad(integrand, 0.0, 1.0, epsabs=1e-13, epsrel=1e-13, limit=500)
    return value


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16, 64, 256, 1000, 2.5])
def test_best_of_n_kl_matches_quadrature(n):
    assert best_of_n_kl(n) == pytest.approx(kl_by_quadrature(n), abs=1e-8)


def test_best_of_n_kl_of_one_is_zero_and_arrays_keep_their_shape():
    assert best_of_n_kl(1) == 0.0
    n = np.array([[1, 2], [4, 8]])
    kl = best_of_n_kl(n)
    assert kl.shape == (2, 2)
    np.testing.assert_allclose(kl, np.log(n) - (n - 1) / n, rtol=0, atol=0)
    assert np.all(np.diff(best_of_n_kl(np.arange(1, 50))) > 0)


@pytest.mark.parametrize("n", [2, 8, 64])
def test_best_of_n_kl_bounds_the_exact_discrete_kl(n):
    # Reference policy uniform on M distinct values: the best of n is value i with probability
    # (i/M)^n − ((i−1)/M)^n. Its exact KL is below the formula and converges to it as M grows.
    gaps = []
    for m in (10, 1_000, 100_000):
        i = np.arange(1, m + 1)
        p = (i / m) ** n - ((i - 1) / m) ** n
        p = p[p > 0]
        gaps.append(best_of_n_kl(n) - float(np.sum(p * np.log(p * m))))
    assert all(gap >= 0 for gap in gaps)
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-7


# ---------------------------------------------------------------- forms and peaks


def test_gold_forms_and_closed_form_peaks():
    d = np.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(bon_gold(d, 1.0, 0.3), [0.0, 0.5 * 0.85, 2.0 * 0.4])
    np.testing.assert_allclose(
        po_gold(d, 0.8, 0.5),
        [0.0, 0.5 * (0.8 + 0.5 * math.log(2)), 2.0 * (0.8 - 0.5 * math.log(2))],
    )
    assert bon_peak(1.0, 0.3) == pytest.approx(1.0 / 0.6)
    assert po_peak(0.8, 0.5) == pytest.approx(math.exp(0.6))
    for alpha, beta in [(1.0, 0.0), (1.0, -0.2), (-1.0, -0.2)]:
        assert bon_peak(alpha, beta) == math.inf
        assert po_peak(alpha, beta) == math.inf
    # no rise at all: the best pressure is none
    assert bon_peak(-1.0, 0.3) == 0.0
    assert bon_peak(-1.0, 0.0) == po_peak(-1.0, 0.0) == 0.0


@pytest.mark.parametrize("form", ["bon", "po"])
def test_closed_form_peak_is_the_argmax_on_a_fine_grid(form):
    alpha, beta = TRUE[form]
    grid = np.linspace(1e-3, 6.0, 600_001)
    argmax = grid[np.argmax(GOLD[form](grid, alpha, beta))]
    assert PEAK[form](alpha, beta) == pytest.approx(argmax, abs=1e-5)


# ---------------------------------------------------------------- fits


@pytest.mark.parametrize("form", ["bon", "po"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_fit_recovers_parameters_from_noisy_curves(form, seed):
    # 40 points on [0.1, 4], Gaussian noise sd 0.03 (≈ 3.5 % of the peak gain). The OLS standard
    # errors are ≤ 1.2 % of the true values, so the 5 % tolerance is more than 4 standard errors.
    alpha, beta = TRUE[form]
    d = np.linspace(0.1, 4.0, 40)
    noise_sd = 0.03
    relative_se = np.sqrt(np.diag(ols_covariance(d, form, noise_sd))) / np.array([alpha, beta])
    assert np.all(relative_se < 0.05 / 4)
    rng = np.random.default_rng(seed)
    score = GOLD[form](d, alpha, beta) + rng.normal(0.0, noise_sd, d.size)
    fit = fit_curve(d, score, form)
    assert fit.form == form and fit.n == 40
    assert fit.alpha == pytest.approx(alpha, rel=0.05)
    assert fit.beta == pytest.approx(beta, rel=0.05)
    assert fit.rmse == pytest.approx(noise_sd, rel=0.3)


@settings(max_examples=100, deadline=None)
@given(
    alpha=st.floats(0.05, 10.0),
    beta=st.one_of(st.floats(0.01, 5.0), st.floats(-5.0, -0.01)),
    form=st.sampled_from(["bon", "po"]),
    m=st.integers(3, 60),
)
def test_fit_is_exact_on_noiseless_curves(alpha, beta, form, m):
    d = np.linspace(0.1, 4.0, m)
    fit = fit_curve(d, GOLD[form](d, alpha, beta), form)
    assert fit.alpha == pytest.approx(alpha, rel=1e-9)
    assert fit.beta == pytest.approx(beta, rel=1e-9)
    assert fit.rmse < 1e-9 * alpha
    np.testing.assert_allclose(fit.predict(d), GOLD[form](d, alpha, beta), rtol=1e-9, atol=1e-12)
    if beta < 0:
        assert fit.peak_d == fit.peak_score == math.inf


def test_fit_reports_the_peak_of_its_own_coefficients():
    d = np.linspace(0.1, 4.0, 30)
    fit = fit_curve(d, bon_gold(d, 1.0, 0.3), "bon")
    assert isinstance(fit, CurveFit)
    assert fit.peak_d == pytest.approx(1.0 / 0.6, rel=1e-9)
    assert fit.peak_score == pytest.approx(1.0**2 / (4 * 0.3), rel=1e-9)  # α²/4β
    fit = fit_curve(d, po_gold(d, 0.8, 0.5), "po")
    assert fit.peak_score == pytest.approx(0.5 * math.exp(0.6), rel=1e-9)  # β d* at the peak
    with pytest.raises(AttributeError):
        fit.alpha = 2.0


@pytest.mark.parametrize("form", ["bon", "po"])
def test_fitted_peak_matches_the_empirical_peak_on_a_fine_grid(form):
    # Grid d = 0.10, 0.11, ..., 4.00 (spacing h = 0.01), noise sd 0.03. We compare
    # (a) fitted d* with the argmax of the true curve on the grid: within h/2 (grid rounding) plus
    #     4 standard errors of d* (delta method on the OLS covariance: ≈ 0.0012 bon, 0.0045 po);
    # (b) fitted d* with the argmax of the noisy sample smoothed by an 81-point centred moving
    #     average (width 0.8 in d): within 0.15 for every seed;
    # (c) over 20 seeds, the fitted d* is on average at least 5× closer to the true peak than the
    #     smoothed empirical argmax is.
    alpha, beta = TRUE[form]
    h, noise_sd, window = 0.01, 0.03, 81
    d = np.round(np.arange(0.1, 4.0 + h / 2, h), 10)
    true_curve = GOLD[form](d, alpha, beta)
    grid_argmax = d[np.argmax(true_curve)]
    true_peak = PEAK[form](alpha, beta)
    assert abs(grid_argmax - true_peak) <= h / 2

    if form == "bon":
        gradient = np.array([1 / (2 * beta), -alpha / (2 * beta**2)])
    else:
        gradient = true_peak * np.array([1 / beta, -alpha / beta**2])
    peak_se = math.sqrt(gradient @ ols_covariance(d, form, noise_sd) @ gradient)

    centres = d[window // 2 : d.size - window // 2]
    fit_errors, smoothed_errors = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        score = true_curve + rng.normal(0.0, noise_sd, d.size)
        fitted_peak = fit_curve(d, score, form).peak_d
        smoothed = np.convolve(score, np.ones(window) / window, mode="valid")
        smoothed_argmax = centres[np.argmax(smoothed)]
        assert abs(fitted_peak - grid_argmax) <= h / 2 + 4 * peak_se
        assert abs(fitted_peak - smoothed_argmax) <= 0.15
        fit_errors.append(abs(fitted_peak - true_peak))
        smoothed_errors.append(abs(smoothed_argmax - true_peak))
    assert np.mean(fit_errors) * 5 < np.mean(smoothed_errors)


# ---------------------------------------------------------------- early stopping


def pressure_schedule(form: str) -> np.ndarray:
    """Best-of-n sweep n = 2, 4, ..., 4096 (d = √KL), or PO checkpoints every 0.25."""
    if form == "bon":
        return np.sqrt(best_of_n_kl(2.0 ** np.arange(1, 13)))
    return 0.25 * np.arange(1, 25)


def stopping_index(rule: EarlyStopping, d: np.ndarray, score: np.ndarray) -> int | None:
    for index, (pressure, value) in enumerate(zip(d, score, strict=True)):
        if rule.update(pressure, value).stop:
            return index
    return None


@pytest.mark.parametrize("form", ["bon", "po"])
@pytest.mark.parametrize("patience", [1, 2, 3])
def test_early_stopping_on_a_noiseless_curve_stops_just_after_the_peak(form, patience):
    alpha, beta = TRUE[form]
    d = pressure_schedule(form)
    first_past = int(np.argmax(d > PEAK[form](alpha, beta)))  # 5 for bon, 7 for po
    assert first_past >= 4
    index = stopping_index(EarlyStopping(form, patience=patience), d, GOLD[form](d, alpha, beta))
    assert index == first_past + patience - 1


@settings(max_examples=60, deadline=None)
@given(
    alpha=st.floats(0.1, 3.0),
    beta=st.floats(0.05, 2.0),
    form=st.sampled_from(["bon", "po"]),
    patience=st.integers(1, 3),
    min_points=st.integers(3, 6),
)
def test_early_stopping_never_stops_before_a_noiseless_peak(
    alpha, beta, form, patience, min_points
):
    d = pressure_schedule(form)
    peak = PEAK[form](alpha, beta)
    assume(np.min(np.abs(d - peak)) > 1e-6)  # a checkpoint exactly at the peak is ambiguous
    rule = EarlyStopping(form, min_points=min_points, patience=patience)
    index = stopping_index(rule, d, GOLD[form](d, alpha, beta))
    past = d > peak
    if not past.any() or np.argmax(past) + patience > d.size:
        assert index is None
        return
    first_fitted_past = max(int(np.argmax(past)), min_points - 1)
    expected = first_fitted_past + patience - 1
    assert index == (expected if expected < d.size else None)
    assert d[index] > peak


@pytest.mark.parametrize("form", ["bon", "po"])
@pytest.mark.parametrize("seed", range(5))
def test_early_stopping_on_a_noisy_curve_stops_one_or_two_steps_after_the_peak(form, seed):
    # Noise sd 0.01 (≈ 1.2 % of the peak gain), default patience 2: in a simulation with 300
    # seeds per form every run stopped at the first or second checkpoint past the true peak.
    alpha, beta = TRUE[form]
    d = pressure_schedule(form)
    first_past = int(np.argmax(d > PEAK[form](alpha, beta)))
    rng = np.random.default_rng(seed)
    score = GOLD[form](d, alpha, beta) + rng.normal(0.0, 0.01, d.size)
    rule = EarlyStopping(form)
    index = stopping_index(rule, d, score)
    assert index in (first_past, first_past + 1)
    last = rule.update(d[index + 1], score[index + 1])  # one more point, to read the fit
    assert last.fit is not None and last.peak_d == last.fit.peak_d
    assert last.peak_d == pytest.approx(PEAK[form](alpha, beta), rel=0.1)


@pytest.mark.parametrize("form", ["bon", "po"])
@pytest.mark.parametrize("beta", [0.0, -0.05])
def test_early_stopping_does_not_stop_on_a_rising_curve(form, beta):
    d = pressure_schedule(form)
    clean = GOLD[form](d, 0.8, beta)
    assert np.all(np.diff(clean) > 0)
    assert stopping_index(EarlyStopping(form, patience=1), d, clean) is None
    rng = np.random.default_rng(7)
    noisy = clean + rng.normal(0.0, 0.01, d.size)
    assert stopping_index(EarlyStopping(form), d, noisy) is None


def test_early_stopping_reports_nothing_before_min_points():
    rule = EarlyStopping("bon", min_points=5)
    for pressure in (0.5, 1.0, 1.5, 2.0):
        decision = rule.update(pressure, bon_gold(pressure, 1.0, 0.3))
        assert not decision.stop and decision.fit is None and math.isnan(decision.peak_d)
    decision = rule.update(2.5, bon_gold(2.5, 1.0, 0.3))
    assert decision.fit is not None and decision.peak_d == pytest.approx(1.0 / 0.6)
    assert decision.past_peak == 1
    assert rule.points[0].tolist() == [0.5, 1.0, 1.5, 2.0, 2.5]


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("n", [0, 0.5, -1, np.nan, np.inf, [1, 0.9], True, "ten"])
def test_best_of_n_kl_rejects_bad_n(n):
    with pytest.raises(UsageError, match=r"^n:"):
        best_of_n_kl(n)


@pytest.mark.parametrize(
    ("d", "score", "form", "argument"),
    [
        ([0.1, 0.2, 0.3], [0.0, 0.1], "bon", "score"),
        ([0.1, 0.2], [0.0, 0.1], "bon", "d"),
        ([0.0, 0.2, 0.3], [0.0, 0.1, 0.2], "bon", "d"),
        ([-0.1, 0.2, 0.3], [0.0, 0.1, 0.2], "po", "d"),
        ([0.1, np.nan, 0.3], [0.0, 0.1, 0.2], "bon", "d"),
        ([0.1, 0.2, np.inf], [0.0, 0.1, 0.2], "bon", "d"),
        ([0.1, 0.2, 0.3], [0.0, np.nan, 0.2], "po", "score"),
        ([0.5, 0.5, 0.5], [0.0, 0.1, 0.2], "bon", "d"),
        ([[0.1, 0.2, 0.3]], [[0.0, 0.1, 0.2]], "bon", "d"),
        ([0.1, 0.2, 0.3], [0.0, 0.1, 0.2], "ppo", "form"),
    ],
)
def test_fit_curve_rejects_bad_inputs_naming_the_argument(d, score, form, argument):
    with pytest.raises(UsageError, match=rf"^{argument}:"):
        fit_curve(d, score, form)


def test_gold_forms_and_early_stopping_reject_bad_arguments():
    with pytest.raises(UsageError, match=r"^d:"):
        bon_gold(-0.1, 1.0, 0.3)
    with pytest.raises(UsageError, match=r"^d:"):
        po_gold([0.1, np.nan], 1.0, 0.3)
    with pytest.raises(UsageError, match=r"^form:"):
        EarlyStopping("dpo")
    with pytest.raises(UsageError, match=r"^min_points:"):
        EarlyStopping(min_points=2)
    with pytest.raises(UsageError, match=r"^patience:"):
        EarlyStopping(patience=0)
    with pytest.raises(UsageError, match=r"^patience:"):
        EarlyStopping(patience=1.5)
    rule = EarlyStopping()
    with pytest.raises(UsageError, match=r"^d:"):
        rule.update(0.0, 0.1)
    with pytest.raises(UsageError, match=r"^score:"):
        rule.update(0.5, math.inf)
    assert rule.points[0].size == 0  # a rejected point is not recorded
