"""Figures of Pareto coverings: the boxes in decision space and the front in objective space."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from decide._atomic import save_figure
from decide.pareto.boxes import BoxSet
from decide.pareto.problem import Problem
from decide.pareto.result import ParetoSet


def _draw_boxes(ax, boxes: BoxSet, axes: tuple[int, int] = (0, 1)) -> None:
    """The boxes projected on two coordinates (one coordinate: intervals on a line)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    i, j = axes if boxes.dim > 1 else (0, 0)
    lo = boxes.centres - boxes.radii
    size = 2 * boxes.radii
    height = size[:, j] if boxes.dim > 1 else np.full(len(boxes), 0.1)
    bottom = lo[:, j] if boxes.dim > 1 else np.full(len(boxes), -0.05)
    rects = [
        Rectangle((a, b), w, h)
        for a, b, w, h in zip(lo[:, i], bottom, size[:, i], height, strict=True)
    ]
    ax.add_collection(
        PatchCollection(rects, facecolor="tab:blue", edgecolor="navy", alpha=0.35, lw=0.4)
    )
    ax.set_xlim(boxes.lower[i], boxes.upper[i])
    if boxes.dim > 1:
        ax.set_ylim(boxes.lower[j], boxes.upper[j])
        ax.set_ylabel(f"x{j + 1}")
    ax.set_xlabel(f"x{i + 1}")


def plot_pareto(found: ParetoSet, path: str | Path, *, problem: Problem | None = None) -> Path:
    """Two panels: the covering (first two coordinates) and the non-dominated images' values."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = found.values.shape[1]
    fig = plt.figure(figsize=(10, 4.2))
    ax_set = fig.add_subplot(1, 2, 1)
    ax_front = fig.add_subplot(1, 2, 2, projection="3d" if m == 3 else None)
    _draw_boxes(ax_set, found.boxes)
    ax_set.set_title(f"{len(found)} boxes, level {found.boxes.level}")
    _, F = found.front()
    known = problem is not None and problem.has_pareto_set
    if known:
        P = problem.pareto_set(400)
        ax_set.plot(
            P[:, 0],
            P[:, 1] if problem.dim > 1 else np.zeros(len(P)),
            ".",
            ms=1.5,
            color="crimson",
            label="known Pareto set",
        )
        ax_set.legend(loc="best", fontsize=8)
    if m == 3:
        ax_front.scatter(*F.T, s=3, color="tab:blue")
        ax_front.set_zlabel("f3")
    else:
        if known:
            ref = problem.pareto_front(400)
            ax_front.plot(
                *ref[np.argsort(ref[:, 0])].T[:2], "-", color="crimson", lw=1, label="known front"
            )
        ax_front.plot(F[:, 0], F[:, 1], ".", ms=3, color="tab:blue", label="non-dominated images")
        ax_front.legend(loc="best", fontsize=8)
    ax_front.set_xlabel("f1")
    ax_front.set_ylabel("f2")
    counts = found.counts
    ax_front.set_title(f"{len(F)} non-dominated points, {counts.f:,} f + {counts.jac:,} jac")
    fig.suptitle(f"{found.problem}: {found.method}")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_levels(
    coverings: Sequence[BoxSet], path: str | Path, *, points: np.ndarray | None = None
) -> Path:
    """One small panel per covering (e.g. every few levels of a subdivision)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(4, len(coverings))
    rows = -(-len(coverings) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax, boxes in zip(axes.flat, coverings, strict=False):
        _draw_boxes(ax, boxes)
        if points is not None:
            ax.plot(points[:, 0], points[:, 1], ".", ms=1, color="crimson")
        ax.set_title(f"level {boxes.level}: {len(boxes)} boxes", fontsize=9)
    for ax in list(axes.flat)[len(coverings) :]:
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)
