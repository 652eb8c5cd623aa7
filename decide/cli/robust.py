"""``decide fisheries plan``, ``proxy``, ``choose`` (and ``offline``): the fisheries studies of
deciding with imperfect models (constraints, proxies, ensembles)."""

from __future__ import annotations

import argparse

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
    write_dataset,
)
from decide.cli.robust_offline import add_offline


def add_robust_studies(sub: argparse._SubParsersAction) -> None:
    """The fisheries studies of deciding with imperfect models (docs/robust.md):
    ``decide fisheries plan``, ``proxy``, ``choose`` and ``offline``."""
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
    _add_choose(sub)
    add_offline(sub)


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
    _add_records(proxy)
    add("--candidates", type=positive_int, default=2000, metavar="N", help="candidate rules")
    add("--out", type=output_path, required=True, metavar="PROXY.nc", help="result (netCDF)")
    add("--plot", type=output_path, default=None, metavar="FIGURE.png", help="gold vs proxy")
    add_backend(proxy)
    add_quiet(proxy)
    proxy.set_defaults(run=run_proxy)


def _add_records(parser: argparse.ArgumentParser) -> None:
    """The records, fits and ensemble options the proxy and choice studies share."""
    add = parser.add_argument
    add("--corruption", type=non_negative_float, default=0.25, help="share of wrong survey records")
    add(
        "--kind",
        choices=("scale", "replace"),
        default="scale",
        help="a wrong record is multiplied by a factor (scale) or replaced by U[0, 2K]",
    )
    add(
        "--factor",
        type=positive_float,
        nargs=2,
        default=(1.5, 3.0),
        metavar=("LOW", "HIGH"),
        help="range of the uniform factor of a scaled record",
    )
    add("--seeds", type=positive_int, default=20, metavar="N", help="independent studies")
    add("--models", type=positive_int, default=5, metavar="K", help="bootstrap fits (>= 2)")
    add("--lam", type=non_negative_float, default=0.5, help="UWO's weight on the variance")


def _records_from(args: argparse.Namespace) -> dict:
    return {
        "corruption": args.corruption,
        "corruption_kind": args.kind,
        "corruption_factor": tuple(args.factor),
        "seeds": tuple(range(args.seeds)),
        "k": args.models,
        "lam": args.lam,
    }


def _add_choose(sub: argparse._SubParsersAction) -> None:
    choose = sub.add_parser(
        "choose",
        help="choose among POMDP-pipeline policies with one fitted model or an ensemble",
        description="Simulate 40 years of survey records from a gold logistic stock (r = 0.75, "
        "K = 1, sigma_g = 0.1; a share of them grossly wrong), fit the model to them (one "
        "maximum-likelihood fit and K bootstrap fits), and turn every fitted model into a "
        "candidate POMDP policy (point-based solve; its belief follows that model) and CE, MSY "
        "and TAC rules, all on a shared grid of [0, 2]. Every candidate is scored with every "
        "fitted model as the truth (common random numbers); the single fit's best candidate is "
        "compared with the best by the ensemble objectives (mean, worst case WCO, uncertainty-"
        "weighted UWO on standardised scores), each judged by its NPV under the gold model. "
        "Prints per objective the mean gold NPV over seeds, its paired gain over the single "
        "fit, the collapse probability under gold, and what kinds of candidate were chosen.",
        formatter_class=formatter,
    )
    add = choose.add_argument
    _add_records(choose)
    add("--grid", type=positive_int, default=30, metavar="N", help="points of every grid")
    add("--survey-sd", type=non_negative_float, default=0.1, help="survey noise sd of the POMDPs")
    add(
        "--sigma-g-cap",
        type=positive_float,
        default=None,
        help="cap on a fitted process noise sd in its POMDP (the RAM batch uses 0.2); None: no cap",
    )
    add(
        "--max-iterations",
        type=positive_int,
        default=100,
        metavar="N",
        help="trial budget of each point-based solve (the only stop, so deterministic)",
    )
    add(
        "--replicates",
        type=positive_int,
        default=100,
        metavar="N",
        help="runs per candidate with a fitted model as the truth",
    )
    add(
        "--gold-replicates",
        type=positive_int,
        default=400,
        metavar="N",
        help="runs per candidate with the gold model as the truth (independent uniforms)",
    )
    add("--horizon", type=positive_int, default=50, metavar="YEARS", help="years simulated")
    add("--out", type=output_path, required=True, metavar="CHOICE.nc", help="result (netCDF)")
    add(
        "--plot",
        type=output_path,
        default=None,
        metavar="FIGURE.png",
        help="choices and candidates",
    )
    add_backend(choose)
    add_quiet(choose)
    choose.set_defaults(run=run_choose)


def run_choose(args: argparse.Namespace) -> int:
    from decide.envs.fisheries.studies.choice.run import KINDS, ChoiceSettings, run_robust_choice
    from decide.envs.fisheries.studies.choice.settings import SOLVE_TIME_LIMIT
    from decide.pomdp.pointbased import PointBased
    from decide.results import standard_error

    settings = ChoiceSettings(
        **_records_from(args),
        n_grid=args.grid,
        survey_sd=args.survey_sd,
        sigma_g_cap=args.sigma_g_cap,
        solver=PointBased(time_limit=SOLVE_TIME_LIMIT, max_iterations=args.max_iterations),
        replicates=args.replicates,
        gold_replicates=args.gold_replicates,
        horizon=args.horizon,
    )
    with progress.tasks_bar("seeds", quiet=args.quiet) as show:
        ds = run_robust_choice(settings, backend=backend_from(args), callback=show)
    gold = ds["gold_value"]
    n = ds.sizes["seed"]
    single = gold.sel(objective="single")
    kinds = dict(zip(ds["candidate"].values, ds["kind"].values, strict=True))
    print(f"{'objective':<10}{'gold NPV':>18}{'gain vs single':>18}{'P(collapse)':>13}  chosen")
    for objective in ds["objective"].values:
        value = gold.sel(objective=objective)
        gain = 100 * (value - single) / single.mean()
        counts = [kinds[name] for name in ds["chosen"].sel(objective=objective).values]
        chosen = " ".join(f"{kind} {counts.count(kind)}" for kind in KINDS)
        mean = f"{float(value.mean()):.3f} ± {standard_error(value.values):.3f}"
        gained = f"{float(gain.mean()):+.1f} ± {standard_error(gain.values):.1f} %"
        collapse = float(ds["gold_collapse"].sel(objective=objective).mean())
        print(f"{objective:<10}{mean:>18}{gained:>18}{collapse:>13.3f}  {chosen}")
    best = ds["gold_optimum"].values
    print(f"best candidate under gold: {best.mean():.3f} ± {standard_error(best):.3f}; "
          f"± is one standard error over {n} seeds")  # fmt: skip
    write_dataset(ds, args.out)
    if args.plot is not None:
        from decide.envs.fisheries.studies.choice.plot import plot_choice

        plot_choice(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0


def run_proxy(args: argparse.Namespace) -> int:
    import numpy as np

    from decide.envs.fisheries.studies.proxy.plot import plot_proxy_study
    from decide.envs.fisheries.studies.proxy.run import ProxySettings, run_proxy_study
    from decide.results import standard_error
    from decide.robust.curves import fit_curve

    settings = ProxySettings(**_records_from(args), n_candidates=args.candidates)
    with progress.tasks_bar("seeds", quiet=args.quiet) as show:
        ds = run_proxy_study(settings, backend=backend_from(args), callback=show)
    gold = ds["gold_value"].mean("seed")
    se = ds["gold_value"].reduce(standard_error, dim="seed")
    n, d = ds["n"].values, ds["d"].values
    print(f"{'objective':<10}{'gold at n=' + str(n[-1]):>18}{'peak (n)':>16}{'fitted d*':>11}")
    for objective in ds["objective"].values:
        curve = gold.sel(objective=objective).values
        peak = int(np.argmax(curve))
        fit = fit_curve(d[1:], curve[1:] - curve[0], "bon")
        last = f"{curve[-1]:.3f} ± {float(se.sel(objective=objective)[-1]):.3f}"
        fitted = "no peak" if fit.beta < 0 else f"{fit.peak_d:.3g}"  # a convex fit
        print(f"{objective:<10}{last:>18}{f'{curve[peak]:.3f} ({n[peak]})':>16}{fitted:>11}")
    print(f"d = sqrt(KL of best-of-n) runs from 0 to {d[-1]:.3f}")
    write_dataset(ds, args.out)
    if args.plot is not None:
        plot_proxy_study(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0


def run_plan(args: argparse.Namespace) -> int:
    from decide.envs.fisheries.studies.constrained.plan import plan_quotas, plot_quotas

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
