"""Input validation shared by the property estimators (dimension, spectrum, entropy, 0–1 test)."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike


def as_series(x: ArrayLike, name: str = "x", *, min_len: int, multivariate: bool) -> Array:
    """``x`` as a floating series of at least ``min_len`` time points.

    ``multivariate=True``: ``(T,)`` or ``(T, d)`` in, ``(T, d)`` out (a scalar series becomes one
    column); ``multivariate=False``: exactly ``(T,)``. Raises ``ValueError`` naming ``name`` for a
    wrong shape or length and ``TypeError`` for a non-floating dtype.
    """
    x = jnp.asarray(x)
    if multivariate and x.ndim == 1:
        x = x[:, None]
    want_ndim, shape = (2, "(T, d) or (T,)") if multivariate else (1, "(T,)")
    if x.ndim != want_ndim or x.shape[0] < min_len:
        raise ValueError(f"{name} must have shape {shape} with T >= {min_len}, got {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{name} must be floating, got {x.dtype}")
    return x
