"""``decide/Fisheries-v0``: harvest a fish stock that is only seen through a noisy survey."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from decide.envs._shared import clipped_action
from decide.envs.fisheries.model.dynamics import initial_stock, step_stock, survey_stock
from decide.envs.fisheries.model.params import FisheriesParams, make_params
from decide.errors import UsageError


class FisheriesEnv(gym.Env[np.ndarray, np.ndarray]):
    r"""
    ## Description

    A fishery manager sets a catch quota each year for a stock whose size is never seen directly,
    only through a survey with measurement error. This is the simulation study of
    Memarzadeh & Boettiger (2019), "Resolving the measurement uncertainty paradox in ecological
    management" (American Naturalist), with the model of their published code: logistic growth
    :math:`f(x, h) = s + r s (1 - s/K)` of the escapement :math:`s = \max(x - h, 0)`, additive
    normal process noise and a normal survey. Each year:

    1. the agent sees the survey :math:`y \sim \mathrm{Normal}(x, \sigma_m)`;
    2. it sets a quota :math:`h`;
    3. it receives the realised harvest :math:`\min(x, h)`;
    4. the stock grows: :math:`x' = \max(f(x, h) + \sigma_g \varepsilon, 0)`, and 0 if
       :math:`f(x, h) \le 0`.

    ``order="recruit_first"`` uses :math:`\mathbb E[x'] = g(x) - \min(x, h)` instead (their
    historical study); ``noise="lognormal"`` uses :math:`x' = f \exp(\sigma_g \varepsilon -
    \sigma_g^2/2)`; any growth model of :mod:`decide.envs.fisheries.model.growth` can replace the
    logistic.

    ## Action Space

    ``Box(0, h_max, (1,), float64)``: the quota :math:`h` in stock units (default
    ``h_max = 2K``). Values outside are clipped. Gymnasium's checker recommends a [-1, 1] or
    [0, 1] action box; wrap with ``gymnasium.wrappers.RescaleAction(env, 0, 1)`` if your agent
    wants one.

    ## Observation Space

    ``Box(0, x_max, (1,), float64)``: the survey :math:`y`, censored to ``[0, x_max]``
    (default ``x_max = 2K``), as the paper's discretised model does by putting the mass below 0
    on the first and the mass above the top on the last observation. A stock of 0 is surveyed
    as 0. float64 so that with σm = 0 the observation equals the true stock exactly.

    ## Rewards

    The realised harvest :math:`\min(x, h)` (price 1, no cost), undiscounted. The discount
    γ (default 0.95) is in ``env.params.discount`` and ``info["discount"]``; the paper's net
    present value of an episode is :math:`\sum_t \gamma^{t} \min(x_t, h_t)`, t = 1, 2, ….

    ## Starting State

    :math:`x_0 = K/6` (``x0``), or uniform on ``[0, x_max]`` with ``initial="uniform"``, or
    ``reset(options={"x0": value})``. The first observation is a survey of :math:`x_0`.

    ## Episode End

    - Termination: the stock goes extinct (:math:`x' = 0`; 0 is absorbing).
    - Truncation: after ``horizon`` years (default 100). The paper simulates 99 decisions from
      :math:`x_0`: use ``horizon=99`` to reproduce its protocol.

    ## Info

    ``x`` the true stock after the step, ``harvest`` the realised harvest, ``year`` the number of
    years elapsed, ``discount`` γ.

    ## Arguments

    ```python
    import gymnasium as gym
    import decide.envs
    env = gym.make("decide/Fisheries-v0", sigma_g=0.15, sigma_m=0.1)
    ```

    Keyword arguments are the fields of :class:`decide.envs.fisheries.model.params.FisheriesParams`
    (``model``, ``sigma_g``, ``sigma_m``, ``noise``, ``order``, ``x0``, ``initial``, ``horizon``,
    ``discount``, ``h_max``, ``x_max``), or a whole ``params=FisheriesParams(...)`` plus overrides.
    An invalid value raises :class:`decide.errors.ModelError` naming the field; an unknown name
    raises ``TypeError``. ``gym.make_vec("decide/Fisheries-v0", num_envs=n)`` gives the native
    :class:`FisheriesVectorEnv`, which uses the same dynamics functions on arrays.

    ## Version History

    - v0: Initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        params: FisheriesParams | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        self.params = make_params(params, **overrides)
        _check_render_mode(render_mode)
        self.render_mode = render_mode
        self.observation_space = _observation_box(self.params)
        self.action_space = _action_box(self.params)
        self._x = np.full(1, self.params.stock0)
        self._year = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``options={"x0": stock}`` overrides the starting stock."""
        super().reset(seed=seed)
        self._x = initial_stock(self.params, self.np_random, 1, options)
        self._year = 0
        return survey_stock(self.params, self._x, self.np_random), self._info(0.0)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One year: harvest ``min(x, h)``, grow with process noise, survey the new stock."""
        h = clipped_action(action, 1, 0.0, self.params.quota_max, "quota")
        self._x, harvest = step_stock(self.params, self._x, h, self.np_random)
        self._year += 1
        observation = survey_stock(self.params, self._x, self.np_random)
        terminated = bool(self._x[0] <= 0.0)
        truncated = not terminated and self._year >= self.params.horizon
        return observation, float(harvest[0]), terminated, truncated, self._info(harvest[0])

    def _info(self, harvest: float) -> dict[str, Any]:
        return {
            "x": float(self._x[0]),
            "harvest": float(harvest),
            "year": self._year,
            "discount": self.params.discount,
        }


class FisheriesVectorEnv(VectorEnv):
    """``num_envs`` independent copies of :class:`FisheriesEnv` stepped together on arrays.

    Same dynamics functions, spaces batched along the first axis, one generator for all copies,
    and next-step autoreset (the step after an episode ends returns the new episode's first
    observation with reward 0); ``info`` holds arrays ``x``, ``harvest``, ``year``, ``discount``
    (with the all-true ``_x``, … masks of Gymnasium's vector info convention).
    With ``num_envs=1`` and the same seed it reproduces :class:`FisheriesEnv` exactly.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        params: FisheriesParams | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if not (isinstance(num_envs, int) and num_envs >= 1):
            raise UsageError(f"num_envs: expected an integer >= 1, got {num_envs!r}")
        self.params = make_params(params, **overrides)
        _check_render_mode(render_mode)
        self.render_mode = render_mode
        self.num_envs = num_envs
        self.single_observation_space = _observation_box(self.params)
        self.single_action_space = _action_box(self.params)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._x = np.full(num_envs, self.params.stock0)
        self._year = np.zeros(num_envs, dtype=np.int64)
        self._done = np.zeros(num_envs, dtype=bool)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every copy; ``options={"x0": stock or array}`` overrides the starting stocks."""
        super().reset(seed=seed)
        self._x = initial_stock(self.params, self.np_random, self.num_envs, options)
        self._year = np.zeros(self.num_envs, dtype=np.int64)
        self._done = np.zeros(self.num_envs, dtype=bool)
        observation = survey_stock(self.params, self._x, self.np_random)
        return observation[:, None], self._info(np.zeros(self.num_envs))

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One year for every copy; copies whose episode ended last step start a new one."""
        h = clipped_action(actions, self.num_envs, 0.0, self.params.quota_max, "quota")
        x, harvest = step_stock(self.params, self._x, h, self.np_random)
        year = self._year + 1
        restart = self._done
        if restart.any():
            x[restart] = initial_stock(self.params, self.np_random, int(restart.sum()))
            harvest[restart] = 0.0
            year[restart] = 0
        self._x, self._year = x, year
        observation = survey_stock(self.params, x, self.np_random)
        terminated = (x <= 0.0) & ~restart
        truncated = (year >= self.params.horizon) & ~terminated & ~restart
        self._done = terminated | truncated
        return observation[:, None], harvest, terminated, truncated, self._info(harvest)

    def _info(self, harvest: np.ndarray) -> dict[str, Any]:
        info = {
            "x": self._x.copy(),
            "harvest": np.asarray(harvest, dtype=float).copy(),
            "year": self._year.copy(),
            "discount": np.full(self.num_envs, self.params.discount),
        }
        # the "_key" masks of Gymnasium's vector info convention: every copy reports every key
        info.update({f"_{key}": np.ones(self.num_envs, dtype=bool) for key in list(info)})
        return info


def _observation_box(params: FisheriesParams) -> spaces.Box:
    return spaces.Box(0.0, params.stock_max, shape=(1,), dtype=np.float64)


def _action_box(params: FisheriesParams) -> spaces.Box:
    return spaces.Box(0.0, params.quota_max, shape=(1,), dtype=np.float64)


def _check_render_mode(render_mode: str | None) -> None:
    if render_mode is not None:
        raise UsageError(f"render_mode: the fisheries envs do not render, got {render_mode!r}")
