"""Running the RAM batch through :mod:`decide.parallel`, with a partial store for resuming.

Each finished stock is written at once (atomically) to ``OUT.partial/stock-NNN.nc`` beside the
output ``OUT``, with the batch's settings in ``OUT.partial/settings.json``. A run with
``resume=True`` reads that folder, checks the settings are the same, and runs only the stocks
that have no file yet, so a crash, a lost worker or Ctrl-C costs at most the stocks that were
running. Once every stock has finished the results are gathered in stock order into one Dataset
at ``OUT`` and the folder is removed; stocks that failed are reported by name and kept out of it,
and the folder stays so that a resumed run retries just them.
"""

from __future__ import annotations

import csv
import difflib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from decide import parallel, results
from decide._atomic import atomic_write_text
from decide.contract import Callback
from decide.envs.fisheries.data.catch_data import MIN_YEARS, load_all
from decide.envs.fisheries.studies.batch.stock import BatchSettings, StockTask, solve_stock
from decide.errors import FormatError, UsageError

#: The RAM Legacy v3.0 series of the 211 stocks (docs/data.md).
RAM_FILE = "ram_v3_ssb_tc_211stocks.csv"
#: The later study's per-stock posterior means of r, K and σg.
PUBLISHED_FITS = "ram_v3_211stocks_logistic_fits.csv"


def ram_tasks(
    data_dir: str | Path, settings: BatchSettings, stocks: Sequence[str] | None = None
) -> tuple[dict[str, StockTask], dict[str, str]]:
    """The tasks of the selected stocks (all by default) and ``{stock: reason}`` of those left out.

    A selector is a stock index or a common name (all stocks of that name). Stocks with fewer
    than five usable years cannot be fitted and are left out, except with ``fit="published"``.
    """
    path = Path(data_dir) / RAM_FILE
    if not path.is_file():
        raise UsageError(f"no {RAM_FILE} in {str(data_dir)!r}; see docs/data.md")
    published = settings.fit == "published"
    series, short = load_all(path, min_years=1 if published else MIN_YEARS)
    fits = read_published_fits(Path(data_dir) / PUBLISHED_FITS) if published else {}
    names = {stock: s.name for stock, s in series.items()} | {stock: "" for stock in short}
    chosen = list(names) if stocks is None else _select(stocks, names)
    tasks, skipped = {}, {}
    for stock in chosen:
        if stock in short:
            skipped[stock] = short[stock]
            continue
        index = _index(stock, path)
        if published and index not in fits:
            skipped[stock] = f"no published fit in {PUBLISHED_FITS}"
            continue
        task = StockTask(index, series[stock], settings, fits.get(index))
        tasks[task.name] = task
    return tasks, skipped


def _select(selectors: Sequence[str], names: dict[str, str]) -> list[str]:
    chosen: dict[str, None] = {}
    for selector in selectors:
        key = selector.strip().casefold()
        found = [s for s in names if key in (s, names[s].casefold())]
        if not found:
            labels = list(names) + [n.casefold() for n in names.values() if n]
            close = difflib.get_close_matches(key, labels, n=5, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"stocks: no stock with index or common name {selector!r}{hint}")
        chosen.update(dict.fromkeys(found))
    return list(chosen)


def _index(stock: str, path: Path) -> int:
    try:
        return int(stock)
    except ValueError:
        raise FormatError(
            f"expected integer stock_index values, got {stock!r}", path=path
        ) from None


def read_published_fits(path: Path) -> dict[int, dict[str, float]]:
    """``{stock_index: {r, K, sigma_g}}`` from the published fits (columns ``r_mean`` …)."""
    columns = {"r": "r_mean", "K": "K_mean", "sigma_g": "sigma_g_mean"}
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise FormatError(f"cannot read the published fits ({error.strerror})", path=path) from None
    fits = {}
    for line, row in enumerate(rows, start=2):
        try:
            fit = {name: float(row[column]) for name, column in columns.items()}
            fits[int(row["stock_index"])] = fit
        except (KeyError, TypeError, ValueError):
            expected = f"expected stock_index and numbers in {', '.join(columns.values())}"
            raise FormatError(expected, path=path, line=line) from None
    return fits


class PartialStore:
    """The finished stocks of one batch: a folder beside the output, one file per stock."""

    def __init__(self, out: Path, settings: BatchSettings, *, resume: bool):
        self.folder = out.with_name(out.name + ".partial")
        self.settings_file = self.folder / "settings.json"
        wanted = settings.as_dict()
        if self.folder.exists():
            if not resume:
                raise UsageError(
                    f"{self.folder} holds the finished stocks of an earlier run: add --resume "
                    "to continue it, or delete the folder to start again"
                )
            _check_same(self._saved_settings(), wanted, self.settings_file)
        else:
            self.folder.mkdir()
            atomic_write_text(self.settings_file, json.dumps(wanted, sort_keys=True, indent=1))

    def _saved_settings(self) -> dict:
        try:
            return json.loads(self.settings_file.read_text())
        except (OSError, ValueError) as error:
            message = f"cannot read the batch settings ({error})"
            raise FormatError(message, path=self.settings_file) from None

    def finished(self) -> set[str]:
        return {path.stem for path in self.folder.glob("stock-*.nc")}

    def save(self, name: str, ds: xr.Dataset) -> None:
        results.write(ds, self.folder / f"{name}.nc")

    def load(self, name: str) -> xr.Dataset:
        return results.read(self.folder / f"{name}.nc")

    def remove(self) -> None:
        shutil.rmtree(self.folder)


def _check_same(saved: dict, wanted: dict, path: Path) -> None:
    differ = sorted(k for k in saved.keys() | wanted.keys() if saved.get(k) != wanted.get(k))
    if differ:
        listed = ", ".join(f"{k} (was {saved.get(k)!r}, now {wanted.get(k)!r})" for k in differ)
        raise UsageError(f"{path}: cannot resume with other settings: {listed}")


@dataclass
class BatchOutcome:
    """The gathered Dataset (None when no stock finished) and what happened to each stock."""

    dataset: xr.Dataset | None
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    stop_reason: str = "iteration limit"


def run_batch(
    tasks: dict[str, StockTask],
    settings: BatchSettings,
    out: str | Path,
    *,
    skipped: dict[str, str] | None = None,
    backend: parallel.Backend | None = None,
    resume: bool = False,
    callback: Callback | None = None,
) -> BatchOutcome:
    """Solve every task not already in the partial store, then write the Dataset to ``out``.

    ``callback`` sees a :class:`~decide.parallel.TaskProgress` after each stock; True stops
    the batch like Ctrl-C, except that the finished stocks are also gathered and written (the
    store stays for ``resume``). Ctrl-C (KeyboardInterrupt) propagates with the finished stocks
    kept in the store.
    """
    out = Path(out)
    store = PartialStore(out, settings, resume=resume)
    reused = sorted(store.finished() & tasks.keys())
    ran = parallel.run(
        solve_stock,
        tasks,
        backend=backend,
        callback=callback,
        on_result=store.save,
        skip=reused,
    )
    outcome = BatchOutcome(
        None, list(ran.results), reused, ran.failures, dict(skipped or {}), ran.stop_reason
    )
    parts = [store.load(n) if n in reused else ran.results.get(n) for n in tasks]
    parts = [part for part in parts if part is not None]
    if parts:
        outcome.dataset = gather(parts, settings, outcome)
        results.write(outcome.dataset, out)
    if not ran.failures and not ran.stopped:
        store.remove()
    return outcome


def gather(parts: list[xr.Dataset], settings: BatchSettings, outcome: BatchOutcome) -> xr.Dataset:
    """One Dataset over ``stock`` from the per-stock Datasets, with the batch's attributes."""
    ds = xr.concat(parts, dim="stock", data_vars="minimal", combine_attrs="override")
    ds.attrs = results.make_attrs(
        problem="RAM Legacy v3.0 stocks: one POMDP per stock and survey noise",
        method="batch",
        parameters=settings.as_dict(),
        failed_stocks=json.dumps(outcome.failures),
        skipped_stocks=json.dumps(outcome.skipped),
    )
    return ds
