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

import numpy as np
import xarray as xr

from decide import parallel
from decide.contract import Callback
from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import make_grids
from decide.envs.fisheries.model.reference import ConstantEscapement, HarvestRate, reference_rules
from decide.envs.fisheries.studies.offline.dataset import offline_dataset
from decide.envs.fisheries.studies.offline.history import (
    GOLD,
    GOLD_MODEL,
    ORDER,
    UPPER,
    History,
    _fit,
    bootstrap_fits,
    fitted_mdp,
    fitted_set,
    simulate_history,
)
from decide.envs.fisheries.studies.offline.settings import OfflineSettings
from decide.errors import ModelError
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


def _one_seed(seed: int, settings: OfflineSettings) -> dict:
    rng = np.random.default_rng(seed)
    n_grid, discount = settings.n_grid, settings.discount
    history = simulate_history(
        rng,
        n_years=settings.n_years,
        sigma_g=settings.sigma_g,
        sigma_m=settings.sigma_m,
        gross_fraction=settings.gross_fraction,
        rate=settings.rate,
        rate_jitter=settings.rate_jitter,
    )
    ml = _fit(history.records, history.catches)  # the logistic fit, also behind CE, MSY, TAC
    models = fitted_set(settings.model, history, ml, settings.n_bootstrap,
                        settings.level, rng, n_grid=n_grid, discount=discount)  # fmt: skip
    fitted, ensemble = models.fitted, models.ensemble
    gold = fitted_mdp(*GOLD, settings.sigma_g, n_grid=n_grid, discount=discount)
    grids = make_grids(GOLD_MODEL, n_grid, upper=UPPER)
    behaviour: Behaviour = behaviour_from_history(
        grids.snap_observation(history.records),
        grids.snap_action(history.quotas),
        n_grid,
        n_grid,
        prior=settings.prior,
    )
    mu0 = behaviour.state_frequencies
    eta, beta = settings.eta, settings.beta

    def rpo(weight: float) -> np.ndarray:
        return regularised_policy(ensemble, behaviour, eta=weight, beta=beta, initial=mu0).policy

    policies = {
        "historical": behaviour.policy,
        "historical_rule": np.eye(n_grid)[grids.snap_action(settings.rate * grids.states)],
        "greedy_fitted": greedy_policy(value_iteration(fitted)[1]),
        "pessimistic": rpo(0.0),
        "regularised": rpo(eta),
        "a2pr": advantage_weighted_imitation(fitted, behaviour)[0],
        **_rule_policies(ml, n_grid, discount),
        **_logistic_greedy(settings.model, ml, n_grid, discount),
        "gold_optimal": greedy_policy(value_iteration(gold)[1]),
    }
    for weight in settings.eta_sweep:
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
    settings: OfflineSettings | None = None,
    *,
    backend: Backend | None = None,
    callback: Callback | None = None,
) -> xr.Dataset:
    r"""Gold values of the offline policies over seeds (module docstring).

    ``backend`` says where the histories run (one task each); default serial, the same numbers
    anywhere. ``callback`` sees a :class:`~decide.parallel.TaskProgress` after each history;
    True stops the study, whose Dataset then holds the finished seeds.

    Returns
    -------
    xarray.Dataset
        ``gold_value``, ``fitted_value``, ``worst_set_value`` (policy, seed); the fits, ``fit``
        (seed, model, parameter) for the logistic or ``surplus`` (seed, model, knot) with
        ``penalty``, ``dof`` and ``fit_sigma_g`` (seed) for the surplus model; ``in_set``
        (seed, model): which fits form the confidence set.
    """
    settings = settings or OfflineSettings()
    tasks = {f"seed={seed}": (seed, settings) for seed in settings.seeds}
    done = parallel.run(_run_task, tasks, backend=backend, callback=callback)
    done.raise_failures()
    finished = [seed for seed in settings.seeds if f"seed={seed}" in done.results]
    ds = offline_dataset(settings, finished, list(done.results.values()))
    ds.attrs["stop_reason"] = done.stop_reason
    return ds


def _run_task(task: tuple[int, OfflineSettings]) -> dict:
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
