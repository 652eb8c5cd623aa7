"""The study's Dataset: outcomes per (scenario, policy, replicate[, year]) and solve diagnostics."""

from __future__ import annotations

import numpy as np
import xarray as xr

from decide.envs.fisheries.model.reference import reference_points
from decide.results import make_attrs

STOCK = "stock unit"  # the model's biomass unit (the paper: K = 1)
COMPRESS = {"zlib": True, "complevel": 4}


def _meta(long_name: str, units: str = "1") -> dict[str, str]:
    return {"long_name": long_name, "units": units}


def _stack(runs: list[dict], names, key: str) -> np.ndarray:
    return np.stack([np.stack([run["outcomes"][p][key] for p in names]) for run in runs])


def study_dataset(
    runs: list[dict],
    names: tuple[str, ...],
    sigma_ms: list[float],
    grids,
    model,
    discount: float,
    parameters: dict,
    trajectories: bool,
) -> xr.Dataset:
    """Assemble the Dataset from the rollouts (index arrays) of every scenario and policy."""
    state, action = _stack(runs, names, "state"), _stack(runs, names, "action")
    stock, quota = grids.states[state], grids.actions[action]
    harvest = np.minimum(stock, quota)
    years = state.shape[-1]
    npv = (harvest * discount ** np.arange(1, years + 1)).sum(axis=-1)
    final = grids.states[_stack(runs, names, "final_state")]
    collapsed = final < parameters["collapse_threshold"] * model.K
    n = npv.shape[-1]
    spread = (npv - npv[..., :1]).std(axis=-1, ddof=1) if n > 1 else np.full(npv.shape[:2], np.nan)
    sp, spr = ("scenario", "policy"), ("scenario", "policy", "replicate")
    data = {
        "npv": (spr, npv, _meta("net present value sum_t discount^(t-1) min(x_t, h_t)", "reward")),
        "collapsed": (spr, collapsed.astype(np.int8), _meta("final stock below threshold x K")),
        "extinct": (spr, (final == 0).astype(np.int8), _meta("final stock is 0 (extinct)")),
        "final_stock": (spr, final, _meta("stock after the last year's growth", STOCK)),
        "npv_mean": (sp, npv.mean(axis=-1), _meta("mean net present value", "reward")),
        "npv_se": (sp, spread / np.sqrt(n), _meta("standard error of the mean NPV", "reward")),
        "collapse_fraction": (
            sp,
            collapsed.mean(axis=-1),
            _meta("fraction of replicates collapsed"),
        ),
        "n_alpha": (sp, _per_policy(runs, names, "n_alpha"), _meta("alpha vectors (0: a rule)")),
        "impossible_observations": (
            sp,
            _stack(runs, names, "impossible").sum(axis=-1),
            _meta("observations of probability 0 under the belief (prediction kept)"),
        ),
    }
    for key, text, unit in (
        ("lower_bound", "solver's lower bound at b0", "reward"),
        ("upper_bound", "solver's upper bound at b0", "reward"),
        ("solve_time_s", "solve time", "s"),
    ):
        data[key] = ("scenario", np.array([run["solve"][key] for run in runs]), _meta(text, unit))
    reasons = [str(run["solve"].get("stop_reason", "not solved")) for run in runs]
    data["stop_reason"] = (
        "scenario",
        np.array(reasons, dtype=object),
        _meta("why the solve ended"),
    )
    if trajectories:
        spry = (*spr, "year")
        for key, values, text in (
            ("stock", stock, "true stock x_t"),
            ("observation", grids.observations[_stack(runs, names, "observation")], "survey y_t"),
            ("quota", quota, "quota h_t"),
            ("harvest", harvest, "realised harvest min(x_t, h_t)"),
        ):
            data[key] = (spry, values, _meta(text, STOCK))
    coords = {
        "scenario": ("scenario", np.arange(len(sigma_ms)), _meta("scenario index")),
        "sigma_m": ("scenario", np.array(sigma_ms), _meta("measurement noise sd", STOCK)),
        "policy": ("policy", np.array(names, dtype=object), _meta("policy name")),
        "replicate": ("replicate", np.arange(n), _meta("replicate index")),
        "year": (
            "year",
            np.arange(2, years + 2),
            _meta("year t (first decision at t = 2)", "year"),
        ),
    }
    points = reference_points(model, discount)
    attrs = make_attrs(
        problem=f"fisheries simulation study, sigma_g={parameters['sigma_g']:g}",
        method="study",
        parameters=parameters,
        S_star=points.S_star,
        B_MSY=points.B_MSY,
        MSY=points.MSY,
        F_MSY=points.F_MSY,
    )
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for key in ("stock", "observation", "quota", "harvest"):
        if key in ds:
            ds[key].encoding.update(COMPRESS)
    return ds


def _per_policy(runs: list[dict], names, key: str) -> np.ndarray:
    return np.array([[run[key][p] for p in names] for run in runs], dtype=np.int64)
