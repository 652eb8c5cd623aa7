"""The point-based solver: SARSOP-class belief sampling with point-based backups
(``solver``), its search loop (``loop``) and the state it grows (``state``)."""

from decide.pomdp.pointbased.loop import Progress
from decide.pomdp.pointbased.solver import (
    PointBased,
    PointBasedResult,
    compile_kernels,
    solver_part,
)

__all__ = ["PointBased", "PointBasedResult", "Progress", "compile_kernels", "solver_part"]
