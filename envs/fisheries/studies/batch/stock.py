r"""One POMDP per RAM Legacy stock and noise level: the later study's setup, one stock per task.

For each stock (:func:`solve_stock`):

1. fit the logistic model with harvest before growth,
   :math:`x_{t+1} \sim \mathcal N(s_t + r s_t (1 - s_t/K), \sigma_g)`, :math:`s_t = x_t - h_t`,
   to the series scaled by its largest SSB: maximum likelihood within the later study's prior
   box (:data:`RAM_PRIORS`), or the emcee posterior means, or the published per-stock posterior
   means;
2. for each survey noise :math:`\sigma_m`, build the POMDP as the later study did: 101-point
   grids on [0, 2], γ = 0.99, :math:`\sigma_g` capped at 0.2, and reward −100 in every year
   the stock is extinct (state 0; ``extinction_penalty``, 0 to leave it out); solve it with the
   point-based solver under a time limit or a trial budget, its lower bound started from the
   exact values of the CE, MSY and TAC rules (``warm_start``), so that the policy is worth at
   least each rule at every belief it acts on;
3. simulate CE, MSY, TAC (reference points for γ = 0.99) and the POMDP policy with the study
   protocol (:mod:`decide.envs.fisheries.studies.simulation`) from the stock's last observed
   biomass, every policy and noise level on the same uniforms. NPV counts the harvest only,
   :math:`\sum_t \gamma^{t-1}\min(x_t, h_t)`; the POMDP's own objective, the discounted reward
   :math:`\sum_t \gamma^{t-1} R(x_t, h_t)` with the extinction penalty, is reported beside it,
   with the POMDP's paired difference to the best rule on that objective. A replicate collapses
   when its final stock is below ``collapse_threshold`` × K.

Every random number comes from ``(seed, stock index)``, and a trial budget makes the solve
independent of timing, so a stock gives the same numbers on any worker. A Ctrl-C during a solve
is not taken as the end of that solve (as a single solve takes it) but raised again: the stock
is then unfinished and a resumed batch runs it again.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import xarray as xr

from decide.envs.fisheries.data.catch_data import CatchSeries
from decide.envs.fisheries.data.fitting import fit, maximum_likelihood
from decide.envs.fisheries.model.dynamics import nearest_index
from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import build_pomdp, make_grids
from decide.envs.fisheries.model.reference import reference_rules
from decide.envs.fisheries.studies.simulation import common_uniforms, rollouts, value_with_tail
from decide.errors import UsageError
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pointbased import PointBased
from decide.results import make_attrs, standard_error

#: The later study's priors (uniform): r on (0, 2), K on (0, 1), σg on (0, 0.5).
RAM_PRIORS = {"r": (0.0, 2.0), "K": (0.0, 1.0), "sigma_g": (0.0, 0.5)}
POLICIES = ("CE", "MSY", "TAC", "POMDP")
FITS = ("ml", "posterior", "published")
ORDER = "harvest_first"

FitMethod = Literal["ml", "posterior", "published"]


@dataclass(frozen=True)
class BatchSettings:
    """Everything that fixes a batch's numbers (a resumed batch must use the same).

    ``solver`` is the point-based solver of every (stock, σm). Its trial budget
    (``max_iterations``) makes every result reproducible on any machine; with
    ``max_iterations=None`` a solve stops at ``time_limit`` seconds and depends on the
    machine's speed.
    """

    sigma_ms: tuple[float, ...] = (0.05, 0.1, 0.2)
    fit: FitMethod = "ml"
    n_grid: int = 101
    upper: float = 2.0
    discount: float = 0.99
    extinction_penalty: float = 100.0
    sigma_g_cap: float = 0.2
    solver: PointBased = field(default_factory=PointBased)
    replicates: int = 1000
    years: int = 99
    collapse_threshold: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma_ms", tuple(float(s) for s in self.sigma_ms))
        sigmas = self.sigma_ms
        checks = {
            "sigma_ms": bool(sigmas)
            and len(set(sigmas)) == len(sigmas)
            and all(math.isfinite(s) and s >= 0 for s in sigmas),
            "fit": self.fit in FITS,
            "n_grid": self.n_grid >= 2,
            "upper": self.upper > 0,
            "discount": 0 < self.discount < 1,
            "extinction_penalty": self.extinction_penalty >= 0,
            "sigma_g_cap": self.sigma_g_cap > 0,
            "solver": isinstance(self.solver, PointBased),
            "replicates": self.replicates >= 1,
            "years": self.years >= 1,
            "collapse_threshold": 0 <= self.collapse_threshold <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise UsageError(f"batch setting {name}: invalid value {getattr(self, name)!r}")

    def as_dict(self) -> dict:
        """The settings as JSON has them (tuples become lists), for the resumable store."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass(frozen=True)
class StockTask:
    """One stock's work: its series, the settings and, for ``fit="published"``, the fit."""

    index: int
    series: CatchSeries
    settings: BatchSettings
    published: dict[str, float] | None = None

    @property
    def name(self) -> str:
        return f"stock-{self.index:03d}"


def fit_stock(task: StockTask) -> dict[str, float]:
    """``{r, K, sigma_g}`` of the stock by the settings' fit method."""
    method = task.settings.fit
    if method == "published":
        if task.published is None:
            raise UsageError(f"{task.name}: no published fit for this stock")
        return dict(task.published)
    x, h = task.series.biomass, task.series.scaled_catch
    if method == "ml":
        return maximum_likelihood(x, h, order=ORDER, priors=RAM_PRIORS)[0]
    seed = stock_seed(task.settings.seed, task.index)
    return dict(fit(x, h, seed=seed, order=ORDER, priors=RAM_PRIORS).mean)


def stock_pomdp(model: Logistic, sigma_g: float, sigma_m: float, s: BatchSettings) -> TabularPOMDP:
    """The later study's POMDP for one stock and noise level (extinction penalised in R)."""
    pomdp = build_pomdp(
        model, sigma_g, sigma_m, s.n_grid, upper=s.upper, discount=s.discount, order=ORDER
    )
    if s.extinction_penalty == 0:
        return pomdp
    reward = pomdp.R.copy()
    reward[0, :] = -s.extinction_penalty
    return pomdp.replace(R=reward)


def stock_seed(seed: int, index: int) -> int:
    """The seed of one stock's uniforms, from the batch seed and the stock index alone."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def solve_stock(task: StockTask) -> xr.Dataset:
    """Fit, build, solve and simulate one stock at every noise level: a Dataset with dimensions
    ``stock`` (length 1), ``sigma_m`` and ``policy`` (see docs/output_schema.md)."""
    s = task.settings
    fitted = fit_stock(task)
    model = Logistic(r=fitted["r"], K=fitted["K"])
    sigma_g = min(fitted["sigma_g"], s.sigma_g_cap)
    grids = make_grids(model, s.n_grid, upper=s.upper)
    tables = {
        name: rule.action_table(grids)
        for name, rule in reference_rules(model, s.discount, ORDER, s.upper).items()
    }
    start = int(nearest_index(grids.states, task.series.biomass[-1]))
    u = common_uniforms(stock_seed(s.seed, task.index), s.replicates, s.years)
    # Ctrl-C must not store a cut-short solve as finished: the stock is left for --resume
    solver = dataclasses.replace(s.solver, on_interrupt="raise")
    rows = []
    for sigma_m in s.sigma_ms:
        pomdp = stock_pomdp(model, sigma_g, sigma_m, s)
        result = solver.solve(pomdp, warm_start=list(tables.values()))
        agents = {**tables, "POMDP": result.policy}
        outcome = {name: rollouts(pomdp, agents[name], u, start) for name in POLICIES}
        rows.append((result, scores(pomdp, grids, agents, outcome, s, fitted["K"])))
    return _stock_dataset(task, fitted, sigma_g, grids, start, rows)


def scores(
    pomdp: TabularPOMDP, grids, agents: dict, outcome: dict, s: BatchSettings, K: float
) -> dict:
    """Per policy (in :data:`POLICIES` order), per replicate: the NPV over the simulated years,
    the discounted reward with the extinction penalty over the infinite horizon (the POMDP's
    objective; the simulated years plus the exact value of going on, see
    :func:`value_with_tail`) and whether the stock collapsed."""
    weights = s.discount ** np.arange(1, s.years + 1)
    runs = [outcome[name] for name in POLICIES]
    return {
        "npv": np.array(
            [
                np.minimum(grids.states[r["state"]], grids.actions[r["action"]]) @ weights
                for r in runs
            ]
        ),
        "reward": np.array([value_with_tail(pomdp, agents[n], outcome[n]) for n in POLICIES]),
        "collapsed": np.array(
            [grids.states[r["final_state"]] < s.collapse_threshold * K for r in runs]
        ),
    }


def pomdp_minus_best_rule(reward: np.ndarray) -> tuple[float, float]:
    """The POMDP's paired difference in mean reward to the rule with the highest mean, and its
    standard error (``reward`` is policies × replicates in :data:`POLICIES` order)."""
    best = int(np.argmax(reward[:-1].mean(axis=1)))
    difference = reward[-1] - reward[best]
    return float(difference.mean()), standard_error(difference)


def _stock_dataset(task, fitted, sigma_g, grids, start, rows) -> xr.Dataset:
    s = task.settings

    def per_policy(f, key):
        return np.array([[[f(v) for v in score[key]] for _, score in rows]])

    npv, se = per_policy(np.mean, "npv"), per_policy(standard_error, "npv")
    reward, reward_se = per_policy(np.mean, "reward"), per_policy(standard_error, "reward")
    collapse = per_policy(np.mean, "collapsed")
    versus = np.array([[pomdp_minus_best_rule(score["reward"]) for _, score in rows]])
    ssp, ss = ("stock", "sigma_m", "policy"), ("stock", "sigma_m")
    results = [result for result, _ in rows]

    def per_solve(values, dtype=float):
        return np.array([values], dtype=dtype)

    data = {
        "npv_mean": (ssp, npv, _meta("mean NPV sum_t discount^(t-1) min(x_t, h_t)", "reward")),
        "npv_se": (ssp, se, _meta("standard error of the mean NPV", "reward")),
        "reward_mean": (
            ssp,
            reward,
            _meta("mean discounted reward with extinction penalty, infinite horizon", "reward"),
        ),
        "reward_se": (ssp, reward_se, _meta("standard error of the mean reward", "reward")),
        "pomdp_minus_best_rule": (
            ss,
            versus[..., 0],
            _meta("POMDP's mean reward minus the best rule's (paired)", "reward"),
        ),
        "pomdp_minus_best_rule_se": (
            ss,
            versus[..., 1],
            _meta("standard error of the paired difference", "reward"),
        ),
        "collapse_probability": (ssp, collapse, _meta("fraction of replicates collapsed")),
        "lower_bound": (ss, per_solve([r.lower_bound for r in results]), _bound("lower")),
        "upper_bound": (ss, per_solve([r.upper_bound for r in results]), _bound("upper")),
        "gap": (ss, per_solve([r.gap for r in results]), _meta("upper - lower at b0", "reward")),
        "solve_time_s": (ss, per_solve([r.solve_time_s for r in results]), _meta("solve", "s")),
        "iterations": (
            ss,
            per_solve([r.iterations for r in results], np.int64),
            _meta("trials of the point-based search"),
        ),
        "n_alpha": (
            ss,
            per_solve([r.policy.n_vectors for r in results], np.int64),
            _meta("alpha vectors of the POMDP policy"),
        ),
        "stop_reason": (
            ss,
            per_solve([r.stop_reason for r in results], object),
            _meta("why the solve ended"),
        ),
    }
    for key, value, text in (
        ("r", fitted["r"], "fitted growth rate r"),
        ("K", fitted["K"], "fitted carrying capacity K (units of max SSB)"),
        ("sigma_g", fitted["sigma_g"], "fitted process noise sd"),
        ("sigma_g_model", sigma_g, "process noise sd of the POMDP (capped)"),
        ("x0", grids.states[start], "initial stock: last observed biomass on the grid"),
    ):
        data[key] = ("stock", [value], _meta(text))
    series = task.series
    data["n_years"] = ("stock", [series.n_years], _meta("usable years of the series"))
    data["max_ssb_t"] = ("stock", [series.scale], _meta("largest SSB (the unit of x)", "t"))
    coords = {
        "stock": ("stock", [task.index], _meta("RAM stock index")),
        "sigma_m": ("sigma_m", np.array(s.sigma_ms), _meta("survey noise sd")),
        "policy": ("policy", np.array(POLICIES, dtype=object), _meta("policy name")),
        "commonname": ("stock", np.array([series.name], dtype=object), _meta("common name")),
        "areaname": ("stock", np.array([series.area], dtype=object), _meta("area")),
    }
    attrs = make_attrs(f"RAM stock {task.index}", "batch", parameters=s.as_dict())
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _meta(long_name: str, units: str = "1") -> dict[str, str]:
    return {"long_name": long_name, "units": units}


def _bound(which: str) -> dict[str, str]:
    return _meta(f"solver's {which} bound at b0 (with the extinction penalty)", "reward")
