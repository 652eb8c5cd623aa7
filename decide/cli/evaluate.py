"""``decide evaluate``: hindcast of the reference rules and the POMDP against historical catch."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import xarray as xr

from decide import progress
from decide.cli.common import (
    add_quiet,
    formatter,
    non_negative_float,
    output_path,
    positive_float,
    positive_int,
    write_dataset,
)
from decide.errors import UsageError

#: envs.fisheries.studies.hindcast.run.DEFAULT_TRIALS, written out so that --help imports no solver.
DEFAULT_TRIALS = 50


def add_commands(commands: argparse._SubParsersAction) -> None:
    """``decide evaluate``: the name users know for ``decide fisheries hindcast``."""
    add_hindcast(commands, "evaluate")


def add_hindcast(commands: argparse._SubParsersAction, name: str = "hindcast") -> None:
    parser = commands.add_parser(
        name,
        help="hindcast CE, MSY, TAC and POMDP quotas against a stock's historical catch",
        description="Fit the recruit-first logistic model to a stock's SSB and catch series "
        "(RAM Legacy columns; see docs/data.md), solve the POMDP on the historical study's grids "
        "(150 points on [0, 4] × max SSB, discount 0.95), replay the observed years feeding the "
        "observed SSB and the historical catch into the belief, and report every policy's "
        "recommended quota per year next to the historical catch, in tonnes. Year gaps are "
        "ignored: consecutive rows are consecutive steps, as in Memarzadeh & Boettiger (2019). "
        "The data, the options and --seed fix the result: the posterior sampler is seeded and "
        "the solve stops after --max-iterations trials (or at --target-gap), so every run on every "
        "machine gives the same quotas, unless --time-limit stops the solve first.",
        formatter_class=formatter,
    )
    parser.add_argument(
        "--stock",
        required=True,
        help="stock id (ARGHAKENARG), stock_index (137) or common name, case-insensitive",
    )
    parser.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="directory searched for catch CSVs, or one CSV file (default: $DECIDE_DATA_DIR)",
    )
    parser.add_argument(
        "--sigma-m",
        type=non_negative_float,
        default=0.1,
        metavar="S",
        help="survey (measurement) error sd in units of max SSB; the paper used 0.1 and 0.15",
    )
    parser.add_argument(
        "--max-iterations",
        type=positive_int,
        default=DEFAULT_TRIALS,
        metavar="N",
        help="solver trial budget: the same quotas on any machine; on the hake, 50 and 100 "
        "trials give the same quotas, 25 trials quotas within one grid step (docs/data.md)",
    )
    parser.add_argument(
        "--target-gap",
        type=non_negative_float,
        default=1e-3,
        metavar="GAP",
        help="also stop once upper − lower bound at the initial belief is at most this",
    )
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="also stop the solve after this many seconds (initial bounds included); "
        "machine-dependent: once it fires, the quotas depend on the CPU and its load; "
        "None: no time limit",
    )
    parser.add_argument(
        "--extraction",
        choices=("lookahead", "alpha"),
        default="lookahead",
        help="POMDP quota from a one-step lookahead on the solver's value function, or from the "
        "best alpha vector's action (the paper's rule; needs a much longer solve to settle)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the posterior sampler")
    parser.add_argument(
        "--out", type=output_path, required=True, metavar="HINDCAST.nc", help="result (netCDF)"
    )
    parser.add_argument(
        "--plot", type=output_path, default=None, metavar="FIGURE.png", help="also draw a figure"
    )
    add_quiet(parser)
    parser.set_defaults(run=run_evaluate)


def _tonnes(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.0f}"


def year_table(ds: xr.Dataset) -> str:
    """Per-year table: historical catch, observed SSB and each policy's quota, tonnes."""
    policies = [str(p) for p in ds["policy"].values]
    head = ["year", "SSB", "catch", *policies]
    lines = ["".join(f"{h:>10}" for h in head)]
    for i, year in enumerate(ds["year"].values):
        cells = [str(int(year)), _tonnes(float(ds["observed_ssb"][i]))]
        cells.append(_tonnes(float(ds["historical_catch"][i])))
        cells += [_tonnes(float(ds["quota"][i, j])) for j in range(len(policies))]
        lines.append("".join(f"{c:>10}" for c in cells))
    return "\n".join(lines)


def means_table(ds: xr.Dataset) -> str:
    from decide.envs.fisheries.studies.hindcast.run import closure_years, mean_quotas

    years = ds["year"].values
    lines = [f"mean quota {years[0]}–{years[-1]} (t):"]
    means = mean_quotas(ds)
    order = ["historical", "MSY", "TAC", "CE", "POMDP"]  # the paper's order
    names = [n for n in order if n in means] + [n for n in means if n not in order]
    lines += [f"  {name:<11}{_tonnes(means[name]):>10}" for name in names]
    closed = closure_years(ds)
    lines.append(f"POMDP closes the fishery (quota 0) in: {', '.join(map(str, closed)) or 'none'}")
    return "\n".join(lines)


def run_evaluate(args: argparse.Namespace) -> int:
    from decide.envs.fisheries.data.catch_data import load_stock
    from decide.envs.fisheries.studies.hindcast.run import HindcastSettings, hindcast
    from decide.pomdp.pointbased import PointBased

    if args.plot is not None:
        _check_plot_format(args.plot)
    series = load_stock(args.stock, getattr(args, "data_dir", None))
    print(series.describe())
    time_limit = math.inf if args.time_limit is None else args.time_limit
    solver = PointBased(
        time_limit=time_limit, target_gap=args.target_gap, max_iterations=args.max_iterations
    )
    settings = HindcastSettings(
        sigma_m=args.sigma_m, solver=solver, extraction=args.extraction, seed=args.seed
    )
    with progress.solver_bar("solving", solver=solver, quiet=args.quiet) as show:
        ds = hindcast(series, settings, callback=show)
    a = ds.attrs
    print(
        f"fit: r = {a['fit_r_mean']:.4g}, K = {a['fit_K_mean']:.4g}, "
        f"sigma_g = {a['fit_sigma_g_mean']:.4g} (posterior means); sigma_m = {args.sigma_m:g}"
    )
    print(
        f"POMDP: {a['n_alpha']} alpha vectors, bounds at b0 [{a['lower_bound']:.5g}, "
        f"{a['upper_bound']:.5g}], gap {a['gap']:.3g} after {a['solver_iterations']} trials "
        f"({a['solver_stop']}, {a['solve_time_s']:.0f} s); quotas by {args.extraction}"
    )
    print(year_table(ds))
    print(means_table(ds))
    write_dataset(ds, args.out)
    if args.plot is not None:
        plot(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _check_plot_format(path: Path) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in formats:
        raise UsageError(f"--plot {path}: expected one of the suffixes .{', .'.join(formats)}")


def plot(ds: xr.Dataset, path: Path) -> None:
    """Historical catch and each policy's quota by year (top), observed SSB (bottom); atomic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from decide._atomic import save_figure

    years = ds["year"].values
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, height_ratios=[2, 1])
    top.plot(years, ds["historical_catch"] / 1e3, "k-o", lw=2, ms=3, label="historical catch")
    for policy in ds["policy"].values:
        quota = ds["quota"].sel(policy=policy) / 1e3
        top.plot(years, quota, "-o", ms=3, label=str(policy))
    top.set_ylabel("quota (1000 t)")
    top.legend(ncol=3, fontsize="small")
    name = ds.attrs.get("stock_name") or ds.attrs["stock"]
    top.set_title(f"{name}: recommended quotas, σm = {_param(ds, 'sigma_m'):g}")
    bottom.plot(years, ds["observed_ssb"] / 1e3, "-o", color="tab:gray", ms=3)
    bottom.set_ylabel("observed SSB (1000 t)")
    bottom.set_xlabel("year (gaps are single steps)")
    fig.tight_layout()
    save_figure(fig, path)


def _param(ds: xr.Dataset, name: str) -> float:
    from decide.results import parameters

    return float(parameters(ds)[name])
