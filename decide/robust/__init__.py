"""Deciding with imperfect models: overoptimisation curves, constrained planning, robust fits.

Nothing here knows about fish: problems arrive as arrays or functions (see docs/robust.md).
"""
