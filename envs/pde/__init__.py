"""PDE-constrained control problems: FEM backends and the heat-control environment."""
