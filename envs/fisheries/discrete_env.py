"""``decide/FisheriesDiscrete-v0``: the fisheries env on the paper's 100-point grids."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from decide.envs.fisheries.fisheries_env import _check_render_mode
from decide.envs.fisheries.model.dynamics import (
    initial_index,
    initial_stock,
    nearest_index,
    step_grid,
    step_stock,
    survey_grid,
    survey_stock,
)
from decide.envs.fisheries.model.params import FisheriesParams, make_params
from decide.errors import ModelError, UsageError

Simulation = Literal["grid", "continuous"]


class FisheriesDiscreteEnv(gym.Env[np.int64, np.int64]):
    r"""
    ## Description

    The model of ``decide/Fisheries-v0``
    (:class:`~decide.envs.fisheries.fisheries_env.FisheriesEnv`) on the grids of Memarzadeh &
    Boettiger (2019): states, quotas and survey values are the ``grid_size`` = 100 equally
    spaced points :math:`g_0 = 0, \dots, g_{99} = 2K`.

    With ``simulation="grid"`` (default) the env *is* the paper's discretised POMDP: the state is
    a grid index, and each year the next state and the observation are drawn from exactly the
    rows the paper's code puts in its transition and observation matrices
    (:func:`decide.envs.fisheries.model.dynamics.grid_probabilities`: normal density at the grid
    points, mass below 0 on the first point, the tail above the top on the last point, extinction
    absorbing). This is what the paper simulated (R ``sarsop::sim_pomdp`` on those matrices), so
    values of policies in this env are comparable with its published NPVs (CE at σm = 0.1:
    2.41), and a policy solved on the discretised POMDP, whose ``T[a, s, s2]`` and
    ``Z[a, s2, o]`` follow the same rules, is evaluated against the model it was solved for.

    With ``simulation="continuous"`` the true stock is continuous (the dynamics of
    ``decide/Fisheries-v0``, starting at exactly :math:`x_0`), the quota is the grid point the
    action indexes, and the observation is the index of the grid point nearest the survey
    :math:`y` (censored to ``[0, 2K]``). Use it to test how a grid policy fares in the
    continuous world it approximates.

    ## Action Space

    ``Discrete(grid_size)``: index ``a`` of the quota :math:`h = g_a`.

    ## Observation Space

    ``Discrete(grid_size)``: index of the surveyed grid point.

    ## Rewards

    The realised harvest :math:`\min(x, g_a)` (the paper's ``reward[s, a]``), undiscounted;
    γ is in ``info["discount"]``.

    ## Starting State

    The grid point nearest :math:`x_0 = K/6` (index 8, 0.1616, as the paper), or uniform over the
    grid points with ``initial="uniform"`` (the paper's prior belief), or
    ``reset(options={"x0": value})``. In continuous simulation the stock starts at exactly
    :math:`x_0`.

    ## Episode End

    - Termination: extinction (state index 0, stock 0).
    - Truncation: after ``horizon`` years (default 100; ``horizon=99`` is the paper's protocol).

    ## Info

    ``x`` the true stock, ``state`` its grid index (nearest point in continuous simulation),
    ``harvest``, ``year``, ``discount``.

    ## Arguments

    ```python
    import gymnasium as gym
    import decide.envs
    env = gym.make("decide/FisheriesDiscrete-v0", sigma_m=0.15, simulation="grid")
    ```

    ``simulation`` ("grid" or "continuous") and the fields of
    :class:`decide.envs.fisheries.model.params.FisheriesParams` (``grid_size`` and ``x_max`` set the
    grid); the quota grid is the state grid, so ``h_max`` must be left unset.

    ## Version History

    - v0: Initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        params: FisheriesParams | None = None,
        simulation: Simulation = "grid",
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        self.params = make_params(params, **overrides)
        if simulation not in ("grid", "continuous"):
            raise ModelError("simulation", f"expected 'grid' or 'continuous', got {simulation!r}")
        if self.params.h_max is not None:
            raise ModelError("FisheriesParams.h_max", "the discrete env's quotas are its grid")
        _check_render_mode(render_mode)
        self.render_mode = render_mode
        self.simulation = simulation
        self.grid = self.params.grid()
        self.grid.flags.writeable = False
        n = self.params.grid_size
        self.observation_space = spaces.Discrete(n)
        self.action_space = spaces.Discrete(n)
        self._s = nearest_index(self.grid, np.full(1, self.params.stock0))
        self._x = self.grid[self._s]
        self._year = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.int64, dict[str, Any]]:
        """Start an episode; ``options={"x0": stock}`` overrides the starting stock."""
        super().reset(seed=seed)
        rng, p = self.np_random, self.params
        if self.simulation == "grid":
            self._s = initial_index(p, self.grid, rng, 1, options)
            self._x = self.grid[self._s]
        else:
            self._x = initial_stock(p, rng, 1, options)
            self._s = nearest_index(self.grid, self._x)
        self._year = 0
        return self._observe(), self._info(0.0)

    def step(self, action: int | np.integer) -> tuple[np.int64, float, bool, bool, dict[str, Any]]:
        """One year: harvest ``min(x, grid[action])``, grow, survey the new stock."""
        a = np.full(1, _action_index(action, self.params.grid_size))
        if self.simulation == "grid":
            self._s, harvest = step_grid(self.params, self.grid, self._s, a, self.np_random)
            self._x = self.grid[self._s]
        else:
            self._x, harvest = step_stock(self.params, self._x, self.grid[a], self.np_random)
            self._s = nearest_index(self.grid, self._x)
        self._year += 1
        terminated = bool(self._x[0] <= 0.0)
        truncated = not terminated and self._year >= self.params.horizon
        return self._observe(), float(harvest[0]), terminated, truncated, self._info(harvest[0])

    def _observe(self) -> np.int64:
        if self.simulation == "grid":
            o = survey_grid(self.params, self.grid, self._s, self.np_random)
        else:
            o = nearest_index(self.grid, survey_stock(self.params, self._x, self.np_random))
        return np.int64(o[0])

    def _info(self, harvest: float) -> dict[str, Any]:
        return {
            "x": float(self._x[0]),
            "state": int(self._s[0]),
            "harvest": float(harvest),
            "year": self._year,
            "discount": self.params.discount,
        }


def _action_index(action: Any, n: int) -> int:
    value = np.asarray(action)
    if value.size != 1 or not np.issubdtype(value.dtype, np.integer) or not 0 <= value.item() < n:
        raise UsageError(f"action: expected an integer in [0, {n}), got {action!r}")
    return int(value.item())
