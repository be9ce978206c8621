"""Noise schedules: variance preservation, endpoints, the closed forms of each schedule."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import diffusion

SCHEDULES = [diffusion.AngularSchedule(), diffusion.CosineSchedule(), diffusion.LinearSchedule()]
T = jnp.linspace(0.0, 1.0, 101)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_variance_preserving_and_monotone(schedule):
    alpha, sigma = schedule(T)
    # α = cos θ, σ = sin θ: α² + σ² = 1 to float32 rounding (a few ulp)
    np.testing.assert_allclose(alpha**2 + sigma**2, 1.0, atol=1e-6)
    assert bool(jnp.all(jnp.diff(alpha) <= 0)) and bool(jnp.all(jnp.diff(sigma) >= 0))
    np.testing.assert_allclose(schedule.signal_rate(T), alpha)
    np.testing.assert_allclose(schedule.noise_rate(T), sigma)


def test_angular_endpoints_and_linearity(x64):
    s = diffusion.AngularSchedule(0.95, 0.02)
    t = jnp.linspace(0.0, 1.0, 11)
    alpha, _ = s(t)
    np.testing.assert_allclose([alpha[0], alpha[-1]], [0.95, 0.02], rtol=1e-14)
    theta = np.arccos(np.asarray(alpha))
    np.testing.assert_allclose(np.diff(theta), np.diff(theta)[0], rtol=1e-12)  # θ linear in t


def test_cosine_closed_form(x64):
    s = diffusion.CosineSchedule(offset=0.008, min_signal=1e-3)
    t = np.array([0.0, 0.25, 0.5, 0.9])
    expected = np.cos(0.5 * np.pi * (t + 0.008) / 1.008) / np.cos(0.5 * np.pi * 0.008 / 1.008)
    np.testing.assert_allclose(s.signal_rate(jnp.asarray(t)), expected, rtol=1e-12)
    assert float(s.signal_rate(1.0)) == pytest.approx(1e-3, rel=1e-10)  # clipped floor


def test_linear_closed_form(x64):
    s = diffusion.LinearSchedule(0.1, 20.0)
    t = np.array([0.0, 0.1, 0.5, 1.0])
    log_alpha = -0.25 * t**2 * 19.9 - 0.5 * t * 0.1
    np.testing.assert_allclose(s.signal_rate(jnp.asarray(t)), np.exp(log_alpha), rtol=1e-12)
    np.testing.assert_allclose(
        s.noise_rate(jnp.asarray(t)), np.sqrt(1 - np.exp(2 * log_alpha)), rtol=1e-12, atol=1e-15
    )


def test_dtype_follows_time():
    s = diffusion.AngularSchedule()
    assert s(jnp.float32(0.3))[0].dtype == jnp.float32
    assert s(1)[0].dtype == jnp.result_type(float)  # ints become the default float
    with jax.enable_x64(True):
        assert s(jnp.float64(0.3))[0].dtype == jnp.float64


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_signal must be < max_signal"):
        diffusion.AngularSchedule(0.5, 0.9)
    with pytest.raises(ValueError, match="max_signal"):
        diffusion.AngularSchedule(1.5, 0.1)
    with pytest.raises(ValueError, match="beta_min < beta_max"):
        diffusion.LinearSchedule(2.0, 1.0)
    with pytest.raises(ValueError, match="offset"):
        diffusion.CosineSchedule(offset=-1.0)
    assert math.isfinite(float(diffusion.CosineSchedule().signal_rate(1.0)))
