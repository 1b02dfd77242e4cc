"""Synthetic data: a realistic, deterministic data set for demos, tests and benchmarks."""
