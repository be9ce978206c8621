"""Discrete maps ``x_{k+1} = f(x_k, p)``."""

import jax.numpy as jnp

from ._system import map_


@map_("Logistic")
def logistic(x, p):
    """May (1976), Nature 261:459: the logistic map r x (1 − x)."""
    return p["r"] * x * (1 - x)


@map_("Henon")
def henon(x, p):
    """Hénon (1976), Commun. Math. Phys. 50:69: 1 − a x² + y, b x."""
    return jnp.stack([1 - p["a"] * x[0] ** 2 + x[1], p["b"] * x[0]])
