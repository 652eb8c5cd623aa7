"""The offline study: policies learnt from noisy historical records, judged on
the gold model.

The acceptance criterion asks the regularised (RPO-style) policy to beat the historical policy
and the greedy policy of the single fitted model on the gold model. The confidence set of the
max–min is the ML fit plus the bootstrap refits inside the likelihood-ratio set
(χ²₃(0.95)/2 = 3.91 of log-likelihood on the records). With the study's defaults
(``run_offline_study()``, seeds 0-39) the regularised policy beats the historical behaviour
policy (+1.981 ± 0.043, 40/40 seeds) and the managers' own rule h = 0.3 y (+0.248 ± 0.041,
37/40), both tested below.

**With the logistic fit, "regularised beats greedy-on-fitted" is not met**: regularised 3.489
against greedy-on-fitted 3.449, a paired difference of +0.040 ± 0.046 (mean ± standard error;
better on 18 of 40 seeds), and −0.005 ± 0.031 on seeds 40–199; reported here, not asserted.
Constant escapement from the fitted model (CE, 3.544) beats every learnt policy.

**With the flexible surplus model** (``model="surplus"``), on seeds 40–199 (the confirmation
run fixed in advance after exploring seeds 0–39, where the difference was +0.008 ± 0.042), the
regularised policy beats greedy-on-fitted (+0.074 ± 0.032, 90/160, median +0.002) and the
historical policy (+1.691 ± 0.047), asserted below; simpler rules do better still: greedy on the
logistic fit (3.498) and CE (3.550) against regularised 3.240, also asserted. The managers' rule
is level with it on the mean (−0.025 ± 0.047; ahead on 108 of 160), not asserted.

References that do not come from the code under test: the gold optimum (exact dynamic
programming on the gold MDP) bounds every policy; the χ² table value 7.815 decides membership of
the confidence set; and the max–min policy must be at least as good as every other policy on
the worst model of the set, up to the KL allowance β log A / (1 − γ) its objective pays.
"""

from __future__ import annotations

import numpy as np
import pytest

from decide.envs.fisheries.data.fitting import log_likelihood
from decide.envs.fisheries.studies.offline.run import run_offline_study, simulate_history, summary
from decide.envs.fisheries.studies.offline.settings import OfflineSettings
from decide.errors import UsageError
from decide.results import parameters, read, validate


@pytest.fixture(scope="module")
def study():
    return run_offline_study()  # the defaults: 40 seeds, σm = 0.1, 10 % gross records


def paired(ds, better: str, worse: str) -> tuple[float, float]:
    """Mean and standard error over seeds of the gold-value difference better − worse."""
    gold = ds.gold_value
    diff = (gold.sel(policy=better) - gold.sel(policy=worse)).values
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(diff.size))


def test_dataset_follows_the_schema(study):
    validate(study, required_vars=("gold_value", "fitted_value", "worst_set_value"))
    assert study.gold_value.dims == ("policy", "seed")
    assert study.sizes["seed"] == 40
    assert {"historical", "greedy_fitted", "pessimistic", "regularised", "a2pr", "CE"} <= set(
        study.policy.values
    )
    assert parameters(study)["eta"] == 0.01
    assert "regularised" in summary(study)


def test_gold_optimum_bounds_every_policy(study):
    gold = study.gold_value
    assert np.all(gold <= gold.sel(policy="gold_optimal") + 1e-9)


def test_max_min_policy_is_best_on_the_worst_model_of_the_set(study):
    worst = study.worst_set_value
    allowance = 0.001 * np.log(55) / (1 - 0.95)  # β log A / (1 − γ)
    others = worst.drop_sel(policy=["pessimistic"])
    assert np.all(worst.sel(policy="pessimistic") >= others.max("policy") - allowance)


def test_regularised_beats_the_historical_policy(study):
    mean, se = paired(study, "regularised", "historical")
    assert mean > 3 * se > 0
    # the managers' rule h = 0.3 y itself (not estimated): +0.248 ± 0.041
    mean, se = paired(study, "regularised", "historical_rule")
    assert mean > 3 * se > 0


def test_confidence_set_is_the_likelihood_ratio_set(study):
    # the history is the first thing each seed's generator draws, so it can be replayed
    threshold = 7.815 / 2  # χ²₃(0.95) / 2 from the table
    for i, seed in enumerate(study.seed.values[:10]):
        history = simulate_history(np.random.default_rng(int(seed)))
        fits = study.fit.values[i]
        drop = log_likelihood(fits[0], history.records, history.catches, "harvest_first")
        drop = drop - log_likelihood(fits, history.records, history.catches, "harvest_first")
        assert np.all(drop >= -1e-6)  # the ML fit maximises the likelihood of these records
        kept = study.in_set.values[i]
        assert kept[0]
        clear = np.abs(drop - threshold) > 1e-3
        np.testing.assert_array_equal(kept[clear], (drop <= threshold)[clear])
    # the screening is not vacuous: some refits are rejected, and the set is never empty
    assert 0 < study.in_set.values[:, 1:].sum() < study.in_set.values[:, 1:].size


def test_same_seed_same_numbers():
    kwargs = {"seeds": [3], "n_years": 20, "n_grid": 21, "n_bootstrap": 2}
    first, second = (run_offline_study(OfflineSettings(**kwargs)) for _ in range(2))
    np.testing.assert_array_equal(first.gold_value.values, second.gold_value.values)
    np.testing.assert_array_equal(first.fit.values, second.fit.values)


def test_history_follows_the_managers_rule():
    rng = np.random.default_rng(11)
    history = simulate_history(rng, n_years=2000, sigma_m=0.0, gross_fraction=0.0, rate=0.2)
    assert history.stock.size == 2000 and history.stock.min() > 0
    np.testing.assert_array_equal(history.records, history.stock)
    rates = history.quotas / history.surveys
    # the jitter is mean-preserving: E[u_t] = 0.2, sd 0.2 sqrt(e^0.04 - 1) ≈ 0.0404
    assert rates.mean() == pytest.approx(0.2, abs=4 * 0.0404 / np.sqrt(2000))
    np.testing.assert_allclose(history.catches, np.minimum(history.stock, history.quotas))


def test_history_ends_at_a_collapse_and_gross_errors_stay_in_the_records():
    rng = np.random.default_rng(5)
    history = simulate_history(rng, n_years=200, rate=0.8, gross_fraction=0.5)
    n = history.stock.size
    assert n < 200 and history.stock[-1] == 0 and np.all(history.stock[:-1] > 0)
    assert history.surveys[-1] == 0
    np.testing.assert_array_equal(history.records[~history.gross], history.surveys[~history.gross])
    assert np.any(history.records[history.gross] != history.surveys[history.gross])


# ---------------------------------------------------------------- the flexible surplus model


@pytest.fixture(scope="module")
def surplus():
    return run_offline_study(
        OfflineSettings(model="surplus", seeds=range(40, 200))
    )  # the confirmation run


def test_surplus_regularised_beats_greedy_on_fitted_and_historical(surplus):
    for other in ("greedy_fitted", "historical"):
        mean, se = paired(surplus, "regularised", other)
        assert mean - 2 * se > 0, other


def test_surplus_simpler_rules_from_the_logistic_fit_do_better(surplus):
    for simpler in ("greedy_logistic", "CE"):
        mean, se = paired(surplus, simpler, "regularised")
        assert mean - 2 * se > 0, simpler


def test_surplus_study_shares_histories_and_bounds(surplus):
    logistic = run_offline_study(OfflineSettings(seeds=[40, 41], n_bootstrap=1)).gold_value
    ours = surplus.gold_value.sel(seed=[40, 41])
    for name in ("historical", "historical_rule", "CE", "gold_optimal"):
        np.testing.assert_allclose(ours.sel(policy=name), logistic.sel(policy=name), rtol=1e-12)
    np.testing.assert_allclose(ours.sel(policy="greedy_logistic"),
                               logistic.sel(policy="greedy_fitted"))  # fmt: skip
    assert np.all(surplus.gold_value <= surplus.gold_value.sel(policy="gold_optimal") + 1e-9)
    assert surplus.surplus.dims == ("seed", "model", "knot")
    assert np.all(surplus.surplus.values[..., 0] == 0) and np.all(surplus.in_set.values[:, 0])
    assert np.all(surplus.dof > 1) and np.all(surplus.penalty > 0)


def test_max_min_policy_is_best_on_the_worst_model_of_the_surplus_set(surplus):
    test_max_min_policy_is_best_on_the_worst_model_of_the_set(surplus)


def test_no_screening_keeps_every_refit_and_bad_options_are_refused():
    settings = OfflineSettings(model="surplus", seeds=[1], n_bootstrap=3, level=None, n_grid=21)
    ds = run_offline_study(settings)
    assert ds.in_set.values.all()
    with pytest.raises(UsageError, match="model"):
        OfflineSettings(model="spline", seeds=[1])
    with pytest.raises(UsageError, match="level"):
        OfflineSettings(level=1.0, seeds=[1])


def test_cli_runs_writes_the_dataset_and_the_figure(tmp_path, capsys):
    from decide.cli import main

    out, figure = tmp_path / "offline.nc", tmp_path / "offline.png"
    argv = ["fisheries", "offline", "--model", "surplus", "--seeds", "2", "--first-seed", "40",
            "--bootstrap", "2", "--out", str(out), "--plot", str(figure), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "greedy_fitted" in printed and "better on" in printed
    ds = read(out)
    assert list(ds.seed.values) == [40, 41] and "surplus" in ds
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = tmp_path / "bad.nc"
    with pytest.raises(SystemExit) as exit_code:
        main(["fisheries", "offline", "--level", "1.5", "--out", str(bad)])
    assert exit_code.value.code == 2
    assert "--level" in capsys.readouterr().err and not bad.exists()


def test_cli_help_gives_every_default(capsys):
    from decide.cli import main

    with pytest.raises(SystemExit):
        main(["fisheries", "offline", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    text = text[text.index("options:") :]
    for option, default in (("--model", "logistic"), ("--seeds", "40"), ("--level", "0.95"),
                            ("--eta", "0.01"), ("--gross", "0.1"), ("--rate", "0.3")):  # fmt: skip
        start = text.index(f"{option} ")
        assert f"(default: {default})" in text[start : start + 200], option
