"""The figure of :mod:`decide.envs.fisheries.studies.choice.run`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from decide._atomic import save_figure
from decide.envs.fisheries.studies.style import (
    OBJECTIVE_COLOURS,
    OBJECTIVE_LABELS,
    POLICY_COLOURS,
)
from decide.results import standard_error


def plot_choice(ds: xr.Dataset, path: str | Path) -> Path:
    """Draw the robust-choice study to ``path``, atomically (Agg; format from the suffix).

    Left: the gold value of the candidate each objective chose, one dot per seed, with the mean
    and its 95 % interval (1.96 SE), and the best candidate's mean dotted. Right: every candidate
    of every seed, its mean score over the bootstrap models (what the ensemble sees) against its
    gold value, coloured by kind; the diagonal is where the fits would be right.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (chosen_axis, scatter_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    objectives = [str(o) for o in ds["objective"].values]
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, ds.sizes["seed"])
    for i, objective in enumerate(objectives):
        values = ds["gold_value"].sel(objective=objective).values
        colour = OBJECTIVE_COLOURS.get(objective)
        chosen_axis.scatter(i + jitter, values, s=12, color=colour, alpha=0.6)
        half = 1.96 * np.nan_to_num(standard_error(values))
        chosen_axis.errorbar(i + 0.3, values.mean(), yerr=half, fmt="o", color=colour, capsize=4)
    best = float(ds["gold_optimum"].mean())
    chosen_axis.axhline(best, color="k", ls=":", lw=1, label="best candidate (mean)")
    chosen_axis.set_xticks(range(len(objectives)), [OBJECTIVE_LABELS.get(o, o) for o in objectives])
    chosen_axis.set_ylabel("NPV under the gold model")
    chosen_axis.set_title("gold value of the chosen policy")
    chosen_axis.legend(fontsize="small", loc="lower right")
    boot = [str(m) for m in ds["model"].values if str(m) != "single"]
    seen = ds["score"].sel(model=boot).mean("model")
    for kind in ("POMDP", "CE", "MSY", "TAC"):
        colour, mask = POLICY_COLOURS[kind], ds["kind"].values == kind
        x = seen.isel(candidate=mask).values.ravel()
        y = ds["candidate_gold_value"].isel(candidate=mask).values.ravel()
        scatter_axis.scatter(x, y, s=8, alpha=0.5, color=colour, label=kind)
    low, high = scatter_axis.get_xlim()
    scatter_axis.plot([low, high], [low, high], color="k", lw=0.8, ls="--")
    scatter_axis.set_xlabel("mean NPV over the bootstrap fits (proxy)")
    scatter_axis.set_ylabel("NPV under the gold model")
    scatter_axis.set_title("every candidate: proxy against gold")
    scatter_axis.legend(fontsize="small", title="candidate")
    for axis in (chosen_axis, scatter_axis):
        axis.grid(alpha=0.3)
    fig.suptitle(f"ensemble-robust choice among POMDP-pipeline policies, {ds.sizes['seed']} seeds")
    fig.tight_layout()
    save_figure(fig, path)
    return path
