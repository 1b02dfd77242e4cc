"""Seeded simulations (a smaller run of `bench/experiments_sim.py`): A/A tests reject at
about alpha, a planted lift of the MDE is found at about the predicted 80 % power, and 95 %
intervals cover the true lift about 95 % of the time. Tolerances are wide (400 runs)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "experiments_sim.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("experiments_sim", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "n"), [("conversion", 5_000), ("revenue", 1_000)])
def test_rejection_rate_power_and_coverage_are_calibrated_when_simulated(metric, n):
    sim = load_bench()
    null = sim.calibrate(metric, n, planted=False, sims=400, seed=7)
    planted = sim.calibrate(metric, n, planted=True, sims=400, seed=8)
    assert null.skipped == planted.skipped == 0
    # 400 runs: the rejection rate's standard error is about 1.1 points at 5 %, 2 at 80 %
    assert 0.01 <= null.rejected <= 0.10
    assert planted.expected_rejected == pytest.approx(0.80, abs=0.005)
    assert abs(planted.rejected - planted.expected_rejected) <= 0.09
    for c in (null, planted):
        assert 0.90 <= c.ci_coverage <= 0.99
        assert 0.90 <= c.credible_coverage <= 0.99
