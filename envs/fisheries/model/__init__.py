"""The fisheries problem: growth, parameters, dynamics, the POMDP on grids, reference rules."""
