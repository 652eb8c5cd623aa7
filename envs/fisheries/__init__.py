"""Fisheries stock management under process and measurement noise."""
