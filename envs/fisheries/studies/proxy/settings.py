"""The settings of a proxy study (:mod:`decide.envs.fisheries.studies.proxy.run`), checked field by
field."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from decide.envs.fisheries.data.fitting import NAMES, PAPER_PRIORS
from decide.errors import UsageError

CORRUPTION_KINDS = ("scale", "replace")


@dataclass(frozen=True)
class ProxySettings:
    """Everything that defines a proxy study (defaults as in the module docstrings).

    Parameters
    ----------
    corruption : float
        Share c in [0, 1) of survey records that are grossly wrong.
    corruption_kind : {"scale", "replace"}
        Wrong records multiplied by a factor uniform on ``corruption_factor``, or replaced by
        U[0, 2K].
    corruption_factor : (low, high)
        Range of the factor of ``"scale"`` corruption, 0 < low ≤ high.
    seeds : tuple of int
        One independent study (records, fits, candidates, noise, orders) per seed.
    n_candidates : int
        Harvest rules drawn from the family (≥ 2).
    k : int
        Bootstrap fits in the ensemble (≥ 2).
    lam : float
        UWO weight λ on standardised scores.
    r, K, sigma_g, gamma : float
        Gold model and discount factor.
    years : int
        Length of the records (≥ 4).
    sigma_m : float
        Survey error sd of the records.
    record_start : float
        True stock in the first year of the records.
    horizon : int
        Years of management counted in the NPV.
    start : float
        Stock when management starts.
    replicates, gold_replicates : int
        Noise paths for the proxy models' and the gold model's values.
    n_orders : int
        Random candidate orders averaged at each pressure.
    priors : tuple of (low, high) for r, K, sigma_g
        Box of the maximum-likelihood fits (default the paper's: r, K in (0, 2), σg in (0, 1)).
    """

    corruption: float = 0.25
    corruption_kind: str = "scale"
    corruption_factor: tuple[float, float] = (1.5, 3.0)
    seeds: tuple[int, ...] = tuple(range(20))
    n_candidates: int = 2000
    k: int = 5
    lam: float = 0.5
    r: float = 0.75
    K: float = 1.0
    sigma_g: float = 0.1
    gamma: float = 0.95
    years: int = 40
    sigma_m: float = 0.05
    record_start: float = 0.9
    horizon: int = 50
    start: float = 0.5
    replicates: int = 100
    gold_replicates: int = 400
    n_orders: int = 20
    priors: tuple[tuple[float, float], ...] = tuple(PAPER_PRIORS[name] for name in NAMES)

    def __post_init__(self) -> None:
        if not (0.0 <= self.corruption < 1.0):
            raise UsageError(f"corruption: expected a share in [0, 1), got {self.corruption!r}")
        seeds = tuple(self.seeds)
        if not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
            raise UsageError(f"seeds: expected a non-empty sequence of integers ≥ 0, got {seeds}")
        object.__setattr__(self, "seeds", seeds)
        if self.corruption_kind not in CORRUPTION_KINDS:
            raise UsageError(
                f"corruption_kind: expected one of {CORRUPTION_KINDS}, got {self.corruption_kind!r}"
            )
        factor = tuple(self.corruption_factor)
        if (
            len(factor) != 2
            or not all(isinstance(f, int | float) and math.isfinite(f) and f > 0 for f in factor)
            or factor[0] > factor[1]
        ):
            raise UsageError(
                f"corruption_factor: expected (low, high) with 0 < low ≤ high, got {factor}"
            )
        object.__setattr__(self, "corruption_factor", factor)
        for name, low in (("n_candidates", 2), ("k", 2), ("years", 4), ("horizon", 1),
                          ("replicates", 1), ("gold_replicates", 1), ("n_orders", 1)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"{name}: expected an integer ≥ {low}, got {value!r}")
        for name in ("r", "K", "record_start", "start"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise UsageError(f"{name}: expected a finite number > 0, got {value!r}")
        for name in ("sigma_g", "sigma_m", "lam"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise UsageError(f"{name}: expected a finite number ≥ 0, got {value!r}")
        if not 0 < self.gamma <= 1:
            raise UsageError(f"gamma: expected a discount factor in (0, 1], got {self.gamma!r}")
        if len(self.priors) != 3 or not all(0 <= lo < hi for lo, hi in self.priors):
            raise UsageError(f"priors: expected 3 pairs 0 ≤ low < high for {NAMES}")

    @property
    def prior_box(self) -> dict[str, tuple[float, float]]:
        """The box of the fits keyed by parameter name, as the fitting functions take it."""
        return dict(zip(NAMES, self.priors, strict=True))

    @property
    def pressures(self) -> np.ndarray:
        """n = 1, 2, 4, … while below ``n_candidates``, then ``n_candidates``."""
        doubling = 2 ** np.arange(self.n_candidates.bit_length())
        return np.append(doubling[doubling < self.n_candidates], self.n_candidates)
