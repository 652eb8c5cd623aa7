"""The full RAM study on this machine: 211 stocks × 3 survey-noise levels, beside the published.

The published study solved the same 633 POMDPs (101-point grids on [0, 2], γ = 0.99, reward −100
while extinct, σg capped at 0.2, the per-stock posterior means) with SARSOP, 10,000 s each;
92 % hit that limit, with median final gaps 0.027 / 0.41 / 2.06 at σm = 0.05 / 0.1 / 0.2.
Here every stock is fitted as published (``--fit published``, so the models are theirs), solved
under ``--time-limit`` seconds per POMDP and simulated (CE, MSY, TAC, POMDP) through
``decide.parallel`` on ``--workers`` local processes. Target: all 633 solves and evaluations in
at most two hours of wall-clock time. Then the speed-up from 1 to 2 workers on the first
``--speedup-stocks`` stocks. Run::

    .venv/bin/python benchmarks/ram_batch.py [--time-limit 10] [--workers 2]
        [--data-dir ../shared/data/fisheries] [--speedup-stocks 10] [--skip-full]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from decide import progress
from decide.envs.fisheries.studies.batch.report import PUBLISHED_MEDIAN_GAPS, summary
from decide.envs.fisheries.studies.batch.run import ram_tasks, run_batch
from decide.envs.fisheries.studies.batch.stock import BatchSettings
from decide.parallel import Backend
from decide.pomdp.pointbased import PointBased

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2 * 3600.0
PUBLISHED_SECONDS = 10_000.0


def default_data_dir() -> Path:
    shared = os.environ.get("DECIDE_SHARED_DATA")
    return (Path(shared) if shared else ROOT.parent / "shared" / "data") / "fisheries"


def timed_batch(args, settings, stocks, workers: int, out: Path):
    tasks, skipped = ram_tasks(args.data_dir, settings, stocks)
    start = time.perf_counter()
    with progress.tasks_bar("stocks", quiet=args.quiet) as show:
        backend = Backend(workers=workers)
        outcome = run_batch(tasks, settings, out, skipped=skipped, backend=backend, callback=show)
    return outcome, time.perf_counter() - start


def gap_table(ds) -> str:
    lines = [
        f"{'sigma_m':>7} {'solves':>6} {'median gap':>10} {'published':>9} "
        f"{'90th pct':>9} {'converged':>9}"
    ]
    for sigma_m in ds["sigma_m"].values:
        at = ds.sel(sigma_m=sigma_m)
        gaps = at["gap"].values
        converged = np.mean(at["stop_reason"].values == "converged")
        published = PUBLISHED_MEDIAN_GAPS.get(round(float(sigma_m), 6), float("nan"))
        lines.append(
            f"{sigma_m:>7g} {gaps.size:>6} {np.median(gaps):>10.3g} {published:>9.3g} "
            f"{np.percentile(gaps, 90):>9.3g} {converged:>9.0%}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per POMDP")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--speedup-stocks", type=int, default=10)
    parser.add_argument("--skip-full", action="store_true", help="only the speed-up")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "ram_batch.nc")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    solver = PointBased(time_limit=args.time_limit)
    settings = BatchSettings(fit="published", solver=solver, replicates=args.replicates)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    if not args.skip_full:
        args.out.parent.mkdir(exist_ok=True)
        outcome, seconds = timed_batch(args, settings, None, args.workers, args.out)
        ds = outcome.dataset
        solves = ds.sizes["stock"] * ds.sizes["sigma_m"]
        print(
            f"full study: {solves} solves and evaluations in {seconds / 60:.1f} min wall-clock "
            f"on {args.workers} workers (target {TARGET_SECONDS / 3600:g} h: "
            f"{'met' if seconds <= TARGET_SECONDS else 'missed'}); published: "
            f"{PUBLISHED_SECONDS:,.0f} s per solve, {solves * PUBLISHED_SECONDS / 3600:,.0f} "
            "core-hours"
        )
        print(f"failed: {outcome.failures or 'none'}; left out: {outcome.skipped or 'none'}")
        print(gap_table(ds))
        print(summary(ds))
    with tempfile.TemporaryDirectory() as tmp:
        stocks = [str(i) for i in range(1, args.speedup_stocks + 1)]
        _, one = timed_batch(args, settings, stocks, 1, Path(tmp) / "one.nc")
        _, two = timed_batch(args, settings, stocks, 2, Path(tmp) / "two.nc")
    print(
        f"speed-up on {len(stocks)} stocks: 1 worker {one:.0f} s, 2 workers {two:.0f} s, "
        f"ratio {one / two:.2f}"
    )


if __name__ == "__main__":
    main()
