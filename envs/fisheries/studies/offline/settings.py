"""What fixes the offline study's numbers: the histories, the fits and the policies' weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from decide.envs.fisheries.studies.offline.history import MODELS
from decide.errors import UsageError


@dataclass(frozen=True)
class OfflineSettings:
    r"""The offline study's settings (module docstring of
    :mod:`decide.envs.fisheries.studies.offline.run`).

    Parameters
    ----------
    seeds : tuple of int
        One history (and bootstrap) per seed: ``numpy.random.default_rng(seed)``.
    model : {"logistic", "surplus"}
        What the managers fit: the logistic model by maximum likelihood, or the flexible
        penalised piecewise-linear surplus (:mod:`decide.envs.fisheries.data.surplus_fit`); see
        :func:`~decide.envs.fisheries.studies.offline.history.fitted_set`.
    n_years, sigma_g, sigma_m, gross_fraction, rate, rate_jitter
        The history: years, process noise (also the gold model's), survey noise, share of
        grossly wrong records, the managers' harvest rate and its log-scale jitter.
    n_bootstrap : int
        Bootstrap refits drawn; those inside the likelihood-ratio set of level ``level``
        join the ML fit in the confidence set.
    level : float or None
        Confidence level of the likelihood-ratio set; None keeps every refit.
    eta, beta : float
        Imitation weight η and KL temperature β of the regularised policy (value units: the
        discounted catch).
    prior : float
        Dirichlet concentration per action of the behaviour policy.
    n_grid, discount : int, float
        Grid points on [0, 2] and γ.
    eta_sweep : tuple of float
        Extra η values, reported as policies ``regularised_eta=…``.
    """

    seeds: tuple[int, ...] = tuple(range(40))
    model: str = "logistic"
    n_years: int = 50
    sigma_g: float = 0.1
    sigma_m: float = 0.1
    gross_fraction: float = 0.1
    rate: float = 0.3
    rate_jitter: float = 0.2
    n_bootstrap: int = 5
    level: float | None = 0.95
    eta: float = 0.01
    beta: float = 0.001
    prior: float = 0.001
    n_grid: int = 55
    discount: float = 0.95
    eta_sweep: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        seeds = tuple(int(s) for s in self.seeds)
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "eta_sweep", tuple(float(e) for e in self.eta_sweep))
        if not seeds or len(set(seeds)) != len(seeds):
            raise UsageError(f"seeds: expected distinct integers, got {list(seeds)}")
        if int(self.n_bootstrap) != self.n_bootstrap or self.n_bootstrap < 1:
            raise UsageError(f"n_bootstrap: expected an integer >= 1, got {self.n_bootstrap}")
        if int(self.n_years) != self.n_years or self.n_years < 4:
            raise UsageError(f"n_years: expected an integer >= 4, got {self.n_years}")
        if self.level is not None and not 0.0 < self.level < 1.0:
            raise UsageError(
                f"level: expected None or a confidence level in (0, 1), got {self.level}"
            )
        if self.model not in MODELS:
            raise UsageError(f"model: expected one of {MODELS}, got {self.model!r}")
        if not 0.0 <= self.gross_fraction < 1.0:
            raise UsageError(
                f"gross_fraction: expected a value in [0, 1), got {self.gross_fraction}"
            )

    def parameters(self) -> dict[str, Any]:
        """The settings as the Dataset records them (the seeds apart: they are a coordinate)."""
        out = asdict(self)
        del out["seeds"]
        out["eta_sweep"] = list(self.eta_sweep)
        return out
