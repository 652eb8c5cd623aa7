"""What every environment's parameters and actions need: override by name, checks, clipping."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any, TypeVar

import numpy as np

from decide.errors import ModelError, UsageError

P = TypeVar("P")


def override(cls: type[P], params: P | None, overrides: dict[str, object]) -> P:
    """``params`` (default ``cls()``) with the fields in ``overrides`` replaced.

    Raises ``TypeError`` for a ``params`` of another type or a name that is not a field of
    ``cls``; the dataclass's own validation raises :class:`decide.errors.ModelError`.
    """
    if params is None:
        params = cls()
    elif not isinstance(params, cls):
        raise TypeError(f"params: expected {cls.__name__}, got {type(params).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        expected = ", ".join(sorted(names))
        raise TypeError(f"unknown parameter {unknown[0]!r}; expected one of {expected}")
    return replace(params, **overrides) if overrides else params


def is_real(value: object) -> bool:
    """A real number (numpy scalars included), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def check_real(field: str, value: object, *, least: float | None = 0.0, strict: bool = False):
    """Raise ModelError(field) unless ``value`` is finite and ``>= least`` (``> least`` if
    ``strict``; no bound if ``least`` is None)."""
    ok = is_real(value) and math.isfinite(value)
    if ok and least is not None:
        ok = value > least if strict else value >= least
    if not ok:
        bound = "" if least is None else f" {'>' if strict else '>='} {least:g}"
        raise ModelError(field, f"expected a finite number{bound}, got {value!r}")


def check_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise ModelError(field) unless ``value`` is one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ModelError(field, f"expected one of {', '.join(choices)}; got {value!r}")


def clipped_action(action: Any, n: int, low: float, high: float, noun: str) -> np.ndarray:
    """``n`` finite numbers from ``action``, clipped to ``[low, high]``; UsageError otherwise."""
    try:
        values = np.asarray(action, dtype=float).reshape(n)
    except (TypeError, ValueError) as error:
        raise UsageError(f"action: expected {n} {noun}(s), got {action!r}") from error
    if not np.all(np.isfinite(values)):
        raise UsageError(f"action: expected finite {noun}s, got {action!r}")
    return np.clip(values, low, high)
