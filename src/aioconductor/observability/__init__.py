"""Metrics, logging and health state."""
