"""The study's figure: NPV by policy and σm (with 95 % intervals) and mean stock trajectories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from decide._atomic import save_figure
from decide.envs.fisheries.studies.style import POLICY_COLOURS
from decide.results import parameters


def plot_study(ds: xr.Dataset, path: str | Path) -> Path:
    """Draw the study to ``path`` (format from the suffix), atomically, with the Agg backend.

    Left: mean NPV ± 1.96 SE per policy, grouped by σm. Right: mean stock per year per policy at
    the largest σm (the protocol's years t = 2..100), with B_MSY for reference.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    policies = [str(p) for p in ds["policy"].values]
    sigma_m = ds["sigma_m"].values
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(policies)
    for j, policy in enumerate(policies):
        mean = ds["npv_mean"].sel(policy=policy).values
        half = 1.96 * ds["npv_se"].sel(policy=policy).values
        x = np.arange(sigma_m.size) + (j - (len(policies) - 1) / 2) * width
        left.bar(
            x, mean, width, yerr=half, capsize=3, label=policy, color=POLICY_COLOURS.get(policy)
        )
    left.set_xticks(np.arange(sigma_m.size), [f"σm = {s:g}" for s in sigma_m])
    left.set_ylabel("net present value")
    left.set_title(f"NPV (mean ± 95 % CI), σg = {parameters(ds)['sigma_g']:g}")
    left.legend(
        fontsize="small", ncol=len(policies), loc="upper center", bbox_to_anchor=(0.5, -0.1)
    )
    if "stock" in ds:
        last = ds["stock"].isel(scenario=-1)
        for policy in policies:
            right.plot(ds["year"], last.sel(policy=policy).mean("replicate"), label=policy,
                       color=POLICY_COLOURS.get(policy))  # fmt: skip
        right.axhline(ds.attrs["B_MSY"], color="k", ls=":", lw=1, label="B_MSY")
        right.set_xlabel("year t")
        right.set_ylabel("mean true stock")
        right.set_title(f"stock trajectories, σm = {sigma_m[-1]:g}")
        right.legend(fontsize="small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    else:
        right.set_axis_off()
    fig.tight_layout()
    save_figure(fig, path)
    return path
