r"""Quotas that keep the risk of collapse bounded: the fisheries instance of constrained planning.

The stock is observed exactly (σm = 0) on the study's grid; a quota :math:`h` earns
:math:`\min(x, h)` and the stock grows as in the simulation study (harvest before growth,
normal process noise σg). Over a horizon of H years from a known start, maximise the expected
NPV subject to

.. math:: P(\text{the stock falls below } c\,K \text{ within the horizon}) \le \delta,

where a collapse ends the episode (:mod:`decide.robust.constrained`). The exact optimum is the
linear programme over occupation measures; the Lagrangian method reaches it by dual ascent on
the multiplier of the collapse constraint and a mixture of two deterministic quota policies.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from decide.envs.fisheries.model.growth import GrowthModel
from decide.envs.fisheries.model.pomdp_builder import PAPER_MODEL, build_pomdp, make_grids
from decide.mdp import TabularMDP
from decide.results import make_attrs, parameters
from decide.robust.constrained import (
    METHODS,
    ConstrainedMDP,
    ConstrainedPlan,
    Lagrangian,
    state_distributions,
)

#: A stock level reached with less probability than this gets no quota in the Dataset.
REACHED = 1e-6


def fisheries_cmdp(
    model: GrowthModel = PAPER_MODEL,
    sigma_g: float = 0.15,
    n_grid: int = 50,
    discount: float = 0.95,
    horizon: int = 50,
    x0: float | None = None,
    collapse: float = 0.1,
) -> ConstrainedMDP:
    """The constrained MDP: the study's dynamics on ``n_grid`` points of [0, 2K], start at
    ``x0`` (default K/6) snapped to the grid, failure below ``collapse`` × K."""
    grids = make_grids(model, n_grid)
    T = build_pomdp(model, sigma_g, 0.0, n_grid, discount=discount).dense_transitions()
    reward = np.minimum(grids.states[:, None], grids.actions[None, :])
    start = model.K / 6.0 if x0 is None else x0
    initial = np.zeros(n_grid)
    initial[np.abs(grids.states - start).argmin()] = 1.0
    failure = grids.states < collapse * model.K
    return ConstrainedMDP(TabularMDP(T, reward, discount), horizon, initial, failure)


def plan_quotas(
    delta: float, methods: tuple[str, ...] = ("lp", "lagrangian"), **model_options
) -> xr.Dataset:
    """Solve the unconstrained problem and the constrained one by each method; a Dataset with
    dimensions ``plan`` (``unconstrained`` first), ``time`` and ``state``."""
    cmdp = fisheries_cmdp(**model_options)
    plans = {"unconstrained": Lagrangian().solve(cmdp, delta=1.0)}
    plans |= {name: METHODS[name]().solve(cmdp, delta=delta) for name in methods}
    model = model_options.get("model", PAPER_MODEL)
    grids = make_grids(model, cmdp.n_states)
    return _dataset(cmdp, plans, grids.states, grids.actions, delta, model_options)


def _dataset(
    cmdp: ConstrainedMDP, plans: dict[str, ConstrainedPlan], states, actions, delta, options
) -> xr.Dataset:
    names = list(plans)
    reach = np.stack([_stock_distribution(cmdp, plans[n]) for n in names])
    quota = np.stack([plans[n].action_probabilities(cmdp) @ actions for n in names])
    quota = np.where(reach > REACHED, quota, np.nan)
    data = {
        "npv": ("plan", [plans[n].value for n in names], _meta("expected NPV", "reward")),
        "collapse_probability": (
            "plan",
            [plans[n].failure_probability for n in names],
            _meta("P(collapse within the horizon)"),
        ),
        "multiplier": (
            "plan",
            [plans[n].lambda_ for n in names],
            _meta("Lagrange multiplier of the collapse constraint", "reward"),
        ),
        "stop_reason": (
            "plan",
            np.array([plans[n].stop_reason for n in names], dtype=object),
            _meta("why the method stopped"),
        ),
        "expected_quota": (
            ("plan", "time", "state"),
            quota,
            _meta("expected quota given the stock (NaN where the stock is never)", "stock unit"),
        ),
        "stock_probability": (
            ("plan", "time", "state"),
            reach,
            _meta("P(stock = x in year t, not collapsed)"),
        ),
    }
    coords = {
        "plan": ("plan", np.array(names, dtype=object), _meta("planning method")),
        "time": ("time", np.arange(cmdp.horizon), _meta("years from the start", "year")),
        "state": ("state", states, _meta("stock", "stock unit")),
    }
    settings = {key: repr(value) for key, value in options.items()} | {"delta": delta}
    settings |= {"horizon": cmdp.horizon, "discount": cmdp.mdp.discount, "n_grid": cmdp.n_states}
    attrs = make_attrs("fisheries: NPV subject to P(collapse) <= delta", "constrained", settings)
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _stock_distribution(cmdp: ConstrainedMDP, plan: ConstrainedPlan) -> np.ndarray:
    pairs = zip(plan.weights, plan.policies, strict=True)
    return sum(weight * state_distributions(cmdp, policy) for weight, policy in pairs)


def _meta(long_name: str, units: str = "1") -> dict[str, str]:
    return {"long_name": long_name, "units": units}


def plot_quotas(ds: xr.Dataset, path) -> None:
    """Expected quota against stock in the second, the middle and the last year, for each plan."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from decide._atomic import save_figure

    years = (1, ds.sizes["time"] // 2, ds.sizes["time"] - 1)
    fig, axes = plt.subplots(1, len(years), figsize=(13, 4), sharey=True)
    for ax, t in zip(axes, years, strict=True):
        for plan in ds["plan"].values:
            row = ds.sel(plan=plan)
            npv, risk = float(row["npv"]), float(row["collapse_probability"])
            label = f"{plan}: NPV {npv:.3f}, P(collapse) {risk:.3f}"
            ax.plot(ds["state"], row["expected_quota"].isel(time=t), label=label)
        ax.set(xlabel="stock x", ylabel="expected quota", title=f"year {t}")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"maximum NPV subject to P(collapse) ≤ {parameters(ds)['delta']:g}")
    fig.tight_layout()
    save_figure(fig, path)
