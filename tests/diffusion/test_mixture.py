"""Gaussian-mixture priors: exact denoiser, score and conditioning against closed forms (x64).

In float64 the closed forms and the spectral implementation agree to rounding of the
eigendecompositions of well-conditioned 5×5 covariances; 1e-9 relative is far above that and far
below any modelling error.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jentropy import diffusion

D = 5


def _random_cov(rng, d=D, scale=1.0):
    a = rng.normal(size=(d, d))
    return scale * (a @ a.T / d + 0.2 * np.eye(d))


@pytest.fixture
def gmm(x64):
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, D))
    covs = np.stack([_random_cov(rng) for _ in range(3)])
    weights = np.array([0.2, 0.5, 0.3])
    return diffusion.gaussian_mixture(jnp.asarray(means), jnp.asarray(covs), weights), (
        means,
        covs,
        weights,
    )


def test_single_gaussian_denoiser_and_score(x64):
    rng = np.random.default_rng(1)
    mu, cov = rng.normal(size=D), _random_cov(rng)
    prior = diffusion.gaussian_mixture(jnp.asarray(mu[None]), jnp.asarray(cov[None]))
    x = rng.normal(size=D)
    for alpha in (0.95, 0.5, 0.02):
        sigma = np.sqrt(1 - alpha**2)
        noisy = alpha**2 * cov + sigma**2 * np.eye(D)
        mean = mu + alpha * cov @ np.linalg.solve(noisy, x - alpha * mu)
        score = -np.linalg.solve(noisy, x - alpha * mu)
        np.testing.assert_allclose(prior.denoise(jnp.asarray(x), alpha, sigma), mean, rtol=1e-9)
        np.testing.assert_allclose(prior.score(jnp.asarray(x), alpha, sigma), score, rtol=1e-9)
        logp = stats.multivariate_normal(alpha * mu, noisy).logpdf(x)
        np.testing.assert_allclose(prior.noisy_log_prob(jnp.asarray(x), alpha, sigma), logp)


def test_mixture_log_prob_score_tweedie(gmm):
    prior, (means, covs, weights) = gmm
    x = jnp.asarray(np.random.default_rng(2).normal(size=D))
    ref = np.log(
        sum(w * stats.multivariate_normal(m, c).pdf(x) for w, m, c in zip(weights, means, covs))
    )
    np.testing.assert_allclose(prior.log_prob(x), ref, rtol=1e-10)
    alpha, sigma = 0.6, 0.8
    grad = jax.grad(prior.noisy_log_prob)(x, alpha, sigma)
    np.testing.assert_allclose(prior.score(x, alpha, sigma), grad, rtol=1e-9)
    # Tweedie: E[x0 | x_t] = (x_t + σ² ∇ log p_t) / α
    tweedie = (x + sigma**2 * prior.score(x, alpha, sigma)) / alpha
    np.testing.assert_allclose(prior.denoise(x, alpha, sigma), tweedie, rtol=1e-9)
    np.testing.assert_allclose(prior.covariances(), covs, rtol=1e-10)
    np.testing.assert_allclose(prior.mean(), weights @ means, rtol=1e-12)


def test_marginal_variances(gmm):
    prior, (means, covs, weights) = gmm
    mean = weights @ means
    second = sum(w * (np.diag(c) + m**2) for w, m, c in zip(weights, means, covs))
    np.testing.assert_allclose(prior.marginal_variances(), second - mean**2, rtol=1e-10)


def test_low_rank_is_exact_for_its_own_covariance(x64):
    rng = np.random.default_rng(3)
    covs = np.stack([_random_cov(rng, 8) for _ in range(2)])
    prior = diffusion.gaussian_mixture(jnp.asarray(rng.normal(size=(2, 8))), covs, rank=3)
    dense = diffusion.gaussian_mixture(prior.means, prior.covariances())
    vals = np.linalg.eigvalsh(covs[0])[::-1]
    np.testing.assert_allclose(prior.residual_var[0], vals[3:].mean(), rtol=1e-10)  # PPCA τ²
    x = jnp.asarray(rng.normal(size=8))

    @jax.jit
    def evaluate(p, x):
        return [f(x, 0.7, 0.714) for f in (p.denoise, p.score, p.noisy_log_prob)]

    for a, b in zip(evaluate(prior, x), evaluate(dense, x)):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    np.testing.assert_allclose(prior.marginal_variances(), dense.marginal_variances(), rtol=1e-9)


def test_condition_gaussians_closed_form(x64):
    rng = np.random.default_rng(4)
    mu, cov = rng.normal(size=D), _random_cov(rng)
    mask = np.array([True, False, True, True, False])
    y, s = rng.normal(size=D), 0.1
    m = np.flatnonzero(mask)
    s_mm = cov[np.ix_(m, m)] + s**2 * np.eye(len(m))
    gain = cov[:, m] @ np.linalg.inv(s_mm)
    post_mean = mu + gain @ (y[m] - mu[m])
    post_cov = cov - gain @ cov[m, :]
    means, covs, log_ev = diffusion.condition_gaussians(mu[None], cov[None], y, mask, s)
    np.testing.assert_allclose(means[0], post_mean, rtol=1e-10)
    np.testing.assert_allclose(covs[0], post_cov, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(log_ev[0], stats.multivariate_normal(mu[m], s_mm).logpdf(y[m]))


def test_condition_gaussians_with_matrix(x64):
    rng = np.random.default_rng(5)
    mu, cov = rng.normal(size=D), _random_cov(rng)
    a, y, s = rng.normal(size=(3, D)), rng.normal(size=3), 0.3
    mask = np.array([True, True, False])
    am = a[mask]
    s_mm = am @ cov @ am.T + s**2 * np.eye(2)
    gain = cov @ am.T @ np.linalg.inv(s_mm)
    means, covs, log_ev = diffusion.condition_gaussians(mu[None], cov[None], y, mask, s, a)
    np.testing.assert_allclose(means[0], mu + gain @ (y[mask] - am @ mu), rtol=1e-10)
    np.testing.assert_allclose(covs[0], cov - gain @ am @ cov, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(log_ev[0], stats.multivariate_normal(am @ mu, s_mm).logpdf(y[mask]))


def test_condition_mixture_weights(gmm):
    prior, (means, covs, weights) = gmm
    rng = np.random.default_rng(6)
    mask, y, s = np.array([1.0, 0.0, 0.0, 1.0, 0.0]), rng.normal(size=D), 0.5
    post = diffusion.condition_mixture(prior, jnp.asarray(y), mask, s)
    m = np.flatnonzero(mask)
    ev = np.array(
        [
            stats.multivariate_normal(mu[m], c[np.ix_(m, m)] + s**2 * np.eye(2)).pdf(y[m])
            for mu, c in zip(means, covs)
        ]
    )
    np.testing.assert_allclose(np.exp(post.log_weights), weights * ev / (weights @ ev), rtol=1e-9)


def test_sample_moments(key):
    rng = np.random.default_rng(7)
    means = rng.normal(size=(2, 3)).astype(np.float32)
    covs = np.stack([_random_cov(rng, 3) for _ in range(2)]).astype(np.float32)
    prior = diffusion.gaussian_mixture(jnp.asarray(means), jnp.asarray(covs), np.array([0.3, 0.7]))
    # a lambda, not the bound method: jit hashes its function, and a bound method of an
    # Equinox module hashes the module's arrays
    xs = np.asarray(jax.jit(lambda k: prior.sample(k, 40_000))(key), np.float64)
    mean = np.asarray(prior.mean())
    cov = sum(w * (c + np.outer(m, m)) for w, m, c in zip([0.3, 0.7], means, covs)) - np.outer(
        mean, mean
    )
    std_err = np.sqrt(np.diag(cov) / 40_000)
    np.testing.assert_array_less(np.abs(xs.mean(0) - mean), 5 * std_err)  # 5 standard errors
    np.testing.assert_allclose(np.cov(xs.T), cov, atol=0.06)  # ~5 std errors of a covariance
    np.testing.assert_array_equal(prior.sample(key, 5), prior.sample(key, 5))


def test_mixture_from_labels(x64):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(60, 4))
    labels = np.repeat([0, 1, 2], 20)
    prior = diffusion.mixture_from_labels(jnp.asarray(x), jnp.asarray(labels), 3, ridge=0.01)
    for k in range(3):
        np.testing.assert_allclose(prior.means[k], x[labels == k].mean(0), rtol=1e-12)
        ref = np.cov(x[labels == k].T) + 0.01 * np.eye(4)
        np.testing.assert_allclose(prior.covariances()[k], ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(jnp.exp(prior.log_weights), 1 / 3, rtol=1e-12)
    with pytest.raises(ValueError, match="each with >= 2 examples"):
        diffusion.mixture_from_labels(jnp.asarray(x), jnp.asarray(labels), 4)


def test_kmeans_separated_clusters(key):
    centres = jnp.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    noise = 0.3 * jax.random.normal(jax.random.key(1), (90, 2))
    x = jnp.repeat(centres, 30, axis=0) + noise
    found, labels = diffusion.kmeans(key, x, 3, iterations=10)
    # each true cluster maps to one found cluster (a permutation)
    groups = [set(np.asarray(labels[i * 30 : (i + 1) * 30]).tolist()) for i in range(3)]
    assert all(len(g) == 1 for g in groups) and len(set.union(*groups)) == 3
    np.testing.assert_allclose(
        np.sort(np.asarray(found), 0), np.sort(np.asarray(centres), 0), atol=0.2
    )
    prior = diffusion.mixture_from_kmeans(key, x, 3, rank=1, iterations=10)
    assert prior.num_components == 3 and prior.rank == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="covs must have shape"):
        diffusion.gaussian_mixture(jnp.zeros((2, 3)), jnp.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="weights must have shape"):
        diffusion.gaussian_mixture(jnp.zeros((2, 3)), jnp.ones((2, 3, 3)), jnp.ones(3))
    with pytest.raises(ValueError, match="mask must have shape"):
        diffusion.condition_gaussians(
            jnp.zeros((1, 3)), jnp.eye(3)[None], jnp.zeros(3), jnp.ones(2), 0.1
        )
