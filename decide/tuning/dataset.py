"""What :func:`decide.tune` returns: iterations and ω per trial, strategy and system."""

from __future__ import annotations

import numpy as np
import xarray as xr

from decide.contract import stop_reason as checked
from decide.results import make_attrs, standard_error


def _stack(records, methods, key):
    return np.stack([np.stack([r[key] for r in records[m]]) for m in methods], axis=1)


def tuning_dataset(sequence, methods, records, arms, seed, options, stop_reason) -> xr.Dataset:
    """The Dataset of docs/output_schema.md (tuning): ``records[method][trial]`` per-system
    arrays."""
    trials = len(records[methods[0]])
    dims = ("trial", "strategy", "instance")
    iterations = _stack(records, methods, "iterations")
    return xr.Dataset(
        {
            "iterations": (dims, iterations, {"long_name": "solver iterations", "units": "1"}),
            "omega": (dims, _stack(records, methods, "omega"), _omega_attrs()),
            "converged": (
                dims,
                _stack(records, methods, "converged"),
                {"long_name": "solve reached the tolerance (1) or not (0)", "units": "1"},
            ),
            "context": (
                ("trial", "instance"),
                np.stack([r["context"] for r in records[methods[0]]]),
                {"long_name": "context of the system (shift c or diffusion κ)", "units": "1"},
            ),
            "total_iterations": (
                ("trial", "strategy"),
                iterations.sum(axis=2),
                {"long_name": "iterations summed over the sequence", "units": "1"},
            ),
            "arm_omega": (("arm",), arms, _omega_attrs("ω grid of the learners")),
        },
        coords={
            "trial": ("trial", np.arange(trials), {"long_name": "trial", "units": "1"}),
            "strategy": ("strategy", methods, {"long_name": "ω strategy", "units": "1"}),
            "instance": (
                "instance",
                np.arange(sequence.length),
                {"long_name": "position in the sequence of systems", "units": "1"},
            ),
            "arm": ("arm", np.arange(len(arms)), {"long_name": "arm index", "units": "1"}),
        },
        attrs=make_attrs(
            sequence.name,
            "tune",
            {
                "methods": methods,
                "trials": trials,
                "seed": seed,
                "length": sequence.length,
                "solver": sequence.solver,
                "learner_options": options,
            },
            stop_reason=checked(stop_reason),
        ),
    )


def _omega_attrs(name: str = "relaxation parameter ω used") -> dict[str, str]:
    return {"long_name": name, "units": "1"}


def summary(ds: xr.Dataset) -> list[tuple[str, float, float]]:
    """(method, mean total iterations over trials, its standard error) in the Dataset's order."""
    totals = ds["total_iterations"]
    rows = []
    for method in ds["strategy"].values:
        values = totals.sel(strategy=method).values.astype(float)
        se = np.nan_to_num(standard_error(values))
        rows.append((str(method), float(values.mean()), float(se)))
    return rows
