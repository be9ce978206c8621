"""Designs from an exact Gaussian-mixture posterior (no diffusion): the reference strategies.

With a Gaussian-mixture prior and a linear operator, ``p(x | y_M)`` is again a mixture
(:func:`jentropy.diffusion.condition_mixture`), so the next location can be chosen from the
exact posterior variance ("exact adaptive"), or by the ADS entropy rule on exact posterior
samples (ADS with perfect particles). The operator's matrix is formed densely: moderate d.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from jentropy import diffusion

from ._checks import (
    check_budget,
    check_finite,
    check_positive,
    check_positive_int,
    count_selected,
)
from ._entropy import particle_entropy, select_next

EXACT_STRATEGIES = ("variance", "particles")


def _matrix(operator: diffusion.MeasurementOperator, dtype: jnp.dtype) -> Array:
    """The operator as a dense (L·F, d) matrix (its Jacobian)."""
    d = 1
    for s in operator.image_shape:
        d *= s

    def flat(v: Array) -> Array:
        return operator.measure(v.reshape(operator.image_shape)).reshape(-1)

    return jax.jacfwd(flat)(jnp.zeros((d,), dtype))


def _posterior(
    prior: diffusion.GaussianMixture,
    covs: Array,
    matrix: Array,
    y: Array,
    mask: Array,
    features: int,
    noise_std: ArrayLike,
) -> tuple[Array, Array, Array]:
    rows = jnp.repeat(mask.astype(bool), features)
    means, post_covs, log_evidence = diffusion.condition_gaussians(
        prior.means, covs, y, rows, noise_std, matrix
    )
    return jax.nn.log_softmax(prior.log_weights + log_evidence), means, post_covs


def exact_posterior(
    prior: diffusion.GaussianMixture,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    mask: ArrayLike,
    noise_std: float,
) -> diffusion.GaussianMixture:
    """The exact posterior mixture after measuring ``x_true`` at ``mask``.

    The data are noise-free, ``y = measure(x_true)``; ``noise_std`` is the likelihood's noise
    level (it keeps the conditioning well posed).

    Example::

        post = exact_posterior(prior, PixelSampling((8, 8)), x_true, mask, 0.01)
        post.marginal_variances()
    """
    mask = operator.check_mask(mask)
    matrix = _matrix(operator, prior.means.dtype)
    y = operator.measure(x_true).reshape(-1)
    rows = jnp.repeat(mask.astype(bool), operator.num_features)
    return diffusion.condition_mixture(prior, y, rows, noise_std, matrix)


def exact_posterior_mean(
    prior: diffusion.GaussianMixture,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    mask: ArrayLike,
    noise_std: float,
) -> Array:
    """``E[x | y_M]`` under the exact posterior (an image), without re-diagonalising it.

    Example::

        reconstruction = exact_posterior_mean(prior, op, x_true, mask, 0.01)
        mae(reconstruction, x_true)
    """
    mask = operator.check_mask(mask)
    return _posterior_mean(prior, operator, x_true, mask, jnp.asarray(noise_std, x_true.dtype))


@eqx.filter_jit
def _posterior_mean(
    prior: diffusion.GaussianMixture,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    mask: Array,
    noise_std: Array,
) -> Array:
    matrix = _matrix(operator, prior.means.dtype)
    y = operator.measure(x_true).reshape(-1)
    log_w, means, _ = _posterior(
        prior, prior.covariances(), matrix, y, mask, operator.num_features, noise_std
    )
    return (jnp.exp(log_w) @ means).reshape(operator.image_shape)


def exact_design(
    prior: diffusion.GaussianMixture,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    *,
    budget: int,
    noise_std: float,
    strategy: str = "variance",
    key: PRNGKeyArray | None = None,
    num_particles: int = 16,
    sigma: float = 1.0,
    initial_mask: ArrayLike | None = None,
) -> Int[Array, " budget"]:
    """Greedy sequential design from the exact posterior: ``budget`` locations, in order.

    Choice ``j`` depends only on the earlier ones (and ``fold_in(key, j)``), so the first ``k``
    entries of a longer design are the design of budget ``k``.

    Args:
        prior: the Gaussian-mixture prior over flattened images.
        operator: the measurement operator (pixels, lines, k-space lines).
        x_true: the signal being measured.
        budget: number of locations to choose.
        noise_std: measurement noise of the likelihood (> 0).
        strategy: ``"variance"``: the location of largest exact posterior variance (summed over
            its features) — "exact adaptive"; ``"particles"``: the ADS rule
            (:func:`particle_entropy` with ``sigma``) on ``num_particles`` exact posterior samples.
        key: PRNG key (``"particles"`` only).
        initial_mask: locations measured before the first choice.

    Example::

        order = exact_design(prior, op, x_true, budget=8, noise_std=0.01)
        mask = mask_from_order(order, op.num_locations)
    """
    if strategy not in EXACT_STRATEGIES:
        raise ValueError(f"strategy must be one of {EXACT_STRATEGIES}, got {strategy!r}")
    if strategy == "particles" and key is None:
        raise ValueError('strategy="particles" needs a key')
    check_positive(noise_std, "noise_std")
    check_positive_int(num_particles, "num_particles", minimum=2)
    x_true = check_finite(operator.check_image(x_true, "x_true"), "x_true")
    num_locations = operator.num_locations
    mask = (
        jnp.zeros((num_locations,), bool)
        if initial_mask is None
        else operator.check_mask(initial_mask, "initial_mask").astype(bool)
    )
    already = None if initial_mask is None else count_selected(initial_mask)
    check_budget(budget, num_locations, already)
    key = jax.random.key(0) if key is None else key
    dtype = x_true.dtype
    params = (jnp.asarray(noise_std, dtype), jnp.asarray(sigma, dtype))
    return _exact_design(
        prior, operator, x_true, mask, key, params, budget, strategy, num_particles
    )


@eqx.filter_jit
def _exact_design(
    prior: diffusion.GaussianMixture,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    mask: Array,
    key: PRNGKeyArray,
    params: tuple[Array, Array],
    budget: int,
    strategy: str,
    num_particles: int,
) -> Array:
    # one compilation per (shapes, budget, strategy, num_particles): repeated designs reuse it
    noise_std, sigma = params
    num_locations, features = operator.num_locations, operator.num_features
    matrix = _matrix(operator, x_true.dtype)
    y = operator.measure(x_true).reshape(-1)
    d = prior.dim
    eye = jnp.eye(d, dtype=x_true.dtype)
    start = _posterior(prior, prior.covariances(), matrix, y, mask, features, noise_std)
    rows_of = matrix.reshape(num_locations, features, d)
    values_of = y.reshape(num_locations, features)
    all_rows = jnp.ones((features,), bool)

    def scores(log_w: Array, means: Array, post: Array, k: PRNGKeyArray) -> Float[Array, " L"]:
        if strategy == "variance":
            # Var of each measured feature under the mixture: diag(A Σ_k Aᵀ), means A μ_k
            w = jnp.exp(log_w)
            mean_y = means @ matrix.T
            second = jnp.einsum("md,kde,me->km", matrix, post, matrix) + mean_y**2
            var = w @ second - (w @ mean_y) ** 2
            return jnp.sum(var.reshape(num_locations, features), -1)
        k_comp, k_noise = jax.random.split(k)
        comp = jax.random.categorical(k_comp, log_w, shape=(num_particles,))
        jitter = 1e-6 * jnp.mean(jnp.diagonal(post, axis1=-2, axis2=-1), -1)
        chol = jnp.linalg.cholesky(post + jitter[:, None, None] * eye)
        z = jax.random.normal(k_noise, (num_particles, d), x_true.dtype)
        samples = means[comp] + jnp.einsum("pde,pe->pd", chol[comp], z)
        y_particles = (samples @ matrix.T).reshape(num_particles, num_locations, features)
        return particle_entropy(y_particles, sigma)

    def body(carry: tuple[Array, ...], j: Array) -> tuple[tuple[Array, ...], Array]:
        mask, log_w, means, post = carry
        s = scores(log_w, means, post, jax.random.fold_in(key, j))
        choice = select_next(s, mask).astype(jnp.int32)
        means, post, log_ev = diffusion.condition_gaussians(
            means, post, values_of[choice], all_rows, noise_std, rows_of[choice]
        )
        log_w = jax.nn.log_softmax(log_w + log_ev)
        return (mask.at[choice].set(True), log_w, means, post), choice

    _, order = jax.lax.scan(body, (mask, *start), jnp.arange(budget))
    return order
