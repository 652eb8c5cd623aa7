"""The tuning figure: cumulative iterations, regret against the instance optimum, chosen ω."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from decide._atomic import save_figure
from decide.tuning.strategies import LEARNERS

REFERENCES = ("young", "per-step-best")


def _moving_mean(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred moving mean over full windows, with the (1-based) positions it belongs to."""
    window = max(1, min(window, len(values)))
    mean = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(len(mean)) + (window + 1) / 2, mean


def plot_tuning(ds: xr.Dataset, path: str | Path) -> None:
    """Three panels over the sequence: cumulative iterations (mean over trials), regret against
    the instance-optimal method (or the best total), and the ω each learner chose (trial 0)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cumulative = ds["iterations"].mean("trial").cumsum("instance")
    methods = [str(m) for m in ds["strategy"].values]
    reference = next((m for m in REFERENCES if m in methods), None)
    if reference is None:
        reference = methods[int(np.argmin(ds["total_iterations"].mean("trial").values))]
    steps = ds["instance"].values + 1
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for method in methods:
        style = {"label": method, "color": colours[method]}
        axes[0].plot(steps, cumulative.sel(strategy=method), **style)
        regret = cumulative.sel(strategy=method) - cumulative.sel(strategy=reference)
        axes[1].plot(steps, regret, **style)
    for method in [m for m in methods if m in (*LEARNERS, *REFERENCES)]:
        omega = ds["omega"].sel(strategy=method, trial=0).values
        axes[2].plot(*_moving_mean(omega, 25), label=method, color=colours[method], lw=1)
    axes[0].set(xlabel="system", ylabel="cumulative iterations", title=ds.attrs["problem"])
    axes[1].set(
        xlabel="system", ylabel=f"iterations − {reference}", title="regret", yscale="symlog"
    )
    axes[2].set(xlabel="system", ylabel="ω (moving mean of 25)", title="chosen ω, trial 0")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
