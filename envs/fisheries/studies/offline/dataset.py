"""The Dataset of :func:`decide.envs.fisheries.studies.offline.run.run_offline_study`."""

from __future__ import annotations

import numpy as np
import xarray as xr

from decide.envs.fisheries.data.fitting import NAMES as FIT_NAMES
from decide.envs.fisheries.data.surplus_fit import KNOTS
from decide.envs.fisheries.studies.offline.history import GOLD_MODEL
from decide.envs.fisheries.studies.offline.settings import OfflineSettings
from decide.results import make_attrs

VALUE_UNITS = "discounted catch (units of K)"


def _meta(long_name: str, units: str = "1") -> dict[str, str]:
    return {"long_name": long_name, "units": units}


def offline_dataset(settings: OfflineSettings, seeds: list[int], runs: list[dict]) -> xr.Dataset:
    """Stack the seeds' results (policy values, fits, sets) in a Dataset (see run_offline_study)."""
    names = list(runs[0]["gold"])
    model = settings.model

    def values(key: str, long_name: str) -> tuple:
        data = np.array([[run[key][name] for run in runs] for name in names])
        return ("policy", "seed"), data, _meta(long_name, VALUE_UNITS)

    models = ["single"] + [f"bootstrap{b}" for b in range(settings.n_bootstrap)]
    data = {
        "gold_value": values("gold", "value on the gold model"),
        "fitted_value": values("fitted", "value on the single fitted model"),
        "worst_set_value": values("worst", "smallest value over the models of the confidence set"),
        **_fit_variables(model, runs),
        "in_set": (
            ("seed", "model"),
            np.array([run["in_set"] for run in runs]),
            _meta("fit in the likelihood-ratio confidence set"),
        ),
        "gross_records": (
            ("seed",),
            np.array([run["gross"] for run in runs]),
            _meta("grossly wrong survey records"),
        ),
    }
    coords = {
        "policy": (("policy",), np.array(names), _meta("policy")),
        "seed": (("seed",), np.array(seeds), _meta("seed of the history")),
        "model": (("model",), np.array(models), _meta("fitted model")),
        **_fit_coordinates(model),
    }
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        make_attrs(
            "fisheries-offline",
            f"offline policy improvement with a {model} fit: max-min over a likelihood "
            "confidence set with imitation (RPO), A2PR",
            settings.parameters()
            | {"seeds": seeds, "gold_r": GOLD_MODEL.r, "gold_K": GOLD_MODEL.K},
            start_distribution="empirical distribution of the surveyed historical states",
            reference_rules_from="single logistic maximum-likelihood fit",
        )
    )
    return ds


def _fit_variables(model: str, runs: list[dict]) -> dict[str, tuple]:
    fits = np.array([run["fits"] for run in runs])
    if model == "logistic":
        units = "r: 1/year; K, sigma_g: stock units"
        return {
            "fit": (("seed", "model", "parameter"), fits, _meta("fitted (r, K, sigma_g)", units))
        }
    details = {
        "penalty": ("penalty", "penalty lambda chosen by GCV", "1"),
        "dof": ("dof", "effective degrees of freedom tr H", "1"),
        "fit_sigma_g": ("sigma_g", "residual sd of the fit", "stock units"),
    }
    per_seed = {
        name: (("seed",), np.array([run["details"][key] for run in runs]), _meta(text, units))
        for name, (key, text, units) in details.items()
    }
    surplus = _meta("fitted surplus g at the knots", "stock units")
    return {"surplus": (("seed", "model", "knot"), fits, surplus), **per_seed}


def _fit_coordinates(model: str) -> dict[str, tuple]:
    if model == "logistic":
        return {"parameter": (("parameter",), np.array(FIT_NAMES), _meta("parameter"))}
    return {"knot": (("knot",), KNOTS, _meta("escapement at the knot", "stock units"))}
