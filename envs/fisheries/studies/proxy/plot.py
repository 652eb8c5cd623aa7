"""The gold-vs-proxy figure of :mod:`decide.envs.fisheries.studies.proxy.run`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from decide._atomic import save_figure
from decide.envs.fisheries.studies.style import OBJECTIVE_COLOURS, OBJECTIVE_LABELS
from decide.results import parameters, standard_error


def _band(ds: xr.Dataset, name: str, objective: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds and half-width of its 95 % interval (1.96 SE; 0 with one seed)."""
    values = ds[name].sel(objective=objective).transpose("pressure", "seed").values
    return values.mean(axis=1), 1.96 * np.nan_to_num(standard_error(values, axis=1))


def plot_proxy_study(ds: xr.Dataset, path: str | Path) -> Path:
    """Draw gold and proxy value against d = √KL per objective to ``path``, atomically (Agg).

    Left: the gold value of the chosen rule (mean over seeds, shaded 95 % interval), with the best
    gold value in the candidate pool dotted. Right: the proxy value each objective maximised, in
    NPV units, same bands. Format from the suffix (PNG without one).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    d = ds["d"].values
    fig, (gold_axis, proxy_axis) = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for objective in map(str, ds["objective"].values):
        colour, label = OBJECTIVE_COLOURS.get(objective), OBJECTIVE_LABELS.get(objective, objective)
        for axis, name in ((gold_axis, "gold_value"), (proxy_axis, "proxy_value")):
            mean, half = _band(ds, name, objective)
            axis.plot(d, mean, marker="o", ms=3, color=colour, label=label)
            axis.fill_between(d, mean - half, mean + half, color=colour, alpha=0.2, lw=0)
    if "gold_optimum" in ds:
        best = float(ds["gold_optimum"].mean())
        gold_axis.axhline(best, color="k", ls=":", lw=1, label="best rule in the pool")
    gold_axis.set_title("gold value of the chosen rule (true model)")
    proxy_axis.set_title("proxy value (what the objective maximised)")
    for axis in (gold_axis, proxy_axis):
        axis.set_xlabel("d = √KL(best-of-n ‖ random rule)")
        axis.set_ylabel("expected NPV")
        axis.grid(alpha=0.3)
    n = ds["n"].values
    top = gold_axis.secondary_xaxis("top")
    top.set_xticks(d[:: max(1, d.size // 6)], [str(v) for v in n[:: max(1, d.size // 6)]])
    top.set_xlabel("n")
    gold_axis.legend(fontsize="small", loc="lower left")
    fig.suptitle(_subtitle(ds), fontsize="medium")
    fig.tight_layout()
    save_figure(fig, path)
    return path


def _subtitle(ds: xr.Dataset) -> str:
    settings = parameters(ds)
    corruption = settings.get("corruption")
    kind = settings.get("corruption_kind", "")
    if kind == "scale" and "corruption_factor" in settings:
        kind = "×{:g}–{:g}".format(*settings["corruption_factor"])
    share = "" if corruption is None else f"{100 * corruption:g} % corrupted records ({kind}), "
    return f"best-of-n harvest rules: {share}mean of {ds.sizes['seed']} seeds ± 95 % interval"
