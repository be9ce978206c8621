r"""Grassberger–Procaccia correlation integral and correlation dimension.

``C(r)`` is the fraction of pairs of points closer than ``r``; on a fractal attractor
``C(r) ∝ r^{D₂}`` over a scaling range of radii, and the correlation dimension ``D₂`` is the slope
of ``log C`` against ``log r`` there (P. Grassberger & I. Procaccia, "Measuring the strangeness of
strange attractors", Physica D 9:189 (1983)). Pairs closer in time than a Theiler window are left
out, so that an oversampled trajectory does not count its own neighbours along the orbit.

The pair counts are accumulated in row blocks (``lax.map``), so memory stays ``O(block · N)``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._series import as_series


def correlation_integral(
    x: Float[ArrayLike, "T d"],
    r_min: float | Array,
    r_max: float | Array,
    n_radii: int = 16,
    *,
    theiler: int = 0,
    n_ref: int | None = 2000,
    block: int = 128,
) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
    r"""Correlation sum ``C(r) = #{(i, j): i ≠ j, |i − j| > w, ‖x_i − x_j‖ < r} / #pairs`` at
    ``n_radii`` log-spaced radii from ``r_min`` to ``r_max``.

    Euclidean distances; ``w`` is the Theiler window ``theiler`` (in samples). With ``n_ref``,
    ``i`` runs over ``n_ref`` evenly spaced reference points and ``j`` over all points (an
    unbiased estimate of the same ``C(r)`` at ``n_ref/T`` of the cost); ``None`` uses every point.
    Pairs are binned by ``log r`` (one pass, no per-radius comparison).

    Args:
        x: points ``(T, d)`` (a trajectory) or a scalar series ``(T,)``.
        r_min, r_max: smallest and largest radius (absolute units, ``0 < r_min < r_max``).
        n_radii: number of radii ``K`` (>= 2).
        theiler: pairs with ``|i − j| ≤ theiler`` are excluded.
        n_ref: number of reference points (None: all ``T``).
        block: reference points per block (memory ``block × T``).

    Returns:
        ``(radii, C)``, both of shape ``(K,)``; ``C`` in ``[0, 1]``.

    Example::

        radii, c = correlation_integral(points, 0.1, 5.0, 20, theiler=10)
    """
    x = as_series(x, min_len=10, multivariate=True)
    t = x.shape[0]
    if not isinstance(theiler, int) or theiler < 0 or theiler >= t - 1:
        raise ValueError(f"theiler must be an int in [0, T − 2], got {theiler!r}")
    if not isinstance(n_radii, int) or n_radii < 2:
        raise ValueError(f"n_radii must be an int >= 2, got {n_radii!r}")
    n_ref = t if n_ref is None or n_ref >= t else int(n_ref)
    if n_ref < 1:
        raise ValueError(f"n_ref must be a positive int or None, got {n_ref!r}")
    return _correlation_integral(x, r_min, r_max, n_radii, theiler, n_ref, block)


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _correlation_integral(x, r_min, r_max, n_radii, theiler, n_ref, block):
    t = x.shape[0]
    lo, hi = jnp.log(jnp.asarray(r_min, x.dtype)), jnp.log(jnp.asarray(r_max, x.dtype))
    radii = jnp.exp(jnp.linspace(lo, hi, n_radii, dtype=x.dtype))
    step = 2 * (hi - lo) / (n_radii - 1)  # bin width in log r²
    ref = (jnp.arange(n_ref) * t) // n_ref
    n_blocks = -(-n_ref // block)
    ref = jnp.concatenate([ref, jnp.full((n_blocks * block - n_ref,), -1, ref.dtype)])
    sq = jnp.sum(x * x, axis=1)
    cols = jnp.arange(t)
    tiny = jnp.finfo(x.dtype).tiny

    def counts(idx):
        xi = x[jnp.maximum(idx, 0)]
        d2 = jnp.sum(xi * xi, axis=1)[:, None] + sq[None, :] - 2 * xi @ x.T
        valid = (jnp.abs(idx[:, None] - cols[None, :]) > theiler) & (idx[:, None] >= 0)
        # bin b holds r_{b-1} <= d < r_b (b = 0: d < r_0); invalid pairs go to bin K
        b = jnp.ceil((jnp.log(jnp.maximum(d2, tiny)) - 2 * lo) / step)
        b = jnp.where(valid, jnp.clip(b, 0, n_radii).astype(jnp.int32), n_radii + 1)
        return jnp.bincount(b.ravel(), length=n_radii + 2), jnp.sum(valid)

    hist, n_pairs = jax.lax.map(counts, ref.reshape(n_blocks, block))
    close = jnp.cumsum(jnp.sum(hist, axis=0)[:n_radii])
    return radii, close.astype(x.dtype) / jnp.sum(n_pairs).astype(x.dtype)


class CorrelationDimension(NamedTuple):
    """What :func:`correlation_dimension` returns.

    Attributes:
        dimension: the fitted slope ``D₂``.
        radii: the radii of the fit, shape ``(K,)``.
        c: ``C(r)`` at those radii.
        local_slopes: ``d log C / d log r`` between consecutive radii, shape ``(K − 1,)`` (a
            plateau means a clean scaling range).
    """

    dimension: Array
    radii: Array
    c: Array
    local_slopes: Array


def correlation_dimension(
    x: Float[ArrayLike, "T d"],
    *,
    theiler: int = 10,
    r_min: float = 0.02,
    r_max: float = 0.2,
    n_radii: int = 16,
    n_ref: int | None = 2000,
) -> CorrelationDimension:
    r"""Grassberger–Procaccia correlation dimension: the least-squares slope of ``log C(r)``
    against ``log r`` over radii log-spaced in ``[r_min, r_max] × s`` (Grassberger & Procaccia
    1983, eq. 10), where ``s = sqrt(Σ_k var(x_k))`` is the attractor's RMS size.

    The default range (2 %–20 % of the attractor size) sits inside the scaling region of the
    classic low-dimensional attractors for a few thousand points; check ``local_slopes`` for a
    plateau, and sample a flow sparsely (or raise ``theiler``) so that neighbours along the orbit
    do not dominate small radii.

    Args:
        x: points ``(T, d)`` or a scalar series ``(T,)`` (then embed it first for a meaningful
            dimension).
        theiler: Theiler window in samples.
        r_min, r_max: the fit range as fractions of the attractor size.
        n_radii: radii in the fit.
        n_ref: reference points in :func:`correlation_integral` (None: all pairs).

    Returns:
        :class:`CorrelationDimension` (``dimension``, ``radii``, ``c``, ``local_slopes``).

    Example::

        ts, ys, _ = chaos.make_trajectory("Lorenz", 4000, pts_per_period=20)
        chaos.correlation_dimension(ys).dimension        # ≈ 2.05
    """
    x = as_series(x, min_len=10, multivariate=True)
    if not 0 < r_min < r_max:
        raise ValueError(f"need 0 < r_min < r_max, got {r_min}, {r_max}")
    if n_radii < 2:
        raise ValueError(f"n_radii must be >= 2, got {n_radii}")
    size = jnp.sqrt(jnp.sum(jnp.var(x, axis=0)))
    radii, c = correlation_integral(
        x, r_min * size, r_max * size, n_radii, theiler=theiler, n_ref=n_ref
    )
    lr = jnp.log(radii)
    lc = jnp.log(jnp.where(c > 0, c, jnp.full_like(c, jnp.nan)))
    slope = _slope(lr, lc)
    local = jnp.diff(lc) / jnp.diff(lr)
    return CorrelationDimension(slope, radii, c, local)


def _slope(u: Array, v: Array) -> Array:
    """Least-squares slope of ``v`` on ``u`` over the finite ``v`` (radii holding no pair give
    ``log C = NaN`` and are left out; NaN if fewer than two remain)."""
    w = jnp.isfinite(v).astype(u.dtype)
    n = jnp.sum(w)
    safe_n = jnp.maximum(n, 1.0)
    v = jnp.where(w > 0, v, jnp.zeros_like(v))
    mu, mv = jnp.sum(w * u) / safe_n, jnp.sum(w * v) / safe_n
    sxx = jnp.sum(w * (u - mu) ** 2)
    slope = jnp.sum(w * (u - mu) * (v - mv)) / jnp.where(sxx > 0, sxx, jnp.ones_like(sxx))
    return jnp.where(n >= 2, slope, jnp.nan)
