"""Experiments: definitions (flag, variants, weights, metrics), discovery from exposure events
and the readout's wording. The readout itself is the `experiment` analysis
(`analyses/experiment.py`); the statistics live in `stats/`."""
