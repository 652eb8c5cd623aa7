"""The settings of a robust-choice study (:mod:`decide.envs.fisheries.studies.choice.run`), checked
field by field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from decide.envs.fisheries.data.fitting import NAMES, PAPER_PRIORS
from decide.envs.fisheries.studies.choice.candidates import PipelineSpec
from decide.envs.fisheries.studies.proxy.settings import ProxySettings
from decide.errors import UsageError
from decide.pomdp.pointbased import PointBased
from decide.robust.ensemble import DEFAULT_LAM

_INTEGERS = {"n_grid": 2, "replicates": 1, "gold_replicates": 1, "horizon": 1}
#: A solve's seconds: far more than a trial budget needs, so the budget is what stops it.
SOLVE_TIME_LIMIT = 1e6
_POSITIVE = ("start", "upper")
_NON_NEGATIVE = ("survey_sd",)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_index(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class ChoiceSettings:
    """Everything that defines a robust-choice study (see the module docstring).

    Parameters
    ----------
    corruption, corruption_kind, corruption_factor, k, r, K, sigma_g, years, sigma_m, \
    record_start, priors
        The records and fits, as in :class:`~decide.envs.fisheries.studies.proxy.run.ProxySettings`
        (and checked by it): share of grossly wrong surveys, their kind and factor range,
        bootstrap fits, gold model, record length, survey sd of the records, first recorded
        stock, box of the fits.
    seeds : tuple of int
        One independent study per seed.
    lam : float
        UWO weight λ on standardised scores.
    n_grid : int
        Points of the state, action and observation grids.
    upper : float
        Top of every grid, shared by all models (≥ ``start``).
    survey_sd : float
        Survey noise sd σm of the managed fishery's POMDPs (and of the gold POMDP).
    sigma_g_cap : float or None
        Cap on a fitted σg in its POMDP (the RAM batch uses 0.2); None: no cap.
    discount : float
        γ in (0, 1) of the POMDPs, the reference rules and the NPV.
    solver : PointBased
        The point-based solver of every candidate POMDP. It must have a trial budget
        (``max_iterations``), which makes the study deterministic; the default's 100 trials
        stop it long before its time limit.
    replicates, gold_replicates : int
        Runs per candidate with a fitted model, and with the gold model, as the truth.
    horizon : int
        Years simulated.
    start : float
        True stock when management starts (snapped to the grid).
    collapse_threshold : float
        A run collapses when its final stock is below this share of the gold K.
    """

    corruption: float = 0.25
    corruption_kind: str = "scale"
    corruption_factor: tuple[float, float] = (1.5, 3.0)
    seeds: tuple[int, ...] = tuple(range(20))
    k: int = 5
    lam: float = DEFAULT_LAM
    r: float = 0.75
    K: float = 1.0
    sigma_g: float = 0.1
    years: int = 40
    sigma_m: float = 0.05
    record_start: float = 0.9
    priors: tuple[tuple[float, float], ...] = tuple(PAPER_PRIORS[name] for name in NAMES)
    n_grid: int = 30
    upper: float = 2.0
    survey_sd: float = 0.1
    sigma_g_cap: float | None = None
    discount: float = 0.95
    solver: PointBased = field(
        default_factory=lambda: PointBased(time_limit=SOLVE_TIME_LIMIT, max_iterations=100)
    )
    replicates: int = 100
    gold_replicates: int = 400
    horizon: int = 50
    start: float = 0.5
    collapse_threshold: float = 0.1

    def __post_init__(self) -> None:
        seeds = tuple(self.seeds)
        if not seeds or not all(_is_index(s) for s in seeds) or len(set(seeds)) < len(seeds):
            raise UsageError(f"seeds: expected distinct integers ≥ 0 (at least one), got {seeds}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))
        if not _is_number(self.corruption):
            raise UsageError(f"corruption: expected a share in [0, 1), got {self.corruption!r}")
        self.records  # noqa: B018 - ProxySettings checks the records-and-fits fields
        for name, low in _INTEGERS.items():
            value = getattr(self, name)
            if type(value) is not int or value < low:
                raise UsageError(f"{name}: expected an integer ≥ {low}, got {value!r}")
        for name in _POSITIVE:
            if not (_is_number(value := getattr(self, name)) and value > 0):
                raise UsageError(f"{name}: expected a finite number > 0, got {value!r}")
        for name in _NON_NEGATIVE:
            if not (_is_number(value := getattr(self, name)) and value >= 0):
                raise UsageError(f"{name}: expected a finite number ≥ 0, got {value!r}")
        if not isinstance(self.solver, PointBased) or self.solver.max_iterations is None:
            message = f"expected a PointBased with max_iterations, got {self.solver!r}"
            raise UsageError(f"solver: {message}")
        cap = self.sigma_g_cap
        if cap is not None and not (_is_number(cap) and cap > 0):
            raise UsageError(f"sigma_g_cap: expected None or a finite number > 0, got {cap!r}")
        if not (_is_number(self.discount) and 0 < self.discount < 1):
            raise UsageError(f"discount: expected a number in (0, 1), got {self.discount!r}")
        if self.start > self.upper:
            raise UsageError(f"start: expected at most upper = {self.upper}, got {self.start!r}")
        if not (_is_number(self.collapse_threshold) and 0 <= self.collapse_threshold <= 1):
            raise UsageError(
                f"collapse_threshold: expected a share in [0, 1], got {self.collapse_threshold!r}"
            )

    @property
    def records(self) -> ProxySettings:
        """The records-and-fits part as the proxy study's settings (for its functions)."""
        fields = ("corruption", "corruption_kind", "corruption_factor", "seeds", "k", "lam", "r",
                  "K", "sigma_g", "years", "sigma_m", "record_start", "priors")  # fmt: skip
        return ProxySettings(**{name: getattr(self, name) for name in fields}, gamma=self.discount)

    @property
    def pipeline(self) -> PipelineSpec:
        """Grids, survey noise, discount, σg cap and solver of every POMDP."""
        return PipelineSpec(self.n_grid, self.upper, self.survey_sd, self.discount,
                            self.sigma_g_cap, self.solver)  # fmt: skip
