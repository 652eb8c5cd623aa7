"""What a Pareto method tells its callback while it runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decide.pareto.boxes import BoxSet
from decide.pareto.problem import Counts


@dataclass(frozen=True, eq=False)
class ParetoProgress:
    """The covering after ``level`` of ``levels`` (a continuation has one level: its result),
    the images in it and the evaluations spent so far."""

    level: int
    levels: int
    boxes: BoxSet
    points: np.ndarray
    values: np.ndarray
    counts: Counts
