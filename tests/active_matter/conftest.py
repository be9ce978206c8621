"""Shared systems and helpers for the active_matter tests."""

import jax
import jax.numpy as jnp
import numpy as np


def random_positions(key, system, dtype=None):
    """Uniform positions in the periodic box of ``system``."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    lw = jnp.asarray(system.half_width, dtype)
    shape = (system.n_particles, system.dim)
    return jax.random.uniform(key, shape, dtype, minval=-lw, maxval=lw)


def brute_force_forces(x, system):
    """NumPy float64 reference: every pair, minimum image, softplus/hard magnitude, cutoff."""
    x = np.asarray(x, np.float64)
    n = len(x)
    f = np.zeros_like(x)
    for i in range(n):
        d = x[i] - x
        if system.half_width is not None:
            w = 2 * system.half_width
            d = d - w * np.round(d / w)
        r = np.linalg.norm(d, axis=1)
        for j in range(n):
            if j == i or r[j] == 0 or r[j] >= system.interaction_range:
                continue
            u = 2 * system.radius - r[j]
            if system.beta is None:
                mag = max(u, 0.0)
            else:
                mag = np.logaddexp(system.beta * u, 0.0) / system.beta
            f[i] += mag * d[j] / r[j]
    return f
