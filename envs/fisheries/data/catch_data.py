r"""Historical catch series in RAM Legacy's column names: loading, checking, scaling.

A catch file is a CSV with one row per stock and year and the columns (names are matched without
regard to case; extra columns are ignored)

=================  =============================================================================
``stockid``        RAM stock id (``ARGHAKENARG``); or ``stock_index``, an integer index; or both
``year``           integer year
``SSB_MT``/``SSB`` spawning-stock biomass, metric tonnes (``SSB_MT`` preferred if both appear)
``TC_MT``/``TC``   total catch, metric tonnes
``commonname``     optional; lets a stock be chosen by name (``areaname`` is shown beside it)
=================  =============================================================================

The series is prepared as in Memarzadeh & Boettiger (2019, appendix B): rows with a missing value
(empty or ``NA``) and rows with :math:`SSB \le TC` are dropped; the remaining years are sorted and
**consecutive rows are treated as consecutive time steps, whatever the gap in years between them**
(the gaps are listed in :attr:`CatchSeries.gaps`); both series are divided by the largest SSB,
:math:`x_t = SSB_t / \max_s SSB_s`, :math:`h_t = TC_t / \max_s SSB_s`.
"""

from __future__ import annotations

import csv
import difflib
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from decide.errors import FormatError, UsageError

#: Environment variable naming the default data directory.
DATA_DIR_ENV = "DECIDE_DATA_DIR"
#: Fewest usable years (rows after filtering) a series needs: four transitions for three parameters.
MIN_YEARS = 5
ID_COLUMNS = ("stockid", "stock_index")
SSB_COLUMNS = ("ssb_mt", "ssb")
TC_COLUMNS = ("tc_mt", "tc")
MISSING = frozenset({"", "na", "nan", "null", "none"})
EXPECTED = "a stock id ('stockid' or 'stock_index'), 'year', 'SSB_MT' or 'SSB', 'TC_MT' or 'TC'"


class ShortSeriesError(FormatError):
    """A stock with fewer usable years than a fit needs."""


@dataclass(frozen=True, eq=False)
class CatchSeries:
    """One stock's series after filtering, in tonnes, with the scale used for the model.

    ``gaps`` lists ``(year, next_year)`` pairs of consecutive rows more than one year apart,
    which the model nevertheless treats as one step; ``dropped`` lists ``(year, reason)`` of
    rows left out (missing value, or SSB not above TC).
    """

    stock: str
    name: str
    area: str
    year: np.ndarray
    ssb: np.ndarray
    catch: np.ndarray
    scale: float
    source: Path
    gaps: tuple[tuple[int, int], ...]
    dropped: tuple[tuple[int, str], ...]

    @property
    def biomass(self) -> np.ndarray:
        """Scaled spawning-stock biomass :math:`SSB_t / \\max SSB`."""
        return self.ssb / self.scale

    @property
    def scaled_catch(self) -> np.ndarray:
        """Scaled catch :math:`TC_t / \\max SSB`."""
        return self.catch / self.scale

    @property
    def n_years(self) -> int:
        return int(self.year.size)

    def describe(self) -> str:
        gaps = ", ".join(f"{a}–{b}" for a, b in self.gaps) or "none"
        return (
            f"{self.stock} ({self.name}, {self.area}): {self.n_years} years "
            f"{self.year[0]}–{self.year[-1]} from {self.source.name}; "
            f"max SSB {self.scale:,.0f} t; gaps treated as one step: {gaps}"
        )


@dataclass(frozen=True)
class _Table:
    path: Path
    columns: dict[str, int]
    rows: list[tuple[int, list[str]]]

    def cell(self, row: list[str], names: tuple[str, ...]) -> str:
        name = next(n for n in names if n in self.columns)
        return row[self.columns[name]].strip()

    def ids(self, row: list[str]) -> list[str]:
        return [row[self.columns[c]].strip() for c in ID_COLUMNS if c in self.columns]


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    return {name: i for i, name in reversed(list(enumerate(names)))}


def _missing(columns: dict[str, int]) -> list[str]:
    needed = [ID_COLUMNS, ("year",), SSB_COLUMNS, TC_COLUMNS]
    return [" or ".join(g) for g in needed if not any(n in columns for n in g)]


def read_table(path: str | Path) -> _Table:
    """Read a catch CSV and check its header; rows keep the line number where they end."""
    path = Path(path)
    rows, line = [], 1
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise FormatError(
                    f"empty file; expected a header with {EXPECTED}", path=path, line=1
                )
            columns = _columns(header)
            missing = _missing(columns)
            if missing:
                message = f"missing column(s) {', '.join(missing)}; expected {EXPECTED}"
                raise FormatError(message, path=path, line=1)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    message = f"{len(row)} fields, the header has {len(header)}"
                    raise FormatError(message, path=path, line=line)
                rows.append((line, row))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise FormatError(f"cannot read as a UTF-8 CSV file ({error})", path=path) from None
    return _Table(path, columns, rows)


def catch_files(data_dir: str | Path) -> list[Path]:
    """The CSV files of ``data_dir`` that have the required columns, in search order.

    Files whose columns name the unit (``SSB_MT``, ``TC_MT``) come first, then the others; each
    group in name order. A stock found in several files is taken from the first.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UsageError(f"data directory {str(data_dir)!r} does not exist")
    found = []
    for path in sorted(data_dir.glob("*.csv")):
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        columns = _columns(header)
        if not _missing(columns):
            found.append((not ("ssb_mt" in columns and "tc_mt" in columns), path.name, path))
    if not found:
        raise UsageError(f"no CSV file in {str(data_dir)!r} has the columns {EXPECTED}")
    return [path for *_, path in sorted(found)]


def default_data_dir(data_dir: str | Path | None = None) -> Path:
    """``data_dir`` if given, else ``$DECIDE_DATA_DIR``; a :class:`UsageError` if neither is set."""
    if data_dir is not None:
        return Path(data_dir)
    value = os.environ.get(DATA_DIR_ENV)
    if not value:
        raise UsageError(
            f"no catch data: give a data directory (--data-dir) or set {DATA_DIR_ENV}; "
            "see docs/data.md for downloading RAM Legacy"
        )
    return Path(value)


def _matches(table: _Table, stock: str) -> list[list[tuple[int, list[str]]]]:
    """Rows of each stock in ``table`` matching ``stock`` by id, index, then common name."""
    key = stock.strip().casefold()
    for column in (*ID_COLUMNS, "commonname"):
        if column not in table.columns:
            continue
        groups: dict[str, list] = {}
        for number, row in table.rows:
            if row[table.columns[column]].strip().casefold() == key:
                groups.setdefault("/".join(table.ids(row)), []).append((number, row))
        if groups:
            return list(groups.values())
    return []


def _label(table: _Table, row: list[str]) -> str:
    extra = [
        row[table.columns[c]].strip() for c in ("commonname", "areaname") if c in table.columns
    ]
    return f"{'/'.join(table.ids(row))} ({', '.join(extra)})" if extra else "/".join(table.ids(row))


def _unknown(stock: str, tables: list[_Table]) -> UsageError:
    names: dict[str, str] = {}
    for table in tables:
        for _, row in table.rows:
            for c in (*ID_COLUMNS, "commonname"):
                if c in table.columns:
                    names.setdefault(row[table.columns[c]].strip().casefold(), _label(table, row))
    close = difflib.get_close_matches(stock.strip().casefold(), list(names), n=5, cutoff=0.6)
    where = ", ".join(t.path.name for t in tables)
    hint = f"; did you mean {', '.join(dict.fromkeys(names[c] for c in close))}?" if close else ""
    return UsageError(f"unknown stock {stock!r} (searched {where}){hint}")


def _number(table: _Table, number: int, row: list[str], names: tuple[str, ...]) -> float | None:
    text = table.cell(row, names)
    if text.casefold() in MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    column = next(n for n in names if n in table.columns)
    if not np.isfinite(value) or value < 0:
        raise FormatError(
            f"column {column!r}: expected a non-negative number of tonnes, got {text!r}",
            path=table.path,
            line=number,
        )
    return value


def _year(table: _Table, number: int, row: list[str]) -> int:
    text = table.cell(row, ("year",))
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value == int(value)):
        raise FormatError(
            f"column 'year': expected an integer, got {text!r}", path=table.path, line=number
        )
    return int(value)


def _series(table: _Table, rows: list, stock: str, min_years: int) -> CatchSeries:
    kept, dropped, seen = [], [], {}
    for number, row in rows:
        year = _year(table, number, row)
        if year in seen:
            raise FormatError(
                f"year {year} appears twice for stock {stock!r} (also line {seen[year]})",
                path=table.path,
                line=number,
            )
        seen[year] = number
        ssb = _number(table, number, row, SSB_COLUMNS)
        tc = _number(table, number, row, TC_COLUMNS)
        if ssb is None or tc is None:
            dropped.append((year, "missing value"))
        elif not ssb > tc:
            dropped.append((year, "SSB not above TC"))
        else:
            kept.append((year, ssb, tc))
    kept.sort()
    if len(kept) < min_years:
        raise ShortSeriesError(
            f"stock {stock!r} has {len(kept)} usable years (rows with both values and "
            f"SSB > TC); at least {min_years} are needed",
            path=table.path,
        )
    year, ssb, tc = (np.array(v) for v in zip(*kept, strict=True))
    first = rows[0][1]
    get = {
        c: first[table.columns[c]].strip() for c in ("commonname", "areaname") if c in table.columns
    }
    return CatchSeries(
        stock="/".join(table.ids(first)),
        name=get.get("commonname", ""),
        area=get.get("areaname", ""),
        year=year.astype(int),
        ssb=ssb.astype(float),
        catch=tc.astype(float),
        scale=float(ssb.max()),
        source=table.path,
        gaps=tuple((int(a), int(b)) for a, b in itertools.pairwise(year) if b - a > 1),
        dropped=tuple(sorted(dropped)),
    )


def load_stock(
    stock: str | int, data: str | Path | None = None, *, min_years: int = MIN_YEARS
) -> CatchSeries:
    """Load one stock's series from a catch CSV or a directory of them.

    Parameters
    ----------
    stock : str or int
        A stock id (``"ARGHAKENARG"``), a ``stock_index`` (``137``) or a common name
        (``"Argentine hake"``); matched in that order, without regard to case.
    data : path, optional
        A CSV file, or a directory searched as in :func:`catch_files`; default
        ``$DECIDE_DATA_DIR``.
    min_years : int
        Fewest usable rows accepted.

    Raises
    ------
    UsageError
        No data location, an unknown stock (with close matches) or a name shared by stocks.
    FormatError
        A bad file, naming the file, line and column: missing columns, a value that is not a
        non-negative number, a repeated year, or a series shorter than ``min_years``.
    """
    location = default_data_dir(data)
    paths = [location] if location.is_file() else catch_files(location)
    tables = []
    for path in paths:
        table = read_table(path)
        tables.append(table)
        groups = _matches(table, str(stock))
        if len(groups) > 1:
            labels = "; ".join(_label(table, g[0][1]) for g in groups)
            raise UsageError(
                f"{stock!r} names {len(groups)} stocks in {path.name}: {labels}; "
                "give the stock id or index instead"
            )
        if groups:
            return _series(table, groups[0], str(stock), min_years)
    raise _unknown(str(stock), tables)


def load_all(
    path: str | Path, *, min_years: int = MIN_YEARS
) -> tuple[dict[str, CatchSeries], dict[str, str]]:
    """Every stock of one catch CSV, keyed by stock id in file order, reading the file once.

    Returns the series, and ``{stock id: reason}`` for the stocks left out because they have
    fewer than ``min_years`` usable years. Any other problem with the file is a
    :class:`FormatError` naming the line.
    """
    table = read_table(path)
    groups: dict[str, list] = {}
    for number, row in table.rows:
        groups.setdefault("/".join(table.ids(row)), []).append((number, row))
    series, short = {}, {}
    for stock, rows in groups.items():
        try:
            series[stock] = _series(table, rows, stock, min_years)
        except ShortSeriesError as error:
            short[stock] = error.message
    return series, short
