"""Exact-posterior designs: the reference "exact adaptive" strategy and ADS on exact particles."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_sampling as ads
from jentropy import diffusion

from .conftest import smooth_cov, two_blob_prior

OP = diffusion.PixelSampling((3, 3))
S = 0.05


def test_variance_design_matches_brute_force(x64):
    prior = two_blob_prior(3, jnp.float64)
    x = prior.sample(jax.random.key(3), 1)[0].reshape(3, 3)
    order = ads.exact_design(prior, OP, x, budget=4, noise_std=S)
    mask = np.zeros(9, bool)
    for step in range(4):
        post = diffusion.condition_mixture(prior, x.reshape(-1), mask, S)
        var = np.where(mask, -np.inf, np.asarray(post.marginal_variances()))
        assert int(order[step]) == int(np.argmax(var))
        mask[int(order[step])] = True
    short = ads.exact_design(prior, OP, x, budget=2, noise_std=S)
    np.testing.assert_array_equal(short, order[:2])  # prefix property
    mean = ads.exact_posterior_mean(prior, OP, x, mask, S)
    np.testing.assert_allclose(
        mean.reshape(-1),
        diffusion.condition_mixture(prior, x.reshape(-1), mask, S).mean(),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        ads.exact_posterior(prior, OP, x, mask, S).mean(), mean.reshape(-1), rtol=1e-9
    )


def test_single_gaussian_design_is_fixed_and_greedy(x64):
    # one Gaussian: the posterior covariance does not depend on y, so the adaptive design is the
    # same for every signal and equals the greedy fixed design — active adds nothing here …
    scale = np.sqrt(np.linspace(0.6, 1.4, 9))  # distinct variances: no ties between pixels
    cov = smooth_cov(3) * scale[:, None] * scale[None, :]
    prior = diffusion.gaussian_mixture(jnp.full((1, 9), 0.5), jnp.asarray(cov[None]))
    xs = prior.sample(jax.random.key(0), 3).reshape(3, 3, 3)
    orders = [np.asarray(ads.exact_design(prior, OP, x, budget=4, noise_std=S)) for x in xs]
    greedy = np.asarray(ads.greedy_gaussian_design(jnp.asarray(cov), 4, S))
    for o in orders:
        np.testing.assert_array_equal(o, greedy)

    # … but it beats random designs: smaller posterior variance than every random 4-pixel mask
    def total_var(mask):
        return float(jnp.trace(ads.posterior_covariance(jnp.asarray(cov), mask, S)))

    greedy_var = total_var(ads.mask_from_order(jnp.asarray(greedy), 9))
    random_vars = [
        total_var(ads.random_mask(k, 9, 4)) for k in jax.random.split(jax.random.key(1), 20)
    ]
    assert greedy_var <= min(random_vars) + 1e-12 and greedy_var < np.mean(random_vars)


@pytest.mark.slow  # the acceptance check itself is test_entropy's (particle_entropy, 1000 draws)
def test_particle_design_agrees_with_variance_for_many_particles():
    prior = two_blob_prior(3)
    x = prior.sample(jax.random.key(4), 1)[0].reshape(3, 3)
    var_order = ads.exact_design(prior, OP, x, budget=1, noise_std=S)
    part_order = ads.exact_design(
        prior,
        OP,
        x,
        budget=1,
        noise_std=S,
        strategy="particles",
        key=jax.random.key(0),
        num_particles=2000,
        sigma=5.0,
    )
    np.testing.assert_array_equal(var_order, part_order)


def test_lines_design_runs_and_is_valid():
    prior = two_blob_prior(4)
    op = diffusion.LineSampling((4, 4))
    x = prior.sample(jax.random.key(5), 1)[0].reshape(4, 4)
    order = ads.exact_design(
        prior, op, x, budget=3, noise_std=S, initial_mask=jnp.array([0, 1, 0, 0], bool)
    )
    assert len(set(np.asarray(order).tolist())) == 3 and 1 not in np.asarray(order).tolist()


def test_errors():
    prior = two_blob_prior(3)
    x = jnp.zeros((3, 3))
    with pytest.raises(ValueError, match="budget = 10 exceeds"):
        ads.exact_design(prior, OP, x, budget=10, noise_std=S)
    with pytest.raises(ValueError, match="needs a key"):
        ads.exact_design(prior, OP, x, budget=2, noise_std=S, strategy="particles")
    with pytest.raises(ValueError, match="x_true must be finite"):
        ads.exact_design(prior, OP, x.at[0, 0].set(jnp.inf), budget=2, noise_std=S)
    with pytest.raises(ValueError, match="initial_mask must have shape"):
        ads.exact_design(prior, OP, x, budget=2, noise_std=S, initial_mask=jnp.zeros(4, bool))
