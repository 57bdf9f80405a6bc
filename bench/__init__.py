"""Benchmarks of actionruns: ``./scripts/bench`` (see README.md)."""
