"""POMDPX, SARSOP's factored XML format: reader and writer (``io``) and the product of
conditional tables into joint rows (``joint``)."""

from decide.pomdp.pomdpx.io import (
    PomdpxModel,
    format_pomdpx,
    parse_pomdpx,
    read_pomdpx,
    write_pomdpx,
)

__all__ = ["PomdpxModel", "format_pomdpx", "parse_pomdpx", "read_pomdpx", "write_pomdpx"]
