"""``decide fisheries offline``: policies learnt offline from noisy historical records."""

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
    positive_int,
    write_dataset,
)

#: Policies the regularised one is compared with, paired over the histories.
COMPARED = ("historical", "historical_rule", "greedy_fitted", "CE")


def _level(text: str) -> float | None:
    if text.lower() == "none":
        return None
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a level in (0, 1) or 'none', got {text}")
    return value


def add_offline(sub: argparse._SubParsersAction) -> None:
    offline = sub.add_parser(
        "offline",
        help="improve on historical harvest decisions offline, judged on the gold model",
        description="Simulate managed histories of a gold logistic stock (surveys with noise, "
        "some grossly wrong records, a jittered harvest rate), fit a model to each history's "
        "records (the logistic, or a flexible piecewise-linear surplus), and learn policies from "
        "the records alone: greedy on the fit, the max-min over a likelihood-ratio confidence "
        "set (pessimistic), the same pulled towards the managers' recorded actions "
        "(regularised, RPO-style), advantage-guided imitation (a2pr), and CE, MSY and TAC from "
        "the logistic fit. Prints each policy's exact value on the gold model and the paired "
        "differences of the regularised policy (docs/robust.md).",
        formatter_class=formatter,
    )
    add = offline.add_argument
    add("--model", choices=("logistic", "surplus"), default="logistic", help="model fitted")
    add("--seeds", type=positive_int, default=40, metavar="N", help="histories")
    add("--first-seed", type=int, default=0, metavar="S", help="seed of the first history")
    add("--bootstrap", type=positive_int, default=5, metavar="K", help="bootstrap refits")
    add("--level", type=_level, default=0.95, help="level of the confidence set; none: all refits")
    add("--eta", type=non_negative_float, default=0.01, help="imitation weight of regularised")
    add("--gross", type=non_negative_float, default=0.1, help="share of grossly wrong records")
    add("--rate", type=non_negative_float, default=0.3, help="the managers' harvest rate")
    add("--out", type=output_path, required=True, metavar="OFFLINE.nc", help="result (netCDF)")
    add("--plot", type=output_path, default=None, metavar="FIGURE.png", help="gold values")
    add_backend(offline)
    add_quiet(offline)
    offline.set_defaults(run=run_offline)


def run_offline(args: argparse.Namespace) -> int:
    from decide.envs.fisheries.studies.offline.run import run_offline_study, summary
    from decide.envs.fisheries.studies.offline.settings import OfflineSettings
    from decide.results import standard_error

    settings = OfflineSettings(
        model=args.model,
        seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
        n_bootstrap=args.bootstrap,
        level=args.level,
        eta=args.eta,
        gross_fraction=args.gross,
        rate=args.rate,
    )
    with progress.tasks_bar("histories", quiet=args.quiet) as show:
        ds = run_offline_study(settings, backend=backend_from(args), callback=show)
    print(summary(ds))
    gold = ds["gold_value"]
    print("regularised minus    mean ± SE over histories   better on")
    for other in COMPARED:
        diff = (gold.sel(policy="regularised") - gold.sel(policy=other)).values
        se = standard_error(diff)
        print(f"{other:<20}{diff.mean():>+10.3f} ± {se:.3f}{int((diff > 0).sum()):>12}/{diff.size}")
    write_dataset(ds, args.out)
    if args.plot is not None:
        from decide.envs.fisheries.studies.offline.plot import plot_offline

        plot_offline(ds, args.plot)
        print(f"wrote {args.plot}")
    return 0
