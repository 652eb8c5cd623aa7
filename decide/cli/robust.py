"""``decide robust``: deciding with imperfect models (constrained quotas)."""

from __future__ import annotations

import argparse

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
    plan.add_argument("--delta", type=non_negative_float, required=True, help="largest P(collapse)")
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
    _add_proxy(sub)


def _add_proxy(sub: argparse._SubParsersAction) -> None:
    proxy = sub.add_parser(
        "proxy",
        help="gold vs proxy value of harvest rules chosen ever harder against fitted models",
        description="Simulate 40 years of survey records from a gold logistic stock (a share "
        "of them grossly wrong), fit the model to them (one maximum-likelihood fit and K "
        "bootstrap fits), and choose the best of n candidate harvest rules for n = 1, 2, 4, ... "
        "under the single fit or an ensemble objective (mean, worst case WCO, uncertainty-"
        "weighted UWO). Prints the chosen rules' value under the gold model at the largest n, "
        "the single fit's peak, and the best-of-n curve's fitted peak d* = alpha / 2 beta.",
        formatter_class=formatter,
    )
    add = proxy.add_argument
    add("--corruption", type=non_negative_float, default=0.25, help="share of wrong survey records")
    add(
        "--kind",
        choices=("scale", "replace"),
        default="scale",
        help="a wrong record is multiplied by U[3, 10] (scale) or replaced by U[0, 2K]",
    )
    add("--seeds", type=positive_int, default=20, metavar="N", help="independent studies")
    add("--candidates", type=positive_int, default=2000, metavar="N", help="candidate rules")
    add("--models", type=positive_int, default=5, metavar="K", help="bootstrap fits")
    add("--lam", type=non_negative_float, default=0.5, help="UWO's weight on the variance")
    add("--out", type=output_path, required=True, metavar="PROXY.nc", help="result (netCDF)")
    add("--plot", type=output_path, default=None, metavar="FIGURE.png", help="gold vs proxy")
    add_backend(proxy)
    add_quiet(proxy)
    proxy.set_defaults(run=run_proxy)


def run_proxy(args: argparse.Namespace) -> int:
    import numpy as np

    from decide.envs.fisheries._proxy_plot import plot_proxy_study
    from decide.envs.fisheries.proxy_study import run_proxy_study
    from decide.robust.curves import fit_curve

    ds = run_proxy_study(
        corruption=args.corruption,
        corruption_kind=args.kind,
        seeds=tuple(range(args.seeds)),
        n_candidates=args.candidates,
        k=args.models,
        lam=args.lam,
        backend=backend_from(args),
    )
    gold = ds["gold_value"].mean("seed")
    se = ds["gold_value"].std("seed", ddof=1) / np.sqrt(ds.sizes["seed"])
    n, d = ds["n"].values, ds["d"].values
    print(f"{'objective':<10}{'gold at n=' + str(n[-1]):>18}{'peak (n)':>16}{'fitted d*':>11}")
    for objective in ds["objective"].values:
        curve = gold.sel(objective=objective).values
        peak = int(np.argmax(curve))
        fit = fit_curve(d[1:], curve[1:] - curve[0], "bon")
        last = f"{curve[-1]:.3f} ± {float(se.sel(objective=objective)[-1]):.3f}"
        print(f"{objective:<10}{last:>18}{f'{curve[peak]:.3f} ({n[peak]})':>16}{fit.peak_d:>11.3g}")
    print(f"d = sqrt(KL of best-of-n) runs from 0 to {d[-1]:.3f}")
    write_dataset(ds, args.out)
    if args.plot is not None:
        plot_proxy_study(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0


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
