"""``decide tune``: learn SOR's ω across a sequence of linear systems (Learning to Relax)."""

from __future__ import annotations

import argparse

from decide import progress
from decide.cli.common import add_quiet, formatter, output_path, positive_int, write_dataset
from decide.tuning import METHODS, summary, tune


def add_commands(commands: argparse._SubParsersAction) -> None:
    from decide.envs.pde.linear_sequences import EXPERIMENTS

    parser = commands.add_parser(
        "tune",
        help="bandit-tuned solver parameters across a sequence of linear systems",
        description="Run the experiments of Khodak et al. (2024), 'Learning to Relax'. "
        "offset-high / offset-low: SOR (x0 = 0, tolerance 1e-8) on A + cI, A the 5-point "
        "Laplacian on an M×M grid, c = -0.15 + 0.6 Beta(0.5, 1.5) or Beta(2, 6), random b. "
        "heat: SSOR-preconditioned CG on the Crank–Nicolson steps of a 2-D heat equation with "
        "diffusion κ(t) = max(0.1 sin 2πt, -10 sin 2πt) on an NX×NX grid, warm-started. "
        "Every strategy sees the same systems; prints the total iterations (mean ± SE over "
        "trials) and writes a Dataset (trial × strategy × instance). "
        f"Strategies: {', '.join(METHODS)}.",
        formatter_class=formatter,
    )
    parser.add_argument("experiment", choices=EXPERIMENTS, help="which sequence of systems")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=None,
        metavar="METHOD",
        help="methods to compare (default: the published table's rows for the experiment)",
    )
    parser.add_argument("--length", type=positive_int, default=5000, help="systems per trial")
    parser.add_argument("--trials", type=positive_int, default=1, help="independent trials")
    parser.add_argument("--seed", type=int, default=0, help="seed of trial 0 (trial k: seed + k)")
    parser.add_argument("--grid", type=positive_int, default=10, help="offset: M of the M×M grid")
    parser.add_argument("--nx", type=positive_int, default=25, help="heat: grid intervals per side")
    parser.add_argument(
        "--out", type=output_path, required=True, metavar="TUNE.nc", help="result (netCDF)"
    )
    parser.add_argument(
        "--plot",
        type=output_path,
        default=None,
        metavar="FIGURE.png",
        help="also draw cumulative iterations, regret and the chosen ω",
    )
    add_quiet(parser)
    parser.set_defaults(run=run_tune_command)


def run_tune_command(args: argparse.Namespace) -> int:
    from decide.envs.pde.linear_sequences import PUBLISHED_METHODS, make_sequence

    sequence = make_sequence(args.experiment, length=args.length, grid=args.grid, nx=args.nx)
    methods = args.methods or PUBLISHED_METHODS[args.experiment]
    with progress.following(
        f"tune {sequence.name}",
        position=lambda p: p.solves,
        total=lambda p: p.total,
        status=lambda p: f"trial {p.trial + 1}/{args.trials} {p.method}",
        quiet=args.quiet,
        unit="solve",
    ) as show:
        ds = tune(sequence, methods, trials=args.trials, seed=args.seed, callback=show)
    print_table(ds)
    if args.plot is not None:
        from decide.tuning.plot import plot_tuning

        plot_tuning(ds, args.plot)
        print(f"wrote {args.plot}")
    write_dataset(ds, args.out)
    return 0


def print_table(ds) -> None:
    rows = summary(ds)
    best = min(mean for _, mean, _ in rows)
    print(f"{ds.attrs['problem']}: total iterations over {ds.sizes['instance']} systems")
    print(f"{'method':<16}{'total':>14}{'± SE':>10}{'/ best':>9}")
    for method, mean, se in rows:
        print(f"{method:<16}{mean:>14,.0f}{se:>10,.0f}{mean / best:>9.3f}")
