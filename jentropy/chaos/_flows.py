"""Continuous-time systems (ODE right-hand sides ``f(x, t, p)``), written from the cited papers.

Each function takes the state ``x`` of shape (dim,), the time ``t`` and the parameter dict ``p``
and returns dx/dt of shape (dim,). Parameter names follow the metadata (dysts's names).
"""

import jax.numpy as jnp

from ._system import flow


@flow("Lorenz")
def lorenz(x, t, p):
    """Lorenz (1963), J. Atmos. Sci. 20:130: convection rolls."""
    x1, x2, x3 = x
    return jnp.stack([p["sigma"] * (x2 - x1), x1 * (p["rho"] - x3) - x2, x1 * x2 - p["beta"] * x3])
