"""The Dataset of :func:`decide.envs.fisheries.studies.choice.run.run_robust_choice`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from decide.envs.fisheries.data.fitting import NAMES
from decide.envs.fisheries.studies.choice.candidates import model_label
from decide.envs.fisheries.studies.proxy.run import FIT_NAMES
from decide.envs.fisheries.studies.proxy.value import OBJECTIVES
from decide.results import make_attrs

if TYPE_CHECKING:
    from decide.envs.fisheries.studies.choice.settings import ChoiceSettings


def _variable(dims, data, long_name: str, units: str = "1") -> xr.Variable:
    return xr.Variable(dims, data, attrs={"long_name": long_name, "units": units})


def choice_dataset(settings: ChoiceSettings, runs: list[dict[str, np.ndarray]]) -> xr.Dataset:
    """Stack the seeds' results (from ``run_seed``, in ``settings.seeds`` order) in a Dataset."""

    def stacked(key: str, axis: int = 0) -> np.ndarray:
        return np.stack([run[key] for run in runs], axis=axis)

    first = runs[0]
    names = [str(n) for n in first["names"]]
    sources = [str(s) for s in first["sources"]]
    models = [model_label(i) for i in range(1 + settings.k)]
    chosen_names = np.array(names, dtype=object)[stacked("chosen", -1)]
    per_objective = stacked("chosen", -1)
    gold, collapse = stacked("gold", -1), stacked("collapse", -1)
    seeds = np.arange(len(runs))
    coords = {
        "objective": _variable("objective", list(OBJECTIVES), "selection objective"),
        "seed": _variable("seed", list(settings.seeds), "random seed of the study"),
        "model": _variable("model", models, "fitted model taken as the truth"),
        "candidate": _variable("candidate", names, "candidate policy (source model/kind)"),
        "source": _variable("candidate", sources, "fitted model the candidate comes from"),
        "kind": _variable("candidate", [str(k) for k in first["kinds"]], "kind of candidate"),
    }
    by_objective = ("objective", "seed")
    gold_name = "mean NPV of the chosen candidate under the gold model"
    fits = stacked("models")
    data = {
        "chosen": _variable(by_objective, chosen_names, "chosen candidate"),
        "gold_value": _variable(by_objective, gold[per_objective, seeds], gold_name, "reward"),
        "proxy_value": _variable(
            by_objective, stacked("proxy_value", -1), "objective maximised, in NPV units", "reward"
        ),
        "gold_collapse": _variable(
            by_objective, collapse[per_objective, seeds], "P(collapse) of the chosen under gold"
        ),
        "score": _variable(
            ("candidate", "model", "seed"),
            stacked("score", -1).transpose(1, 0, 2),
            "mean NPV with the fitted model as the truth",
            "reward",
        ),
        "candidate_gold_value": _variable(
            ("candidate", "seed"), gold, "mean NPV under the gold model", "reward"
        ),
        "candidate_gold_collapse": _variable(
            ("candidate", "seed"), collapse, "P(final stock < threshold K) under the gold model"
        ),
        **{
            f"fit_{name}": _variable(("seed", "model"), fits[..., j], FIT_NAMES[name])
            for j, name in enumerate(NAMES)
        },
        "gold_optimum": _variable(
            "seed", gold.max(axis=0), "best gold value among the candidates", "reward"
        ),
        "corrupted_records": _variable(
            "seed", stacked("corrupted"), "grossly wrong survey records"
        ),
    }
    parameters = dataclasses.asdict(settings)
    attrs = make_attrs(
        "fisheries robust choice among POMDP-pipeline policies",
        "best candidate under fitted models (single fit or ensemble objective)",
        parameters,
    )
    return xr.Dataset(data, coords=coords, attrs=attrs)
