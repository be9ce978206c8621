"""Fitting Gaussian-mixture priors to data: one component per label, or k-means clusters."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._mixture import GaussianMixture, gaussian_mixture


def mixture_from_labels(
    x: ArrayLike,
    labels: ArrayLike,
    num_components: int,
    *,
    ridge: float = 1e-3,
    rank: int | None = None,
) -> GaussianMixture:
    """Fit one Gaussian per label: weights = label frequencies, sample means and covariances
    (+ ``ridge``·I so that constant pixels keep a proper density).

    Args:
        x: (n, d) data. labels: (n,) ints in ``[0, num_components)``, each label present.
        num_components: k. ridge: added variance. rank: see :func:`gaussian_mixture`.

    Example::

        prior = mixture_from_labels(images.reshape(len(images), -1), digit_labels, 10)
    """
    x = jnp.asarray(x)
    labels = jnp.asarray(labels)
    if x.ndim != 2 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"x must be a float array (n, d), got {x.dtype} {x.shape}")
    if labels.shape != x.shape[:1] or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"labels must be ints of shape ({x.shape[0]},), got {labels.shape}")
    xs, ls = np.asarray(x), np.asarray(labels)
    counts = np.bincount(ls, minlength=num_components)[:num_components]
    if np.any(counts < 2) or ls.min() < 0 or ls.max() >= num_components:
        raise ValueError(
            f"labels must lie in [0, {num_components}), each with >= 2 examples; counts {counts}"
        )
    # per class on the host: O(n d²) in all, not O(n k d²) as one masked einsum would be
    means = np.stack([xs[ls == k].mean(0) for k in range(num_components)])
    covs = np.stack([np.cov(xs[ls == k], rowvar=False) for k in range(num_components)])
    covs = covs + ridge * np.eye(xs.shape[1])
    dtype = x.dtype
    return gaussian_mixture(
        jnp.asarray(means, dtype), jnp.asarray(covs, dtype), jnp.asarray(counts, dtype), rank=rank
    )


def kmeans(
    key: PRNGKeyArray, x: Float[Array, "n d"], num_clusters: int, *, iterations: int = 50
) -> tuple[Float[Array, "k d"], Array]:
    """Lloyd's k-means with k-means++ seeding: ``(centres (k, d), labels (n,))``.

    A cluster left empty keeps its previous centre. ``iterations`` fixed Lloyd steps
    (``lax.scan``), so the result depends only on ``key``.

    Example::

        centres, labels = kmeans(jax.random.key(0), x, 10)
    """
    x = jnp.asarray(x)
    n = x.shape[0]
    if x.ndim != 2 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"x must be a float array (n, d), got {x.dtype} {x.shape}")
    if isinstance(num_clusters, bool) or not isinstance(num_clusters, int):
        raise ValueError(f"num_clusters must be an int, got {num_clusters!r}")
    if not 1 <= num_clusters <= n:
        raise ValueError(f"num_clusters must be in [1, n = {n}], got {num_clusters}")

    return _kmeans(key, x, num_clusters, iterations)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _kmeans(key: PRNGKeyArray, x: Array, num_clusters: int, iterations: int) -> tuple[Array, Array]:
    def sq_dist(centres: Array) -> Array:
        return jnp.sum(x**2, 1)[:, None] - 2.0 * x @ centres.T + jnp.sum(centres**2, 1)[None, :]

    def seed(carry: tuple[Array, Array], k: Array) -> tuple[tuple[Array, Array], None]:
        centres, count = carry
        d2 = jnp.where(jnp.arange(num_clusters)[None, :] < count, sq_dist(centres), jnp.inf).min(1)
        logits = jnp.where(count > 0, jnp.log(jnp.maximum(d2, 1e-30)), 0.0)
        pick = jax.random.categorical(k, logits)
        return (centres.at[count].set(x[pick]), count + 1), None

    centres = jnp.zeros((num_clusters, x.shape[1]), x.dtype)
    keys = jax.random.split(key, num_clusters)
    (centres, _), _ = jax.lax.scan(seed, (centres, jnp.zeros((), jnp.int32)), keys)

    def lloyd(centres: Array, _: None) -> tuple[Array, None]:
        one_hot = jax.nn.one_hot(jnp.argmin(sq_dist(centres), 1), num_clusters, dtype=x.dtype)
        counts = one_hot.sum(0)
        new = (one_hot.T @ x) / jnp.maximum(counts, 1.0)[:, None]
        return jnp.where(counts[:, None] > 0, new, centres), None

    centres, _ = jax.lax.scan(lloyd, centres, None, length=iterations)
    return centres, jnp.argmin(sq_dist(centres), 1).astype(jnp.int32)


def mixture_from_kmeans(
    key: PRNGKeyArray,
    x: ArrayLike,
    num_components: int,
    *,
    iterations: int = 50,
    ridge: float = 1e-3,
    rank: int | None = None,
) -> GaussianMixture:
    """A Gaussian mixture fitted by :func:`kmeans` clusters and :func:`mixture_from_labels`
    (a fast, deterministic stand-in for EM; clusters with < 2 members are dropped).

    Example::

        prior = mixture_from_kmeans(jax.random.key(0), images.reshape(n, -1), 16, rank=32)
    """
    x = jnp.asarray(x)
    _, labels = kmeans(key, x, num_components, iterations=iterations)
    # relabelling on the host (mixture_from_labels fits there too): data-dependent shapes
    labels = np.asarray(labels)
    keep = np.flatnonzero(np.bincount(labels, minlength=num_components) >= 2)
    relabel = np.full((num_components,), -1, np.int32)
    relabel[keep] = np.arange(len(keep), dtype=np.int32)
    new_labels = relabel[labels]
    inside = new_labels >= 0
    return mixture_from_labels(
        np.asarray(x)[inside], new_labels[inside], len(keep), ridge=ridge, rank=rank
    )
