"""Offline improvement of a historical harvest policy."""
