r"""The simulation study of Memarzadeh & Boettiger (2019), reproduced with our solver.

For each measurement-noise level σm (a *scenario*) at a fixed process noise σg: build the
paper's discretised POMDP (:func:`~decide.envs.fisheries.model.pomdp_builder.build_pomdp`), solve it
with :class:`~decide.pomdp.pointbased.PointBased`, and simulate the reference rules CE, MSY and
TAC, our POMDP policy and optionally the paper's published SARSOP policy with the paper's
protocol (:mod:`decide.envs.fisheries.studies.simulation`). Every policy of every scenario sees the
same uniforms (common random numbers), so differences between policies are paired. The scenarios
are independent tasks of :func:`decide.parallel.run`: serial, local processes or Dask.

A replicate *collapses* when the stock left at the end (after the last year's harvest and
growth) is below ``collapse_threshold`` × K; it is *extinct* when that stock is 0.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from decide import parallel
from decide.envs.fisheries.model.dynamics import nearest_index
from decide.envs.fisheries.model.growth import GrowthModel
from decide.envs.fisheries.model.pomdp_builder import PAPER_MODEL, build_pomdp, make_grids
from decide.envs.fisheries.model.reference import reference_rules
from decide.envs.fisheries.studies.paper.dataset import study_dataset
from decide.envs.fisheries.studies.simulation import common_uniforms, rollouts
from decide.errors import FormatError, UsageError
from decide.parallel import Backend
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pointbased import PointBased
from decide.pomdp.policyx import read_policyx

__all__ = ["PAPER_NPV", "paper_policy_path", "run_study"]

#: The reference page's NPVs at σg = 0.15 (1000 replicates, SE ≈ 0.035), keyed by σm then policy.
PAPER_NPV = {
    0.0: {"CE": 2.59, "TAC": 1.65, "MSY": 1.45, "SARSOP": 2.60},
    0.1: {"CE": 2.41, "TAC": 1.62, "MSY": 1.32, "SARSOP": 2.50},
    0.15: {"CE": 2.03, "TAC": 1.55, "MSY": 1.21, "SARSOP": 2.39},
}
RULES = ("CE", "MSY", "TAC")


def paper_policy_path(policyx_dir: str | Path, sigma_g: float, sigma_m: float) -> Path:
    """The published policy for (σg, σm), looked up in ``policyx_dir/index.csv``
    (columns ``file``, ``sigma_g``, ``sigma_m``)."""
    index = Path(policyx_dir) / "index.csv"
    try:
        with index.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise FormatError(f"cannot read the policy index ({error.strerror})", path=index) from None
    available = []
    for line, row in enumerate(rows, start=2):
        try:
            key = (float(row["sigma_g"]), float(row["sigma_m"]))
            name = row["file"].strip()
        except (KeyError, TypeError, ValueError):
            message = "expected columns file, sigma_g, sigma_m"
            raise FormatError(message, path=index, line=line) from None
        available.append(f"({key[0]:g}, {key[1]:g})")
        if math.isclose(key[0], sigma_g, abs_tol=1e-9) and math.isclose(
            key[1], sigma_m, abs_tol=1e-9
        ):
            return index.parent / name
    raise UsageError(
        f"{index}: no published policy for sigma_g={sigma_g:g}, sigma_m={sigma_m:g}; "
        f"available (sigma_g, sigma_m): {', '.join(available)}"
    )


def run_study(
    sigma_g: float = 0.15,
    sigma_ms: Sequence[float] = (0.0, 0.1, 0.15),
    replicates: int = 1000,
    seed: int = 0,
    time_limit: float = 60.0,
    policyx_dir: str | Path | None = None,
    *,
    policies: Sequence[str] | None = None,
    target_gap: float = 1e-3,
    trials: int | None = None,
    model: GrowthModel = PAPER_MODEL,
    n_grid: int = 100,
    discount: float = 0.95,
    years: int = 99,
    x0: float | None = None,
    collapse_threshold: float = 0.1,
    trajectories: bool = True,
    callback: Callable[[float, object], bool | None] | None = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    r"""Run the study: one scenario per σm, every policy on the same random numbers.

    Parameters
    ----------
    sigma_g : float
        Process noise (absolute sd).
    sigma_ms : sequence of float
        Measurement-noise levels, one scenario each.
    replicates, seed : int
        Monte Carlo replicates and the seed of their uniforms (same seed, same numbers).
    time_limit : float
        Seconds of point-based search per scenario (with ``trials``, only a safety cap).
    policyx_dir : path, optional
        A folder with the paper's ``.policyx`` files and ``index.csv``; adds policy "SARSOP".
    policies : sequence of str, optional
        Subset of CE, MSY, TAC, POMDP (and SARSOP); default all available.
    target_gap : float
        The solver stops once the gap at b0 is at most this.
    trials : int, optional
        A trial budget per solve (``PointBased.max_iterations``): the same policy on any
        machine, as ``decide batch ram --trials``; None: stop at ``time_limit`` seconds, so the
        policy depends on the machine's speed and load.
    model, n_grid, discount : growth model, grid size, γ
        The paper's: logistic r = 0.75, K = 1; 100 points on [0, 2K]; 0.95.
    years : int
        Decisions per replicate (the paper: 99, t = 2..100).
    x0 : float, optional
        Initial stock, snapped to the grid (default K/6 → 0.1616).
    collapse_threshold : float
        Collapse: final stock below this fraction of K.
    trajectories : bool
        Keep ``stock``, ``quota``, ``harvest`` and ``observation`` per year.
    callback : callable, optional
        ``callback(sigma_m, progress)`` during each solve; returning True stops that search
        (serial backend only).
    backend : decide.parallel.Backend, optional
        Where the scenarios (solve and Monte Carlo evaluation of every policy) run; default
        serial. Each scenario's numbers do not depend on where it ran (the solves' on timing).

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario`` (with coordinate ``sigma_m``), ``policy``, ``replicate`` and
        ``year`` (t = 2..100). Per replicate: ``npv``, ``collapsed``, ``extinct``,
        ``final_stock``; per year (``trajectories``): ``stock``, ``observation``, ``quota``,
        ``harvest``; per scenario and policy: ``npv_mean``, ``npv_se``, ``collapse_fraction``,
        ``n_alpha``, ``impossible_observations``; per scenario: ``lower_bound``,
        ``upper_bound``, ``solve_time_s``, ``stop_reason`` of our solve (NaN without POMDP).
        Global attributes: :func:`decide.results.make_attrs` plus S*, B_MSY, MSY, F_MSY.
    """
    names = _policy_names(policies, policyx_dir is not None)
    if trials is not None and trials < 1:
        raise UsageError(f"trials: expected a budget >= 1 or None, got {trials}")
    if replicates < 1 or years < 1:
        raise UsageError(f"replicates and years must be >= 1, got {replicates} and {years}")
    sigma_ms = [float(s) for s in sigma_ms]
    if not sigma_ms or len(set(sigma_ms)) != len(sigma_ms):
        raise UsageError(f"sigma_m: expected distinct values, got {sigma_ms}")
    grids = make_grids(model, n_grid)
    start = int(nearest_index(grids.states, model.K / 6.0 if x0 is None else x0))
    u = common_uniforms(seed, replicates, years)
    tables = {k: r.action_table(grids) for k, r in reference_rules(model, discount).items()}
    paths = {s: paper_policy_path(policyx_dir, sigma_g, s) for s in sigma_ms} if policyx_dir else {}
    backend = backend or Backend()
    if callback is not None and backend.kind != "serial":
        raise UsageError("callback: only with the serial backend (solves elsewhere report none)")
    solver = PointBased(time_limit=time_limit, target_gap=target_gap, max_iterations=trials)
    tasks = {
        f"sigma_m={sigma_m:g}": _Scenario(
            build_pomdp(model, sigma_g, sigma_m, n_grid, discount=discount),
            {k: tables[k] for k in RULES if k in names},
            names,
            solver if "POMDP" in names else None,
            paths.get(sigma_m),
            u,
            start,
            None if callback is None else functools.partial(callback, sigma_m),
        )
        for sigma_m in sigma_ms
    }
    done = parallel.run(_run_scenario, tasks, backend=backend, description="scenarios", quiet=True)
    done.raise_failures()
    runs = list(done.results.values())
    parameters = {
        "sigma_g": sigma_g,
        "sigma_m": sigma_ms,
        "replicates": replicates,
        "seed": seed,
        "time_limit": time_limit,
        "target_gap": target_gap,
        "trials": trials,
        "model": repr(model),
        "n_grid": n_grid,
        "discount": discount,
        "years": years,
        "x0": float(grids.states[start]),
        "collapse_threshold": collapse_threshold,
        "policyx_dir": None if policyx_dir is None else str(policyx_dir),
        "policyx_files": {f"{s:g}": p.name for s, p in paths.items()},
    }
    return study_dataset(runs, names, sigma_ms, grids, model, discount, parameters, trajectories)


@dataclass(frozen=True)
class _Scenario:
    """One σm: the model, the rules' tables, the solver (None: no POMDP) and the uniforms."""

    pomdp: TabularPOMDP
    tables: dict[str, np.ndarray]
    names: tuple[str, ...]
    solver: PointBased | None
    policyx: Path | None
    u: np.ndarray
    start: int
    callback: Callable[[object], bool | None] | None


def _run_scenario(task: _Scenario) -> dict:
    """Solve (if asked), then simulate every policy of the scenario on the shared uniforms."""
    agents: dict[str, object] = dict(task.tables)
    solve = {"lower_bound": np.nan, "upper_bound": np.nan, "solve_time_s": np.nan}
    if task.solver is not None:
        result = task.solver.solve(task.pomdp, callback=task.callback)
        agents["POMDP"] = result.policy
        solve = {k: getattr(result, k) for k in solve} | {"stop_reason": result.stop_reason}
    if task.policyx is not None:
        agents["SARSOP"] = read_policyx(task.policyx)
    outcomes = {k: rollouts(task.pomdp, agents[k], task.u, task.start) for k in task.names}
    n_alpha = {k: getattr(agents[k], "n_vectors", 0) for k in task.names}
    return {"outcomes": outcomes, "n_alpha": n_alpha, "solve": solve}


def _policy_names(policies: Sequence[str] | None, sarsop: bool) -> tuple[str, ...]:
    known = (*RULES, "POMDP", "SARSOP")
    if policies is None:
        return (*RULES, "POMDP", *(("SARSOP",) if sarsop else ()))
    names = tuple(policies)
    unknown = [p for p in names if p not in known]
    if unknown or not names or len(set(names)) != len(names):
        raise UsageError(f"policies: expected distinct names among {', '.join(known)}; got {names}")
    if "SARSOP" in names and not sarsop:
        raise UsageError("policy SARSOP needs policyx_dir (the folder of the paper's policies)")
    return tuple(p for p in known if p in names)
