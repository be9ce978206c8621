"""Minimum/maximum complexity curves, the maximal complexity, periodic bounds and regions.

Curves are float64 closed forms: against ordpy (same points) to 1e-12, against full-vector
evaluation with jentropy.info to 1e-12; against peccary's upper curve (its own points, in log2)
by interpolating a dense curve, to 1e-5 (interpolation error of 200 points per segment).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import ordpy
import pytest
from peccary import utils as peccary_utils

from jentropy import ordinal


@pytest.mark.parametrize("n", [3, 4, 5])
def test_minimum_curve_matches_ordpy(n):
    with jax.enable_x64(True):
        h, c = ordinal.minimum_complexity_curve(n, 50, dtype=jnp.float64)
    ref = ordpy.minimum_complexity_entropy(n, size=50)  # from H = 1 down to H = 0
    order = np.argsort(ref[:, 0])
    np.testing.assert_allclose(h, ref[order, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, ref[order, 1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [3, 4])
def test_maximum_curve_matches_peccary(x64, n):
    h, c = ordinal.maximum_complexity_curve(n, 200, dtype=jnp.float64)
    _, _, h_ref, c_ref = peccary_utils.calcHCplane(n=n, nsteps=50)
    np.testing.assert_allclose(np.interp(h_ref, h, c), c_ref, rtol=0, atol=1e-5)


def test_curves_equal_full_vector_evaluation(x64):
    """The (value, multiplicity) closed forms against info on explicit n! vectors (n = 4)."""
    big = math.factorial(4)
    h, c = ordinal.minimum_complexity_curve(4, 7, dtype=jnp.float64)
    p = np.linspace(1.0, 1.0 / big, 7)
    full = np.tile(((1 - p) / (big - 1))[:, None], (1, big))
    full[:, 0] = p
    h_ref, c_ref = ordinal.entropy_complexity_from_distribution(full)
    np.testing.assert_allclose(h, h_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-12)
    # one point of the maximum curve: i = 5 (4 absent patterns), p = 0.5 / (big - 4)
    i, p0 = 5, 0.5 / (big - 5 + 1)
    vec = np.zeros(big)
    vec[0] = p0
    vec[1 : big - i + 1] = (1 - p0) / (big - i)
    h1, c1 = ordinal.entropy_complexity_from_distribution(vec)
    h_hi, c_hi = ordinal.maximum_complexity_curve(4, 201, dtype=jnp.float64)
    np.testing.assert_allclose(np.interp(float(h1), h_hi, c_hi), float(c1), atol=1e-7)


def test_max_complexity_values():
    """Spec: max C on the upper curve n = 3: 0.2915, 4: 0.3541, 5: 0.4248 (H ≈ 0.615), 6: 0.4967."""
    for n, c_ref in [(3, 0.2915), (4, 0.3541), (5, 0.4248), (6, 0.4967)]:
        _, c_star = ordinal.max_complexity(n)
        assert abs(c_star - c_ref) <= 5e-5, (n, c_star)
    assert abs(ordinal.max_complexity(5)[0] - 0.615) <= 5e-4


def test_periodic_bounds_n5():
    lo, hi = ordinal.periodic_entropy_bounds(5)
    assert abs(lo - 0.1448) <= 5e-5 and abs(hi - 0.5512) <= 5e-5
    np.testing.assert_allclose(
        [lo, hi], [peccary_utils.HminPer(5), peccary_utils.HmaxPer(5)], rtol=1e-14
    )


def test_classify_spec_points():
    # (H, C) from the spec: sine ℓ = 100 regular; chaotic maps and double pendulum complex;
    # coloured noises stochastic
    points = {
        "regular": [(0.513, 0.392), (0.214085, 0.191432)],
        "complex": [(0.679087, 0.399237), (0.615936, 0.404446), (0.600, 0.351)],
        "stochastic": [
            (0.977, 0.039),
            (0.893, 0.152),
            (0.984, 0.029),
            (0.951, 0.082),
            (0.999863, 0.000245),
        ],
    }
    for region, pts in points.items():
        h, c = np.array(pts).T
        codes = np.asarray(ordinal.classify(h, c, 5))
        assert [ordinal.REGIONS[k] for k in codes] == [region] * len(pts)
    # the boundary parameter moves the complex/stochastic line
    assert int(ordinal.classify(0.893, 0.152, 5, boundary=0.3)) == 1
    codes = jax.jit(lambda h, c: ordinal.classify(h, c, 5))(
        jnp.array([0.3, 0.7]), jnp.array([0.2, 0.4])
    )
    np.testing.assert_array_equal(codes, [0, 1])
