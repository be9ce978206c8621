"""The active_sampling reproductions (CI runs them in the notebook at smoke scale).

The slow test re-checks acceptance (a): the spec's table pattern (ADS and exact adaptive beat
static, which beats random, at K = 4, 8, 16) over 3 seeds, each entry within 25% of the spec's
numpy prototype. Measured at quick scale (seed 0): every ratio within 0.95–1.02.
"""

import pytest

from jentropy import reproduce

NAMES = {"exact_prior_digits", "trained_digits", "mri_phantoms"}


def test_reproductions_registered():
    found = reproduce.reproductions("active_sampling")
    assert set(found) == NAMES
    assert all(r.description for r in found.values())


@pytest.mark.slow
def test_exact_prior_digits_matches_the_spec_table():
    records = reproduce.run(
        "active_sampling", "exact_prior_digits", scale="quick", out=None, show_progress=False
    )
    record = records["exact_prior_digits"]
    assert record.error is None, record.error
    metrics = record.result.metrics
    assert metrics["seeds"] >= 3
    assert metrics["pattern_ads_and_adaptive_beat_static_beats_random"]
    for k in (4, 8, 16):
        for name in ("random", "static", "adaptive", "ads_particles"):
            assert 0.75 <= metrics[f"ratio_to_spec_{name}_K{k}"] <= 1.25, (name, k)
