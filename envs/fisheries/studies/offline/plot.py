"""The figure of :mod:`decide.envs.fisheries.studies.offline.run`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from decide._atomic import save_figure
from decide.results import standard_error

#: The learnt policy the right panel compares every other policy with.
FOCUS = "regularised"


def _mean_half(values: np.ndarray) -> tuple[float, float]:
    """Mean over the last axis and the half-width of its 95 % interval (1.96 SE)."""
    half = 1.96 * np.nan_to_num(standard_error(values))
    return float(values.mean(axis=-1)), float(half)


def plot_offline(ds: xr.Dataset, path: str | Path) -> Path:
    """Draw the offline study to ``path``, atomically (Agg; format from the suffix).

    Left: every policy's gold value, mean over the histories with its 95 % interval, best at the
    top. Right: the paired difference of the regularised policy minus each other policy, with
    its 95 % interval; right of zero the regularised policy is better.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    gold = ds["gold_value"].transpose("policy", "seed")
    names = [str(p) for p in gold["policy"].values]
    stats = {name: _mean_half(gold.sel(policy=name).values) for name in names}
    order = sorted(names, key=lambda name: stats[name][0])
    fig, (value_axis, paired_axis) = plt.subplots(1, 2, figsize=(11, 0.35 * len(names) + 1.6))
    for y, name in enumerate(order):
        mean, half = stats[name]
        colour = "tab:blue" if name == FOCUS else "0.35"
        value_axis.errorbar(mean, y, xerr=half, fmt="o", color=colour, capsize=3)
    value_axis.set_yticks(range(len(order)), order)
    value_axis.set_xlabel("value on the gold model (discounted catch)")
    value_axis.set_title("gold value, mean ± 95 % interval")
    others = [name for name in order if name != FOCUS]
    focus = gold.sel(policy=FOCUS).values
    for y, name in enumerate(others):
        mean, half = _mean_half(focus - gold.sel(policy=name).values)
        colour = "tab:green" if mean - half > 0 else "tab:red" if mean + half < 0 else "0.35"
        paired_axis.errorbar(mean, y, xerr=half, fmt="o", color=colour, capsize=3)
    paired_axis.axvline(0.0, color="k", lw=0.8)
    paired_axis.set_yticks(range(len(others)), others)
    paired_axis.set_xlabel(f"{FOCUS} minus the policy, paired over histories")
    paired_axis.set_title(f"is {FOCUS} better? (right of 0: yes)")
    for axis in (value_axis, paired_axis):
        axis.grid(alpha=0.3, axis="x")
    model = ds.attrs.get("method", "")
    fig.suptitle(f"{ds.sizes['seed']} histories; {model.split(':')[0]}", fontsize="medium")
    fig.tight_layout()
    save_figure(fig, path)
    return path
