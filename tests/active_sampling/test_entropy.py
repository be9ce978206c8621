"""The ADS entropy score, variance limit, and the Gaussian analytic checks of the spec.

Particles drawn from an exact Gaussian posterior stand in for ideal diffusion particles. With
many particles and a large kernel σ the entropy score ranks locations by particle variance, and
the particle variance converges to the exact posterior variance (relative error ~√(2/P)); the
tests only assert orderings whose margins exceed that error several times.
"""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp as np_logsumexp

from jentropy import active_sampling as ads
from jentropy import info


def _random_cov(seed, d):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) * rng.uniform(0.2, 2.0, size=d)
    return a @ a.T / d + 0.05 * np.eye(d)


def test_particle_entropy_matches_loops(x64):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 3, 2))
    sigma = 0.7
    ref = np.zeros(3)
    for l in range(3):
        for i in range(5):
            terms = [np.sum((y[i, l] - y[j, l]) ** 2) / (2 * sigma**2) for j in range(5)]
            ref[l] += np_logsumexp(terms)
    np.testing.assert_allclose(ads.particle_entropy(jnp.asarray(y), sigma), ref, rtol=1e-12)
    np.testing.assert_allclose(ads.particle_variance(jnp.asarray(y)), y.var(0).sum(-1), rtol=1e-12)


def test_particle_entropy_no_overflow_for_small_sigma():
    y = jax.random.normal(jax.random.key(0), (16, 10, 4)) * 10.0
    h = ads.particle_entropy(y, 1e-3)  # exponents ~1e8: exp overflows, logsumexp does not
    assert bool(jnp.all(jnp.isfinite(h)))


def test_large_sigma_limit_is_variance(x64):
    # H_l ≈ P log P + P tr Var_l / σ² for σ ≫ spread; the next term is O((d²/2σ²)²) with squared
    # distances d² ≲ 1e3 here, i.e. ≲ 3e-7 of H ≈ 44: rtol 1e-7 is that bound
    y = (
        jax.random.normal(jax.random.key(1), (16, 6, 3), jnp.float64)
        * jnp.arange(1.0, 7.0)[:, None]
    )
    sigma = 1e3
    h = ads.particle_entropy(y, sigma)
    approx = 16 * math.log(16) + 16 * ads.particle_variance(y) / sigma**2
    np.testing.assert_allclose(h, approx, rtol=1e-7)
    np.testing.assert_array_equal(jnp.argsort(h), jnp.argsort(ads.particle_variance(y)))


def test_max_entropy_from_particles_is_max_posterior_variance(key, x64):
    # pixel entropy ½ log 2πe (Σ_ll + s²) is monotone in the posterior variance Σ_ll, so the
    # maximum-entropy pixel is the maximum-variance pixel; 20000 exact posterior particles pick it
    d, s = 8, 0.1
    cov = _random_cov(1, d)
    mask = np.zeros(d, bool)
    mask[[0, 3]] = True
    post = np.asarray(ads.posterior_covariance(jnp.asarray(cov), mask, s))
    var = np.diag(post)
    entropy = info.gaussian_entropy(var=jnp.asarray(var + s**2)[:, None])  # per pixel
    assert int(jnp.argmax(entropy)) == int(np.argmax(var))
    # 1000 particles: variance estimates within ~√(2/1000) ≈ 5%; the top two posterior
    # variances differ by more than 30% for this covariance (checked below)
    top2 = np.sort(np.where(mask, 0, var))[-2:]
    assert top2[1] > 1.3 * top2[0]
    x = jax.random.multivariate_normal(key, jnp.zeros(d), jnp.asarray(post), (1000,))
    y = x[:, :, None]
    for sigma in (1.0, 10.0):
        scores = ads.particle_entropy(y, sigma)
        assert int(ads.select_next(scores, jnp.asarray(mask))) == int(
            np.argmax(np.where(mask, -1, var))
        )


def test_lines_entropy_ranks_like_log_det(key, x64):
    # columns with covariance c_l R: ½ log det(c_l R + s² I) and the particle score both rank by c_l
    h, w, s = 4, 5, 0.1
    rng = np.random.default_rng(2)
    a = rng.normal(size=(h, h))
    r = a @ a.T / h + 0.1 * np.eye(h)
    c = np.array([0.5, 2.0, 1.0, 4.0, 0.2])
    logdet = [0.5 * np.linalg.slogdet(ci * r + s**2 * np.eye(h))[1] for ci in c]
    z = jax.random.normal(key, (1000, w, h)) @ jnp.linalg.cholesky(jnp.asarray(r)).T
    y = z * jnp.sqrt(jnp.asarray(c))[None, :, None]  # (P, L = columns, F = rows)
    scores = ads.particle_entropy(y, 10.0)
    np.testing.assert_array_equal(np.argsort(np.asarray(scores)), np.argsort(logdet))


def test_information_gain_closed_form(x64):
    d, s = 6, 0.3
    cov = _random_cov(3, d)
    mask = np.array([1, 0, 1, 1, 0, 0], bool)
    m = np.flatnonzero(mask)
    ref = 0.5 * np.linalg.slogdet(cov[np.ix_(m, m)] / s**2 + np.eye(3))[1]
    np.testing.assert_allclose(
        ads.gaussian_information_gain(jnp.asarray(cov), mask, s), ref, rtol=1e-10
    )
    np.testing.assert_allclose(
        ads.gaussian_information_gain(jnp.asarray(cov), np.zeros(d, bool), s), 0.0, atol=1e-12
    )


def test_posterior_covariance_closed_form(x64):
    d, s = 5, 0.2
    cov = _random_cov(4, d)
    mask = np.array([0, 1, 0, 1, 1], bool)
    m = np.flatnonzero(mask)
    ref = cov - cov[:, m] @ np.linalg.solve(cov[np.ix_(m, m)] + s**2 * np.eye(3), cov[m, :])
    np.testing.assert_allclose(
        ads.posterior_covariance(jnp.asarray(cov), mask, s), ref, rtol=1e-10, atol=1e-13
    )


@pytest.mark.parametrize("seed", [5, 6, 7, 8])
def test_greedy_within_one_minus_one_over_e_of_brute_force(seed, x64):
    # information gain is monotone submodular: greedy ≥ (1 − 1/e) · optimum (Nemhauser et al.)
    d, budget, s = 9, 3, 0.2
    cov = jnp.asarray(_random_cov(seed, d))
    order = np.asarray(ads.greedy_gaussian_design(cov, budget, s))
    assert len(set(order.tolist())) == budget

    def gain(idx):
        mask = np.zeros(d, bool)
        mask[list(idx)] = True
        return float(ads.gaussian_information_gain(cov, mask, s))

    best = max(gain(c) for c in itertools.combinations(range(d), budget))
    greedy = gain(order)
    assert greedy >= (1 - 1 / math.e) * best
    assert greedy <= best + 1e-12
    # greedy max posterior variance = greedy max marginal information gain, step by step
    chosen = []
    for _ in range(budget):
        nxt = max((l for l in range(d) if l not in chosen), key=lambda l: gain([*chosen, l]))
        chosen.append(nxt)
    np.testing.assert_array_equal(order, chosen)


def test_bad_inputs():
    with pytest.raises(ValueError, match="particles, locations, features"):
        ads.particle_entropy(jnp.zeros((4, 3)), 1.0)
    with pytest.raises(ValueError, match="at least 2 particles"):
        ads.particle_variance(jnp.zeros((1, 3, 1)))
    with pytest.raises(ValueError, match="budget must be an int in"):
        ads.greedy_gaussian_design(jnp.eye(3), 4, 0.1)
    with pytest.raises(ValueError, match="mask must have shape"):
        ads.gaussian_information_gain(jnp.eye(3), jnp.ones(2, bool), 0.1)
