"""Every output of decide is an xarray Dataset following docs/output_schema.md.

``make_attrs`` builds the common global attributes, ``write`` stores a Dataset atomically as
netCDF (temporary file in the same directory, then rename), ``read`` loads and validates it.
``standard_error`` is the ± every study prints over its seeds or trials.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from decide._atomic import atomic_target
from decide.errors import FormatError, SchemaError

#: Global attributes every Dataset written by decide carries.
COMMON_ATTRS = ("creator", "decide_version", "problem", "method", "parameters", "created")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def standard_error(values: Any, axis: int = -1) -> Any:
    """Standard error of the mean along ``axis``, :math:`s / \\sqrt n` with ``ddof = 1``.

    NaN where fewer than two values stand along the axis (no spread to estimate). Also an
    ``xarray`` reducer: ``da.reduce(standard_error, dim="seed")``.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    if n < 2:
        return np.full(np.delete(values.shape, axis % values.ndim), np.nan)[()]
    return values.std(axis=axis, ddof=1) / np.sqrt(n)


def make_attrs(problem: str, method: str, parameters: dict[str, Any] | None = None, **extra: Any):
    """Global attributes for a Dataset: creator, version, problem, method, parameters, time.

    ``parameters`` is stored as a JSON string (netCDF attributes cannot hold mappings); numeric
    ``extra`` entries (bounds, timings) are stored as they are.
    """
    from decide import __version__

    parameters = {key: _jsonable(value) for key, value in (parameters or {}).items()}
    attrs = {
        "creator": "decide",
        "decide_version": __version__,
        "problem": str(problem),
        "method": str(method),
        "parameters": json.dumps(parameters, sort_keys=True, default=str),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    attrs.update({key: _jsonable(value) for key, value in extra.items()})
    return attrs


def parameters(ds: xr.Dataset) -> dict[str, Any]:
    """The method parameters recorded by :func:`make_attrs`."""
    return json.loads(ds.attrs.get("parameters", "{}"))


def validate(ds: xr.Dataset, *, required_vars: tuple[str, ...] = ()) -> xr.Dataset:
    """Check the schema rules shared by every Dataset; raise :class:`SchemaError` naming the field.

    Every dimension has a coordinate, every data variable has ``long_name`` and ``units``, and the
    global attributes of :func:`make_attrs` are present.
    """
    for name in COMMON_ATTRS:
        if name not in ds.attrs:
            raise SchemaError(f"global attribute {name!r}: missing (use decide.results.make_attrs)")
    for dim in ds.dims:
        if dim not in ds.coords:
            raise SchemaError(f"dimension {dim!r}: has no coordinate variable")
    for name, var in {**ds.data_vars, **ds.coords}.items():
        for attr in ("long_name", "units"):
            if attr not in var.attrs:
                raise SchemaError(f"variable {name!r}: missing attribute {attr!r}")
    for name in required_vars:
        if name not in ds.variables:
            raise SchemaError(f"variable {name!r}: missing")
    return ds


def write(ds: xr.Dataset, path: str | Path) -> Path:
    """Validate ``ds`` and write it to ``path`` as netCDF-4, atomically.

    The data go to a temporary file beside ``path`` that is renamed over it only once complete,
    so an interrupted or failed write never leaves a partial file.
    """
    path = Path(path)
    validate(ds)
    with atomic_target(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", invalid_netcdf=False)
    return path


def read(path: str | Path, *, required_vars: tuple[str, ...] = ()) -> xr.Dataset:
    """Load a Dataset written by :func:`write` into memory and validate it."""
    path = Path(path)
    if not path.is_file():
        raise FormatError("no such file", path=path)
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            loaded = ds.load()
    except (OSError, ValueError) as error:
        raise FormatError(f"not a readable netCDF file ({error})", path=path) from None
    try:
        return validate(loaded, required_vars=required_vars)
    except SchemaError as error:
        raise FormatError(str(error), path=path) from None
