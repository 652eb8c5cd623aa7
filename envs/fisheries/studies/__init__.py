"""The fisheries studies, one folder each, and the simulation protocol they share."""
