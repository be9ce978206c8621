"""The example signals: determinism, agreement with NumPy, and the spec's noise colours.

Noise colours are random: at 1e4 points one realisation's H, C scatter by ~0.003 (red) or less;
the test averages 8 realisations (σ/√8 ≈ 0.0013) and allows 0.006 from the spec's rounded
values (≈ 4.5σ).
"""

import jax
import numpy as np
import pytest

from jentropy import ordinal

from .conftest import logistic_np


def test_key_determinism(key):
    a = ordinal.colored_noise(key, 10_000, "pink", shape=(8,))  # as in the colour test below
    b = ordinal.colored_noise(key, 10_000, "pink", shape=(8,))
    c = ordinal.colored_noise(jax.random.fold_in(key, 1), 10_000, "pink", shape=(8,))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_allclose([np.mean(a), np.std(a)], [0.0, 1.0], atol=1e-5)


def test_logistic_is_numpy_bitwise(x64):
    np.testing.assert_array_equal(ordinal.logistic_map(5000), logistic_np(5000))


def test_henon_and_tent_stay_on_their_attractors(x64):
    x = np.asarray(ordinal.henon_map(20_000))
    assert np.all(np.isfinite(x)) and -1.3 < x.min() < -1.2 and 1.2 < x.max() < 1.3
    h, c = ordinal.entropy_complexity(x, 5)
    assert abs(float(h) - 0.6159) < 2e-3 and abs(float(c) - 0.4044) < 2e-3  # statistics, not orbit
    t = np.asarray(ordinal.tent_map(20_000))  # μ = 2 through the logistic conjugacy: no collapse
    assert t.min() >= 0 and t.max() <= 1 and np.unique(t[-1000:]).size == 1000


def test_sines():
    x = np.asarray(ordinal.sum_of_sines(1000, [100.0, 10.0], [1.0, 0.5], dt=0.5))
    t = np.arange(1000) * 0.5
    ref = np.sin(2 * np.pi * t / 100) + 0.5 * np.sin(2 * np.pi * t / 10)
    # float32: the phase 2πt/P reaches 31.4 rad here, whose float32 rounding is ~2e-6 rad;
    # the t/10 term is rounded before the multiplication, ~4e-6 at t = 500 (×2π)
    np.testing.assert_allclose(x, ref, atol=5e-5)


@pytest.mark.parametrize(
    "color, h_ref, c_ref",
    [
        ("pink", 0.977, 0.039),
        ("red", 0.893, 0.152),
        ("blue", 0.984, 0.029),
        ("violet", 0.951, 0.082),
    ],
)
def test_noise_colours_match_spec(key, color, h_ref, c_ref):
    x = ordinal.colored_noise(key, 10_000, color, shape=(8,))
    h, c = ordinal.entropy_complexity(x, 5)
    assert abs(float(np.mean(h)) - h_ref) < 6e-3, float(np.mean(h))
    assert abs(float(np.mean(c)) - c_ref) < 6e-3, float(np.mean(c))
    assert set(np.asarray(ordinal.classify(h, c, 5)).tolist()) == {2}  # stochastic


def _pendulum_ensemble(tol):
    """16 double-pendulum orbits (100 s, δt = 2^-6, float64) whose starts differ by k·1e-9°:
    (energy drift, t_nat, recommended ℓ, (H, C) at that ℓ, (H, C) at the paper's ℓ = 10)."""
    rows = []
    for k in range(16):
        p = ordinal.double_pendulum(100.0, rtol=tol, atol=tol, angles=(120.0 + k * 1e-9, 0, -10, 0))
        assert bool(p.success) and p.x2.shape == (6400,)
        t_nat = float(ordinal.natural_timescale(p.x2, 2**-6))
        ell = ordinal.recommended_delay(t_nat, 2**-6, 5, duration=100.0)
        hc_ell = ordinal.entropy_complexity(p.x2, 5, ell)
        hc_10 = ordinal.entropy_complexity(p.x2, 5, 10)
        rows.append((float(np.ptp(np.asarray(p.energy))), t_nat, ell, hc_ell, hc_10))
    return rows


def test_double_pendulum(x64):
    """The paper's double pendulum (100 s, δt = 2^-6, x of the outer bob), float64.

    The orbit is chaotic: a 1e-9° change of the start, or a machine that rounds differently,
    moves one orbit's t_nat by up to ±0.3 s, so the checks are over 16 starts 1e-9° apart.
    Accurate solve (rtol = atol = 1e-8): energy conserved to < 1e-4 J by every orbit, every
    orbit complex at its recommended ℓ, mean t_nat within [1.85, 2.2] s (measured 2.04 and 1.99
    under two XLA instruction sets; s.e. 0.03). The paper's loose solve (SciPy's default
    rtol = 1e-3): every orbit gains > 1 J, and the spec's t_nat ≈ 1.58 s and (0.600, 0.351) at
    ℓ = 10 lie within 3 standard deviations of the loose ensemble's mean (measured 1.84–1.87 ±
    0.16 s, H 0.555–0.567 ± 0.025, C 0.35 ± 0.01): the spec's values are one draw of it.
    """
    accurate = _pendulum_ensemble(1e-8)
    assert all(drift < 1e-4 for drift, *_ in accurate)
    assert all(
        ordinal.REGIONS[int(ordinal.classify(h, c, 5))] == "complex" for *_, (h, c), _ in accurate
    )
    assert 1.85 < np.mean([t for _, t, *_ in accurate]) < 2.2

    loose = _pendulum_ensemble(1e-3)
    assert all(drift > 1.0 for drift, *_ in loose)  # the paper's orbit gains energy
    t_nat = np.array([t for _, t, *_ in loose])
    h10, c10 = np.array([hc for *_, hc in loose], dtype=float).T
    for spec, values in ((1.58, t_nat), (0.600, h10), (0.351, c10)):
        assert abs(spec - values.mean()) < 3 * values.std(), (spec, values.mean(), values.std())
