"""Cassandra's ``.pomdp`` format: reader and writer (``io``), tokens and sections (``lex``),
the body's statements (``body``, ``rows``, ``rewards``)."""

from decide.pomdp.cassandra.io import format_pomdp, parse_pomdp, read_pomdp, write_pomdp

__all__ = ["format_pomdp", "parse_pomdp", "read_pomdp", "write_pomdp"]
