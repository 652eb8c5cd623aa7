r"""The fisheries POMDP on grids, discretised exactly as the paper's code does it.

States, actions (quotas) and observations (surveys) are equally spaced points on ``[0, upper]``
(Memarzadeh & Boettiger 2019: 100 points on [0, 2K]). For a noisy value :math:`v \sim
\mathrm{Normal}(\mu, \sigma)` on a grid :math:`x_0 = 0 < x_1 < \dots < x_{n-1}` of spacing δ,
the row :math:`p` is built by :func:`decide.envs.fisheries.model.dynamics.grid_probabilities` (one
implementation shared with the discrete Gymnasium env):

1. :math:`w_j = \varphi\big((x_j - \mu)/\sigma\big)`, the density *at* the grid points (not
   integrated over bins);
2. the mass below 0 is added to the first point *at the grid's resolution*: the density at the
   grid continued below 0, :math:`w_0 \mathrel{+}= \sum_{k \ge 1} \varphi((-k\delta - \mu)/\sigma)`;
3. "renormalise the row to Φ(top)": :math:`p = N\, w / \sum_j w_j` with
   :math:`N = \Phi((x_{n-1} - \mu)/\sigma)`, so the grid keeps the mass the normal puts below the
   top point, and the rest :math:`1 - N` goes to the top point: :math:`p_{n-1} \mathrel{+}= 1 - N`;
4. :math:`\mu \le 0` puts all mass on point 0 (extinction is absorbing; a stock of 0 is
   surveyed as 0); :math:`\sigma = 0` puts it on the nearest point (identity observations).

Reading of step 2: the published σm = 0 policies (SARSOP, gaps ≤ 7.5e-5) are valid lower bounds
of this model's exact value at every state, and at b0 they are within 2e-4 of it. Adding the
continuous mass :math:`\Phi(-\mu/\sigma)` to the first point instead puts the exact value at
b0 up to 8e-2 above those bounds (in probability units) or below them (in density units, which a
lower bound cannot be), so that is not what the code did (tests/envs/test_fisheries_pomdp.py).
Step 3 follows the reference page; the policies cannot tell it from a plain normalisation to 1
(the top of the grid is rarely reached).

Transitions :math:`T[a, s, \cdot]` use :math:`\mu = f(x_s, h_a)` and σg; observations
:math:`Z[a, s', \cdot]` use :math:`\mu = x_{s'}` and σm and do not depend on a; rewards are
:math:`R[s, a] = \min(x_s, h_a)`; the initial belief is uniform (the paper's manager starts
from a uniform prior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decide.envs.fisheries.model.dynamics import grid_probabilities, nearest_index
from decide.envs.fisheries.model.growth import (
    GrowthModel,
    Logistic,
    NoiseKind,
    Order,
    expected_next,
)
from decide.errors import ModelError
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.sparsify import DroppedMass, check_threshold, drop_small

#: The simulation study's growth model: logistic, r = 0.75, K = 1.
PAPER_MODEL = Logistic(0.75, 1.0)

__all__ = ["Grids", "build_historical_pomdp", "build_pomdp", "build_pomdp_report", "make_grids"]


@dataclass(frozen=True, eq=False)
class Grids:
    """Stock values of the states, quotas of the actions, survey values of the observations."""

    states: np.ndarray
    actions: np.ndarray
    observations: np.ndarray

    def snap_observation(self, y: np.ndarray) -> np.ndarray:
        """Index of the observation grid point nearest each survey value (lower one on ties)."""
        return nearest_index(self.observations, y)

    def snap_action(self, h: np.ndarray) -> np.ndarray:
        """Index of the action grid point nearest each quota (lower one on ties)."""
        return nearest_index(self.actions, h)


def make_grids(
    model: GrowthModel = PAPER_MODEL,
    n_states: int = 100,
    n_actions: int | None = None,
    n_obs: int | None = None,
    upper: float | None = None,
) -> Grids:
    """Equally spaced grids on ``[0, upper]`` (default ``upper = 2K``; actions and observations
    default to ``n_states`` points)."""
    upper = 2.0 * float(model.K) if upper is None else float(upper)
    if not (np.isfinite(upper) and upper > 0):
        raise ModelError("upper", f"expected a finite value > 0, got {upper}")
    sizes = {"n_states": n_states, "n_actions": n_actions or n_states, "n_obs": n_obs or n_states}
    for name, n in sizes.items():
        if int(n) != n or n < 2:
            raise ModelError(name, f"expected an integer >= 2, got {n}")
    return Grids(*(np.linspace(0.0, upper, int(n)) for n in sizes.values()))


def _labels(values: np.ndarray) -> tuple[str, ...]:
    for digits in (6, 10, 17):
        labels = tuple(f"{v:.{digits}g}" for v in values)
        if len(set(labels)) == len(labels):
            return labels
    raise ModelError("grid", "grid values are not distinct")  # pragma: no cover


def build_pomdp(
    model: GrowthModel = PAPER_MODEL,
    sigma_g: float = 0.15,
    sigma_m: float = 0.1,
    n_states: int = 100,
    n_actions: int | None = None,
    n_obs: int | None = None,
    upper: float | None = None,
    discount: float = 0.95,
    order: Order = "harvest_first",
    noise: NoiseKind = "normal",
    drop_below: float = 0.0,
) -> TabularPOMDP:
    r"""The paper's discretised fisheries POMDP (see the module docstring for the rules).

    Parameters
    ----------
    model : GrowthModel
        Growth :math:`g` with carrying capacity K (default logistic r = 0.75, K = 1).
    sigma_g, sigma_m : float
        Process and measurement noise, absolute standard deviations (≥ 0).
    n_states, n_actions, n_obs : int
        Grid sizes (actions and observations default to ``n_states``).
    upper : float, optional
        Top of every grid (default 2K).
    discount : float
        γ.
    order : {"harvest_first", "recruit_first"}
        :math:`f(x, h) = g(\max(x - h, 0))` (simulation study) or :math:`g(x) - \min(x, h)`
        (historical study); see :func:`decide.envs.fisheries.model.growth.expected_next`.
    noise : {"normal", "lognormal"}
        Process-noise law; the survey is always normal.
    drop_below : float
        In [0, 1): drop the transition and survey probabilities below it and renormalise the
        rows (:func:`decide.pomdp.sparsify.drop_small`: the rows hold a value for every grid
        point, most of them near zero), and append ``-drop{drop_below:g}`` to the name.
        Default 0: the exact model. :func:`build_pomdp_report` also returns the mass dropped,
        which bounds the change of the optimal value.

    Returns
    -------
    TabularPOMDP
        ``T[a, s, s']``, ``Z[s', o]`` (the same for every action), ``R[s, a] = min(x_s, h_a)``,
        uniform ``b0``, labels the grid values.
    """
    settings = (model, sigma_g, sigma_m, n_states, n_actions, n_obs, upper, discount, order, noise)
    return build_pomdp_report(*settings, drop_below=drop_below)[0]


def build_pomdp_report(
    model: GrowthModel = PAPER_MODEL,
    sigma_g: float = 0.15,
    sigma_m: float = 0.1,
    n_states: int = 100,
    n_actions: int | None = None,
    n_obs: int | None = None,
    upper: float | None = None,
    discount: float = 0.95,
    order: Order = "harvest_first",
    noise: NoiseKind = "normal",
    drop_below: float = 0.0,
) -> tuple[TabularPOMDP, DroppedMass]:
    """:func:`build_pomdp` (same arguments) and the mass ``drop_below`` dropped; its
    :meth:`~decide.pomdp.sparsify.DroppedMass.bound_for` bounds the change of the optimal value
    (zero mass at the default 0)."""
    for name, sigma in (("sigma_g", sigma_g), ("sigma_m", sigma_m)):
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ModelError(name, f"expected a finite value >= 0, got {sigma}")
    if noise not in ("normal", "lognormal"):
        raise ModelError("noise", f"expected 'normal' or 'lognormal', got {noise!r}")
    drop_below = check_threshold(drop_below, "drop_below")
    grids = make_grids(model, n_states, n_actions, n_obs, upper)
    x, h = grids.states[None, :], grids.actions[:, None]
    mean, harvest = expected_next(model, x, h, order)  # (A, S)
    T = grid_probabilities(grids.states, mean, float(sigma_g), noise)
    Z1 = grid_probabilities(grids.observations, grids.states, float(sigma_m), "normal")
    S = grids.states.size
    name = f"fisheries-{type(model).__name__.lower()}-sg{sigma_g:g}-sm{sigma_m:g}-{S}"
    if drop_below > 0:
        name += f"-drop{drop_below:g}"
    pomdp = TabularPOMDP(
        T=T,
        Z=Z1,
        R=harvest.T,
        discount=discount,
        b0=np.full(S, 1.0 / S),
        states=_labels(grids.states),
        actions=_labels(grids.actions),
        observations=_labels(grids.observations),
        name=name,
    )
    return drop_small(pomdp, drop_below)


def build_historical_pomdp(
    model: GrowthModel,
    sigma_g: float,
    sigma_m: float = 0.1,
    n: int = 150,
    upper: float = 4.0,
    discount: float = 0.95,
    drop_below: float = 0.0,
) -> TabularPOMDP:
    """The historical study's POMDP: recruitment before harvest, ``n``-point grids on [0, 4]
    (stock in units of the series' maximum SSB); ``drop_below`` as in :func:`build_pomdp`."""
    return build_pomdp(
        model,
        sigma_g,
        sigma_m,
        n,
        upper=upper,
        discount=discount,
        order="recruit_first",
        drop_below=drop_below,
    )
