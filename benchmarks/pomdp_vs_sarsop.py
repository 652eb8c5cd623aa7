"""Point-based solver vs SARSOP on the shared .pomdp files and RockSample_7_8.pomdpx, side by side.

Each (file, budget) runs in its own single-threaded subprocess (``NUMBA_NUM_THREADS=1``) so that
peak memory (``ru_maxrss``) is per file; the kernels are loaded from numba's cache by a short
warm-up solve before the timed one. SARSOP's figures (APPL, single thread, same kind of machine)
are hard-coded from shared/reference/pomdp.md.

    python benchmarks/pomdp_vs_sarsop.py                      # every file, 10 s and 60 s
    python benchmarks/pomdp_vs_sarsop.py --budgets 10 --files Hallway TagAvoid
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Both solvers stop once the gap at b0 is at most this (SARSOP's default precision).
TARGET_GAP = 1e-3
# file: {budget: (LB, UB)} and #alpha at 60 s; None where SARSOP had converged
SARSOP = {
    "Tiger": {10: (19.3711, 19.3721), 60: (19.3711, 19.3721), "alpha": 5},
    "TigerGrid": {10: (2.159, 2.541), 60: (2.256, 2.532), "alpha": 570},
    "Hallway": {10: (0.971, 1.219), 60: (0.994, 1.206), "alpha": 304},
    "Hallway2": {10: (0.297, 0.921), 60: (0.357, 0.904), "alpha": 190},
    "TagAvoid": {10: (-6.327, -1.423), 60: (-6.201, -1.929), "alpha": 3719},
    "RockSample_4_4": {10: (17.9245, 17.9245), 60: (17.9245, 17.9245), "alpha": 207},
    "RockSample_5_5": {10: (19.2369, 20.878), 60: (19.2369, 20.467), "alpha": 1837},
    "RockSample_7_8": {10: (21.031, 24.956), 60: (21.142, 24.479), "alpha": "—", "rss": (218, 494)},
}
#: Files that are read in the POMDPX format (the others are .pomdp).
POMDPX = ("RockSample_7_8",)


def data_dir() -> Path:
    return Path(os.environ.get("DECIDE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "pomdp"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(path: str, budget: float) -> dict:
    """Solve one file (in the subprocess) and return the figures as a dict."""
    from decide.pomdp.pointbased import PointBased
    from decide.pomdp.solve import load_problem

    start = time.perf_counter()
    pomdp = load_problem(path)
    load = time.perf_counter() - start
    PointBased(time_limit=600, max_iterations=2).solve(pomdp)  # load the compiled kernels
    baseline = _maxrss_mb()
    start = time.perf_counter()
    result = PointBased(time_limit=budget).solve(pomdp)
    wall = time.perf_counter() - start
    return {
        "lb": result.lower_bound,
        "ub": result.upper_bound,
        "alpha": result.policy.n_vectors,
        "beliefs": result.n_beliefs,
        "time": result.solve_time_s,
        "wall": wall,
        "rss": _maxrss_mb(),
        "baseline_rss": baseline,
        "stop": result.stop_reason,
        "load": load,
    }


def run_one(path: Path, budget: float) -> dict:
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--worker", str(path), str(budget)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{path.name} at {budget} s failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "—"


def row(name: str, budget: float, ours: dict) -> str:
    ref = SARSOP.get(name, {}).get(int(budget))
    gap = ours["ub"] - ours["lb"]
    cells = [
        name,
        f"{budget:g}",
        f"{ours['lb']:.4f}",
        f"{ours['ub']:.4f}",
        f"{gap:.4f}",
    ]
    if ref is None:
        cells += ["—", "—", "—", "—"]
    else:
        ref_gap = ref[1] - ref[0]
        both_converged = max(gap, ref_gap) <= TARGET_GAP + 1e-9
        lb_ok = "✓" if ours["lb"] >= ref[0] - 5e-5 else ("≈" if both_converged else "✗")
        gap_ok = "✓" if gap <= ref_gap + 5e-5 or both_converged else "✗"
        cells += [f"{ref[0]:.4f} / {ref[1]:.4f}", f"{lb_ok} {ours['lb'] - ref[0]:+.4f}"]
        cells += [f"{gap_ok} {_ratio(gap, ref_gap) if ref_gap > TARGET_GAP else 'both ≤ 1e-3'}"]
        cells += [str(SARSOP[name]["alpha"])]
    rss = SARSOP.get(name, {}).get("rss")
    sarsop_rss = "—" if rss is None else str(rss[0] if budget <= 10 else rss[1])
    cells += [str(ours["alpha"]), f"{ours['time']:.2f}", f"{ours['load']:.2f}"]
    cells += [f"{ours['rss']:.0f}", sarsop_rss]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| file | budget (s) | our LB | our UB | our gap | SARSOP LB / UB | LB − SARSOP's "
    "| gap ratio (ours / SARSOP's) | SARSOP #α (60 s) | our #α | our time (s) | load (s) "
    "| peak RSS (MB) | SARSOP RSS (MB) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--files", nargs="+", default=None, help="file stems (default: all)")
    parser.add_argument("--worker", nargs=2, metavar=("FILE", "BUDGET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], float(args.worker[1]))))
        return 0
    directory = data_dir()
    names = args.files or [*sorted(p.stem for p in directory.glob("*.pomdp")), *POMDPX]
    print(HEADER, flush=True)
    for name in names:
        for budget in args.budgets:
            suffix = ".pomdpx" if name in POMDPX else ".pomdp"
            ours = run_one(directory / f"{name}{suffix}", budget)
            print(row(name, budget, ours), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
