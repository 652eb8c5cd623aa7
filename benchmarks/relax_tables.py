"""The "Learning to Relax" tables, re-run with decide, next to the reference re-run's totals.

Offset systems (SOR, n = 100, T = 5000, mean of 4 trials) at high and low context variance, and
the heat equation (SSOR-PCG, T = 5000, nx = 25 and 50; learners mean of 3 trials). Prints ours,
the reference, their ratio, and the ratio of each method to the instance optimum. Run::

    .venv/bin/python benchmarks/relax_tables.py [--experiments offset-high offset-low heat-25
        heat-50] [--length 5000] [--out-dir results/relax]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import xarray as xr

from decide import results
from decide.envs.pde.linear_sequences import PUBLISHED_METHODS, make_sequence
from decide.tuning import summary, tune

# Totals of the reference page (../shared/reference/relax.md).
REFERENCE = {
    "offset-high": {
        "omega-1": 3_026_701,
        "best-fixed": 516_155,
        "tsallis-inf": 609_746,
        "tsallis-inf-cb": 470_333,
        "chebcb": 334_806,
        "young": 279_707,
    },
    "offset-low": {
        "omega-1": 1_366_392,
        "best-fixed": 297_330,
        "tsallis-inf": 337_022,
        "tsallis-inf-cb": 308_434,
        "chebcb": 232_860,
        "young": 209_509,
    },
    "heat-25": {
        "cg": 85_422,
        "omega-1": 32_793,
        "best-fixed": 29_413,
        "tsallis-inf": 30_900,
        "chebcb": 24_800,
        "per-step-best": 24_200,
    },
    "heat-50": {
        "cg": 164_441,
        "omega-1": 60_733,
        "best-fixed": 42_908,
        "tsallis-inf": 45_300,
        "chebcb": 36_100,
        "per-step-best": 34_700,
    },
}
TRIALS = {"offset": 4, "heat": 3}


def run_experiment(name: str, length: int) -> xr.Dataset:
    kind = name.split("-")[0]
    experiment = "heat" if kind == "heat" else name
    nx = int(name.split("-")[1]) if kind == "heat" else 25
    sequence = make_sequence(experiment, length=length, nx=nx)
    return tune(sequence, PUBLISHED_METHODS[experiment], trials=TRIALS[kind], seed=1)


def print_table(name: str, ds: xr.Dataset, seconds: float) -> None:
    rows = summary(ds)
    reference = REFERENCE[name]
    optimum = dict((m, v) for m, v, _ in rows).get("young") or dict((m, v) for m, v, _ in rows).get(
        "per-step-best"
    )
    print(f"\n{name}: {ds.sizes['instance']} systems, {ds.sizes['trial']} trials, {seconds:.0f} s")
    print(
        f"{'method':<16}{'ours':>12}{'± SE':>9}{'reference':>12}{'ours/ref':>10}{'/ optimum':>11}"
    )
    for method, mean, se in rows:
        ref = reference.get(method)
        ratio = f"{mean / ref:>10.3f}" if ref else f"{'—':>10}"
        ref_text = f"{ref:>12,}" if ref else f"{'—':>12}"
        print(f"{method:<16}{mean:>12,.0f}{se:>9,.0f}{ref_text}{ratio}{mean / optimum:>11.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", default=list(REFERENCE), choices=REFERENCE)
    parser.add_argument("--length", type=int, default=5000)
    parser.add_argument("--out-dir", type=Path, default=Path("results/relax"))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.experiments:
        start = time.perf_counter()
        ds = run_experiment(name, args.length)
        print_table(name, ds, time.perf_counter() - start)
        results.write(ds, args.out_dir / f"{name}.nc")


if __name__ == "__main__":
    main()
