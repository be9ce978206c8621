"""The alignment reproductions are registered (CI runs them in the notebook at smoke scale)."""

import pytest

from jentropy import reproduce

NAMES = {"reward_vs_kl", "per_token_gaps", "rate_function", "cumulants_renyi", "monte_carlo"}


def test_reproductions_registered():
    found = reproduce.reproductions("alignment")
    assert set(found) == NAMES
    assert all(r.description for r in found.values())


@pytest.mark.slow
def test_smoke_scale_runs_and_matches_the_spec_table():
    records = reproduce.run("alignment", scale="smoke", out=None, show_progress=False)
    assert all(r.error is None for r in records.values()), [r.error for r in records.values()]
    gaps = records["per_token_gaps"].result.metrics
    assert gaps["spec_table_worst_error_in_last_digit_units"] <= 1.0
    mc = records["monte_carlo"].result.metrics
    assert mc["max_z_reward_mc_vs_exact"] <= 4 and mc["max_z_kl_mc_vs_exact"] <= 4
    assert abs(mc["uniform_M10_N16_exact_kl"] - 1.733063) < 5e-7
