r"""Hindcast: what each management policy would have recommended in the observed years.

The historical study of Memarzadeh & Boettiger (2019, appendix B), step by step:

1. fit the recruit-first logistic model to the stock's scaled series
   (:func:`decide.envs.fisheries.data.fitting.fit`; the posterior means are used);
2. build the POMDP on 150-point grids on [0, 4] (units of the series' maximum SSB), γ = 0.95,
   with the fitted σg and a fixed survey error σm (0.1; 0.15 as a variant), and solve it with the
   point-based solver;
3. replay the observed years. Each observed SSB :math:`y_t` is snapped to the nearest
   observation point :math:`o_t` and each historical catch to the nearest action :math:`a_t`.
   The reference rules (CE :math:`h = \max(f(y, 0) - S^*, 0)`, MSY :math:`h = F_{MSY} y`, TAC
   :math:`h = 0.8 F_{MSY} y`) are applied to the snapped survey and snapped to an action. The
   POMDP manager starts from a uniform belief :math:`b_0`; for :math:`t \ge 1`

   .. math:: b_t(s') \propto Z(o_t \mid s') \sum_s T(s' \mid s, a_{t-1})\, b_{t-1}(s),

   and recommends, with ``extraction="lookahead"`` (default), the action of a one-step
   lookahead on the solver's lower bound :math:`\underline V(b) = \max_k b\cdot\alpha_k`,

   .. math:: a_t = \arg\max_a\; b_t\cdot R_{:,a} + \gamma \sum_o \max_k\, \alpha_k \cdot
       \big(Z_{:,o} \circ b_t T_a\big),

   or, with ``extraction="alpha"``, the action of the alpha vector maximising
   :math:`b_t\cdot\alpha` (the paper's ``compute_policy``). The two agree (up to ties) once
   the solver has converged (the paper ran SARSOP for 25,000 s); after seconds to minutes the
   vectors' own actions at the hindcast beliefs are still unsettled while the lookahead already
   matches the paper's quotas to a grid step. In the first year there is no previous catch to
   condition on, so the POMDP gives no recommendation (NaN), as in the paper's
   ``hindcast_pomdp``;
4. quotas are converted back to tonnes with the series' scale.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr

from decide import results
from decide.contract import Callback
from decide.envs.fisheries.data.catch_data import CatchSeries
from decide.envs.fisheries.data.fitting import Fit, fit
from decide.envs.fisheries.model.pomdp_builder import build_historical_pomdp, make_grids
from decide.envs.fisheries.model.reference import BeliefPolicy, reference_points, reference_rules
from decide.errors import UsageError
from decide.pomdp.pointbased import PointBased, PointBasedResult

#: Trials of the default solve. For the hake at σm = 0.1 and 0.15, 50 and 100 trials give the
#: same quotas in every year, 25 trials quotas within one grid step of them (docs/data.md).
DEFAULT_TRIALS = 50

#: The policies of the hindcast, in the order of the ``policy`` coordinate.
POLICIES = ("CE", "MSY", "TAC", "POMDP")


@dataclass(frozen=True)
class HindcastSettings:
    """The study's settings (defaults: the paper's), the solver and the sampler's budget.

    The inputs, these settings and ``seed`` fix the result: the posterior sampler is seeded and
    the default solver stops after ``DEFAULT_TRIALS`` trials (or at its ``target_gap``), so the
    same quotas come out on every run and machine. A solver with a finite ``time_limit`` adds a
    wall-clock stop; once it fires, the quotas depend on the machine's speed and load.
    """

    sigma_m: float = 0.1
    n_grid: int = 150
    upper: float = 4.0
    discount: float = 0.95
    solver: PointBased = field(
        default_factory=lambda: PointBased(time_limit=math.inf, max_iterations=DEFAULT_TRIALS)
    )
    extraction: str = "lookahead"
    seed: int = 0
    fit_steps: int = 3000
    fit_burn: int = 1000

    def __post_init__(self) -> None:
        if not (np.isfinite(self.sigma_m) and self.sigma_m >= 0):
            raise UsageError(f"sigma_m: expected a finite value ≥ 0, got {self.sigma_m}")
        if self.n_grid < 2 or not self.upper > 0 or not 0 < self.discount < 1:
            raise UsageError("expected n_grid ≥ 2, upper > 0 and 0 < discount < 1")
        if not isinstance(self.solver, PointBased):
            raise UsageError(f"solver: expected a PointBased, got {type(self.solver).__name__}")
        if self.extraction not in ("lookahead", "alpha"):
            raise UsageError(
                f"extraction: expected 'lookahead' or 'alpha', got {self.extraction!r}"
            )


def lookahead_action(pomdp, alpha: np.ndarray, belief: np.ndarray) -> int:
    r"""The action maximising :math:`b\cdot R_{:,a} + \gamma\sum_o \max_k \alpha_k\cdot
    (Z_{:,o}\circ bT_a)` (the unnormalised posterior keeps the weight :math:`P(o \mid b, a)`)."""
    future = np.empty(pomdp.n_actions)
    for a in range(pomdp.n_actions):
        posterior = pomdp.observation(a).multiply((belief @ pomdp.transition(a))[:, None])
        future[a] = np.max(alpha @ posterior, axis=0).sum()
    return int(np.argmax(belief @ pomdp.R + pomdp.discount * future))


def _replay(
    pomdp, solved: PointBasedResult, obs: np.ndarray, act: np.ndarray, extraction: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """POMDP action index per year (-1 in the first year), belief mean stock, impossible count."""
    manager = BeliefPolicy(pomdp, solved.policy)
    manager.reset()
    states = np.array([float(v) for v in pomdp.states])
    actions = np.full(obs.size, -1)
    mean = np.full(obs.size, np.nan)
    for t in range(1, obs.size):
        actions[t] = manager.step(int(obs[t]), previous_action=int(act[t - 1]))
        if extraction == "lookahead":
            actions[t] = lookahead_action(pomdp, solved.policy.alpha, manager.belief)
        mean[t] = float(manager.belief @ states)
    return actions, mean, manager.impossible


def reference_actions(model, discount: float, grids, obs: np.ndarray) -> dict[str, np.ndarray]:
    """Action index of CE, MSY and TAC (historical variants) for each snapped survey index."""
    rules = reference_rules(model, discount, order="recruit_first")
    return {name: rule.action_table(grids)[obs] for name, rule in rules.items()}


def _variable(dims, values, long_name: str, units: str) -> tuple:
    return (dims, values, {"long_name": long_name, "units": units})


def hindcast(
    series: CatchSeries,
    settings: HindcastSettings | None = None,
    *,
    fitted: Fit | None = None,
    callback: Callback | None = None,
) -> xr.Dataset:
    """Fit, build and solve the POMDP, replay the observed years; one Dataset of quotas in t.

    Parameters
    ----------
    series : CatchSeries
        The stock's data (:func:`decide.envs.fisheries.data.catch_data.load_stock`).
    settings : HindcastSettings
        σm, grids, discount, solver, seed and sampler length (they fix the result).
    fitted : Fit, optional
        Skip the fit and use this one.
    callback : callable, optional
        Passed to :meth:`PointBased.solve` (progress; returning True stops the search).

    Returns
    -------
    xarray.Dataset
        ``quota`` (year, policy), ``historical_catch``, ``observed_ssb`` and their grid-snapped
        values ``historical_catch_grid``, ``observed_ssb_grid``, and ``belief_mean`` (year), all
        in tonnes; the fit, reference points and solver diagnostics in the attributes.
    """
    options = settings or HindcastSettings()
    x, h = series.biomass, series.scaled_catch
    fitted = fitted or fit(
        x, h, seed=options.seed, n_steps=options.fit_steps, burn=options.fit_burn
    )
    model = fitted.model()
    grids = make_grids(model, options.n_grid, upper=options.upper)
    pomdp = build_historical_pomdp(
        model, fitted.sigma_g, options.sigma_m, options.n_grid, options.upper, options.discount
    )
    solved = options.solver.solve(pomdp, callback=callback)
    obs, act = grids.snap_observation(x), grids.snap_action(h)
    index = reference_actions(model, options.discount, grids, obs)
    index["POMDP"], belief_mean, impossible = _replay(pomdp, solved, obs, act, options.extraction)
    quota = np.column_stack(
        [np.where(index[p] >= 0, grids.actions[index[p]], np.nan) for p in POLICIES]
    )
    scale = series.scale
    points = reference_points(model, options.discount, order="recruit_first")
    parameters = {
        "stock": series.stock,
        "sigma_m": options.sigma_m,
        "sigma_g": fitted.sigma_g,
        "r": fitted.mean["r"],
        "K": fitted.mean["K"],
        "n_grid": options.n_grid,
        "upper": options.upper,
        "discount": options.discount,
        "order": "recruit_first",
        "solver": asdict(options.solver),
        "extraction": options.extraction,
        "seed": options.seed,
        "fit": fitted.settings,
    }
    attrs = results.make_attrs(
        f"hindcast {series.stock}",
        "pointbased",
        parameters,
        stock=series.stock,
        stock_name=series.name,
        stock_area=series.area,
        source=str(series.source),
        scale_t=scale,
        gaps=", ".join(f"{a}-{b}" for a, b in series.gaps) or "none",
        gap_handling="consecutive rows are consecutive time steps, whatever the gap in years",
        dropped_years=", ".join(f"{y} ({why})" for y, why in series.dropped) or "none",
        **fitted.attrs(),
        S_star=points.S_star,
        B_MSY=points.B_MSY,
        MSY=points.MSY,
        F_MSY=points.F_MSY,
        lower_bound=solved.lower_bound,
        upper_bound=solved.upper_bound,
        gap=solved.gap,
        solve_time_s=solved.solve_time_s,
        solver_iterations=solved.iterations,
        solver_stop=solved.stop_reason,
        n_alpha=solved.policy.n_vectors,
        impossible_observations=impossible,
    )
    t = "t"
    return xr.Dataset(
        {
            "quota": _variable(("year", "policy"), quota * scale, "recommended quota", t),
            "historical_catch": _variable("year", series.catch, "historical total catch", t),
            "observed_ssb": _variable("year", series.ssb, "observed spawning-stock biomass", t),
            "historical_catch_grid": _variable(
                "year", grids.actions[act] * scale, "historical catch snapped to the grid", t
            ),
            "observed_ssb_grid": _variable(
                "year", grids.observations[obs] * scale, "observed SSB snapped to the grid", t
            ),
            "belief_mean": _variable(
                "year", belief_mean * scale, "mean stock under the POMDP manager's belief", t
            ),
        },
        coords={
            "year": _variable("year", series.year, "year", "year"),
            "policy": _variable("policy", list(POLICIES), "management policy", "1"),
        },
        attrs=attrs,
    )


def mean_quotas(ds: xr.Dataset) -> dict[str, float]:
    """Mean over the years (NaN skipped) of the historical catch and of each policy's quota, t."""
    means = {"historical": float(ds["historical_catch"].mean())}
    for policy in ds["policy"].values:
        means[str(policy)] = float(ds["quota"].sel(policy=policy).mean(skipna=True))
    return means


def closure_years(ds: xr.Dataset, policy: str = "POMDP") -> list[int]:
    """Years in which ``policy`` recommends closing the fishery (quota 0)."""
    quota = ds["quota"].sel(policy=policy)
    return [int(y) for y in ds["year"].values[(quota == 0).values]]
