"""Score-matching losses against closed forms for linear scores s(y) = −P y on Gaussian data.

For y ~ N(0, Σ): E[DSM] = tr(P (Σ + σ² I) Pᵀ) − 2 tr P for one noise level (with or without
the antithetic partner), and Hyvärinen's per-sample value is |P y|² − 2 tr P exactly. The
Fokker–Planck residual vanishes pointwise for the stationary score of a linear SDE.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am

P = jnp.array([[1.3, 0.2, 0.0], [0.1, 0.9, -0.3], [0.0, 0.2, 1.1]])
SIGMA = jnp.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.1], [0.0, 0.1, 0.5]])


def _score(y, context):
    return -P @ y


def _samples(key, n):
    return jax.random.normal(key, (n, 3)) @ jnp.linalg.cholesky(SIGMA).T


@pytest.mark.parametrize("antithetic", [True, False])
def test_dsm_expectation_closed_form(key, antithetic):
    sigma = 0.1
    ys = _samples(key, 100_000)
    keys = jax.random.split(jax.random.key(1), ys.shape[0])
    losses = jax.vmap(
        lambda y, k: am.denoising_score_matching(
            _score, y, None, k, sigmas=(sigma,), antithetic=antithetic
        )
    )(ys, keys)
    expected = jnp.trace(P @ (SIGMA + sigma**2 * jnp.eye(3)) @ P.T) - 2 * jnp.trace(P)
    stderr = jnp.std(losses) / np.sqrt(ys.shape[0])
    assert abs(float(jnp.mean(losses) - expected)) < 5 * float(stderr)
    if antithetic:  # the antithetic pair removes the O(1/σ) noise term
        assert float(jnp.std(losses)) < 10.0
    else:
        assert float(jnp.std(losses)) > 10.0


def test_hyvarinen_and_divergence_exact(key):
    ys = _samples(key, 64)
    values = jax.vmap(lambda y: am.hyvarinen_score_matching(_score, y))(ys)
    np.testing.assert_allclose(values, jnp.sum((ys @ P.T) ** 2, 1) - 2 * jnp.trace(P), rtol=1e-5)
    np.testing.assert_allclose(am.divergence(_score, ys[0], None), -jnp.trace(P), rtol=1e-6)


def test_fokker_planck_residual_vanishes_for_stationary_score(x64, key):
    a = jnp.array([[-1.0, 0.5], [-0.7, -2.0]])
    d = jnp.array([0.3, 1.1])
    sigma = am.stationary_covariance(am.LinearSDE(a, d))
    exact = lambda y, _: am.linear_score(sigma, y)  # noqa: E731
    wrong = lambda y, _: -y  # noqa: E731
    zs = jax.random.normal(key, (16, 2), jnp.float64)
    res = jax.vmap(lambda z: am.fokker_planck_residual(exact, lambda u: a @ u, d, z))(zs)
    np.testing.assert_allclose(res, 0.0, atol=1e-20)
    bad = jax.vmap(lambda z: am.fokker_planck_residual(wrong, lambda u: a @ u, d, z))(zs)
    assert float(jnp.mean(bad)) > 1e-2


def test_dsm_key_determinism_and_context_noise(key):
    y = jnp.ones(3)
    ctx = {"c": jnp.zeros(4)}
    score = lambda v, c: -P @ v + jnp.sum(c["c"])  # noqa: E731
    a = am.denoising_score_matching(score, y, ctx, key)
    b = am.denoising_score_matching(score, y, ctx, key)
    c = am.denoising_score_matching(score, y, ctx, key, perturb_context=False)
    assert float(a) == float(b) and float(a) != float(c)
    with pytest.raises(ValueError, match="sigmas"):
        am.denoising_score_matching(score, y, ctx, key, sigmas=())
