"""The heat-control problem: parameters, dynamics, the env, its solves and trade-off."""
