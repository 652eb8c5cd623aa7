"""Our point-based solver vs the paper's SARSOP runs on the fisheries POMDPs.

For each σm (σg = 0.15 by default): build the paper's 100 × 100 × 100 POMDP, solve it with
``PointBased`` under a time limit, then simulate our policy and the paper's published SARSOP
policy (15,000 s per scenario on 16 cores) with the paper's protocol on the same random numbers.
Prints NPV ± SE of both, their paired difference, our solve time (and how long the initial
bounds took) and its ratio to the paper's 15,000 s; then the simulation speed: replicates × 99
years of an alpha-vector policy with exact Bayes belief updates. Run::

    .venv/bin/python benchmarks/fisheries_solve.py [--time-limit 60] [--replicates 1000]
        [--sigma-m 0 0.1 0.15] [--policyx-dir ../shared/data/fisheries/paper-policies]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from decide.envs.fisheries._study_sim import common_uniforms, npv, rollouts
from decide.envs.fisheries.pomdp_builder import build_pomdp
from decide.envs.fisheries.study import paper_policy_path
from decide.pomdp.pointbased import PointBased
from decide.pomdp.policyx import read_policyx

PAPER_SECONDS = 15_000.0
ROOT = Path(__file__).resolve().parents[1]


def default_policyx_dir() -> Path:
    data = os.environ.get("DECIDE_DATA_DIR")
    base = Path(data) if data else ROOT.parent / "shared" / "data" / "fisheries"
    return base / "paper-policies"


def timed_rollouts(pomdp, policy, u, repeats: int = 3) -> tuple[dict, float]:
    """The rollouts and the best of ``repeats`` timings (compilation excluded)."""
    rollouts(pomdp, policy, u[:2], 8)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = rollouts(pomdp, policy, u, 8)
        best = min(best, time.perf_counter() - start)
    return out, best


def scenario(args, sigma_m: float) -> dict:
    pomdp = build_pomdp(sigma_g=args.sigma_g, sigma_m=sigma_m)
    solved = PointBased(time_limit=args.time_limit, target_gap=args.target_gap).solve(pomdp)
    paper = read_policyx(paper_policy_path(args.policyx_dir, args.sigma_g, sigma_m))
    u = common_uniforms(args.seed, args.replicates, 99)
    ours, t_ours = timed_rollouts(pomdp, solved.policy, u)
    theirs, t_theirs = timed_rollouts(pomdp, paper, u)
    v_ours = npv(pomdp, ours["state"], ours["action"])
    v_paper = npv(pomdp, theirs["state"], theirs["action"])
    n = np.sqrt(args.replicates)
    return {
        "sigma_m": sigma_m,
        "ours": (v_ours.mean(), v_ours.std(ddof=1) / n),
        "paper": (v_paper.mean(), v_paper.std(ddof=1) / n),
        "diff": ((v_ours - v_paper).mean(), (v_ours - v_paper).std(ddof=1) / n),
        "solve": solved.solve_time_s,
        "init": float(solved.history["time"][0]) if solved.history["time"].size else np.nan,
        "bounds": (solved.lower_bound, solved.upper_bound, paper.value(pomdp.b0)),
        "vectors": (solved.policy.n_vectors, paper.n_vectors),
        "sim": (t_ours, t_theirs),
        "reason": solved.stop_reason,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sigma-g", type=float, default=0.15)
    parser.add_argument("--sigma-m", type=float, nargs="+", default=[0.0, 0.1, 0.15])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--target-gap", type=float, default=1e-3)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--policyx-dir", type=Path, default=default_policyx_dir())
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; sigma_g = "
          f"{args.sigma_g:g}, {args.replicates} replicates, seed {args.seed}")  # fmt: skip
    head = f"{'sigma_m':>7} {'ours NPV':>15} {'paper NPV':>15} {'ours - paper':>15}"
    print(head + f" {'solve s':>8} {'init s':>7} {'15000 s / ours':>14}  bounds at b0")
    rows = [scenario(args, s) for s in args.sigma_m]
    for r in rows:
        cells = [f"{m:.3f} ± {se:.3f}" for m, se in (r["ours"], r["paper"], r["diff"])]
        lb, ub, paper_lb = r["bounds"]
        print(
            f"{r['sigma_m']:>7g} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} "
            f"{r['solve']:>8.1f} {r['init']:>7.1f} {PAPER_SECONDS / r['solve']:>14.0f}  "
            f"ours [{lb:.4f}, {ub:.4f}] ({r['reason']}), paper's vectors {paper_lb:.4f}"
        )
    print("simulation, exact Bayes beliefs, 99 years (best of 3):")
    for r in rows:
        (k_ours, k_paper), (t_ours, t_paper) = r["vectors"], r["sim"]
        print(
            f"  sigma_m={r['sigma_m']:g}: ours {t_ours:.2f} s ({k_ours} vectors), "
            f"paper's {t_paper:.2f} s ({k_paper} vectors) for {args.replicates} replicates"
        )


if __name__ == "__main__":
    main()
