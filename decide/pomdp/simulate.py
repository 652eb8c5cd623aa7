r"""Monte Carlo rollouts of an agent in a true model while it believes an agent model.

The true state, transitions, observations and rewards come from ``true_model``; the agent's
belief starts at ``agent_model.b0`` and is updated exactly (Bayes) under ``agent_model``. The two
models may differ (e.g. the agent assumes another noise level), which is how robustness to model
error is measured.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import numpy as np
import xarray as xr

from decide.errors import ImpossibleObservation, ModelError, UsageError
from decide.pomdp._kernels.simulate import rollout_alpha
from decide.pomdp.belief import _index, predict, update_belief
from decide.pomdp.kernel_arrays import belief_model, emission_sampler, sampler
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.policy import AlphaVectorPolicy
from decide.results import make_attrs

#: Two-sided 95 % quantile of the standard normal distribution.
Z95 = 1.959963984540054


class Agent(Protocol):
    def action(self, belief: np.ndarray) -> int: ...


def simulate(
    true_model: TabularPOMDP,
    policy: Agent,
    *,
    agent_model: TabularPOMDP | None = None,
    replicates: int = 100,
    steps: int = 100,
    seed: int | np.random.Generator | None = None,
    initial_state: int | str | None = None,
    engine: Literal["auto", "numba", "python"] = "auto",
) -> xr.Dataset:
    r"""Simulate ``policy`` for ``replicates`` episodes of ``steps`` steps.

    Each replicate draws :math:`s_0 \sim` ``true_model.b0`` (or starts at ``initial_state``);
    at step t the agent plays :math:`a_t` = ``policy.action(b_t)``, earns
    :math:`r_t = R(s_t, a_t)` of the true model, the true model draws :math:`s_{t+1}` and then
    :math:`o_t \sim Z(\cdot \mid s_{t+1}, a_t)`, and the agent updates :math:`b_{t+1}` under
    ``agent_model``. The discounted return is :math:`\sum_{t=0}^{T-1} \gamma^t r_t` with the
    true model's γ.

    If an observation has probability 0 under the agent's model, the agent keeps its predicted
    belief :math:`\sum_s T(s' \mid s, a) b(s)` (no correction) and the event is counted in
    ``impossible_observations(replicate)``; the simulation does not stop.

    Parameters
    ----------
    true_model : TabularPOMDP
        The world.
    policy : object with ``action(belief) -> int``
        An :class:`AlphaVectorPolicy` (rolled out in a compiled kernel) or any agent, such as
        an online planner (rolled out in a Python loop).
    agent_model : TabularPOMDP, optional
        The model the agent's belief follows; default ``true_model``. Same sizes required.
    replicates, steps : int
        Number of episodes and their length.
    seed : int or numpy.random.Generator, optional
        The only source of randomness; the same seed gives the same Dataset.
    initial_state : int or str, optional
        Start every replicate in this true state instead of sampling b0.
    engine : {"auto", "numba", "python"}
        "auto" uses the kernel for alpha-vector policies and the loop otherwise.

    Returns
    -------
    xarray.Dataset
        ``state``, ``action``, ``observation``, ``reward`` (replicate, step),
        ``discounted_return`` and ``impossible_observations`` (replicate); global attributes
        ``mean_discounted_return``, ``standard_error`` and ``ci95_half_width``.
    """
    agent_model = true_model if agent_model is None else agent_model
    _check_models(true_model, agent_model)
    if replicates < 1 or steps < 1:
        raise UsageError(f"replicates and steps must be >= 1, got {replicates} and {steps}")
    if isinstance(policy, AlphaVectorPolicy):
        policy = policy.for_model(agent_model)
    engine = _engine(engine, policy)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    start = -1 if initial_state is None else _index(true_model.states, initial_state, "state")
    u_init, u = rng.random(replicates), rng.random((replicates, steps, 2))
    run = _run_kernel if engine == "numba" else _run_python
    trajectories = run(true_model, agent_model, policy, start, u_init, u)
    parameters = {
        "replicates": replicates,
        "steps": steps,
        "seed": _seed_record(seed),
        "initial_state": None if start < 0 else true_model.states[start],
        "agent_model": agent_model.name,
        "policy": type(policy).__name__,
        "engine": engine,
    }
    return _dataset(true_model, trajectories, parameters)


def _seed_record(seed: int | np.random.Generator | None) -> int | str | None:
    if isinstance(seed, np.random.Generator):
        return "Generator"
    return None if seed is None else int(seed)


def _check_models(true_model: TabularPOMDP, agent_model: TabularPOMDP) -> None:
    sizes = ("n_states", "n_actions", "n_observations")
    true_sizes = tuple(getattr(true_model, name) for name in sizes)
    agent_sizes = tuple(getattr(agent_model, name) for name in sizes)
    if true_sizes != agent_sizes:
        raise ModelError(
            "agent_model",
            f"(states, actions, observations) = {agent_sizes}, the true model has {true_sizes}",
        )


def _engine(engine: str, policy: Agent) -> str:
    is_alpha = isinstance(policy, AlphaVectorPolicy)
    if engine == "auto":
        return "numba" if is_alpha else "python"
    if engine == "numba" and not is_alpha:
        raise UsageError("engine 'numba' needs an AlphaVectorPolicy; use 'python' or 'auto'")
    if engine not in ("numba", "python"):
        raise UsageError(f"engine {engine!r}: expected 'auto', 'numba' or 'python'")
    return engine


def _empty(replicates: int, steps: int) -> dict[str, np.ndarray]:
    shape = (replicates, steps)
    trajectories = {name: np.zeros(shape, np.int64) for name in ("state", "action", "observation")}
    trajectories["reward"] = np.zeros(shape)
    trajectories["impossible_observations"] = np.zeros(replicates, dtype=np.int64)
    return trajectories


def _run_kernel(true_model, agent_model, policy, start, u_init, u) -> dict[str, np.ndarray]:
    out = _empty(*u.shape[:2])
    rollout_alpha(
        sampler(true_model.T_rows), emission_sampler(true_model), true_model.R,
        np.cumsum(true_model.b0), start, belief_model(agent_model), agent_model.b0,
        policy.kernel_arrays(agent_model.n_states), policy.actions, u_init, u,
        out["state"], out["action"], out["observation"], out["reward"],
        out["impossible_observations"],
    )  # fmt: skip
    return out


def _sample(probabilities: np.ndarray, u: float) -> int:
    """The kernels' sampling rule: first index whose cumulative probability exceeds u·total."""
    cdf = np.cumsum(probabilities)
    return min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), cdf.size - 1)


def _sample_row(rows, row: int, u: float) -> int:
    """:func:`_sample` over the nonzero entries of sparse row ``row``."""
    start, stop = rows.indptr[row], rows.indptr[row + 1]
    return int(rows.indices[start + _sample(rows.data[start:stop], u)])


def _run_python(true_model, agent_model, policy, start, u_init, u) -> dict[str, np.ndarray]:
    out = _empty(*u.shape[:2])
    for r in range(u.shape[0]):
        s = start if start >= 0 else _sample(true_model.b0, u_init[r])
        belief = agent_model.b0.copy()
        for t in range(u.shape[1]):
            a = int(policy.action(belief))
            if not 0 <= a < true_model.n_actions:
                raise UsageError(f"{type(policy).__name__} chose action {a}, outside the model")
            S = true_model.n_states
            s_next = _sample_row(true_model.T_rows, a * S + s, u[r, t, 0])
            o = _sample_row(true_model.Z_rows, a * true_model.z_stride + s_next, u[r, t, 1])
            out["state"][r, t], out["action"][r, t], out["observation"][r, t] = s, a, o
            out["reward"][r, t] = true_model.R[s, a]
            belief, possible = _next_belief(agent_model, belief, a, o)
            out["impossible_observations"][r] += not possible
            s = s_next
    return out


def _next_belief(model: TabularPOMDP, belief: np.ndarray, a: int, o: int):
    """The posterior and True, or the normalised prediction and False if o is impossible."""
    try:
        return update_belief(model, belief, a, o), True
    except ImpossibleObservation:
        predicted = predict(model, belief, a)
        return predicted / predicted.sum(), False


def _dataset(model: TabularPOMDP, trajectories: dict, parameters: dict[str, Any]) -> xr.Dataset:
    replicates, steps = trajectories["reward"].shape
    # a row-wise sum (not BLAS) so that equal reward rows give bit-equal returns
    returns = (trajectories["reward"] * model.discount ** np.arange(steps)).sum(axis=1)
    mean = float(returns.mean())
    spread = (returns - returns[0]).std(ddof=1) if replicates > 1 else np.nan  # shift: exact 0
    se = float(spread / np.sqrt(replicates))
    rs = ("replicate", "step")
    variables = {
        "state": (rs, trajectories["state"], _meta("true state index at the start of the step")),
        "action": (rs, trajectories["action"], _meta("action index played")),
        "observation": (rs, trajectories["observation"], _meta("observation index received")),
        "reward": (rs, trajectories["reward"], _meta("reward R(s, a) of the step", "reward")),
        "discounted_return": (
            ("replicate",),
            returns,
            _meta("discounted return sum_t discount^t reward_t", "reward"),
        ),
        "impossible_observations": (
            ("replicate",),
            trajectories["impossible_observations"],
            _meta("observations of probability 0 under the agent model (prediction kept)"),
        ),
    }
    coords = {
        "replicate": ("replicate", np.arange(replicates), _meta("replicate index")),
        "step": ("step", np.arange(steps), _meta("time step t")),
    }
    attrs = make_attrs(
        problem=model.name,
        method="simulate",
        parameters=parameters,
        mean_discounted_return=mean,
        standard_error=se,
        ci95_half_width=Z95 * se,
    )
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _meta(long_name: str, units: str = "1") -> dict[str, str]:
    return {"long_name": long_name, "units": units}
