r"""An ensemble-robust choice among POMDP-pipeline policies, judged by the gold model.

The proxy study (:mod:`decide.envs.fisheries.studies.proxy.run`) chooses among harvest rules; this
study makes the same choice among the policies of the POMDP pipeline. For each seed:

1. **records and fits**, exactly as the proxy study's (same streams, so the same seed gives the
   same records and fits): ``years`` of surveys and catches from the gold model (r = 0.75, K = 1,
   σg = 0.1), a share ``corruption`` of the surveys grossly wrong, one maximum-likelihood fit and
   k bootstrap fits (:mod:`decide.envs.fisheries.studies.proxy.records`);
2. **candidates**: every fitted model becomes the simulation study's POMDP on shared grids of
   ``n_grid`` points on [0, ``upper``] with survey noise ``survey_sd`` (σg capped at
   ``sigma_g_cap`` if set); its point-based policy (``solver``, under its trial budget), whose
   belief follows that model, and its CE, MSY and TAC action tables are candidates, named
   ``"single/POMDP"``, ``"boot2/CE"``, … (4 (1 + k) in all;
   :mod:`decide.envs.fisheries.studies.choice.candidates`);
3. **scores**: :math:`v_{mc}`, the mean NPV :math:`\sum_{k<H} \gamma^{k+1}\min(x_k, h_k)` of
   candidate c over ``replicates`` runs of H = ``horizon`` years from the grid point nearest
   ``start``, with fitted model m as the truth; every candidate and model share the uniforms;
4. **choice** per objective (:data:`OBJECTIVES`): ``"single"`` maximises the single fit's
   :math:`v_{0c}`; ``"mean"``, ``"wco"`` and ``"uwo"`` maximise
   :func:`decide.robust.ensemble.ensemble_objective` over the k bootstrap rows (standardised,
   λ = ``lam`` for UWO); its **proxy value** is that objective in NPV units
   (:func:`decide.envs.fisheries.studies.proxy.value.proxy_objectives`);
5. **gold value**: the mean NPV of every candidate with the gold model's POMDP (same grids and
   survey noise, σg uncapped) as the truth, on ``gold_replicates`` independent runs, and its
   probability of collapse, P(final stock < ``collapse_threshold`` · K).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from decide import parallel
from decide.contract import Callback
from decide.envs.fisheries.model.dynamics import nearest_index
from decide.envs.fisheries.studies.choice.candidates import (
    KINDS,
    build_candidates,
    candidate_values,
    model_label,
    model_pomdp,
)
from decide.envs.fisheries.studies.choice.dataset import choice_dataset
from decide.envs.fisheries.studies.choice.settings import ChoiceSettings
from decide.envs.fisheries.studies.proxy.records import fit_models, simulate_records
from decide.envs.fisheries.studies.proxy.value import OBJECTIVES, proxy_objectives
from decide.errors import ModelError
from decide.parallel import Backend

__all__ = ["KINDS", "OBJECTIVES", "ChoiceSettings", "run_robust_choice", "run_seed"]


def _check_models(models, k: int) -> np.ndarray:
    models = np.asarray(models, dtype=float)
    if models.shape != (1 + k, 3) or not np.all(np.isfinite(models)) or models[:, :2].min() <= 0:
        raise ModelError(
            "models", f"expected {1 + k} rows (r > 0, K > 0, sigma_g), got shape {models.shape}"
        )
    return models


def run_seed(
    settings: ChoiceSettings, seed: int, models: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """One independent study (steps 1–5 of the module docstring).

    ``models`` (1 + k, 3), rows (r, K, σg) of the single fit then the k bootstrap fits, replaces
    the fits (the records are still simulated, so every other random number is unchanged).

    Returns
    -------
    dict
        ``score`` (1 + k, n) mean NPV of each candidate with each fitted model as the truth,
        ``gold`` and ``collapse`` (n,) under the gold model, ``chosen`` (objectives,) candidate
        indices, ``proxy_value`` (objectives,), ``names``, ``kinds``, ``sources`` (n,),
        ``models`` (1 + k, 3), ``corrupted`` (records grossly wrong).
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    records = simulate_records(settings.records, streams[0])
    if models is None:
        models = fit_models(records, settings.records, streams[1])
    models = _check_models(models, settings.k)
    spec = settings.pipeline
    candidates = build_candidates(models, spec)
    x0 = int(nearest_index(spec.grids.states, settings.start))
    u = streams[2].random((settings.replicates, settings.horizon, 2))
    score = np.array([candidate_values(p, candidates, u, x0)[0].mean(axis=1)
                      for p in candidates.pomdps])  # fmt: skip
    gold_pomdp = model_pomdp((settings.r, settings.K, settings.sigma_g), spec, cap=False)
    gold_u = streams[3].random((settings.gold_replicates, settings.horizon, 2))
    gold_npv, final = candidate_values(gold_pomdp, candidates, gold_u, x0)
    collapsed = spec.grids.states[final] < settings.collapse_threshold * settings.K
    objective, value = proxy_objectives(score, settings.lam)
    chosen = np.array([int(np.argmax(objective[name])) for name in OBJECTIVES])
    return {
        "score": score,
        "gold": gold_npv.mean(axis=1),
        "collapse": collapsed.mean(axis=1),
        "chosen": chosen,
        "proxy_value": np.array(
            [value[name][c] for name, c in zip(OBJECTIVES, chosen, strict=True)]
        ),
        "names": np.array(candidates.names),
        "kinds": np.array(candidates.kinds),
        "sources": np.array([model_label(i) for i in candidates.sources]),
        "models": models,
        "corrupted": int(records.corrupted.sum()),
    }


def _run_task(task: tuple[ChoiceSettings, int]) -> dict[str, np.ndarray]:
    return run_seed(*task)


def run_robust_choice(
    settings: ChoiceSettings | None = None,
    *,
    backend: Backend | None = None,
    callback: Callback | None = None,
) -> xr.Dataset:
    """Run the study for every seed and collect it in a Dataset.

    Parameters
    ----------
    settings : ChoiceSettings, optional
        The study (defaults if omitted).
    backend : decide.parallel.Backend, optional
        Where the seeds run (one task per seed); default serial. Same numbers anywhere.
    callback : callable, optional
        Sees a :class:`~decide.parallel.TaskProgress` after each seed; True stops the study,
        whose Dataset then holds the finished seeds.

    Returns
    -------
    xarray.Dataset
        Dims (objective, seed) for the choice: ``chosen`` (candidate name), ``gold_value``,
        ``proxy_value`` (reward), ``gold_collapse``; dims (candidate, model, seed) for ``score``,
        with coordinates ``source`` and ``kind`` along ``candidate``; ``candidate_gold_value``
        and ``candidate_gold_collapse`` (candidate, seed); fits ``fit_r``, ``fit_K``,
        ``fit_sigma_g`` (seed, model); ``gold_optimum`` and ``corrupted_records`` (seed).
    """
    settings = settings or ChoiceSettings()
    tasks = {f"seed={seed}": (settings, seed) for seed in settings.seeds}
    done = parallel.run(_run_task, tasks, backend=backend, callback=callback)
    done.raise_failures()
    finished = tuple(seed for seed in settings.seeds if f"seed={seed}" in done.results)
    ds = choice_dataset(replace(settings, seeds=finished), list(done.results.values()))
    ds.attrs["stop_reason"] = done.stop_reason
    return ds
