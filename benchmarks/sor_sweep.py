"""One SOR sweep on the 2-D Laplacian: decide's numba CSR kernel vs pyamg's ``sor`` (C++).

Both sides sweep the same matrix, literally the same int32-indexed CSR arrays (500 x 500 interior
grid: n = 250,000, nnz = 1,248,000), from the same x with the same b and omega, single-threaded.
The script first checks that one sweep of each gives the same x (relative difference <= 1e-12),
then times one sweep of each, interleaved, ``--repeats`` times (x is reset before every timed
sweep, outside the timing). Our sweep is ``decide.linalg.sor_sweep``, the kernel ``SOR.solve``
runs.

The memory-traffic floor of a CSR sweep is the bytes that must move at least once: the values
(8 B) and column indices (4 B) of every entry, the row pointers, b, and x read and written. It is
reported at the reference page's 28 GB/s and at this machine's bandwidth, measured with numpy's
copy (``a -> c``: 2 x 8 B per element) and add (``a + b -> c``: 3 x 8 B) on 256 MB arrays.
Run::

    .venv/bin/python benchmarks/sor_sweep.py [--m 500] [--repeats 50] [--omega 1.5]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from importlib.metadata import version

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from pyamg.relaxation.relaxation import sor as pyamg_sor  # noqa: E402

from decide.linalg import poisson_2d, prepare, sor_sweep  # noqa: E402

REFERENCE_BANDWIDTH = 28e9  # bytes/s, the reference page's measurement
REFERENCE_FLOOR_MS = 0.78


def measure_bandwidth(megabytes: int = 256, repeats: int = 10) -> tuple[float, float]:
    """Best copy and add bandwidth in bytes/s (bytes read + bytes written, no write-allocate)."""
    n = megabytes * 2**20 // 8
    a = np.random.default_rng(1).random(n)
    b = np.random.default_rng(2).random(n)
    c = np.empty(n)
    copy_best = add_best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(c, a)
        copy_best = min(copy_best, time.perf_counter() - start)
        start = time.perf_counter()
        np.add(a, b, out=c)
        add_best = min(add_best, time.perf_counter() - start)
    return 2 * a.nbytes / copy_best, 3 * a.nbytes / add_best


def floor_bytes(n: int, nnz: int) -> int:
    """Minimum traffic of one CSR sweep: values, int32 indices and pointers, b, x in and out."""
    return nnz * (8 + 4) + (n + 1) * 4 + n * 8 + 2 * n * 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--m", type=int, default=500, help="interior grid is m x m")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--omega", type=float, default=1.5)
    args = parser.parse_args()

    system = prepare(poisson_2d(args.m))
    A = system.to_scipy()  # pyamg reads the very arrays our kernel reads
    assert A.indices.dtype == np.int32
    n, nnz = system.n, system.nnz
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(n)
    b = rng.standard_normal(n)

    ours_x, theirs_x = x0.copy(), x0.copy()
    sor_sweep(system, ours_x, b, args.omega)  # also compiles (or loads) the kernel
    pyamg_sor(A, theirs_x, b, args.omega, iterations=1, sweep="forward")
    agreement = np.linalg.norm(ours_x - theirs_x) / np.linalg.norm(theirs_x)
    if not agreement <= 1e-12:
        raise SystemExit(f"the two sweeps disagree: relative difference {agreement:.3g}")

    ours, theirs = [], []
    x = np.empty(n)
    for _ in range(args.repeats):
        np.copyto(x, x0)
        start = time.perf_counter()
        sor_sweep(system, x, b, args.omega)
        ours.append(time.perf_counter() - start)
        np.copyto(x, x0)
        start = time.perf_counter()
        pyamg_sor(A, x, b, args.omega, iterations=1, sweep="forward")
        theirs.append(time.perf_counter() - start)
    ours_ms, theirs_ms = np.array(ours) * 1e3, np.array(theirs) * 1e3

    copy_bw, add_bw = measure_bandwidth()
    local_bw = max(copy_bw, add_bw)
    traffic = floor_bytes(n, nnz)
    local_floor_ms = traffic / local_bw * 1e3
    ref_floor_ms = traffic / REFERENCE_BANDWIDTH * 1e3

    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {version('numba')},")
    print(f"pyamg {version('pyamg')}, {platform.machine()} {platform.processor() or ''}".rstrip())
    print(f"2-D Laplacian, {args.m} x {args.m} interior grid: n = {n:,}, nnz = {nnz:,}")
    print(f"omega = {args.omega}, {args.repeats} interleaved repeats, single thread")
    print(f"one sweep agrees with pyamg to {agreement:.2e} (relative, 2-norm)")
    print()
    print(f"{'one forward SOR sweep':<28}{'median ms':>10}{'best ms':>10}")
    print(f"{'decide (numba CSR)':<28}{np.median(ours_ms):>10.3f}{ours_ms.min():>10.3f}")
    print(f"{'pyamg relaxation.sor':<28}{np.median(theirs_ms):>10.3f}{theirs_ms.min():>10.3f}")
    print()
    print(f"memory bandwidth here: copy {copy_bw / 1e9:.1f} GB/s, add {add_bw / 1e9:.1f} GB/s")
    print(f"traffic floor: {traffic / 1e6:.2f} MB")
    print(f"  at 28 GB/s (reference page): {ref_floor_ms:.3f} ms (page: {REFERENCE_FLOOR_MS} ms)")
    print(f"  at {local_bw / 1e9:.1f} GB/s (measured here): {local_floor_ms:.3f} ms")
    print()
    print(f"{'ratio':<40}{'median':>8}{'best':>8}")
    rows = [
        ("pyamg / ours (target >= 1.4)", np.median(theirs_ms) / np.median(ours_ms),
         theirs_ms.min() / ours_ms.min()),
        ("floor(28 GB/s) / ours (target >= 0.45)", ref_floor_ms / np.median(ours_ms),
         ref_floor_ms / ours_ms.min()),
        ("floor(measured) / ours", local_floor_ms / np.median(ours_ms),
         local_floor_ms / ours_ms.min()),
    ]  # fmt: skip
    for label, median, best in rows:
        print(f"{label:<40}{median:>8.2f}{best:>8.2f}")


if __name__ == "__main__":
    main()
