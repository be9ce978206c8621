"""Correlation metrics of the forecasting benchmark: Pearson, Spearman and Kendall's τ-b.

Same conventions as :mod:`._metrics` (series ``(..., T, D)``, per-coordinate correlation over time
averaged over coordinates, NaN for non-finite input or a constant coordinate, as in scipy), all
``jit``/``vmap``-able. Spearman uses average ranks (ties as ``scipy.stats.rankdata``); Kendall is
τ-b with tie corrections (``scipy.stats.kendalltau``'s default), O(T²) work and O(T) memory.

Example::

    from jentropy import chaos
    chaos.spearman(y_true, y_pred)        # (...,) rank correlations
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._metrics_common import Series, nan_unless_finite, pair

__all__ = ["kendall", "pearson", "spearman"]


def _pearson_columns(a: Array, b: Array) -> Array:
    """Pearson correlation over axis −2 per column (NaN for a zero-variance column)."""
    a = a - jnp.mean(a, axis=-2, keepdims=True)
    b = b - jnp.mean(b, axis=-2, keepdims=True)
    # normalise before multiplying so that tiny or huge scales neither underflow nor overflow
    na = jnp.sqrt(jnp.sum(jnp.square(a), axis=-2, keepdims=True))
    nb = jnp.sqrt(jnp.sum(jnp.square(b), axis=-2, keepdims=True))
    ok = (na > 0) & (nb > 0)
    a = a / jnp.where(ok, na, 1)
    b = b / jnp.where(ok, nb, 1)
    r = jnp.clip(jnp.sum(a * b, axis=-2), -1, 1)
    return jnp.where(ok[..., 0, :], r, jnp.nan)


@jax.jit
def pearson(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Pearson correlation of y_d and ŷ_d over time, averaged over coordinates d.

    NaN when a coordinate of either series is constant (as ``scipy.stats.pearsonr``).

    Example::

        pearson(jnp.array([1.0, 2.0, 3.0]), jnp.array([2.0, 4.0, 7.0]))   # ≈ 0.9934
    """
    yt, yp = pair(y_true, y_pred)
    return nan_unless_finite(jnp.mean(_pearson_columns(yt, yp), axis=-1), yt, yp)


def _average_ranks(x: Array) -> Array:
    """1-based ranks along axis −2, ties receiving the mean of their positions (scipy's
    ``rankdata(method="average")``)."""

    def ranks_1d(v: Array) -> Array:
        s = jnp.sort(v)
        lo = jnp.searchsorted(s, v, side="left")
        hi = jnp.searchsorted(s, v, side="right")
        return (lo + hi + 1).astype(v.dtype) / 2

    moved = jnp.moveaxis(x, -2, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    ranks = jax.vmap(ranks_1d)(flat).reshape(moved.shape)
    return jnp.moveaxis(ranks, -1, -2)


@jax.jit
def spearman(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Spearman rank correlation per coordinate (Pearson of average ranks), averaged over d.

    Matches ``scipy.stats.spearmanr`` including ties; NaN for a constant coordinate.

    Example::

        spearman(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 5.0, 4.0]))   # 0.5
    """
    yt, yp = pair(y_true, y_pred)
    r = _pearson_columns(_average_ranks(yt), _average_ranks(yp))
    return nan_unless_finite(jnp.mean(r, axis=-1), yt, yp)


def _kendall_1d(x: Array, y: Array) -> Array:
    n = x.shape[0]

    def row(i, acc):
        s, tx, ty = acc
        later = jnp.arange(n) > i
        dx = jnp.sign(x - x[i])
        dy = jnp.sign(y - y[i])
        s = s + jnp.sum(jnp.where(later, dx * dy, 0))
        tx = tx + jnp.sum(later & (dx == 0)).astype(jnp.int32)
        ty = ty + jnp.sum(later & (dy == 0)).astype(jnp.int32)
        return s, tx, ty

    zero_i = jnp.zeros((), jnp.int32)
    s, tx, ty = jax.lax.fori_loop(0, n, row, (jnp.zeros((), x.dtype), zero_i, zero_i))
    n0 = n * (n - 1) // 2
    den = jnp.sqrt((n0 - tx).astype(x.dtype)) * jnp.sqrt((n0 - ty).astype(x.dtype))
    return jnp.where(den > 0, jnp.clip(s / jnp.where(den > 0, den, 1), -1, 1), jnp.nan)


@jax.jit
def kendall(y_true: Series, y_pred: Series) -> Float[Array, "*batch"]:
    """Kendall's τ-b per coordinate (ties corrected, as ``scipy.stats.kendalltau``), averaged
    over coordinates. O(T²) work, O(T) memory per series. NaN for a constant coordinate.

    τ-b = Σ_{i<j} sgn(x_j − x_i) sgn(y_j − y_i) / sqrt((n0 − n_x)(n0 − n_y)), n0 = T(T−1)/2,
    n_x and n_y the numbers of tied pairs.

    Example::

        kendall(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 3.0, 2.0]))   # 1/3
    """
    yt, yp = pair(y_true, y_pred)
    a = jnp.moveaxis(yt, -2, -1)
    b = jnp.moveaxis(yp, -2, -1)
    flat = jax.vmap(_kendall_1d)(a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1]))
    tau = flat.reshape(a.shape[:-1])
    return nan_unless_finite(jnp.mean(tau, axis=-1), yt, yp)
