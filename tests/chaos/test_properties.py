"""Correlation dimension, dominant period, the 0–1 test and (multiscale) sample entropy.

Oracles and tolerances:
- correlation integral: brute-force NumPy pair counts (identical up to ties at a radius);
- correlation dimension: a circle (D = 1) and a filled square (D = 2) within 0.05 (finite-size
  and edge effects bias the slope by ~1 % at the default fit range), Lorenz 2.05 ± 0.05 (the
  acceptance; 20,000 points give 2.07, Grassberger & Procaccia 1983 report 2.05 ± 0.01),
  Hénon 1.21 ± 0.05 (GP 1983: 1.21);
- sample entropy: a brute-force NumPy count of the definition, and antropy.sample_entropy
  (slow: importing it compiles numba kernels), both exact to round-off;
- dominant period: a pure sine (relative 0.5 %: parabolic peak interpolation on a Hann-windowed
  periodogram);
- 0–1 test: K > 0.9 for chaotic series, |K| < 0.1 for periodic and quasi-periodic ones
  (Gottwald & Melbourne 2009 report K within ~0.05 of 0 or 1 for series of this length).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import chaos
from jentropy.ordinal import permutation_entropy


def test_correlation_integral_matches_brute_force(x64):
    x = np.asarray(jax.random.normal(jax.random.key(0), (300, 2)))
    radii, c = chaos.correlation_integral(jnp.asarray(x), 0.05, 2.0, 8, theiler=3, n_ref=None)
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    i, j = np.indices(d.shape)
    valid = np.abs(i - j) > 3
    want = [(d[valid] < r).sum() / valid.sum() for r in np.asarray(radii)]
    np.testing.assert_allclose(c, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(radii)[[0, -1]], [0.05, 2.0], rtol=1e-12)


def test_correlation_dimension_of_simple_sets(x64):
    u = jax.random.uniform(jax.random.key(1), (4000,), jnp.float64, 0, 2 * jnp.pi)
    circle = jnp.stack([jnp.cos(u), jnp.sin(u)], axis=1)
    assert abs(float(chaos.correlation_dimension(circle, theiler=0).dimension) - 1) < 0.05
    square = jax.random.uniform(jax.random.key(2), (4000, 2), jnp.float64)
    assert abs(float(chaos.correlation_dimension(square, theiler=0).dimension) - 2) < 0.05


def test_correlation_dimension_lorenz(x64):
    lorenz = chaos.get("Lorenz").with_params(beta=8 / 3)
    traj = chaos.make_trajectory(
        lorenz, 5000, pts_per_period=10, key=jax.random.key(1), n_ics=4, solver="rk4", dt=0.005
    )
    result = chaos.correlation_dimension(traj.ys.reshape(-1, 3), theiler=10)
    assert abs(float(result.dimension) - 2.05) < 0.05, result.dimension
    assert np.all(np.abs(np.asarray(result.local_slopes) - 2.05) < 0.15)  # a plateau


def test_correlation_dimension_henon(x64):
    ys = chaos.make_trajectory("Henon", 8000).ys
    assert abs(float(chaos.correlation_dimension(ys, theiler=0).dimension) - 1.21) < 0.05


@pytest.fixture(scope="module")
def lorenz_x():
    with jax.enable_x64(True):
        return chaos.make_trajectory("Lorenz", 1500, pts_per_period=30, solver="rk4").ys[:, 0]


def _sampen_numpy(x, m):
    """Richman & Moorman's definition, brute force: pairs i < j over the first T − m templates."""
    r = 0.2 * np.std(x)
    n = len(x) - m
    emb = np.stack([x[k : k + n] for k in range(m + 1)], 1)
    d = np.abs(emb[:, None, :] - emb[None, :, :])
    iu = np.triu_indices(n, 1)
    b = (d[..., :m].max(-1)[iu] < r).sum()
    a = (d.max(-1)[iu] < r).sum()
    return -np.log(a / b)


def test_sample_entropy_matches_definition(x64, lorenz_x):
    noise = np.asarray(jax.random.normal(jax.random.key(3), (1500,), jnp.float64))
    for x, order in ((noise, 2), (np.asarray(lorenz_x), 2), (np.asarray(lorenz_x), 3)):
        got = chaos.sample_entropy(jnp.asarray(x), order)
        np.testing.assert_allclose(got, _sampen_numpy(x, order), rtol=1e-12)


@pytest.mark.slow  # importing antropy compiles its numba kernels (~15 s here)
def test_sample_entropy_matches_antropy(x64, lorenz_x):
    antropy = pytest.importorskip("antropy")
    noise = np.asarray(jax.random.normal(jax.random.key(3), (1500,), jnp.float64))
    for x, order in ((noise, 2), (np.asarray(lorenz_x), 2), (np.asarray(lorenz_x), 3)):
        want = antropy.sample_entropy(x, order=order)
        np.testing.assert_allclose(chaos.sample_entropy(jnp.asarray(x), order), want, rtol=1e-12)


def test_multiscale_entropy(x64, lorenz_x):
    mse = chaos.multiscale_entropy(lorenz_x, 5)
    np.testing.assert_allclose(mse.entropy[0], chaos.sample_entropy(lorenz_x), rtol=1e-12)
    r = 0.2 * jnp.std(lorenz_x)
    np.testing.assert_allclose(
        mse.entropy[2], chaos.sample_entropy(chaos.coarse_grain(lorenz_x, 3), 2, r), rtol=1e-12
    )
    np.testing.assert_allclose(mse.index, jnp.mean(mse.entropy), rtol=1e-12)
    # white noise: sample entropy falls with scale (Costa et al. 2002, Fig. 1)
    noise = jax.random.normal(jax.random.key(4), (3000,), jnp.float64)
    white = chaos.multiscale_entropy(noise, 5).entropy
    assert np.all(np.diff(np.asarray(white)) < 0), white
    perm = chaos.multiscale_entropy(lorenz_x, 3, method="permutation")
    np.testing.assert_allclose(
        perm.entropy[1], permutation_entropy(chaos.coarse_grain(lorenz_x, 2), n=4), rtol=1e-12
    )


def test_dominant_period(x64):
    t = jnp.arange(4000.0) * 0.01
    x = jnp.sin(2 * jnp.pi * t / 1.7)
    np.testing.assert_allclose(chaos.dominant_period(x, dt=0.01), 1.7, rtol=5e-3)
    two = jnp.stack([x, 0.3 * jnp.sin(2 * jnp.pi * t / 0.4)], axis=1)
    np.testing.assert_allclose(chaos.dominant_period(two[:, :1], dt=0.01), 1.7, rtol=5e-3)
    freqs, psd = chaos.power_spectrum(two, 0.01)
    assert psd.shape == (2001, 2)
    np.testing.assert_allclose(freqs[int(np.argmax(psd[:, 1]))], 2.5, atol=freqs[1])


def test_zero_one_test(x64):
    key = jax.random.key(0)
    chaotic = chaos.make_trajectory(chaos.get("Logistic").with_params(r=4.0), 2000).ys[:, 0]
    periodic = chaos.make_trajectory(chaos.get("Logistic").with_params(r=3.55), 2000).ys[:, 0]
    n = jnp.arange(2000.0)
    quasi = jnp.sin(0.3 * n) + jnp.sin(0.3 * np.sqrt(2) * n)
    assert float(chaos.zero_one_test(chaotic, key=key)) > 0.9
    assert abs(float(chaos.zero_one_test(periodic, key=key))) < 0.1
    assert abs(float(chaos.zero_one_test(quasi, key=key))) < 0.1
    a = chaos.zero_one_test(chaotic, key=key, return_all=True)
    np.testing.assert_array_equal(a, chaos.zero_one_test(chaotic, key=key, return_all=True))
    assert a.shape == (100,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="r_min"):
        chaos.correlation_dimension(jnp.ones((100, 2)), r_min=0.5, r_max=0.1)
    with pytest.raises(ValueError, match=r"shape \(T,\)"):
        chaos.zero_one_test(jnp.ones((10, 2)), key=jax.random.key(0))
    with pytest.raises(ValueError, match="max_scale"):
        chaos.multiscale_entropy(jnp.ones(100), 20)
    with pytest.raises(ValueError, match="method"):
        chaos.multiscale_entropy(jnp.linspace(0.0, 1.0, 100), 2, method="fuzzy")
