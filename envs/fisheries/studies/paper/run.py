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
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from decide import parallel
from decide.contract import Callback
from decide.envs.fisheries.model.dynamics import nearest_index
from decide.envs.fisheries.model.pomdp_builder import build_pomdp, make_grids
from decide.envs.fisheries.model.reference import reference_rules
from decide.envs.fisheries.studies.paper.dataset import study_dataset
from decide.envs.fisheries.studies.paper.settings import RULES, StudySettings
from decide.envs.fisheries.studies.simulation import common_uniforms, rollouts
from decide.errors import FormatError, UsageError
from decide.parallel import Backend
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pointbased import PointBased
from decide.pomdp.policyx import read_policyx

__all__ = ["PAPER_NPV", "StudySettings", "paper_policy_path", "run_study"]

#: The reference page's NPVs at σg = 0.15 (1000 replicates, SE ≈ 0.035), keyed by σm then policy.
PAPER_NPV = {
    0.0: {"CE": 2.59, "TAC": 1.65, "MSY": 1.45, "SARSOP": 2.60},
    0.1: {"CE": 2.41, "TAC": 1.62, "MSY": 1.32, "SARSOP": 2.50},
    0.15: {"CE": 2.03, "TAC": 1.55, "MSY": 1.21, "SARSOP": 2.39},
}


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
    settings: StudySettings | None = None,
    *,
    backend: Backend | None = None,
    callback: Callback | None = None,
) -> xr.Dataset:
    r"""Run the study: one scenario per σm, every policy on the same random numbers.

    ``backend`` (:class:`decide.parallel.Backend`) says where the scenarios (solve and Monte
    Carlo evaluation of every policy) run; default serial. Each scenario's numbers do not
    depend on where it ran (the solves' on timing, under a time limit). ``callback`` sees a
    :class:`~decide.parallel.TaskProgress` after each scenario, and on the serial backend also
    during each solve (with the solver's progress as ``method``); returning True stops the
    running solve and the scenarios not yet started.

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario`` (with coordinate ``sigma_m``; the finished scenarios when the
        callback stopped the study), ``policy``, ``replicate`` and ``year`` (t = 2..100). Per
        replicate: ``npv``, ``collapsed``, ``extinct``, ``final_stock``; per year
        (``trajectories``): ``stock``, ``observation``, ``quota``, ``harvest``; per scenario
        and policy: ``npv_mean``, ``npv_se``, ``collapse_fraction``, ``n_alpha``,
        ``impossible_observations``; per scenario: ``lower_bound``, ``upper_bound``,
        ``solve_time_s``, ``stop_reason`` of our solve (NaN without POMDP). Global
        attributes: :func:`decide.results.make_attrs` plus S*, B_MSY, MSY, F_MSY and the
        study's ``stop_reason`` (``iteration limit``: every scenario ran; ``callback``).
    """
    settings = settings or StudySettings()
    s, names = settings, settings.names
    grids = make_grids(s.model, s.n_grid)
    start = int(nearest_index(grids.states, s.model.K / 6.0 if s.x0 is None else s.x0))
    u = common_uniforms(s.seed, s.replicates, s.years)
    tables = {k: r.action_table(grids) for k, r in reference_rules(s.model, s.discount).items()}
    paths = {}
    if s.policyx_dir is not None:
        paths = {m: paper_policy_path(s.policyx_dir, s.sigma_g, m) for m in s.sigma_ms}
    backend = backend or Backend()
    reporter = parallel.Reporter(callback, len(s.sigma_ms), inside=backend.kind == "serial")
    tasks = {
        f"sigma_m={sigma_m:g}": _Scenario(
            build_pomdp(s.model, s.sigma_g, sigma_m, s.n_grid, discount=s.discount),
            {k: tables[k] for k in RULES if k in names},
            names,
            s.solver if "POMDP" in names else None,
            paths.get(sigma_m),
            u,
            start,
            reporter.inside(f"sigma_m={sigma_m:g}"),
        )
        for sigma_m in s.sigma_ms
    }
    done = parallel.run(_run_scenario, tasks, backend=backend, callback=reporter.tasks)
    done.raise_failures()
    finished = [m for m in s.sigma_ms if f"sigma_m={m:g}" in done.results]
    parameters = settings.parameters() | {
        "x0": float(grids.states[start]),
        "policyx_files": {f"{m:g}": p.name for m, p in paths.items()},
    }
    ds = study_dataset(
        list(done.results.values()),
        names,
        finished,
        grids,
        s.model,
        s.discount,
        parameters,
        s.trajectories,
    )
    ds.attrs["stop_reason"] = reporter.stop_reason
    return ds


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
