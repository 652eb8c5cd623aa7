"""The batch's summary table and figure: final gaps next to the published study's, NPV, collapse,
and how often the POMDP policy matches the best rule on its own objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from decide._atomic import save_figure
from decide.envs.fisheries.studies.style import POLICY_COLOURS

#: Median final gaps of the published study (SARSOP, 10,000 s per solve), by σm.
PUBLISHED_MEDIAN_GAPS = {0.05: 0.027, 0.1: 0.41, 0.2: 2.06}


def summary(ds: xr.Dataset) -> str:
    """Per σm: gap quartiles (and the published median), solve time, and per policy the mean
    over stocks of NPV and of the collapse probability."""
    policies = [str(p) for p in ds["policy"].values]
    head = f"{'sigma_m':>7} {'gap median [quartiles]':>26} {'published':>9} {'solve s':>7}"
    lines = [head + "".join(f"{p:>8}" for p in policies) + "   mean NPV / collapse"]
    for sigma_m in ds["sigma_m"].values:
        at = ds.sel(sigma_m=sigma_m)
        q1, median, q3 = np.nanpercentile(at["gap"].values, [25, 50, 75])
        published = PUBLISHED_MEDIAN_GAPS.get(round(float(sigma_m), 6))
        cell = "" if published is None else f"{published:g}"
        npv = at["npv_mean"].mean("stock")
        collapse = at["collapse_probability"].mean("stock")
        lines.append(
            f"{sigma_m:>7g} {f'{median:.3g} [{q1:.3g}, {q3:.3g}]':>26} {cell:>9} "
            f"{float(at['solve_time_s'].median()):>7.1f}"
            + "".join(f"{float(npv.sel(policy=p)):>8.3f}" for p in policies)
        )
        rates = "".join(f"{float(collapse.sel(policy=p)):>8.0%}" for p in policies)
        lines.append(" " * len(head) + rates)
    lines.append("POMDP vs the best of CE, MSY and TAC on the POMDP's objective (reward with the")
    lines.append("extinction penalty; matched: paired difference >= -2 SE), share of stocks:")
    lines.append("  " + ", ".join(
        f"sigma_m={float(sigma_m):g} {share:.0%}" for sigma_m, share in matched_share(ds).items()
    ))  # fmt: skip
    return "\n".join(lines)


def matched_share(ds: xr.Dataset) -> dict[float, float]:
    """Per σm, the share of stocks on which the POMDP policy's mean reward (its own objective)
    is at least the best rule's, within two paired standard errors."""
    matched = ds["pomdp_minus_best_rule"] >= -2 * ds["pomdp_minus_best_rule_se"]
    return {float(s): float(matched.sel(sigma_m=s).mean()) for s in ds["sigma_m"].values}


def plot_batch(ds: xr.Dataset, path: str | Path) -> Path:
    """Left: final gaps at b0 by σm (box plots, log scale) with the published medians. Middle and
    right: mean NPV and mean collapse probability over stocks per policy and σm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sigma_m = ds["sigma_m"].values
    fig, (gaps, npv, collapse) = plt.subplots(1, 3, figsize=(13, 4))
    data = [np.clip(ds["gap"].sel(sigma_m=s).values, 1e-6, None) for s in sigma_m]
    gaps.boxplot(data)
    gaps.set_xticks(range(1, len(sigma_m) + 1), [f"{s:g}" for s in sigma_m])
    published = [PUBLISHED_MEDIAN_GAPS.get(round(float(s), 6), np.nan) for s in sigma_m]
    gaps.plot(range(1, len(sigma_m) + 1), published, "r*", ms=12, label="published median")
    gaps.set(yscale="log", xlabel="survey noise σm", ylabel="final gap at b0")
    gaps.legend(loc="lower right")
    for policy in ds["policy"].values:
        at = ds.sel(policy=policy)
        style = {"color": POLICY_COLOURS.get(str(policy)), "marker": "o", "label": str(policy)}
        npv.plot(sigma_m, at["npv_mean"].mean("stock"), **style)
        collapse.plot(sigma_m, at["collapse_probability"].mean("stock"), **style)
    npv.set(xlabel="survey noise σm", ylabel="mean NPV over stocks")
    collapse.set(xlabel="survey noise σm", ylabel="mean collapse probability")
    npv.legend()
    fig.suptitle(f"{ds.sizes['stock']} RAM Legacy stocks")
    fig.tight_layout()
    return save_figure(fig, path)
