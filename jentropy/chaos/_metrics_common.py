"""Shape and NaN handling shared by the forecast metrics (series ``(..., T, D)``)."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

Series = Float[ArrayLike, "*batch time dim"]


def as_series(y: ArrayLike, name: str) -> Array:
    y = jnp.asarray(y)
    if not jnp.issubdtype(y.dtype, jnp.floating):
        if not (jnp.issubdtype(y.dtype, jnp.integer) or y.dtype == jnp.bool_):
            raise TypeError(f"{name} must be a real array, got dtype {y.dtype}")
        y = y.astype(jnp.zeros(()).dtype)
    if y.ndim == 0:
        raise ValueError(f"{name} must have shape (T,) or (..., T, D), got a scalar")
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[-2] < 1:
        raise ValueError(f"{name} must hold at least one time point, got shape {y.shape}")
    return y


def pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[Array, Array]:
    yt = as_series(y_true, "y_true")
    yp = as_series(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape (..., T, D), got {yt.shape} and {yp.shape}"
        )
    dtype = jnp.result_type(yt.dtype, yp.dtype)
    return yt.astype(dtype), yp.astype(dtype)


def finite(*ys: Array) -> Array:
    """True per series where every entry of every input is finite (shape ``(...)``)."""
    ok = [jnp.all(jnp.isfinite(y), axis=(-2, -1)) for y in ys]
    out = ok[0]
    for o in ok[1:]:
        out = out & o
    return out


def nan_unless_finite(value: Array, *ys: Array) -> Array:
    return jnp.where(finite(*ys), value, jnp.nan)
