"""Quotas that keep the risk of collapse bounded."""
