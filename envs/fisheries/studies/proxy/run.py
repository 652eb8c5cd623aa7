r"""Gold against proxy: choosing harvest rules with fitted models, judged by the true model.

The harness of Gao, Schulman and Hilton (2023) and Coste et al. (2023) in the fisheries domain.
For each seed:

1. simulate ``years`` of survey and catch records from the **gold model** (logistic growth with
   harvest first, r = 0.75, K = 1, σg = 0.1, γ = 0.95), a share ``corruption`` of the surveys
   grossly wrong, and fit the **proxy models** to them: one maximum-likelihood fit and k = 5
   bootstrap fits (:mod:`decide.envs.fisheries.studies.proxy.records`);
2. draw ``n_candidates`` (2000) harvest rules :math:`h = \min(F x, \max(x - S, 0))` and value each
   by its expected NPV under every proxy model and, on independent noise, under the gold model;
   each **objective** (``"single"``, ``"mean"``, ``"wco"``, ``"uwo"``) scores the rules from the
   proxy NPVs (:mod:`decide.envs.fisheries.studies.proxy.value`);
3. **pressure**: best-of-n for n = 1, 2, 4, … (doubling while below ``n_candidates``, then
   ``n_candidates``), the first n candidates of ``n_orders`` (20) random orders, averaged over
   the orders; the pressure is :math:`d = \sqrt{\log n - (n-1)/n}` (the best-of-n KL,
   :func:`decide.robust.curves.best_of_n_kl`).

The **proxy value** of an objective at a pressure is its own score of the rule it chose, in NPV
units; the **gold value** is the gold NPV of that rule. Overoptimisation shows as a gold value
that falls with d while the proxy value keeps rising.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import xarray as xr

from decide import parallel
from decide.contract import Callback
from decide.envs.fisheries.data.fitting import NAMES
from decide.envs.fisheries.studies.proxy.records import fit_models, simulate_records
from decide.envs.fisheries.studies.proxy.settings import ProxySettings
from decide.envs.fisheries.studies.proxy.value import (
    OBJECTIVES,
    draw_rules,
    proxy_objectives,
    rule_npv,
)
from decide.parallel import Backend
from decide.results import make_attrs
from decide.robust.curves import best_of_n_kl
from decide.robust.ensemble import best_of_n

__all__ = ["OBJECTIVES", "ProxySettings", "run_proxy_study", "run_seed"]

#: Long names of the fitted parameters in the Dataset.
FIT_NAMES = {
    "r": "fitted growth rate r",
    "K": "fitted carrying capacity K",
    "sigma_g": "fitted process noise sd σg",
}


def run_seed(settings: ProxySettings, seed: int) -> dict[str, np.ndarray]:
    """One independent study: gold and proxy value (pressure, objective), fits, oracle value."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    records = simulate_records(settings, streams[0])
    models = fit_models(records, settings, streams[1])
    escapement, cap = draw_rules(settings.n_candidates, settings.K, streams[2])
    proxy_noise = streams[3].standard_normal((settings.horizon, settings.replicates))
    gold_noise = streams[4].standard_normal((settings.horizon, settings.gold_replicates))
    common = {"start": settings.start, "gamma": settings.gamma}
    proxy = rule_npv(models, escapement, cap, proxy_noise, **common)
    truth = np.array([[settings.r, settings.K, settings.sigma_g]])
    gold = rule_npv(truth, escapement, cap, gold_noise, **common)[0]
    score, value = proxy_objectives(proxy, settings.lam)
    pressures = settings.pressures
    gold_value = np.zeros((pressures.size, len(OBJECTIVES)))
    proxy_value = np.zeros_like(gold_value)
    for _ in range(settings.n_orders):
        order = streams[5].permutation(settings.n_candidates)
        for j, name in enumerate(OBJECTIVES):
            chosen = best_of_n(score[name], pressures, order)
            gold_value[:, j] += gold[chosen]
            proxy_value[:, j] += value[name][chosen]
    return {
        "gold_value": gold_value / settings.n_orders,
        "proxy_value": proxy_value / settings.n_orders,
        "models": models,
        "gold_optimum": float(gold.max()),
        "corrupted": int(records.corrupted.sum()),
    }


def _variable(dims, data, long_name: str, units: str = "1") -> xr.Variable:
    return xr.Variable(dims, data, attrs={"long_name": long_name, "units": units})


def _run_task(task: tuple[ProxySettings, int]) -> dict[str, np.ndarray]:
    return run_seed(*task)


def run_proxy_study(
    settings: ProxySettings | None = None,
    *,
    backend: Backend | None = None,
    callback: Callback | None = None,
) -> xr.Dataset:
    """Run the study for every seed and collect it in a Dataset.

    Parameters
    ----------
    settings : ProxySettings, optional
        The study (defaults if omitted).
    backend : decide.parallel.Backend, optional
        Where the seeds run (each seed is one task); default serial. Same numbers anywhere.
    callback : callable, optional
        Sees a :class:`~decide.parallel.TaskProgress` after each seed; True stops the study,
        whose Dataset then holds the finished seeds.

    Returns
    -------
    xarray.Dataset
        Dims (pressure, objective, seed), with coordinates ``n`` and ``d`` along ``pressure``;
        ``gold_value`` and ``proxy_value`` (pressure, objective, seed), in reward (NPV) units;
        the fits ``fit_r``, ``fit_K``, ``fit_sigma_g`` (seed, model), model ``"single"`` then
        ``"bootstrap 0"`` …; ``gold_optimum`` (seed), the best gold value in the candidate pool;
        ``corrupted_records`` (seed). Select an objective with ``ds.sel(objective="wco")``.
    """
    settings = settings or ProxySettings()
    tasks = {f"seed={seed}": (settings, seed) for seed in settings.seeds}
    done = parallel.run(_run_task, tasks, backend=backend, callback=callback)
    done.raise_failures()
    finished = tuple(seed for seed in settings.seeds if f"seed={seed}" in done.results)
    settings = replace(settings, seeds=finished)
    runs = list(done.results.values())

    def stacked(key: str, axis: int = 0) -> np.ndarray:
        return np.stack([run[key] for run in runs], axis=axis)

    n = settings.pressures
    models = ["single"] + [f"bootstrap {i}" for i in range(settings.k)]
    coords = {
        "pressure": _variable("pressure", np.arange(n.size), "pressure step"),
        "n": _variable("pressure", n, "candidates looked at (best of n)"),
        "d": _variable("pressure", np.sqrt(best_of_n_kl(n)), "sqrt of the best-of-n KL"),
        "objective": _variable("objective", list(OBJECTIVES), "selection objective"),
        "seed": _variable("seed", list(settings.seeds), "random seed of the study"),
        "model": _variable("model", models, "fitted proxy model"),
    }
    cube = ("pressure", "objective", "seed")
    gold_long_name = "expected NPV of the chosen rule under the gold model"
    fits = stacked("models")
    data = {
        "gold_value": _variable(cube, stacked("gold_value", -1), gold_long_name, "reward"),
        "proxy_value": _variable(
            cube, stacked("proxy_value", -1), "objective maximised, in NPV units", "reward"
        ),
        **{
            f"fit_{name}": _variable(("seed", "model"), fits[..., j], FIT_NAMES[name])
            for j, name in enumerate(NAMES)
        },
        "gold_optimum": _variable(
            "seed", stacked("gold_optimum"), "best gold value in the candidate pool", "reward"
        ),
        "corrupted_records": _variable(
            "seed", stacked("corrupted"), "grossly wrong survey records"
        ),
    }
    parameters = asdict(settings)
    attrs = make_attrs(
        "fisheries gold-vs-proxy study",
        "best-of-n under fitted models",
        parameters,
        stop_reason=done.stop_reason,
    )
    return xr.Dataset(data, coords=coords, attrs=attrs)
