r"""Offline improvement of a historical harvest policy from noisy records.

The gold model, the managers' history (noisy surveys, grossly wrong records, collapses) and
the models they fit (one fit, bootstrap refits and the likelihood-ratio confidence set drawn
from them, each turned into a tabular MDP) are in
:mod:`decide.envs.fisheries.studies.offline.history`. The fitted model is the logistic
(``model="logistic"``, the default) or a flexible penalised piecewise-linear surplus production
(``model="surplus"``,
:mod:`decide.envs.fisheries.data.surplus_fit`), which is wrong where the records are thin.
Policies are judged by
their exact discounted value on the fully observed gold MDP
(:func:`decide.mdp.policy_evaluation`) from a start distribution μ0: the empirical
distribution of the historical (surveyed) states, the states the fishery has actually been in.
Every policy, including the optimiser's objective, uses the same μ0.

The behaviour policy is estimated from the pairs (snapped survey record, snapped quota) with a
Dirichlet prior α = 0.001 per action (:func:`decide.robust.offline.behaviour_from_history`;
A α = 0.055 pseudo-records per state against one to a few records in a visited state).

**Scales of β and η.** Values are discounted catches, about 1–3 from μ0. The KL temperature
β = 0.001 costs a deterministic policy at most :math:`\beta \log A / (1 - \gamma) = 0.08`
of regularised value (β = 0.01 would cost up to 0.8, a third of the value). The imitation
weight η = 0.01 prices one nat of average log-likelihood of the records at 0.01 of value (about
1 % of it), a small pull in the spirit of RPO's small η; ``eta_sweep`` shows the rest of the
curve. None of the three is tuned on the gold model.

**Policies compared** (all on the grid, state → quota):

* ``historical``: the estimated behaviour policy :math:`\pi_{\text{hist}}` (uniform in states
  never seen, which is what the data say there);
* ``historical_rule``: the managers' rule without jitter, :math:`h = u x` (context, not fitted);
* ``greedy_fitted``: the optimal policy of the single fitted model;
* ``pessimistic``: :func:`~decide.robust.regularised.regularised_policy` over the confidence
  set (the fit and the bootstrap refits within :math:`\chi^2_p(0.95)/2` of its
  log-likelihood) with η = 0 (max–min only);
* ``regularised``: the same with the imitation weight η (RPO-style);
* ``a2pr``: :func:`~decide.robust.offline.advantage_weighted_imitation` under the fitted model;
* ``CE``, ``MSY``, ``TAC``: the reference rules of
  :func:`~decide.envs.fisheries.model.reference.reference_rules` computed from the **logistic ML
  fit** (r̂, K̂), applied to the state;
* ``greedy_logistic`` (surplus model only): greedy on the logistic ML fit, for comparison;
* ``gold_optimal``: the optimum of the gold MDP (an upper bound, not available to managers);
* ``regularised_eta=…``: optional η sweep (``eta_sweep``), for the value-versus-η curve.

:func:`run_offline_study` returns an xarray Dataset (policy × seed) of gold values, the values
under the single fitted model and the worst model of the confidence set (the proxies), the
fitted parameters and which fits form the set.

**Results** (gold value mean ± SE; paired differences mean ± SE, histories won; the numbers of
docs/robust.md, from ``benchmarks/robust.py --only offline``).

* Logistic, seeds 0–39: regularised 3.489 ± 0.051, greedy-on-fitted 3.449 ± 0.084, CE of the
  fit 3.544 ± 0.041, the managers' rule 3.241 ± 0.020, historical 1.508 ± 0.048. Regularised
  − historical +1.981 ± 0.043 (40/40), − greedy-on-fitted +0.040 ± 0.046 (18/40; on seeds
  40–199 −0.005 ± 0.031): *not* better than greedy. Greedy's loss comes from the process-error
  fit's σg (0.2–0.5 against 0.1), an error every model of the set shares.
* Surplus, seeds 40–199 (the confirmation run fixed in advance after exploring seeds 0–39):
  regularised 3.240 ± 0.053 against greedy-on-fitted 3.166 ± 0.061, +0.074 ± 0.032 (90/160,
  median +0.002), and − historical +1.691 ± 0.047 (155/160): grossly wrong records put spurious
  surplus where the history was thin, greedy exploits it, the max–min discounts it. But greedy
  on the logistic fit (3.498) and CE (3.550) beat it, and the managers' rule (3.265) is level
  on the mean (−0.025 ± 0.047, though ahead on 108/160).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from decide import parallel
from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import make_grids
from decide.envs.fisheries.model.reference import ConstantEscapement, HarvestRate, reference_rules
from decide.envs.fisheries.studies.offline.dataset import offline_dataset
from decide.envs.fisheries.studies.offline.history import (
    GOLD,
    GOLD_MODEL,
    MODELS,
    ORDER,
    UPPER,
    History,
    _fit,
    bootstrap_fits,
    fitted_mdp,
    fitted_set,
    simulate_history,
)
from decide.errors import ModelError, UsageError
from decide.mdp import TabularMDP, greedy_policy, policy_evaluation, value_iteration
from decide.parallel import Backend
from decide.results import standard_error
from decide.robust.offline import Behaviour, advantage_weighted_imitation, behaviour_from_history
from decide.robust.regularised import regularised_policy

__all__ = [
    "GOLD_MODEL",
    "History",
    "bootstrap_fits",
    "fitted_mdp",
    "run_offline_study",
    "simulate_history",
    "summary",
]


def _rule_policies(ml: np.ndarray, n_grid: int, discount: float) -> dict[str, np.ndarray]:
    """CE, MSY, TAC of the ML fit as one-hot policies on the grid.

    A fit so unproductive that it has no positive escapement target (r ≤ 1/γ − 1) gets the
    limits of the rules as S* → 0: CE takes the whole stock, MSY and TAC take nothing.
    """
    grids = make_grids(GOLD_MODEL, n_grid, upper=UPPER)
    try:
        rules = reference_rules(Logistic(ml[0], ml[1]), discount, ORDER, upper=UPPER)
    except ModelError:
        rules = {
            "CE": ConstantEscapement(0.0),
            "MSY": HarvestRate(0.0, "MSY"),
            "TAC": HarvestRate(0.0, "TAC"),
        }
    return {name: np.eye(n_grid)[rule.action_table(grids)] for name, rule in rules.items()}


def _logistic_greedy(model: str, ml: np.ndarray, n_grid: int, discount: float) -> dict:
    """Greedy on the logistic fit, as context when the policies were learnt with another model."""
    if model == "logistic":
        return {}
    mdp = fitted_mdp(*ml, n_grid=n_grid, discount=discount)
    return {"greedy_logistic": greedy_policy(value_iteration(mdp)[1])}


def _one_seed(seed: int, settings: dict) -> dict:
    rng = np.random.default_rng(seed)
    n_grid, discount = settings["n_grid"], settings["discount"]
    history = simulate_history(
        rng,
        n_years=settings["n_years"],
        sigma_g=settings["sigma_g"],
        sigma_m=settings["sigma_m"],
        gross_fraction=settings["gross_fraction"],
        rate=settings["rate"],
        rate_jitter=settings["rate_jitter"],
    )
    ml = _fit(history.records, history.catches)  # the logistic fit, also behind CE, MSY, TAC
    models = fitted_set(settings["model"], history, ml, settings["n_bootstrap"],
                        settings["level"], rng, n_grid=n_grid, discount=discount)  # fmt: skip
    fitted, ensemble = models.fitted, models.ensemble
    gold = fitted_mdp(*GOLD, settings["sigma_g"], n_grid=n_grid, discount=discount)
    grids = make_grids(GOLD_MODEL, n_grid, upper=UPPER)
    behaviour: Behaviour = behaviour_from_history(
        grids.snap_observation(history.records),
        grids.snap_action(history.quotas),
        n_grid,
        n_grid,
        prior=settings["prior"],
    )
    mu0 = behaviour.state_frequencies
    eta, beta = settings["eta"], settings["beta"]

    def rpo(weight: float) -> np.ndarray:
        return regularised_policy(ensemble, behaviour, eta=weight, beta=beta, initial=mu0).policy

    policies = {
        "historical": behaviour.policy,
        "historical_rule": np.eye(n_grid)[grids.snap_action(settings["rate"] * grids.states)],
        "greedy_fitted": greedy_policy(value_iteration(fitted)[1]),
        "pessimistic": rpo(0.0),
        "regularised": rpo(eta),
        "a2pr": advantage_weighted_imitation(fitted, behaviour)[0],
        **_rule_policies(ml, n_grid, discount),
        **_logistic_greedy(settings["model"], ml, n_grid, discount),
        "gold_optimal": greedy_policy(value_iteration(gold)[1]),
    }
    for weight in settings["eta_sweep"]:
        policies[f"regularised_eta={weight:g}"] = rpo(weight)

    def value(mdp: TabularMDP, pi: np.ndarray) -> float:
        return float(mu0 @ policy_evaluation(mdp, pi))

    return {
        "gold": {name: value(gold, pi) for name, pi in policies.items()},
        "fitted": {name: value(fitted, pi) for name, pi in policies.items()},
        "worst": {name: min(value(m, pi) for m in ensemble) for name, pi in policies.items()},
        "fits": models.fits,
        "in_set": models.in_set,
        "details": models.details,
        "gross": int(history.gross.sum()),
    }


def run_offline_study(
    *,
    seeds: Sequence[int] = tuple(range(40)),
    model: str = "logistic",
    n_years: int = 50,
    sigma_g: float = 0.1,
    sigma_m: float = 0.1,
    gross_fraction: float = 0.1,
    rate: float = 0.3,
    rate_jitter: float = 0.2,
    n_bootstrap: int = 5,
    level: float | None = 0.95,
    eta: float = 0.01,
    beta: float = 0.001,
    prior: float = 0.001,
    n_grid: int = 55,
    discount: float = 0.95,
    eta_sweep: Sequence[float] = (),
    backend: Backend | None = None,
    quiet: bool = True,
) -> xr.Dataset:
    r"""Gold values of the offline policies over seeds (module docstring).

    Parameters
    ----------
    seeds : sequence of int
        One history (and bootstrap) per seed: ``numpy.random.default_rng(seed)``.
    model : {"logistic", "surplus"}
        What the managers fit: the logistic model by maximum likelihood, or the flexible
        penalised piecewise-linear surplus (:mod:`decide.envs.fisheries.data.surplus_fit`); see
        :func:`~decide.envs.fisheries.studies.offline.history.fitted_set`.
    n_years, sigma_g, sigma_m, gross_fraction, rate, rate_jitter
        The history: years, process noise (also the gold model's), survey noise, share of grossly
        wrong records, the managers' harvest rate and its log-scale jitter.
    n_bootstrap : int
        Bootstrap refits drawn; those inside the likelihood-ratio set of level ``level``
        join the ML fit in the confidence set.
    level : float or None
        Confidence level of the likelihood-ratio set; None keeps every refit.
    eta, beta : float
        Imitation weight η and KL temperature β of the regularised policy (value units: the
        discounted catch).
    prior : float
        Dirichlet concentration per action of the behaviour policy.
    n_grid, discount : int, float
        Grid points on [0, 2] and γ.
    eta_sweep : sequence of float
        Extra η values, reported as policies ``regularised_eta=…``.
    backend : decide.parallel.Backend, optional
        Where the histories run (one task each); default serial. Same numbers anywhere.
    quiet : bool
        No progress bar over the histories (the default; also off when not a terminal).

    Returns
    -------
    xarray.Dataset
        ``gold_value``, ``fitted_value``, ``worst_set_value`` (policy, seed); the fits, ``fit``
        (seed, model, parameter) for the logistic or ``surplus`` (seed, model, knot) with
        ``penalty``, ``dof`` and ``fit_sigma_g`` (seed) for the surplus model; ``in_set``
        (seed, model): which fits form the confidence set.
    """
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(f"seeds: expected distinct integers, got {seeds}")
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < 1:
        raise UsageError(f"n_bootstrap: expected an integer >= 1, got {n_bootstrap}")
    if int(n_years) != n_years or n_years < 4:
        raise UsageError(f"n_years: expected an integer >= 4, got {n_years}")
    if level is not None and not 0.0 < level < 1.0:
        raise UsageError(f"level: expected None or a confidence level in (0, 1), got {level}")
    if model not in MODELS:
        raise UsageError(f"model: expected one of {MODELS}, got {model!r}")
    if not 0.0 <= gross_fraction < 1.0:
        raise UsageError(f"gross_fraction: expected a value in [0, 1), got {gross_fraction}")
    settings = {
        "n_years": int(n_years),
        "sigma_g": float(sigma_g),
        "sigma_m": float(sigma_m),
        "gross_fraction": float(gross_fraction),
        "rate": float(rate),
        "rate_jitter": float(rate_jitter),
        "n_bootstrap": int(n_bootstrap),
        "model": model,
        "level": None if level is None else float(level),
        "eta": float(eta),
        "beta": float(beta),
        "prior": float(prior),
        "n_grid": int(n_grid),
        "discount": float(discount),
        "eta_sweep": [float(e) for e in eta_sweep],
    }
    tasks = {f"seed={seed}": (seed, settings) for seed in seeds}
    done = parallel.run(_run_task, tasks, backend=backend, description="histories", quiet=quiet)
    done.raise_failures()
    return offline_dataset(settings, seeds, list(done.results.values()))


def _run_task(task: tuple[int, dict]) -> dict:
    return _one_seed(*task)


def summary(ds: xr.Dataset, variable: str = "gold_value") -> str:
    """Mean ± standard error over seeds of ``variable`` per policy, one line each."""
    values = ds[variable]
    n = values.sizes["seed"]
    mean = values.mean("seed")
    se = values.reduce(standard_error, dim="seed").fillna(0.0)
    lines = [f"{'policy':<24}{'mean':>9}{'se':>8}   ({variable}, {n} seeds)"]
    for name in values["policy"].values:
        lines.append(f"{name:<24}{float(mean.sel(policy=name)):>9.4f}"
                     f"{float(se.sel(policy=name)):>8.4f}")  # fmt: skip
    return "\n".join(lines)
