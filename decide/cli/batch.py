"""``decide fisheries batch``: one POMDP per RAM Legacy stock and survey noise level, run in
parallel and resumable."""

from __future__ import annotations

import argparse
import sys

from decide import progress
from decide.cli.common import (
    add_backend,
    add_quiet,
    backend_from,
    formatter,
    non_negative_float,
    output_path,
    positive_float,
    positive_int,
)

DESCRIPTION = (
    "For each stock of ram_v3_ssb_tc_211stocks.csv (or those given with --stocks): fit the "
    "logistic model (harvest before growth) to its SSB and catch series scaled by the largest "
    "SSB; for each SIGMA_M build the later study's POMDP (101-point grids on [0, 2], discount "
    "0.99, process noise capped at 0.2, reward -100 while extinct) and solve it; then simulate "
    "CE, MSY, TAC and the POMDP policy for 99 years from the last observed biomass. Each "
    "finished stock goes at once to OUT.partial/, so --resume after a crash or Ctrl-C redoes "
    "nothing that finished. Writes one netCDF Dataset (stock x sigma_m x policy) and prints "
    "the final gaps next to the published study's medians."
)


def add_batch(sub: argparse._SubParsersAction) -> None:
    """``decide fisheries batch``: the RAM batch, on local processes or a Dask cluster."""
    ram = sub.add_parser(
        "batch",
        help="one POMDP per RAM Legacy stock and survey noise level (processes or Dask)",
        description=DESCRIPTION,
        formatter_class=formatter,
    )
    _add_ram_options(ram)
    ram.set_defaults(run=run_ram)


def _add_ram_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="folder with ram_v3_ssb_tc_211stocks.csv (and the published fits); "
        "None: $DECIDE_DATA_DIR",
    )
    add(
        "--sigma-m",
        type=non_negative_float,
        nargs="+",
        default=[0.05, 0.1, 0.2],
        metavar="S",
        help="survey noise sd, one POMDP per stock each",
    )
    add(
        "--stocks",
        nargs="+",
        default=None,
        metavar="ID",
        help="stock indices or common names; None: every stock",
    )
    add(
        "--fit",
        choices=("ml", "posterior", "published"),
        default="ml",
        help="maximum likelihood, emcee posterior means, or the published ones",
    )
    add("--grid", type=positive_int, default=101, metavar="N", help="grid points on [0, 2]")
    add("--discount", type=positive_float, default=0.99, help="discount factor")
    add(
        "--extinction-penalty",
        type=non_negative_float,
        default=100.0,
        metavar="P",
        help="reward -P in every year the stock is extinct; 0: none",
    )
    add(
        "--time-limit",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="solver budget per stock and noise level",
    )
    add(
        "--max-iterations",
        type=positive_int,
        default=None,
        metavar="N",
        help="solver trial budget; makes every number reproducible on any machine; None: "
        "stop at the time limit",
    )
    add("--replicates", type=positive_int, default=1000, help="simulated replicates per policy")
    add("--seed", type=int, default=0, help="seed of the random numbers (with the stock index)")
    add("--retries", type=int, default=1, metavar="N", help="extra attempts of a failing stock")
    add("--out", type=output_path, required=True, metavar="STUDY.nc", help="result (netCDF)")
    add(
        "--resume",
        action="store_true",
        help="continue the run whose finished stocks are in STUDY.nc.partial/",
    )
    add(
        "--plot",
        type=output_path,
        default=None,
        metavar="FIGURE.png",
        help="also draw gaps, NPV and collapse by noise level",
    )
    add_backend(parser)
    add_quiet(parser)


def run_ram(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from decide.envs.fisheries.data.catch_data import default_data_dir
    from decide.envs.fisheries.studies.batch.report import plot_batch, summary
    from decide.envs.fisheries.studies.batch.run import ram_tasks, run_batch
    from decide.envs.fisheries.studies.batch.stock import BatchSettings
    from decide.pomdp.pointbased import PointBased

    settings = BatchSettings(
        sigma_ms=tuple(args.sigma_m),
        fit=args.fit,
        n_grid=args.grid,
        discount=args.discount,
        extinction_penalty=args.extinction_penalty,
        solver=PointBased(time_limit=args.time_limit, max_iterations=args.max_iterations),
        replicates=args.replicates,
        seed=args.seed,
    )
    tasks, skipped = ram_tasks(default_data_dir(args.data_dir), settings, args.stocks)
    for stock, reason in skipped.items():
        print(f"left out stock {stock}: {reason}")
    backend = replace(backend_from(args), retries=args.retries)
    try:
        with progress.tasks_bar("stocks", quiet=args.quiet) as show:
            outcome = run_batch(
                tasks,
                settings,
                args.out,
                skipped=skipped,
                backend=backend,
                resume=args.resume,
                callback=show,
            )
    except KeyboardInterrupt:
        print(
            f"decide: interrupted; finished stocks are kept in {args.out}.partial/ "
            "(rerun with --resume to continue)",
            file=sys.stderr,
        )
        return 130
    print(
        f"stocks: {len(outcome.computed)} solved now, {len(outcome.reused)} resumed, "
        f"{len(outcome.failures)} failed, {len(skipped)} left out"
    )
    if outcome.dataset is not None:
        print(summary(outcome.dataset))
        print(f"wrote {args.out}")  # run_batch wrote it, as the last step of the store
        if args.plot is not None:
            plot_batch(outcome.dataset, args.plot)
            print(f"wrote {args.plot}")
    for name, error in outcome.failures.items():
        print(f"decide: {name} failed: {error}", file=sys.stderr)
    if outcome.failures:
        print(
            f"decide: rerun with --resume to retry the {len(outcome.failures)} failed stock(s)",
            file=sys.stderr,
        )
        return 1
    return 0
