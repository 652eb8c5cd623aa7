"""``decide solve``, ``decide bounds`` and ``decide simulate`` for discrete POMDPs."""

from __future__ import annotations

import argparse

import numpy as np

from decide import progress
from decide.cli.common import (
    add_quiet,
    formatter,
    output_path,
    positive_float,
    positive_int,
    write_dataset,
)
from decide.errors import UsageError
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.solve import load_problem, solver

PROBLEM_HELP = (
    "a Cassandra .pomdp file, a POMDPX .pomdpx file, or a built-in problem: tiger, rocksample-N-K"
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    _add_solve(commands)
    _add_bounds(commands)
    _add_simulate(commands)
    _add_convert(commands)


def _add_solve(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "solve",
        help="solve a POMDP offline and write its alpha-vector policy",
        description="Solve a POMDP with the point-based solver. Ctrl-C stops the search and "
        "writes the best policy found so far.",
        formatter_class=formatter,
    )
    parser.add_argument("problem", metavar="PROBLEM", help=PROBLEM_HELP)
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="time budget; machine-dependent: where it stops the search, the policy depends on "
        "the CPU and its load (with --max-iterations, set it high enough never to fire)",
    )
    parser.add_argument(
        "--max-iterations",
        type=positive_int,
        default=None,
        metavar="N",
        help="trial budget: the search then does not depend on timing, so the same problem "
        "gives the same policy and bounds on any machine; default: stop at the time limit",
    )
    parser.add_argument(
        "--target-gap",
        type=positive_float,
        default=1e-3,
        metavar="G",
        help="stop when upper − lower bound at b0 is at most G",
    )
    parser.add_argument(
        "--out", type=output_path, required=True, metavar="POLICY.nc", help="policy (netCDF)"
    )
    parser.add_argument(
        "--policyx",
        type=output_path,
        default=None,
        metavar="FILE",
        help="also write the policy in SARSOP's XML format",
    )
    add_quiet(parser)
    parser.set_defaults(run=run_solve)


def _add_bounds(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bounds",
        help="print the blind lower bound and the QMDP and FIB upper bounds",
        formatter_class=formatter,
    )
    parser.add_argument("problem", metavar="PROBLEM", help=PROBLEM_HELP)
    parser.add_argument(
        "--belief",
        type=float,
        nargs="+",
        default=None,
        metavar="P",
        help="evaluate at this belief (one probability per state) instead of b0",
    )
    parser.set_defaults(run=run_bounds)


def _add_simulate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="Monte Carlo evaluation of a policy",
        description="Simulate POLICY on PROBLEM (the true model). The agent updates its belief "
        "exactly under --agent-model, which defaults to PROBLEM.",
        formatter_class=formatter,
    )
    parser.add_argument("problem", metavar="PROBLEM", help=PROBLEM_HELP)
    parser.add_argument(
        "policy", metavar="POLICY", help="a policy written by decide (.nc) or SARSOP's XML"
    )
    parser.add_argument("--replicates", type=positive_int, default=1000, help="episodes")
    parser.add_argument("--steps", type=positive_int, default=100, help="steps per episode")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--agent-model",
        default=None,
        metavar="PROBLEM",
        help="the model the agent believes (same state, action, observation sets)",
    )
    parser.add_argument(
        "--out", type=output_path, default=None, metavar="RESULT.nc", help="write the rollouts"
    )
    parser.set_defaults(run=run_simulate)


def _add_convert(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "convert",
        help="convert a POMDP between Cassandra's .pomdp and SARSOP's .pomdpx formats",
        description="Read PROBLEM (a .pomdp or .pomdpx file, or a built-in problem) and write it "
        "to OUT in the format its suffix names. A factored .pomdpx model is written flat, over "
        "its joint state. Reading OUT back gives the same arrays.",
        formatter_class=formatter,
    )
    parser.add_argument("problem", metavar="PROBLEM", help=PROBLEM_HELP)
    parser.add_argument("out", type=output_path, metavar="OUT", help="a .pomdp or .pomdpx file")
    parser.set_defaults(run=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    from decide.pomdp.cassandra import write_pomdp
    from decide.pomdp.pomdpx import write_pomdpx

    writers = {".pomdp": write_pomdp, ".pomdpx": write_pomdpx}
    if args.out.suffix not in writers:
        raise UsageError(f"{args.out}: expected the suffix .pomdp or .pomdpx")
    pomdp = load_problem(args.problem)
    print(describe(pomdp))
    writers[args.out.suffix](pomdp, args.out)
    print(f"wrote {args.out}")
    return 0


def describe(pomdp: TabularPOMDP) -> str:
    return (
        f"{pomdp.name}: {pomdp.n_states} states, {pomdp.n_actions} actions, "
        f"{pomdp.n_observations} observations, discount {pomdp.discount:g}"
    )


def run_solve(args: argparse.Namespace) -> int:
    from decide.pomdp.pointbased import compile_kernels

    pomdp = load_problem(args.problem)
    compile_kernels()  # first, so that once the line below is printed the search is running
    print(describe(pomdp))
    algorithm = solver(
        "pointbased",
        time_limit=args.time_limit,
        target_gap=args.target_gap,
        max_iterations=args.max_iterations,
    )
    with progress.solver_bar("solving", solver=algorithm, quiet=args.quiet) as show:
        result = algorithm.solve(pomdp, callback=show)
    rss = peak_rss_mb()
    write_dataset(result.to_dataset(peak_rss_mb=rss), args.out)
    if args.policyx is not None:
        from decide.pomdp.policyx import write_policyx

        write_policyx(result.policy, args.policyx, model=pomdp.name)
        print(f"wrote {args.policyx}")
    print(_policy_summary(pomdp, result))
    print(f"  {'peak memory':<18} {rss:.0f} MB (resident, whole process)")
    return 0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports ru_maxrss in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _policy_summary(pomdp: TabularPOMDP, result) -> str:
    policy = result.policy
    counts = np.bincount(policy.actions, minlength=pomdp.n_actions)
    per_action = ", ".join(f"{pomdp.actions[a]} {n}" for a, n in enumerate(counts) if n)
    status = "interrupted" if result.interrupted else result.stop_reason
    rows = [
        ("lower bound at b0", f"{result.lower_bound:.6g}"),
        ("upper bound at b0", f"{result.upper_bound:.6g}"),
        ("gap", f"{result.upper_bound - result.lower_bound:.6g}"),
        ("solve time", f"{result.solve_time_s:.2f} s, {result.iterations} trials ({status})"),
        ("alpha vectors", f"{policy.n_vectors} ({per_action})"),
        ("action at b0", pomdp.actions[policy.action(pomdp.b0)]),
    ]
    return "\n".join(f"  {name:<18} {value}" for name, value in rows)


def _belief(pomdp: TabularPOMDP, values: list[float] | None) -> np.ndarray:
    if values is None:
        return pomdp.b0
    belief = np.asarray(values, dtype=float)
    if belief.shape != (pomdp.n_states,):
        raise UsageError(f"--belief: {belief.size} values given, the model has {pomdp.n_states}")
    if np.any(belief < 0) or abs(belief.sum() - 1) > 1e-6:
        raise UsageError("--belief: expected non-negative probabilities summing to 1")
    return belief


def run_bounds(args: argparse.Namespace) -> int:
    from decide.pomdp.bounds import blind_lower_bound, fib_upper_bound, qmdp_upper_bound

    pomdp = load_problem(args.problem)
    belief = _belief(pomdp, args.belief)
    print(describe(pomdp))
    print(f"  {'blind lower bound':<18} {blind_lower_bound(pomdp).value(belief):.6g}")
    print(f"  {'FIB upper bound':<18} {fib_upper_bound(pomdp).value(belief):.6g}")
    print(f"  {'QMDP upper bound':<18} {qmdp_upper_bound(pomdp).value(belief):.6g}")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from decide.pomdp.policyx import load_policy
    from decide.pomdp.simulate import simulate

    pomdp = load_problem(args.problem)
    agent = pomdp if args.agent_model is None else load_problem(args.agent_model)
    policy = load_policy(args.policy)
    policy = policy.for_model(agent)
    ds = simulate(
        pomdp,
        policy,
        agent_model=agent,
        replicates=args.replicates,
        steps=args.steps,
        seed=args.seed,
    )
    mean, se = ds.attrs["mean_discounted_return"], ds.attrs["standard_error"]
    print(describe(pomdp))
    print(f"  discounted return  {mean:.6g} ± {1.96 * se:.3g} (95 % CI, {args.replicates} runs)")
    if args.out is not None:
        write_dataset(ds, args.out)
    return 0
