"""Small exact priors shared by the active_sampling tests (3×3 and 4×4 images)."""

import jax.numpy as jnp
import numpy as np

from jentropy import diffusion


def smooth_cov(side, length=1.2, scale=0.05, nugget=0.002):
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)
    dist2 = ((grid[:, None] - grid[None]) ** 2).sum(-1)
    return scale * np.exp(-dist2 / (2 * length**2)) + nugget * np.eye(side * side)


def two_blob_prior(side, dtype=jnp.float32):
    """Two components: bright left half or bright right half (where to look depends on which)."""
    d = side * side
    left = (np.arange(d) % side < side // 2).astype(float)
    means = np.stack([0.2 + 0.6 * left, 0.8 - 0.6 * left])
    cov = smooth_cov(side)
    rng = np.random.default_rng(0)
    covs = np.stack(
        [
            cov
            * rng.uniform(0.5, 2.0, d)[:, None] ** 0.5
            * rng.uniform(0.5, 2.0, d)[None, :] ** 0.5
            for _ in range(2)
        ]
    )
    covs = 0.5 * (covs + covs.transpose(0, 2, 1)) + 0.01 * np.eye(d)
    return diffusion.gaussian_mixture(jnp.asarray(means, dtype), jnp.asarray(covs, dtype))
