"""Natural timescales (vs peccary's tNatApprox, float64 to 1e-12), recommended delays, H(ℓ)."""

import warnings

import jax
import numpy as np
import ordpy
import pytest
from peccary import utils as peccary_utils

from jentropy import ordinal

from .conftest import sine_np


@pytest.mark.parametrize(
    "method, peccary_method", [("crossings", "ncross"), ("minima", "minavg"), ("maxima", "maxavg")]
)
def test_natural_timescale_matches_peccary(x64, method, peccary_method):
    rng = np.random.default_rng(2)
    dt = 0.01
    t = np.arange(0, 60, dt)
    batch = np.stack(
        [
            np.sin(2 * np.pi * t / 7.3) + 0.3 * np.sin(2 * np.pi * t / 1.1),
            np.cumsum(rng.standard_normal(t.size)),
        ]
    )
    got = ordinal.natural_timescale(batch, dt, method=method)
    for b in range(2):
        ref = peccary_utils.tNatApprox(t, batch[b], method=peccary_method)
        np.testing.assert_allclose(got[b], ref, rtol=1e-12)


def test_sine_timescale_and_recommended_delay():
    dt = 0.01
    x = ordinal.sine_wave(10_000, period=10.0, dt=dt)  # 100 s of a period-10 s sine
    t_nat = float(ordinal.natural_timescale(x, dt))
    # 20 half periods; the sine starts on its mean and passes it exactly every 5 s, so rounding
    # decides whether the first and the touching crossings count: 19 to 21 crossings
    assert 99.99 / 10.5 - 1e-9 <= t_nat <= 99.99 / 9.5 + 1e-9
    assert ordinal.recommended_delay(10.0, dt, 5) == 100  # t_pat = 0.4 t_nat = 4 s
    assert ordinal.suggest_delay(x, dt) == ordinal.recommended_delay(t_nat, dt, 5)


def test_pendulum_rule_and_range():
    # the paper's double pendulum: t_nat ≈ 1.58 s, δt = 2^-6 → ℓ = 10
    assert ordinal.recommended_delay(1.58, 2**-6, 5) == 10
    assert ordinal.recommended_delay_range(1.58, 2**-6, 5) == (8, 13)
    np.testing.assert_allclose(ordinal.pattern_time(10, 2**-6, 5), 0.625)


def test_warnings_for_short_series_and_odd_ratio():
    with pytest.warns(UserWarning, match="1.5 natural"):
        ordinal.recommended_delay(10.0, 0.01, duration=12.0)
    with pytest.warns(UserWarning, match="recommended range"):
        ordinal.recommended_delay(10.0, 0.01, ratio=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ordinal.recommended_delay(10.0, 0.01, duration=20.0)


def test_no_timescale_is_inf_and_rejected():
    t_nat = ordinal.natural_timescale(np.arange(50.0), method="minima")
    assert np.isinf(float(t_nat))
    with pytest.raises(ValueError, match="t_nat"):
        ordinal.recommended_delay(float(t_nat), 1.0)


def test_entropy_complexity_vs_delay(x64):
    x = sine_np(20_000, 100.0)
    ells, h, c = ordinal.entropy_complexity_vs_delay(x, 5)
    np.testing.assert_array_equal(ells, np.arange(1, 100))
    assert h.shape == c.shape == (99,)
    np.testing.assert_allclose(
        [h[9], c[9]], ordpy.complexity_entropy(x, dx=5, taux=10), rtol=0, atol=1e-10
    )
    # default delays are trimmed to those that fit a short series
    ells, _, _ = ordinal.entropy_complexity_vs_delay(x[:200], 5)
    assert ells.max() == 49


def test_timescale_jit_and_vmap(key):
    x = jax.random.normal(key, (3, 400)).cumsum(-1)
    ref = ordinal.natural_timescale(x, 0.5)
    np.testing.assert_allclose(jax.vmap(lambda s: ordinal.natural_timescale(s, 0.5))(x), ref)
