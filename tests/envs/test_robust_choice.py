"""The ensemble-robust choice among POMDP-pipeline policies, and rollouts with a wrong belief model.

Independent checks: the belief of :class:`~decide.envs.fisheries.model.reference.BeliefPolicy` (a
separate Bayes update) replayed on the simulated surveys; the exact expected NPV of an
action-table policy from the linear system of its Markov chain on (state, previous action); the
choice recomputed from the stored scores with :func:`decide.robust.ensemble.ensemble_objective`;
and a designed case whose right answer is known (every bootstrap model is the gold model).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.cli import build_parser, main
from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import build_pomdp
from decide.envs.fisheries.model.reference import BeliefPolicy
from decide.envs.fisheries.studies.choice.candidates import (
    PipelineSpec,
    build_candidates,
    candidate_values,
    model_pomdp,
)
from decide.envs.fisheries.studies.choice.run import (
    OBJECTIVES,
    ChoiceSettings,
    run_robust_choice,
    run_seed,
)
from decide.envs.fisheries.studies.simulation import common_uniforms, rollouts
from decide.errors import ModelError, UsageError
from decide.pomdp.pointbased import PointBased
from decide.results import read, write
from decide.robust.ensemble import ensemble_objective

TEN_TRIALS = PointBased(time_limit=1e6, max_iterations=10)
TINY = {"k": 3, "n_grid": 10, "solver": TEN_TRIALS, "replicates": 30, "gold_replicates": 30,
        "horizon": 15}  # fmt: skip
SPEC = PipelineSpec(
    n_grid=10, upper=2.0, survey_sd=0.1, discount=0.95, sigma_g_cap=None, solver=TEN_TRIALS
)
GOLD = (0.75, 1.0, 0.1)
WRONG = (0.3, 0.6, 0.3)


def _solved(pomdp):
    return PointBased(time_limit=60.0, max_iterations=10).solve(pomdp).policy


# ---------------------------------------------------------------- rollouts with an agent model


def test_agent_equal_to_the_truth_is_bit_identical_to_the_default():
    pomdp = build_pomdp(Logistic(0.75, 1.0), 0.1, 0.1, 10, upper=2.0)
    u = common_uniforms(3, 40, 12)
    for policy in (_solved(pomdp), np.arange(10) % 4):
        default = rollouts(pomdp, policy, u, 3)
        explicit = rollouts(pomdp, policy, u, 3, agent=pomdp)
        for key, value in default.items():
            assert np.array_equal(value, explicit[key]), key


def test_a_wrong_agent_changes_the_actions_but_not_the_first_draws():
    truth = build_pomdp(Logistic(0.75, 1.0), 0.1, 0.1, 10, upper=2.0)
    agent = build_pomdp(Logistic(*WRONG[:2]), WRONG[2], 0.1, 10, upper=2.0)
    policy = _solved(agent)
    u = common_uniforms(5, 40, 12)
    knows, believes = rollouts(truth, policy, u, 3), rollouts(truth, policy, u, 3, agent=agent)
    assert np.array_equal(knows["observation"][:, 0], believes["observation"][:, 0])
    assert np.all(believes["state"][:, 0] == 3)
    assert not np.array_equal(knows["action"], believes["action"])
    # the actions are those of a manager whose exact Bayes belief follows the agent model
    manager = BeliefPolicy(agent, policy)
    for r in range(5):
        manager.reset()
        replay = [manager.step(int(o)) for o in believes["observation"][r]]
        assert replay == list(believes["action"][r])


def test_an_agent_of_another_size_is_refused():
    truth = build_pomdp(Logistic(0.75, 1.0), 0.1, 0.1, 10, upper=2.0)
    agent = build_pomdp(Logistic(0.75, 1.0), 0.1, 0.1, 8, upper=2.0)
    with pytest.raises(ModelError, match="agent"):
        rollouts(truth, np.zeros(10, dtype=np.int64), common_uniforms(0, 2, 3), 3, agent=agent)


@settings(max_examples=15, deadline=None)
@given(
    r=st.floats(0.1, 1.5),
    K=st.floats(0.3, 1.8),
    sigma=st.floats(0.01, 0.6),
    table=st.lists(st.integers(0, 7), min_size=8, max_size=8),
)
def test_an_action_table_ignores_the_agent_model(r, K, sigma, table):
    truth = build_pomdp(Logistic(0.75, 1.0), 0.1, 0.1, 8, upper=2.0)
    agent = build_pomdp(Logistic(r, K), sigma, 0.2, 8, upper=2.0)
    u = common_uniforms(1, 10, 8)
    plain, other = rollouts(truth, np.array(table), u, 2), rollouts(truth, np.array(table), u, 2,
                                                                    agent=agent)  # fmt: skip
    assert all(np.array_equal(plain[key], other[key]) for key in plain)


# ---------------------------------------------------------------- the score of a candidate


def exact_table_value(truth, table: np.ndarray, x0: int, years: int) -> float:
    r"""Exact :math:`E \sum_{k<H} \gamma^{k+1} R(s_k, a_k)` of a policy acting on the last survey.

    The chain on (s, a_prev): survey :math:`o \sim Z(\cdot \mid a_{prev}, s)`, action
    :math:`a = \text{table}[o]`, next state :math:`s' \sim T(\cdot \mid a, s)`. With P its
    transition matrix and r the expected reward per pair, the value from :math:`e = (x_0, 0)` is
    :math:`\gamma\, e^\top (I - (\gamma P)^H)(I - \gamma P)^{-1} r`.
    """
    S, A, gamma = truth.n_states, truth.n_actions, truth.discount
    T, Z = truth.dense_transitions(), truth.dense_observations()
    P = np.zeros((S * A, S * A))
    reward = np.zeros(S * A)
    for s in range(S):
        for a_prev in range(A):
            row = s * A + a_prev
            for o, p_o in enumerate(Z[a_prev, s]):
                a = table[o]
                reward[row] += p_o * truth.R[s, a]
                P[row, np.arange(S) * A + a] += p_o * T[a, s]
    system = np.eye(S * A) - gamma * P
    infinite = np.linalg.solve(system, reward)
    tail = np.linalg.matrix_power(gamma * P, years) @ infinite
    return float(gamma * (infinite - tail)[x0 * A])


def test_the_score_of_an_action_table_matches_the_exact_markov_chain_value():
    candidates = build_candidates(np.array([WRONG, (1.2, 1.4, 0.2)]), SPEC)
    truth = model_pomdp(np.array(GOLD), SPEC)
    u = common_uniforms(11, 3000, 25)
    npv, _ = candidate_values(truth, candidates, u, 3)
    for c, kind in enumerate(candidates.kinds):
        if kind == "POMDP":
            continue
        exact = exact_table_value(truth, candidates.policies[c], 3, 25)
        se = npv[c].std(ddof=1) / np.sqrt(npv.shape[1])
        assert abs(npv[c].mean() - exact) < 4 * se, candidates.names[c]


# ---------------------------------------------------------------- the choice


@pytest.fixture(scope="module")
def tiny_study() -> xr.Dataset:
    return run_robust_choice(ChoiceSettings(seeds=(0, 1), **TINY))


def test_the_choice_is_the_argmax_of_the_objective_on_the_stored_scores(tiny_study):
    ds = tiny_study
    names = ds["candidate"].values
    for seed in ds["seed"].values:
        scores = ds["score"].sel(seed=seed).transpose("model", "candidate").values
        gold = ds["candidate_gold_value"].sel(seed=seed).values
        expected = {"single": int(np.argmax(scores[0]))}
        for method in OBJECTIVES[1:]:
            expected[method] = int(np.argmax(ensemble_objective(scores[1:], method, lam=0.5)))
        for objective, index in expected.items():
            row = ds.sel(seed=seed, objective=objective)
            assert row["chosen"].item() == names[index]
            assert row["gold_value"].item() == gold[index]
        single = ds.sel(seed=seed, objective="single")
        assert single["proxy_value"].item() == pytest.approx(scores[0].max())


def test_the_dataset_has_the_documented_layout_and_round_trips(tiny_study, tmp_path):
    ds = tiny_study
    n = 4 * (1 + TINY["k"])
    assert ds["score"].dims == ("candidate", "model", "seed")
    assert ds["score"].shape == (n, 1 + TINY["k"], 2)
    assert ds["chosen"].dims == ds["gold_value"].dims == ("objective", "seed")
    assert list(ds["objective"].values) == list(OBJECTIVES)
    assert ds["candidate"].values[0] == "single/POMDP" and ds["candidate"].values[-1] == "boot2/TAC"
    path = write(ds, tmp_path / "choice.nc")
    back = read(path)
    xr.testing.assert_identical(back, ds)


def test_the_same_seed_gives_the_same_dataset(tiny_study):
    again = run_robust_choice(ChoiceSettings(seeds=(0, 1), **TINY))
    for ds in (again, tiny_study):
        ds.attrs.pop("created")
    xr.testing.assert_identical(again, tiny_study)


def test_worker_processes_give_the_serial_numbers(tiny_study):
    from decide.parallel import Backend

    spread = run_robust_choice(ChoiceSettings(seeds=(0, 1), **TINY), backend=Backend(workers=2))
    for name in ("score", "candidate_gold_value", "gold_value", "chosen"):
        assert np.array_equal(spread[name].values, tiny_study[name].values), name


def test_when_every_bootstrap_model_is_gold_every_ensemble_picks_a_best_gold_candidate():
    study = ChoiceSettings(seeds=(0,), **{**TINY, "replicates": 400, "gold_replicates": 400})
    models = np.array([WRONG] + [GOLD] * TINY["k"])
    run = run_seed(study, 0, models=models)
    # the Monte Carlo error of a difference between two candidates, estimated independently
    spec = study.pipeline
    candidates = build_candidates(models, spec)
    truth = model_pomdp(np.array(GOLD), spec)
    npv, _ = candidate_values(truth, candidates, common_uniforms(99, 400, TINY["horizon"]), 7)
    best = int(np.argmax(run["gold"]))
    for j, objective in enumerate(OBJECTIVES[1:], start=1):
        chosen = run["chosen"][j]
        se = (npv[best] - npv[chosen]).std(ddof=1) / np.sqrt(400)
        assert run["gold"][chosen] >= run["gold"][best] - 4 * np.sqrt(2) * se, objective


def test_ctrl_c_in_a_solve_leaves_no_cut_short_candidate(monkeypatch):
    """A solver keeps its best policy on Ctrl-C; a candidate built from it would look finished."""
    from decide.pomdp.pointbased import solver as pointbased

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    pointbased.compile_kernels()
    monkeypatch.setattr(pointbased, "run_trials", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        build_candidates(np.array([GOLD, WRONG]), SPEC)


def test_injected_models_must_have_one_row_per_fit():
    with pytest.raises(ModelError, match="models"):
        run_seed(ChoiceSettings(seeds=(0,), **TINY), 0, models=np.array([GOLD] * 2))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"corruption": 1.0}, "corruption"),
        ({"corruption_kind": "flip"}, "corruption_kind"),
        ({"seeds": ()}, "seeds"),
        ({"seeds": (1, 1)}, "seeds"),
        ({"k": 1}, "k"),
        ({"years": 3}, "years"),
        ({"n_grid": 1}, "n_grid"),
        ({"solver": PointBased()}, "solver"),
        ({"replicates": 0}, "replicates"),
        ({"gold_replicates": 0}, "gold_replicates"),
        ({"horizon": 0}, "horizon"),
        ({"upper": 0.0}, "upper"),
        ({"upper": 0.3}, "start"),
        ({"survey_sd": -0.1}, "survey_sd"),
        ({"sigma_g_cap": 0.0}, "sigma_g_cap"),
        ({"discount": 1.0}, "discount"),
        ({"lam": float("nan")}, "lam"),
        ({"r": 0.0}, "r"),
        ({"collapse_threshold": 1.5}, "collapse_threshold"),
        ({"priors": ((0.0, 2.0),)}, "priors"),
    ],
)
def test_settings_errors_name_the_field(change, field):
    with pytest.raises(UsageError, match=f"^{field}:"):
        dataclasses.replace(ChoiceSettings(), **change)


def test_a_callback_stops_the_study_after_the_seed_it_saw():
    seen = []
    ds = run_robust_choice(
        ChoiceSettings(seeds=(0, 1), **TINY), callback=lambda p: seen.append(p) or True
    )
    assert ds.attrs["stop_reason"] == "callback" and ds["seed"].values.tolist() == [0]
    assert [(p.done, p.total, p.task) for p in seen] == [(1, 2, "seed=0")]


# ---------------------------------------------------------------- the command line


def test_the_command_runs_and_writes_the_dataset(tmp_path, capsys):
    out = tmp_path / "choice.nc"
    argv = ["fisheries", "choose", "--seeds", "2", "--models", "2", "--grid", "8",
            "--max-iterations", "5", "--replicates", "10", "--gold-replicates", "10",
            "--horizon", "8", "--out", str(out),
            "--plot", str(tmp_path / "choice.png"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    ds = read(out)
    assert ds.sizes["seed"] == 2 and ds.sizes["model"] == 3
    printed = capsys.readouterr().out
    assert all(objective in printed for objective in OBJECTIVES)
    assert (tmp_path / "choice.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_help_gives_every_option_with_its_default(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["fisheries", "choose", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    group = next(a for a in parser._actions if a.dest == "command").choices["fisheries"]
    choose = next(a for a in group._actions if a.dest == "fisheries_command").choices["choose"]
    options = [a for a in choose._actions if a.option_strings and a.dest != "help"]
    assert len(options) == 18
    section = text[text.index("options:") :]
    starts = [section.index(f" {action.option_strings[0]} ") for action in options]
    for action, begin, end in zip(options, starts, [*starts[1:], len(section)], strict=True):
        assert f"(default: {action.default})" in section[begin:end], action.dest
