r"""Population growth models as pure functions on arrays.

Each model maps the stock left after harvest (the escapement ``s``) to next year's expected stock
``recruit(s)``. Two orders of events are used in the literature:

* ``"harvest_first"`` (the simulation study of Memarzadeh & Boettiger 2019):
  :math:`s = \max(x - h, 0)`, :math:`\mathbb E[x'] = g(s)`;
* ``"recruit_first"`` (their historical study): :math:`\mathbb E[x'] = g(x) - \min(x, h)`.

The realised harvest is :math:`\min(x, h)` in both. Process noise is added by
:func:`add_process_noise`; a non-positive expectation means extinction (state 0 is absorbing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from decide.errors import ModelError

Order = Literal["harvest_first", "recruit_first"]
NoiseKind = Literal["normal", "lognormal"]


class GrowthModel(Protocol):
    K: float

    def recruit(self, s: np.ndarray) -> np.ndarray: ...


def _positive(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if not (np.isfinite(value) and value > 0):
            raise ModelError(f"{type(owner).__name__}.{name}", f"expected > 0, got {value}")


@dataclass(frozen=True)
class Logistic:
    r"""Gordon–Schaefer / logistic growth :math:`g(s) = s + r s (1 - s/K)`."""

    r: float = 0.75
    K: float = 1.0

    def __post_init__(self) -> None:
        _positive(self, "r", "K")

    def recruit(self, s: np.ndarray) -> np.ndarray:
        return s + self.r * s * (1.0 - s / self.K)


@dataclass(frozen=True)
class Ricker:
    r""":math:`g(s) = s \exp(r (1 - s/K))`."""

    r: float = 1.0
    K: float = 1.0

    def __post_init__(self) -> None:
        _positive(self, "r", "K")

    def recruit(self, s: np.ndarray) -> np.ndarray:
        return s * np.exp(self.r * (1.0 - s / self.K))


@dataclass(frozen=True)
class BevertonHolt:
    r""":math:`g(s) = (1 + r) s / (1 + r s / K)`; its fixed point is K."""

    r: float = 1.0
    K: float = 1.0

    def __post_init__(self) -> None:
        _positive(self, "r", "K")

    def recruit(self, s: np.ndarray) -> np.ndarray:
        return (1.0 + self.r) * s / (1.0 + self.r * s / self.K)


@dataclass(frozen=True)
class Allen:
    r"""Allen model with an Allee threshold C: :math:`g(s) = s \exp(r (1 - s/K)(s - C)/K)`."""

    r: float = 2.0
    K: float = 1.0
    C: float = 0.2

    def __post_init__(self) -> None:
        _positive(self, "r", "K")
        if not 0 <= self.C < self.K:
            raise ModelError("Allen.C", f"expected 0 <= C < K, got {self.C}")

    def recruit(self, s: np.ndarray) -> np.ndarray:
        return s * np.exp(self.r * (1.0 - s / self.K) * (s - self.C) / self.K)


def expected_next(
    model: GrowthModel, x: np.ndarray, h: np.ndarray, order: Order = "harvest_first"
) -> tuple[np.ndarray, np.ndarray]:
    """Expected next stock (before noise, floored at 0) and the realised harvest min(x, h)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    harvest = np.minimum(x, np.maximum(np.asarray(h, dtype=float), 0.0))
    if order == "harvest_first":
        mean = model.recruit(x - harvest)
    elif order == "recruit_first":
        mean = model.recruit(x) - harvest
    else:
        raise ModelError("order", f"expected 'harvest_first' or 'recruit_first', got {order!r}")
    return np.maximum(mean, 0.0), harvest


def add_process_noise(
    mean: np.ndarray, sigma: float, rng: np.random.Generator, kind: NoiseKind = "normal"
) -> np.ndarray:
    r"""Draw next year's stock around ``mean``; 0 stays 0 (extinction is absorbing).

    ``"normal"``: :math:`x' = \max(\mu + \sigma\varepsilon, 0)` with absolute sd σ, as the
    paper's code; ``"lognormal"``: :math:`x' = \mu \exp(\sigma\varepsilon - \sigma^2/2)`
    (mean-preserving).
    """
    mean = np.asarray(mean, dtype=float)
    eps = rng.standard_normal(mean.shape)
    if kind == "normal":
        draw = np.maximum(mean + sigma * eps, 0.0)
    elif kind == "lognormal":
        draw = mean * np.exp(sigma * eps - 0.5 * sigma**2)
    else:
        raise ModelError("noise", f"expected 'normal' or 'lognormal', got {kind!r}")
    return np.where(mean > 0.0, draw, 0.0)


def survey(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """A survey of the stock with additive normal measurement error of sd σ (σ = 0: exact)."""
    x = np.asarray(x, dtype=float)
    return x + sigma * rng.standard_normal(x.shape)
