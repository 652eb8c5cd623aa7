"""``decide fisheries``: every fisheries study (``study``: the paper's, with our solver)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import xarray as xr

from decide import progress
from decide.cli.batch import add_batch
from decide.cli.common import (
    add_backend,
    add_quiet,
    backend_from,
    formatter,
    non_negative_float,
    output_path,
    positive_float,
    positive_int,
    write_dataset,
)
from decide.cli.evaluate import add_hindcast
from decide.cli.robust import add_robust_studies
from decide.errors import UsageError

DATA_DIR_ENV = "DECIDE_DATA_DIR"


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "fisheries",
        help="fisheries management under measurement uncertainty: every fisheries study",
        description="The fisheries studies: the simulation study of Memarzadeh & Boettiger "
        "(2019), the hindcast against a stock's catch history (also `decide evaluate`), the RAM "
        "batch, and the studies of deciding with imperfect models (docs/robust.md).",
        formatter_class=formatter,
    )
    sub = parser.add_subparsers(dest="fisheries_command", metavar="COMMAND", required=True)
    _add_study(sub)
    add_hindcast(sub)
    add_batch(sub)
    add_robust_studies(sub)


def _add_study(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "study",
        help="CE, MSY, TAC and POMDP (and the paper's SARSOP) policies by measurement noise",
        description="For each SIGMA_M: build the paper's POMDP (logistic r = 0.75, K = 1; "
        "100-point grids on [0, 2K]; discount 0.95), solve it with the point-based solver, and "
        "simulate the rules CE, MSY, TAC and the POMDP policy with the paper's protocol (start "
        "at K/6, 99 decisions, NPV = sum_t 0.95^(t-1) min(x_t, h_t)). Every policy sees the "
        "same random numbers. Writes one netCDF Dataset and prints mean NPV ± SE and the "
        "fraction of replicates whose final stock is below 0.1 K.",
        formatter_class=formatter,
    )
    parser.add_argument(
        "--sigma-g", type=non_negative_float, default=0.15, metavar="S", help="process noise sd"
    )
    parser.add_argument(
        "--sigma-m",
        type=non_negative_float,
        nargs="+",
        default=[0.0, 0.1, 0.15],
        metavar="S",
        help="measurement noise sd, one scenario each",
    )
    parser.add_argument("--replicates", type=positive_int, default=1000, help="replicates")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random numbers")
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="solver budget per scenario (with --max-iterations, a cap that should not be reached)",
    )
    parser.add_argument(
        "--max-iterations",
        type=positive_int,
        default=None,
        metavar="N",
        help="solver trial budget per scenario; makes every number reproducible on any machine "
        "(the solve still stops at --time-limit, so set it high enough); default: stop at the "
        "time limit",
    )
    parser.add_argument(
        "--target-gap",
        type=positive_float,
        default=1e-3,
        metavar="G",
        help="stop a solve once upper − lower bound at b0 is at most G",
    )
    parser.add_argument(
        "--out", type=output_path, required=True, metavar="STUDY.nc", help="result (netCDF)"
    )
    parser.add_argument(
        "--plot", type=output_path, default=None, metavar="FIGURE.png", help="also draw a figure"
    )
    paper = parser.add_mutually_exclusive_group()
    paper.add_argument(
        "--policyx-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="also simulate the paper's SARSOP policies from DIR (with its index.csv)",
    )
    paper.add_argument(
        "--paper-policies",
        action="store_true",
        help=f"like --policyx-dir ${DATA_DIR_ENV}/paper-policies",
    )
    parser.add_argument(
        "--no-trajectories",
        action="store_true",
        help="keep only per-replicate results (not stock, quota, harvest, survey per year)",
    )
    add_backend(parser)
    add_quiet(parser)
    parser.set_defaults(run=run_study_command)


def _policyx_dir(args: argparse.Namespace) -> Path | None:
    if args.policyx_dir is not None:
        return args.policyx_dir
    if not args.paper_policies:
        return None
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        raise UsageError(f"--paper-policies: set ${DATA_DIR_ENV} or use --policyx-dir DIR")
    return Path(root) / "paper-policies"


def summary_table(ds: xr.Dataset) -> str:
    """Mean NPV ± SE and collapse fraction per scenario × policy, then the solves."""
    policies = [str(p) for p in ds["policy"].values]
    lines = [f"{'sigma_m':>8}" + "".join(f"{p:>22}" for p in policies)]
    for i, sigma_m in enumerate(ds["sigma_m"].values):
        cells = []
        for p in policies:
            mean, se = (float(ds[v].isel(scenario=i).sel(policy=p)) for v in ("npv_mean", "npv_se"))
            collapsed = float(ds["collapse_fraction"].isel(scenario=i).sel(policy=p))
            cells.append(f"{mean:.3f} ± {se:.3f} ({collapsed:4.0%})")
        lines.append(f"{sigma_m:>8g}" + "".join(f"{c:>22}" for c in cells))
    lines.append("NPV mean ± SE over replicates (fraction collapsed: final stock < 0.1 K)")
    if "POMDP" in policies:
        for i, sigma_m in enumerate(ds["sigma_m"].values):
            lb, ub, t = (float(ds[v][i]) for v in ("lower_bound", "upper_bound", "solve_time_s"))
            n = int(ds["n_alpha"].isel(scenario=i).sel(policy="POMDP"))
            reason = str(ds["stop_reason"].values[i])
            lines.append(
                f"solve sigma_m={sigma_m:g}: bounds at b0 [{lb:.5g}, {ub:.5g}], {n} vectors, "
                f"{t:.1f} s ({reason})"
            )
    return "\n".join(lines)


def run_study_command(args: argparse.Namespace) -> int:
    from decide.envs.fisheries.studies.paper.plot import plot_study
    from decide.envs.fisheries.studies.paper.run import StudySettings, run_study
    from decide.pomdp.pointbased import PointBased

    solver = PointBased(
        time_limit=args.time_limit, target_gap=args.target_gap, max_iterations=args.max_iterations
    )
    settings = StudySettings(
        sigma_g=args.sigma_g,
        sigma_ms=tuple(args.sigma_m),
        replicates=args.replicates,
        seed=args.seed,
        solver=solver,
        policyx_dir=_policyx_dir(args),
        trajectories=not args.no_trajectories,
    )
    with progress.tasks_bar("scenarios", quiet=args.quiet) as show:
        ds = run_study(settings, backend=backend_from(args), callback=show)
    print(summary_table(ds))
    write_dataset(ds, args.out)
    if args.plot is not None:
        plot_study(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0
