"""The robust family's acceptance checks at scale, next to the reference numbers.

Sections (all by default, or those named with ``--only``):

- ``proxy``: the gold-vs-proxy study (``run_proxy_study``, 20 seeds, 2000 candidate rules) with
  25 % of the surveys scaled by U[1.5, 3] (the default) and by U[3, 10], 25 % replaced by
  U[0, 2K], and clean surveys: per
  objective the gold value at the largest n, the paired gain over the single fit, the peak of
  the seed-mean gold curve and the drop after it; next to the reference page's prototype.
- ``curves``: the best-of-n form R(d) = d(α − βd) fitted to each seed-mean gold curve, its
  peak against the empirical one, and where ``EarlyStopping`` would have stopped.
- ``choose``: the ensemble-robust choice among POMDP-pipeline policies (``run_robust_choice``,
  20 seeds) with surveys ×1.5–3, the same with σg capped at 0.2 in the POMDPs, replaced
  surveys, and clean surveys: gold value of each objective's choice and its paired gain.
- ``constrained``: max NPV subject to P(collapse) ≤ δ on 50- and 80-point grids, the exact LP
  against the Lagrangian method: values, violations, gap and time.
- ``filter``: RMSE of the tracked growth rate r over 1000 series, plain against entropic
  annealing, with an over-confident and the correct survey likelihood; paired bootstrap 90 %
  interval of the reduction.
- ``l1``: ℓ1 against least-squares calibration over 30 series with 30 % gross outliers.
- ``offline``: gold value of the offline policies with the logistic and the flexible surplus fit,
  and the paired differences of the regularised policy, over the histories
  ``--offline-seeds FIRST STOP`` (default 0 200), also on the confirmation seeds 40–199.

Run::

    .venv/bin/python benchmarks/robust.py [--only proxy curves ...] [--quick] [--workers 2]
        [--seeds 20] [--filter-seeds 1000] [--l1-seeds 30] [--grids 50 80] [--horizon 50]
        [--offline-seeds FIRST STOP]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from decide.envs.fisheries.data.robust_fit import (
    DEMO_TRUTH,
    demo_series,
    l1_calibrate,
    least_squares_calibrate,
)
from decide.envs.fisheries.data.tracking import SIGMA_SURVEY, growth_rate_errors
from decide.envs.fisheries.studies.constrained.plan import fisheries_cmdp
from decide.envs.fisheries.studies.proxy.run import OBJECTIVES, ProxySettings, run_proxy_study
from decide.parallel import Backend, session
from decide.results import parameters, standard_error
from decide.robust.constrained import Lagrangian, LinearProgramme, least_failure_probability
from decide.robust.curves import EarlyStopping, best_of_n_kl, fit_curve

SECTIONS = ("proxy", "curves", "choose", "constrained", "filter", "l1", "offline")
#: The proxy studies: label and the settings they change.
PROXY_RUNS = {
    "x1.5-3 25 %": {"corruption": 0.25},
    "x3-10 25 %": {"corruption": 0.25, "corruption_factor": (3.0, 10.0)},
    "replace 25 %": {"corruption": 0.25, "corruption_kind": "replace"},
    "clean": {"corruption": 0.0},
}
#: Reference page's prototype (25 % corrupted records, k = 5, 2000 rules; UWO with λ = 0.1).
PROTOTYPE = {
    "single": "peak 2.902 (n=64), 2.871 at 2000: -1.1 %",
    "wco": "2.970 at 2000: +3.4 % over single",
    "uwo": "3.068 at 2000 (λ=0.1): +6.9 % over single",
}
#: Reference page's prototype of the entropic filter: reduction of the RMSE of r.
FILTER_REFERENCE = {(32, 0.05): "36 %", (128, 0.05): "44 %", (32, SIGMA_SURVEY): "no effect",
                    (128, SIGMA_SURVEY): "no effect"}  # fmt: skip
#: Reference page's prototype of the robust calibration: relative error.
L1_REFERENCE = {"l1": "0.003", "least squares": "1.85"}


def mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean over the last axis."""
    values = np.asarray(values, dtype=float)
    return values.mean(axis=-1), np.nan_to_num(standard_error(values))


def pm(mean: float, se: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def n_of_d(d: float) -> float:
    """The n whose best-of-n pressure √(log n − (n − 1)/n) is ``d`` (inverse of the KL)."""
    if not math.isfinite(d):
        return math.inf
    if d <= 0:
        return 1.0
    return brentq(lambda n: best_of_n_kl(n) - d * d, 1.0, math.exp(d * d + 2.0))


# ---------------------------------------------------------------- proxy


def proxy_studies(args) -> dict:
    sizes = {"seeds": tuple(range(args.seeds))}
    if args.quick:
        sizes |= {"n_candidates": 256, "replicates": 50, "gold_replicates": 100, "n_orders": 10}
    with session(Backend(workers=args.workers)) as backend:
        return {
            label: run_proxy_study(ProxySettings(**run, **sizes), backend=backend)
            for label, run in PROXY_RUNS.items()
        }


def proxy_section(studies: dict) -> None:
    print("Coste et al. 2023 (best-of-n, language-model reward ensembles): gains over a single")
    print("model of about 75 % with 25 % flipped labels and 30 % clean.")
    for label, ds in studies.items():
        gold, n, settings = ds["gold_value"], ds["n"].values, parameters(ds)
        print(
            f"\n{label}: {ds.sizes['seed']} seeds, {n[-1]} candidate rules, k = {settings['k']} "
            f"bootstrap fits, UWO λ = {settings['lam']} (gold value: NPV under the gold model)"
        )
        print(
            f"{'objective':<10}{'gold at n=' + str(n[-1]):>17}{'gain vs single':>18}"
            f"{'peak (n)':>16}{'drop after peak':>17}  prototype (reference page)"
        )
        final = gold.isel(pressure=-1)
        single = final.sel(objective="single").values
        for name in OBJECTIVES:
            values = final.sel(objective=name).values
            gain = (values - single) / single.mean() * 100
            gain_text = "—" if name == "single" else pm(*mean_se(gain), 1) + " %"
            curve = gold.sel(objective=name).mean("seed").values
            peak = int(curve.argmax())
            drop = (curve[peak] - curve[-1]) / curve[peak] * 100
            reference = PROTOTYPE.get(name, "") if label != "clean" else ""
            print(
                f"{name:<10}{pm(*mean_se(values)):>17}{gain_text:>18}"
                f"{f'{curve[peak]:.3f} ({n[peak]})':>16}{drop:>15.1f} %  {reference}"
            )
        if label == "clean":
            print("prototype with clean records: no overoptimisation")


# ---------------------------------------------------------------- curves


def early_stop(d: np.ndarray, score: np.ndarray) -> tuple[int | None, int | None]:
    """Index where ``EarlyStopping`` says stop and the kept index (nearest the fitted d*)."""
    rule = EarlyStopping("bon")
    for i in range(1, d.size):
        decision = rule.update(d[i], score[i])
        if decision.stop:
            kept = 1 + int(np.abs(d[1 : i + 1] - decision.peak_d).argmin())
            return i, kept
    return None, None


def curves_section(studies: dict) -> None:
    print("best-of-n form R(d) = d(α − βd) fitted to the seed-mean gold curve minus its n=1 value;")
    print("EarlyStopping(form='bon', min_points=4, patience=2) fed the points in order of n")
    print(
        f"{'run':<13}{'objective':<10}{'alpha':>8}{'beta':>8}{'fitted d* (n)':>17}"
        f"{'argmax d (n)':>15}{'stop n: gold':>15}{'kept n: gold':>15}{'final n: gold':>16}"
    )
    for label, ds in studies.items():
        d, n = ds["d"].values, ds["n"].values
        for name in OBJECTIVES:
            gold = ds["gold_value"].sel(objective=name).mean("seed").values
            fit = fit_curve(d[1:], gold[1:] - gold[0], "bon")
            best = int(gold.argmax())
            stop, kept = early_stop(d, gold - gold[0])
            fitted = f"{fit.peak_d:.3f} ({n_of_d(fit.peak_d):.3g})"
            stopped = "never" if stop is None else f"{n[stop]}: {gold[stop]:.3f}"
            keep = "—" if kept is None else f"{n[kept]}: {gold[kept]:.3f}"
            print(
                f"{label:<13}{name:<10}{fit.alpha:>8.3f}{fit.beta:>8.3f}{fitted:>17}"
                f"{f'{d[best]:.3f} ({n[best]})':>15}{stopped:>15}{keep:>15}"
                f"{f'{n[-1]}: {gold[-1]:.3f}':>16}"
            )


# ---------------------------------------------------------------- choose

#: The choice studies: label and the settings they change.
CHOICE_RUNS = {
    "x1.5-3 25 %": {"corruption": 0.25},
    "x1.5-3, cap 0.2": {"corruption": 0.25, "sigma_g_cap": 0.2},
    "replace 25 %": {"corruption": 0.25, "corruption_kind": "replace"},
    "clean": {"corruption": 0.0},
}


def paired_gain(values: np.ndarray, base: np.ndarray) -> str:
    """Mean ± SE over seeds of (values − base) as a share of the mean of ``base``, in %."""
    return pm(*mean_se((values - base) / base.mean() * 100), 1) + " %"


def choose_section(args) -> None:
    from decide.envs.fisheries.studies.choice.run import ChoiceSettings, run_robust_choice
    from decide.envs.fisheries.studies.choice.settings import SOLVE_TIME_LIMIT
    from decide.pomdp.pointbased import PointBased

    sizes = {"seeds": tuple(range(args.seeds))}
    if args.quick:
        solver = PointBased(time_limit=SOLVE_TIME_LIMIT, max_iterations=10)
        sizes |= {"n_grid": 12, "solver": solver, "replicates": 20, "gold_replicates": 40}
    print(
        "gold NPV of the chosen policy (mean ± SE over seeds) and paired gain over the single fit"
    )
    print(f"{'run':<17}{'objective':<10}{'gold NPV':>17}{'gain':>17}{'best candidate':>17}")
    with session(Backend(workers=args.workers)) as backend:
        for label, run in CHOICE_RUNS.items():
            ds = run_robust_choice(ChoiceSettings(**run, **sizes), backend=backend)
            gold = ds["gold_value"]
            single = gold.sel(objective="single").values
            best = pm(*mean_se(ds["gold_optimum"].values))
            for name in OBJECTIVES:
                values = gold.sel(objective=name).values
                gain = "—" if name == "single" else paired_gain(values, single)
                print(f"{label:<17}{name:<10}{pm(*mean_se(values)):>17}{gain:>17}{best:>17}")


# ---------------------------------------------------------------- constrained


def timed(func: Callable, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def constrained_section(args) -> None:
    grids, horizon = ((20, 30), 20) if args.quick else (tuple(args.grids), args.horizon)
    print(f"max NPV s.t. P(collapse within {horizon} years) ≤ δ; LP by HiGHS, Lagrangian by dual")
    print("ascent; gap = (LP − Lagrangian) / LP, violation = P(collapse) − δ")
    print(
        f"{'grid':>4} {'delta':<16}{'LP NPV':>10}{'Lagr. NPV':>11}{'gap':>10}"
        f"{'LP viol.':>10}{'Lagr. viol.':>12}{'LP s':>8}{'Lagr. s':>9}{'LP/Lagr.':>9}"
    )
    for n_grid in grids:
        cmdp = fisheries_cmdp(n_grid=n_grid, horizon=horizon)
        least = least_failure_probability(cmdp)
        free = Lagrangian().solve(cmdp, delta=1.0)
        print(
            f"{n_grid:>4} least P = {least:.4f}, unconstrained P = {free.failure_probability:.4f}"
            f" (NPV {free.value:.5f})"
        )
        deltas = {"least + 0.01": least + 0.01, "halfway": 0.5 * (least + free.failure_probability)}
        for name, delta in deltas.items():
            lp, t_lp = timed(LinearProgramme().solve, cmdp, delta=delta)
            lagrange, t_lagrange = timed(Lagrangian().solve, cmdp, delta=delta)
            gap = (lp.value - lagrange.value) / abs(lp.value)
            print(
                f"{n_grid:>4} {f'{name} {delta:.4f}':<16}{lp.value:>10.5f}{lagrange.value:>11.5f}"
                f"{gap:>10.1e}{lp.failure_probability - delta:>10.1e}"
                f"{lagrange.failure_probability - delta:>12.1e}{t_lp:>8.2f}{t_lagrange:>9.3f}"
                f"{t_lp / t_lagrange:>9.0f}"
            )


# ---------------------------------------------------------------- filter


def bootstrap_reduction(plain: np.ndarray, annealed: np.ndarray, resamples: int, seed: int):
    """90 % percentile interval of 1 − RMSE(annealed)/RMSE(plain), resampling series (paired)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, plain.size, (resamples, plain.size))
    ratio = np.sqrt(np.mean(annealed[idx] ** 2, axis=1) / np.mean(plain[idx] ** 2, axis=1))
    return np.percentile(1.0 - ratio, [5.0, 95.0])


def filter_section(args) -> None:
    seeds = range(args.filter_seeds)
    print(f"RMSE of the final posterior-mean r (true 0.75) over {len(seeds)} series; true survey")
    print(f"sd {SIGMA_SURVEY}; reduction = 1 − annealed/plain, 90 % paired bootstrap interval")
    print(
        f"{'particles':>9}  {'likelihood':<24}{'plain':>8}{'annealed':>10}{'reduction':>11}"
        f"{'90 % interval':>18}  reference"
    )
    for n in (32, 128):
        for sigma, kind in ((0.05, "over-confident (σm 0.05)"), (SIGMA_SURVEY, "correct (σm 0.2)")):
            plain = growth_rate_errors(seeds, n, sigma, annealing=False)
            annealed = growth_rate_errors(seeds, n, sigma, annealing=True)
            rmse_plain, rmse_annealed = (float(np.sqrt(np.mean(e**2))) for e in (plain, annealed))
            low, high = bootstrap_reduction(plain, annealed, 2000, seed=n)
            interval = f"{100 * low:.1f} … {100 * high:.1f} %"
            print(
                f"{n:>9}  {kind:<24}{rmse_plain:>8.3f}{rmse_annealed:>10.3f}"
                f"{100 * (1 - rmse_annealed / rmse_plain):>9.1f} %{interval:>18}  "
                f"{FILTER_REFERENCE[n, sigma]}"
            )


# ---------------------------------------------------------------- l1


def l1_section(args) -> None:
    seeds = range(args.l1_seeds)
    methods = {"l1": l1_calibrate, "least squares": least_squares_calibrate}
    errors = {name: [] for name in methods}
    for seed in seeds:
        catch, _, records = demo_series(seed)
        for name, calibrate in methods.items():
            fit = calibrate(records, catch)
            errors[name].append([abs(fit[p] / DEMO_TRUTH[p] - 1.0) for p in ("r", "K")])
    print(f"{len(seeds)} series of 60 years, 30 % of the records × U[3, 10]; relative errors")
    print(
        f"{'method':<15}{'r median':>10}{'r worst':>10}{'K median':>10}{'K worst':>10}"
        f"  reference (prototype)"
    )
    for name, values in errors.items():
        e = np.array(values)
        median, worst = np.median(e, axis=0), e.max(axis=0)
        print(
            f"{name:<15}{median[0]:>10.4f}{worst[0]:>10.4f}{median[1]:>10.4f}{worst[1]:>10.4f}"
            f"  {L1_REFERENCE[name]}"
        )


# ---------------------------------------------------------------- offline


#: Seeds 0–39 were explored; 40–199 are the confirmation run fixed in advance.
CONFIRMATION_SEEDS = range(40, 200)


def offline_section(args) -> None:
    from decide.envs.fisheries.studies.offline.run import run_offline_study
    from decide.envs.fisheries.studies.offline.settings import OfflineSettings

    seeds = range(1) if args.quick else range(*args.offline_seeds)
    for model in ("logistic", "surplus"):
        ds = run_offline_study(OfflineSettings(model=model, seeds=seeds))
        gold = ds["gold_value"]
        print(f"\n{model} fit: gold value per policy, mean ± SE over seeds {seeds}")
        for policy in gold["policy"].values:
            print(f"  {policy!s:<22}{pm(*mean_se(gold.sel(policy=policy).values)):>17}")
        confirmation = [seed for seed in CONFIRMATION_SEEDS if seed in seeds]
        subsets = {"all": list(seeds)} | ({"40-199": confirmation} if confirmation else {})
        for label, chosen in subsets.items():
            part = gold.sel(seed=chosen)
            regularised = part.sel(policy="regularised").values
            print(f"  regularised minus, seeds {label} (mean ± SE, won, median):")
            for other in ("historical", "historical_rule", "greedy_fitted", "CE"):
                diff = regularised - part.sel(policy=other).values
                print(
                    f"    {other:<20}{pm(*mean_se(diff)):>17}{int((diff > 0).sum()):>5}/"
                    f"{diff.size}{np.median(diff):>+10.3f}"
                )


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--workers", type=int, default=2, help="processes of the proxy study")
    parser.add_argument("--seeds", type=int, default=20, help="seeds of each proxy/choice study")
    parser.add_argument("--filter-seeds", type=int, default=1000)
    parser.add_argument("--l1-seeds", type=int, default=30)
    parser.add_argument("--grids", type=int, nargs="+", default=[50, 80])
    parser.add_argument("--horizon", type=int, default=50)
    parser.add_argument(
        "--offline-seeds", type=int, nargs=2, default=(0, 200), metavar=("FIRST", "STOP")
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.filter_seeds = min(args.seeds, 4), min(args.filter_seeds, 100)
        args.l1_seeds = min(args.l1_seeds, 5)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; python "
        f"{platform.python_version()}, numpy {np.__version__}{'; --quick' if args.quick else ''}"
    )
    sections = {
        "proxy": lambda: proxy_section(studies),
        "curves": lambda: curves_section(studies),
        "choose": lambda: choose_section(args),
        "constrained": lambda: constrained_section(args),
        "filter": lambda: filter_section(args),
        "l1": lambda: l1_section(args),
        "offline": lambda: offline_section(args),
    }
    times: dict[str, float] = {}
    studies: dict = {}
    for name in SECTIONS:
        if name not in args.only:
            continue
        print(f"\n== {name} ==")
        start = time.perf_counter()
        if name in ("proxy", "curves") and not studies:
            studies = proxy_studies(args)
        sections[name]()
        times[name] = time.perf_counter() - start
        print(f"[{name}: {times[name]:.1f} s]")
    print("\ntime per section: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))


if __name__ == "__main__":
    main()
