"""Declarative stream processors: spec → compiled plan → runtime."""
