"""H and C against ordpy, peccary and the spec's oracle table; batching, vmap, jit, delays.

Tolerances: float64 comparisons with the peers use atol 1e-10 (the brief's bound; the observed
gap is ~1e-15, sums of ≤ 720 terms). The oracle table is printed to 6 decimals, so it is checked
to 5e-7 (half a unit in the last printed digit). Float32 results are checked against float64 to
2e-6: H and C are sums of n! terms p·log p whose float32 rounding is ~1e-7 each.
"""

import jax
import jax.numpy as jnp
import numpy as np
import ordpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peccary import peccary

from jentropy import info, ordinal

DELAYS = np.array([1, 2, 5])


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_matches_ordpy_and_peccary(x64, peer_series, n):
    names = list(peer_series)
    batch = np.stack([peer_series[k] for k in names])
    h, c = ordinal.entropy_complexity(batch, n, DELAYS)  # one call: (series, delays)
    assert h.dtype == jnp.float64 and h.shape == (len(names), len(DELAYS))
    for b, name in enumerate(names):
        x = peer_series[name]
        for d, ell in enumerate(DELAYS):
            ref_o = ordpy.complexity_entropy(x, dx=n, taux=int(ell))
            ref_p = peccary(x, n=n).calcHC(sampInt=int(ell))
            for ref in (ref_o, ref_p):
                np.testing.assert_allclose(
                    [h[b, d], c[b, d]], ref, rtol=0, atol=1e-10, err_msg=name
                )


def test_oracle_table(x64, oracle_series):
    """The spec's n = 5 values at length 1e5: white noise, sine (ℓ = 1, 5, 10, 20), maps."""
    h, c = ordinal.entropy_complexity(oracle_series, 5, np.array([1, 5, 10, 20]))
    expected = {
        (0, 0): (0.999863, 0.000245),  # white noise, default_rng(0)
        (1, 0): (0.214085, 0.191432),  # sine, period 100 samples
        (1, 1): (0.38897, 0.31040),
        (1, 2): (0.52715, 0.38642),
        (1, 3): (0.51303, 0.38801),
        (2, 0): (0.679087, 0.399237),  # logistic r = 4, x0 = 0.1
        (3, 0): (0.615936, 0.404446),  # Hénon x
    }
    for (b, d), (h_ref, c_ref) in expected.items():
        digits = len(str(h_ref).split(".")[1])
        tol = 0.5 * 10.0**-digits + 1e-12
        assert abs(float(h[b, d]) - h_ref) <= tol, (b, d, float(h[b, d]))
        assert abs(float(c[b, d]) - c_ref) <= tol, (b, d, float(c[b, d]))


def test_sine_sampled_at_pattern_time_ratio(x64):
    """Spec: sine of period 10, δt = 0.01, ℓ = 100 (t_pat/t_nat = 0.4): ≈ (0.513, 0.392), regular."""
    t = np.arange(0, 100, 0.01)
    h, c = ordinal.entropy_complexity(np.sin(2 * np.pi * t / 10), 5, 100)
    assert abs(float(h) - 0.513) < 5e-4 and abs(float(c) - 0.392) < 5e-4
    assert ordinal.REGIONS[int(ordinal.classify(h, c, 5))] == "regular"


def test_q0_closed_form_equals_info_js_maximum(x64):
    js = jax.jit(info.js_divergence)
    for num in (6, 120, 720):
        delta = np.zeros(num)
        delta[0] = 1.0
        js_max = js(delta, np.full(num, 1.0 / num))
        np.testing.assert_allclose(
            ordinal.js_complexity_normalization(num), 1.0 / float(js_max), rtol=1e-12
        )


def test_from_distribution_limits(x64):
    num = 120
    h, c = ordinal.entropy_complexity_from_distribution(jnp.full(num, 1.0 / num))
    np.testing.assert_allclose([h, c], [1.0, 0.0], atol=1e-14)
    h, c = ordinal.entropy_complexity_from_distribution(jnp.zeros(num).at[3].set(1.0))
    np.testing.assert_allclose([h, c], [0.0, 0.0], atol=1e-14)


def test_batched_vmap_jit_delays_consistent(key):
    x = jax.random.normal(key, (4, 500))
    delays = np.array([1, 3])
    h_b, c_b = ordinal.entropy_complexity(x, 4, delays)
    h_1, c_1 = ordinal.entropy_complexity(x, 4, 3)  # batched, one static delay
    np.testing.assert_allclose(h_b[:, 1], h_1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(c_b[:, 1], c_1, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ordinal.permutation_entropy(x, 4, 3), h_1)
    np.testing.assert_array_equal(ordinal.statistical_complexity(x, 4, 3), c_1)
    for b in range(4):  # loop over series
        h_s, c_s = ordinal.entropy_complexity(x[b], 4, 3)
        np.testing.assert_allclose([h_s, c_s], [h_1[b], c_1[b]], rtol=0, atol=1e-6)
    h_v, c_v = jax.vmap(lambda s: ordinal.entropy_complexity(s, 4, delays))(x)
    np.testing.assert_allclose(h_v, h_b, rtol=0, atol=1e-6)
    np.testing.assert_allclose(c_v, c_b, rtol=0, atol=1e-6)
    h_j, c_j = jax.jit(lambda s: ordinal.entropy_complexity(s, 4, 3))(x)  # n, delay static
    np.testing.assert_allclose(h_j, h_1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(c_j, c_1, rtol=0, atol=1e-6)


def test_float32_arithmetic_close_to_float64(peer_series):
    # the same float32 values, widened exactly to float64, give the same patterns: the gap is
    # only the float32 arithmetic of the entropies
    x32 = np.stack([peer_series["logistic"], peer_series["white"]]).astype(np.float32)
    h32, c32 = ordinal.entropy_complexity(x32, 5)
    assert h32.dtype == jnp.float32
    with jax.enable_x64(True):
        h64, c64 = ordinal.entropy_complexity(x32.astype(np.float64), 5)
        assert h64.dtype == jnp.float64
    np.testing.assert_allclose(h32, h64, rtol=0, atol=2e-6)
    np.testing.assert_allclose(c32, c64, rtol=0, atol=2e-6)


def test_integer_series_gives_default_float(peer_series):
    h, _ = ordinal.entropy_complexity(peer_series["ties"].astype(np.int32), 3)
    assert h.dtype == jnp.float32


_CURVES = {}


def _bounds(n):
    if n not in _CURVES:
        h_lo, c_lo = ordinal.minimum_complexity_curve(n, 2000)
        h_hi, c_hi = ordinal.maximum_complexity_curve(n, 60)
        _CURVES[n] = tuple(np.asarray(a, np.float64) for a in (h_lo, c_lo, h_hi, c_hi))
    return _CURVES[n]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.sampled_from([3, 4]),
    delay=st.just(1),  # delays only subsample the series: one compiled program per n
    levels=st.sampled_from([0, 3, 50]),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_inside_the_plane(n, delay, levels, seed):
    """Any series (continuous, or integer-valued with ties) lands in [0,1] × [C_min, C_max]."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(300)) * rng.uniform(0, 1) + rng.standard_normal(300)
    if levels:
        x = np.floor(levels * (x - x.min()) / (np.ptp(x) + 1e-9))
    h, c = ordinal.entropy_complexity(x.astype(np.float32), n, delay)
    h, c = float(h), float(c)
    assert -1e-6 <= h <= 1 + 1e-6 and c >= -1e-7
    h_lo, c_lo, h_hi, c_hi = _bounds(n)
    # the curves are sampled: linear interpolation of the (concave) upper curve undershoots by
    # at most ~1e-4 at these resolutions; float32 rounding adds ~1e-6
    assert c <= np.interp(h, h_hi, c_hi) + 2e-3
    assert c >= np.interp(h, h_lo, c_lo) - 2e-3
