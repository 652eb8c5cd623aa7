"""``decide pareto``: a box covering of a test problem's Pareto set, written as a Dataset."""

from __future__ import annotations

import argparse

from decide import progress
from decide.cli.common import (
    add_backend,
    add_quiet,
    backend_from,
    formatter,
    output_path,
    positive_int,
    write_dataset,
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    from decide.pareto import METHODS
    from decide.pareto.testproblems import PROBLEMS

    parser = commands.add_parser(
        "pareto",
        help="set-oriented Pareto sets: subdivision, sampling, recovery, continuation",
        description="Cover the Pareto set of PROBLEM with boxes. subdivision keeps the boxes hit "
        "by descent images of test points (smooth common descent, or Gebken & Peitz "
        "ε-subgradient descent for non-smooth problems); sampling keeps boxes holding "
        "non-dominated test points; continuation traces the Kuhn–Tucker manifold. Prints the "
        "covering's size and cost (and its distance to the known Pareto set where there is one) "
        "and writes a Dataset (box × dim, box × objective).",
        formatter_class=formatter,
    )
    parser.add_argument("problem", choices=sorted(PROBLEMS), help="the problem")
    parser.add_argument(
        "--method",
        choices=sorted(METHODS),
        default="subdivision",
        help="the set-oriented method",
    )
    parser.add_argument(
        "--dim",
        type=positive_int,
        default=None,
        help="decision variables; None: the problem's own",
    )
    parser.add_argument("--levels", type=positive_int, default=16, help="subdivision levels")
    parser.add_argument(
        "--points-per-box", type=positive_int, default=8, help="test points drawn in each box"
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="descent steps per test point; None: 1 smooth, 5 non-smooth",
    )
    parser.add_argument("--recover", action="store_true", help="recover lost boxes at the end")
    parser.add_argument(
        "--depth", type=positive_int, default=6, help="continuation: bisections per axis"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--out", type=output_path, required=True, metavar="PARETO.nc", help="result (netCDF)"
    )
    parser.add_argument(
        "--plot",
        type=output_path,
        default=None,
        metavar="FIGURE.png",
        help="also draw the covering and the front",
    )
    add_backend(parser)
    add_quiet(parser)
    parser.set_defaults(run=run_pareto_command)


def _options(args: argparse.Namespace, smooth: bool) -> dict:
    if args.method == "continuation":
        return {"depth": args.depth}
    options = {"levels": args.levels, "points_per_box": args.points_per_box}
    options["backend"] = backend_from(args)
    if args.method == "subdivision" and args.steps is not None:
        from decide.pareto import EpsilonDescent, SmoothDescent

        descent = SmoothDescent if smooth else EpsilonDescent
        options["descent"] = descent(steps=args.steps)
    return options


def run_pareto_command(args: argparse.Namespace) -> int:
    from decide.pareto import hausdorff, pareto_set
    from decide.pareto.testproblems import make_problem

    problem = make_problem(args.problem, dim=args.dim)
    options = _options(args, problem.smooth)
    with progress.following(
        f"{args.method} {problem.name}",
        position=lambda p: p.level,
        total=lambda p: p.levels,
        status=lambda p: f"{len(p.boxes)} boxes",
        quiet=args.quiet,
        unit="level",
    ) as show:
        found = pareto_set(
            problem, args.method, seed=args.seed, recover=args.recover, callback=show, **options
        )
    counts = found.counts
    print(
        f"{problem.name} (d = {problem.dim}, m = {problem.n_obj}), {found.method}: "
        f"{len(found)} boxes of diameter {found.boxes.diameter:.3g}"
    )
    print(
        f"evaluations: {counts.f:,} f + {counts.jac:,} gradients"
        + (f", {counts.pde_solves:,} PDE solves" if counts.pde_solves else "")
    )
    if problem.has_pareto_set:
        distance = hausdorff(found.boxes.centres, problem.pareto_set(2000))
        print(f"Hausdorff distance to the known Pareto set: {distance:.3g}")
    ds = found.to_dataset()
    if args.plot is not None:
        from decide.pareto.plot import plot_pareto

        plot_pareto(found, args.plot, problem=problem)
        print(f"wrote {args.plot}")
    write_dataset(ds, args.out)
    return 0
