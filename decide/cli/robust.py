"""``decide robust``: deciding with imperfect models (constrained quotas)."""

from __future__ import annotations

import argparse

from decide.cli.common import (
    add_quiet,
    formatter,
    output_path,
    positive_float,
    positive_int,
    write_dataset,
)
from decide.cli.fisheries import _non_negative


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "robust",
        help="deciding with imperfect models: constraints instead of weights",
        description="Robust and constrained decisions (docs/robust.md).",
        formatter_class=formatter,
    )
    sub = parser.add_subparsers(dest="robust_command", metavar="COMMAND", required=True)
    plan = sub.add_parser(
        "plan",
        help="maximum NPV subject to P(collapse within the horizon) <= DELTA",
        description="Quotas for the simulation study's stock (logistic r = 0.75, K = 1, harvest "
        "before growth, stock observed exactly on a grid of [0, 2K]) that maximise the expected "
        "NPV over the horizon from K/6 subject to P(stock below 0.1 K within the horizon) <= "
        "DELTA. Solved exactly by a linear programme over occupation measures (HiGHS) and by "
        "Lagrangian dual ascent; prints both next to the unconstrained plan.",
        formatter_class=formatter,
    )
    plan.add_argument("--delta", type=_non_negative, required=True, help="largest P(collapse)")
    plan.add_argument("--horizon", type=positive_int, default=50, metavar="YEARS", help="years")
    plan.add_argument("--grid", type=positive_int, default=50, metavar="N", help="grid points")
    plan.add_argument("--sigma-g", type=positive_float, default=0.15, help="process noise sd")
    plan.add_argument("--discount", type=positive_float, default=0.95, help="discount factor")
    plan.add_argument("--out", type=output_path, required=True, metavar="PLAN.nc", help="result")
    plan.add_argument(
        "--plot", type=output_path, default=None, metavar="FIGURE.png", help="quota curves"
    )
    add_quiet(plan)
    plan.set_defaults(run=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    from decide.envs.fisheries.constrained_plan import plan_quotas, plot_quotas

    ds = plan_quotas(
        args.delta,
        sigma_g=args.sigma_g,
        n_grid=args.grid,
        discount=args.discount,
        horizon=args.horizon,
    )
    print(f"{'plan':<14}{'NPV':>10}{'P(collapse)':>13}{'multiplier':>12}")
    for plan in ds["plan"].values:
        row = ds.sel(plan=plan)
        print(
            f"{plan:<14}{float(row['npv']):>10.5f}{float(row['collapse_probability']):>13.5f}"
            f"{float(row['multiplier']):>12.5g}"
        )
    write_dataset(ds, args.out)
    if args.plot is not None:
        plot_quotas(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0
