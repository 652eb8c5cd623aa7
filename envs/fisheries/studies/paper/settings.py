"""What fixes the simulation study's numbers: the scenarios, the replicates and the solver."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from decide.envs.fisheries.model.growth import GrowthModel
from decide.envs.fisheries.model.pomdp_builder import PAPER_MODEL
from decide.errors import UsageError
from decide.pomdp.pointbased import PointBased

RULES = ("CE", "MSY", "TAC")
POLICIES = (*RULES, "POMDP", "SARSOP")


@dataclass(frozen=True)
class StudySettings:
    r"""The study's settings; the defaults are the paper's.

    Parameters
    ----------
    sigma_g : float
        Process noise (absolute sd).
    sigma_ms : tuple of float
        Measurement-noise levels, one scenario each.
    replicates, seed : int
        Monte Carlo replicates and the seed of their uniforms (same seed, same numbers).
    solver : PointBased
        The POMDP's solver, one solve per scenario. With ``max_iterations`` (a trial budget)
        the policy is the same on any machine; with only ``time_limit`` it depends on the
        machine's speed and load.
    policies : tuple of str, optional
        Subset of CE, MSY, TAC, POMDP (and SARSOP); default all available.
    policyx_dir : path, optional
        A folder with the paper's ``.policyx`` files and ``index.csv``; adds policy "SARSOP".
    model, n_grid, discount : growth model, grid size, γ
        The paper's: logistic r = 0.75, K = 1; 100 points on [0, 2K]; 0.95.
    years : int
        Decisions per replicate (the paper: 99, t = 2..100).
    x0 : float, optional
        Initial stock, snapped to the grid (default K/6 → 0.1616).
    collapse_threshold : float
        Collapse: final stock below this fraction of K.
    trajectories : bool
        Keep ``stock``, ``quota``, ``harvest`` and ``observation`` per year.
    """

    sigma_g: float = 0.15
    sigma_ms: tuple[float, ...] = (0.0, 0.1, 0.15)
    replicates: int = 1000
    seed: int = 0
    solver: PointBased = field(default_factory=lambda: PointBased(time_limit=60.0))
    policies: tuple[str, ...] | None = None
    policyx_dir: str | Path | None = None
    model: GrowthModel = PAPER_MODEL
    n_grid: int = 100
    discount: float = 0.95
    years: int = 99
    x0: float | None = None
    collapse_threshold: float = 0.1
    trajectories: bool = True

    def __post_init__(self) -> None:
        sigma_ms = tuple(float(s) for s in self.sigma_ms)
        object.__setattr__(self, "sigma_ms", sigma_ms)
        if not sigma_ms or len(set(sigma_ms)) != len(sigma_ms):
            raise UsageError(f"sigma_m: expected distinct values, got {list(sigma_ms)}")
        if self.replicates < 1 or self.years < 1:
            raise UsageError(
                f"replicates and years must be >= 1, got {self.replicates} and {self.years}"
            )
        if not isinstance(self.solver, PointBased):
            raise UsageError(f"solver: expected a PointBased, got {type(self.solver).__name__}")
        if self.policies is not None:
            object.__setattr__(self, "policies", tuple(self.policies))
        self.names  # noqa: B018 (checks the policies)

    @property
    def names(self) -> tuple[str, ...]:
        """The policies simulated, in the study's order."""
        sarsop = self.policyx_dir is not None
        if self.policies is None:
            return (*RULES, "POMDP", *(("SARSOP",) if sarsop else ()))
        names = self.policies
        unknown = [p for p in names if p not in POLICIES]
        if unknown or not names or len(set(names)) != len(names):
            known = ", ".join(POLICIES)
            raise UsageError(f"policies: expected distinct names among {known}; got {names}")
        if "SARSOP" in names and not sarsop:
            raise UsageError("policy SARSOP needs policyx_dir (the folder of the paper's policies)")
        return tuple(p for p in POLICIES if p in names)

    def parameters(self) -> dict[str, Any]:
        """The settings as the Dataset records them (the solver's under ``solver``)."""
        return {
            "sigma_g": self.sigma_g,
            "sigma_m": list(self.sigma_ms),
            "replicates": self.replicates,
            "seed": self.seed,
            "solver": asdict(self.solver),
            "model": repr(self.model),
            "n_grid": self.n_grid,
            "discount": self.discount,
            "years": self.years,
            "collapse_threshold": self.collapse_threshold,
            "policyx_dir": None if self.policyx_dir is None else str(self.policyx_dir),
        }
