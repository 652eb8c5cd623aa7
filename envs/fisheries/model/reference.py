r"""Reference points (S*, B_MSY, MSY, F_MSY) and the reference harvest rules CE, MSY and TAC.

For growth :math:`g` and discount γ the escapement target S* maximises the discounted steady
surplus :math:`g(S) - S/\gamma` (so :math:`g'(S^*) = 1/\gamma` where g is smooth); the paper's
code finds it with R's ``optimize`` on the same objective. Then

* harvest before growth (simulation study): :math:`B_{MSY} = g(S^*)`, the stock seen before
  harvest; recruit before harvest (historical study): :math:`B_{MSY} = S^*`;
* :math:`MSY = g(S^*) - S^*` and :math:`F_{MSY} = MSY / B_{MSY}`.

Logistic r = 0.75, K = 1, γ = 0.95: S* = 0.46491, B_MSY = 0.65149, MSY = 0.18658,
F_MSY = 0.28638.

Rules map a survey y to a quota: constant escapement CE :math:`h = \max(y - S^*, 0)` (historical
variant :math:`h = \max(g(y) - S^*, 0)`), MSY :math:`h = F_{MSY}\,y` and TAC
:math:`h = 0.8\,F_{MSY}\,y`. A rule is usable in the Gymnasium envs (``rule(obs)`` → quota) and
on grids (``rule.action_table(grids)`` → nearest action index per observation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from decide.envs.fisheries.model.growth import GrowthModel, Order
from decide.envs.fisheries.model.pomdp_builder import PAPER_MODEL, Grids
from decide.errors import ModelError

__all__ = [
    "BeliefPolicy",
    "ConstantEscapement",
    "HarvestRate",
    "ReferencePoints",
    "reference_points",
    "reference_rules",
]

#: The TAC rule's fraction of F_MSY.
TAC_FRACTION = 0.8


@dataclass(frozen=True)
class ReferencePoints:
    """Escapement target, biomass at MSY, maximum sustainable yield and harvest rate at MSY."""

    S_star: float
    B_MSY: float
    MSY: float
    F_MSY: float


def _escapement_target(model: GrowthModel, discount: float, upper: float) -> float:
    r"""Maximise :math:`g(S) - S/\gamma` on a grid, then solve :math:`g'(S) = 1/\gamma` in the
    bracket around the best point (central differences), or keep the grid point if g is not
    smooth there."""
    coarse = np.linspace(0.0, upper, 4001)
    values = model.recruit(coarse) - coarse / discount
    i = int(np.argmax(values))
    lo, hi = coarse[max(i - 1, 0)], coarse[min(i + 1, coarse.size - 1)]
    step = 1e-6 * upper

    def slope(s: float) -> float:
        rise = model.recruit(np.array([s + step, s - step]))
        return float(rise[0] - rise[1]) / (2 * step) - 1.0 / discount

    if slope(lo) > 0 > slope(hi):
        return float(brentq(slope, lo, hi, xtol=1e-14))
    return float(coarse[i])


def reference_points(
    model: GrowthModel = PAPER_MODEL,
    discount: float = 0.95,
    order: Order = "harvest_first",
    upper: float | None = None,
) -> ReferencePoints:
    r"""S* = argmax over [0, upper] (default 2K) of :math:`g(S) - S/\gamma`, and B_MSY, MSY,
    F_MSY as in the module docstring."""
    if not 0.0 < discount < 1.0:
        raise ModelError("discount", f"expected a value in (0, 1), got {discount}")
    if order not in ("harvest_first", "recruit_first"):
        raise ModelError("order", f"expected 'harvest_first' or 'recruit_first', got {order!r}")
    upper = 2.0 * float(model.K) if upper is None else float(upper)
    s_star = _escapement_target(model, discount, upper)
    recruited = float(model.recruit(np.asarray(s_star)))
    msy = recruited - s_star
    b_msy = recruited if order == "harvest_first" else s_star
    if not (s_star > 0 and msy > 0):
        raise ModelError("model", f"no positive escapement target for {model!r} at γ={discount}")
    return ReferencePoints(S_star=s_star, B_MSY=b_msy, MSY=msy, F_MSY=msy / b_msy)


class _Rule:
    """Common behaviour: quota(y), the env call, and the table on grids."""

    name: str

    def quota(self, y: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        """The quota for a Gymnasium observation (same shape), as float64."""
        return self.quota(np.asarray(observation, dtype=np.float64))

    def action_table(self, grids) -> np.ndarray:
        """Nearest action index for each observation grid point (``grids`` from
        :func:`decide.envs.fisheries.model.pomdp_builder.make_grids`)."""
        return grids.snap_action(self.quota(grids.observations)).astype(np.int64)


@dataclass(frozen=True)
class ConstantEscapement(_Rule):
    r"""CE: :math:`h = \max(y - S^*, 0)`; with ``growth`` given, :math:`h = \max(g(y) - S^*, 0)`
    (the historical study, where growth comes before harvest)."""

    escapement: float
    growth: GrowthModel | None = None
    name: str = "CE"

    def quota(self, y: np.ndarray) -> np.ndarray:
        y = np.maximum(np.asarray(y, dtype=np.float64), 0.0)
        available = y if self.growth is None else self.growth.recruit(y)
        return np.maximum(available - self.escapement, 0.0)


@dataclass(frozen=True)
class HarvestRate(_Rule):
    r"""A constant harvest rate: :math:`h = \text{rate}\cdot\max(y, 0)` (MSY: F_MSY; TAC:
    0.8 F_MSY)."""

    rate: float
    name: str = "MSY"

    def quota(self, y: np.ndarray) -> np.ndarray:
        return self.rate * np.maximum(np.asarray(y, dtype=np.float64), 0.0)


def reference_rules(
    model: GrowthModel = PAPER_MODEL,
    discount: float = 0.95,
    order: Order = "harvest_first",
    upper: float | None = None,
) -> dict[str, _Rule]:
    """The CE, MSY and TAC rules of the study with this order of events, keyed by name."""
    points = reference_points(model, discount, order, upper)
    growth = model if order == "recruit_first" else None
    return {
        "CE": ConstantEscapement(points.S_star, growth),
        "MSY": HarvestRate(points.F_MSY, "MSY"),
        "TAC": HarvestRate(TAC_FRACTION * points.F_MSY, "TAC"),
    }


class BeliefPolicy:
    r"""The POMDP manager: alpha vectors acting on an exact Bayes belief.

    The belief starts at ``pomdp.b0`` (uniform) with "no harvest" (action 0) as the previous
    action; each survey updates it by
    :math:`b'(s') \propto Z(o \mid s', a_{prev}) \sum_s T(s' \mid s, a_{prev})\, b(s)` and the
    policy plays the action of the vector maximising :math:`b' \cdot \alpha_k`. An observation of
    probability 0 keeps the normalised prediction (counted in ``impossible``).

    Parameters
    ----------
    pomdp : TabularPOMDP
        The model the belief follows (from ``build_pomdp``).
    policy : AlphaVectorPolicy
        Vectors over the model's states (ours or SARSOP's).
    grids : Grids, optional
        The model's grids, to snap continuous surveys and return quotas; default: the labels.
    """

    def __init__(self, pomdp, policy, grids=None, name: str = "POMDP"):
        policy = policy.for_model(pomdp)
        if grids is None:
            values = [np.array([float(v) for v in labels], dtype=np.float64) for labels in
                      (pomdp.states, pomdp.actions, pomdp.observations)]  # fmt: skip
            grids = Grids(*values)
        self.pomdp, self.policy, self.grids, self.name = pomdp, policy, grids, name
        self.reset()

    def reset(self, belief: np.ndarray | None = None, previous_action: int = 0) -> None:
        """Start from ``belief`` (default b0) with ``previous_action`` (default: no harvest)."""
        self.belief = np.array(self.pomdp.b0 if belief is None else belief, dtype=np.float64)
        self.previous_action = int(previous_action)
        self.impossible = 0

    def step(self, observation: int, previous_action: int | None = None) -> int:
        """Update the belief with observation index ``observation`` after ``previous_action``
        (default: the action this policy chose last); return the chosen action index."""
        from decide.pomdp.belief import update_beliefs

        a_prev = self.previous_action if previous_action is None else int(previous_action)
        posterior, possible = update_beliefs(
            self.pomdp, self.belief[None, :], np.array([a_prev]), np.array([int(observation)])
        )
        self.belief = posterior[0]
        self.impossible += int(not possible[0])
        self.previous_action = self.policy.action(self.belief)
        return self.previous_action

    def quota(self, y: float, previous_quota: float | None = None) -> float:
        """Quota for survey value ``y`` (snapped to the observation grid); ``previous_quota``
        (snapped to the action grid) replaces the previous action, e.g. a historical catch."""
        o = int(self.grids.snap_observation(np.asarray(y, dtype=np.float64)))
        a_prev = None if previous_quota is None else int(self.grids.snap_action(previous_quota))
        return float(self.grids.actions[self.step(o, a_prev)])

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        """Gymnasium use: the quota for a (1,)-shaped survey; call :meth:`reset` per episode."""
        observation = np.asarray(observation, dtype=np.float64)
        return np.full(observation.shape, self.quota(float(observation.reshape(-1)[0])))
