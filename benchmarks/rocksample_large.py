"""RockSample(11, 11) (247,809 states): build time and memory, then point-based solves.

Each budget runs in its own single-threaded subprocess (``NUMBA_NUM_THREADS=1``) so that peak
memory (``ru_maxrss``) is per run. A short solve of RockSample(4, 4) first fills numba's cache,
and each run loads the kernels from it before its clock starts.

    python benchmarks/rocksample_large.py                   # RockSample(11, 11), 10 s and 60 s
    python benchmarks/rocksample_large.py --budgets 10 --size 7 8
    python benchmarks/rocksample_large.py --budgets         # build only
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
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build(n: int, k: int) -> tuple[object, dict]:
    """RockSample(n, k) and the figures of its construction."""
    from decide.pomdp.problems import rock_sample

    baseline = _maxrss_mb()
    start = time.perf_counter()
    pomdp = rock_sample(n, k)
    figures = {
        "states": pomdp.n_states,
        "actions": pomdp.n_actions,
        "build": time.perf_counter() - start,
        "model_mb": pomdp.nbytes / 2**20,
        "import_rss": baseline,
        "build_rss": _maxrss_mb(),
    }
    return pomdp, figures


def worker(n: int, k: int, budget: float | None) -> dict:
    """Build (and, given a budget, solve) in the subprocess; return the figures as a dict."""
    from decide.pomdp.pointbased import PointBased, compile_kernels

    compile_kernels()  # from numba's cache, before any clock starts
    pomdp, figures = build(n, k)
    if budget is None:
        return figures
    start = time.perf_counter()
    result = PointBased(time_limit=budget).solve(pomdp)
    return {
        **figures,
        "lb": result.lower_bound,
        "ub": result.upper_bound,
        "iterations": result.iterations,
        "alpha": result.policy.n_vectors,
        "beliefs": result.n_beliefs,
        "time": result.solve_time_s,
        "wall": time.perf_counter() - start,
        "rss": _maxrss_mb(),
        "stop": result.stop_reason,
    }


def warm_cache() -> None:
    """Compile the kernels into numba's cache with a tiny solve (in the subprocess)."""
    from decide.pomdp.pointbased import PointBased
    from decide.pomdp.problems import rock_sample

    PointBased(time_limit=60, max_iterations=2).solve(rock_sample(4, 4))


def _run(arguments: list[str], timeout: float) -> dict | str:
    """The worker's figures, or why there are none (exit status, signal, timeout)."""
    command = [sys.executable, __file__, *arguments]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return f"exit status {done.returncode}:\n{tail}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_one(n: int, k: int, budget: float | None) -> dict | str:
    extra = [] if budget is None else [str(budget)]
    limit = 600.0 if budget is None else 600.0 + 5 * budget
    return _run(["--worker", str(n), str(k), *extra], limit)


HEADER = (
    "| problem | budget (s) | build (s) | model (MB) | RSS after build (MB) | LB | UB | gap "
    "| iterations | #α | beliefs | solve (s) | wall (s) | peak RSS (MB) | stop |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(name: str, budget: float | None, figures: dict | str) -> str:
    cells = [name, "—" if budget is None else f"{budget:g}"]
    if isinstance(figures, str):
        return "| " + " | ".join([*cells, figures.splitlines()[0], *["—"] * 12]) + " |"
    cells += [
        f"{figures['build']:.2f}",
        f"{figures['model_mb']:.0f}",
        f"{figures['build_rss']:.0f}",
    ]
    if "lb" not in figures:
        return "| " + " | ".join([*cells, *["—"] * 10]) + " |"
    cells += [
        f"{figures['lb']:.4f}",
        f"{figures['ub']:.4f}",
        f"{figures['ub'] - figures['lb']:.4f}",
    ]
    cells += [str(figures[key]) for key in ("iterations", "alpha", "beliefs")]
    cells += [f"{figures['time']:.2f}", f"{figures['wall']:.2f}", f"{figures['rss']:.0f}"]
    return "| " + " | ".join([*cells, figures["stop"]]) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="*", default=[10.0, 60.0])
    parser.add_argument("--size", type=int, nargs=2, default=[11, 11], metavar=("N", "K"))
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warm:
        warm_cache()
        return 0
    if args.worker:
        n, k, *budget = args.worker
        print(json.dumps(worker(int(n), int(k), float(budget[0]) if budget else None)))
        return 0
    command = [sys.executable, __file__, "--warm"]
    subprocess.run(command, capture_output=True, env=ENV, cwd=ROOT, timeout=600, check=True)
    n, k = args.size
    print(HEADER, flush=True)
    for budget in args.budgets or [None]:
        print(row(f"RockSample_{n}_{k}", budget, run_one(n, k, budget)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
