r"""Sample entropy and multiscale entropy.

Sample entropy (Richman & Moorman 2000): with ``B`` the number of pairs ``i < j`` of length-``m``
templates ``(x_i … x_{i+m−1})`` within Chebyshev distance ``r`` and ``A`` the same count for length
``m + 1`` (over the same ``N − m`` starting points), ``SampEn = −log(A / B)``.

Multiscale entropy (M. Costa, A. L. Goldberger & C.-K. Peng, "Multiscale entropy analysis of
complex physiologic time series", Phys. Rev. Lett. 89:068102 (2002)): the sample entropy of the
coarse-grained series ``y^{(s)}_j = mean(x_{js} … x_{(j+1)s−1})`` for scales ``s = 1 … S`` with the
tolerance ``r`` fixed from the original series. The permutation-entropy variant uses
:func:`jentropy.ordinal.permutation_entropy` on the same coarse-grained series.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._series import as_series


@functools.partial(jax.jit, static_argnames=("order", "block"))
def _template_counts(
    x: Array, length: Array, r: Array, order: int, block: int = 256
) -> tuple[Array, Array]:
    """Match counts ``(A, B)`` over the first ``length`` points of ``x`` (the rest is padding,
    so series of different lengths share one compilation)."""
    n_max = x.shape[0] - order
    n = length - order  # number of templates (both lengths)
    emb = jnp.stack([x[k : k + n_max] for k in range(order + 1)], axis=1)  # (n_max, m + 1)
    n_blocks = -(-n_max // block)
    rows = jnp.arange(n_blocks * block).reshape(n_blocks, block)
    cols = jnp.arange(n_max)

    def counts(idx):
        e = emb[jnp.minimum(idx, n_max - 1)]
        diff = jnp.abs(e[:, None, :] - emb[None, :, :])
        dm = jnp.max(diff[..., :order], axis=-1)
        dm1 = jnp.maximum(dm, diff[..., order])
        upper = (cols[None, :] > idx[:, None]) & (cols[None, :] < n)
        return jnp.sum(upper & (dm1 < r)), jnp.sum(upper & (dm < r))

    a, b = jax.lax.map(counts, rows)
    return jnp.sum(a), jnp.sum(b)


def _sampen(x: Array, length: Array, order: int, r: Array) -> Array:
    a, b = _template_counts(x, length, r, order)
    a, b = a.astype(x.dtype), b.astype(x.dtype)
    ratio = a / jnp.where(b > 0, b, jnp.ones_like(b))
    safe = jnp.where(ratio > 0, ratio, jnp.ones_like(ratio))
    out = jnp.where(a > 0, -jnp.log(safe), jnp.inf)
    return jnp.where(b > 0, out, jnp.nan)


def sample_entropy(
    x: Float[ArrayLike, " T"], order: int = 2, tolerance: float | Array | None = None
) -> Array:
    r"""Sample entropy ``−log(A/B)`` of a scalar series (Richman & Moorman 2000).

    ``B`` counts pairs ``i < j`` of templates of length ``m = order`` whose Chebyshev distance is
    below ``r = tolerance``; ``A`` the same for length ``m + 1``; both over the first ``T − m``
    templates (so they are comparable). Matches ``antropy.sample_entropy``.

    Args:
        x: series ``(T,)``.
        order: template length ``m``.
        tolerance: ``r`` (default ``0.2 · std(x)``).

    Returns:
        SampEn (scalar): ``inf`` when no ``m + 1`` match exists, NaN when no ``m`` match exists
        (undefined; never silently 0).

    Example::

        sample_entropy(jax.random.normal(key, (2000,)))     # ≈ 2.2 for white noise
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive int, got {order!r}")
    x = as_series(x, min_len=order + 3, multivariate=False)
    r = 0.2 * jnp.std(x) if tolerance is None else jnp.asarray(tolerance, x.dtype)
    return _sampen(x, jnp.asarray(x.shape[0]), order, r)


class MultiscaleEntropy(NamedTuple):
    """What :func:`multiscale_entropy` returns.

    Attributes:
        scales: the coarse-graining scales ``s``, shape ``(S,)``.
        entropy: the entropy of each coarse-grained series, shape ``(S,)``.
        index: the mean of the finite entries of ``entropy`` (the area under the MSE curve per
            scale), a scalar summary.
    """

    scales: Array
    entropy: Array
    index: Array


def coarse_grain(x: Float[ArrayLike, " T"], scale: int) -> Float[Array, " n"]:
    """Coarse-graining of Costa et al. (2002), eq. 1: ``y_j = mean(x_{js} … x_{(j+1)s−1})``.

    Args:
        x: series ``(T,)``.
        scale: window ``s`` (a positive int); a trailing partial window is dropped.

    Returns:
        The ``T // s`` window means.

    Example::

        coarse_grain(jnp.arange(7.0), 3)      # [1., 4.]
    """
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale!r}")
    x = as_series(x, min_len=1, multivariate=False)
    n = x.shape[0] // scale
    return jnp.mean(x[: n * scale].reshape(n, scale), axis=1)


def multiscale_entropy(
    x: Float[ArrayLike, " T"],
    max_scale: int = 10,
    *,
    method: str = "sample",
    order: int | None = None,
    tolerance: float | None = None,
) -> MultiscaleEntropy:
    r"""Multiscale entropy (Costa et al. 2002): entropy of coarse-grained series over scales.

    ``method="sample"``: sample entropy with template length ``order`` (default 2) and a
    tolerance fixed from the original series (default ``0.2 · std(x)``, Costa's convention);
    ``method="permutation"``: normalised permutation entropy of order ``order`` (default 4)
    from :func:`jentropy.ordinal.permutation_entropy` (multiscale permutation entropy).

    Args:
        x: series ``(T,)``; each scale needs ``T / s`` long enough for the entropy.
        max_scale: largest scale ``S``.
        method: ``"sample"`` or ``"permutation"``.
        order: template length / permutation order.
        tolerance: sample-entropy ``r``.

    Returns:
        :class:`MultiscaleEntropy` ``(scales, entropy, index)``.

    Example::

        mse = multiscale_entropy(ys[:, 0], max_scale=10)
        mse.entropy       # (10,); white noise decreases with scale, 1/f noise stays flat
    """
    x = as_series(x, min_len=20, multivariate=False)
    if not isinstance(max_scale, int) or max_scale < 1 or x.shape[0] // max_scale < 10:
        raise ValueError(
            f"max_scale must be an int >= 1 leaving >= 10 points per coarse series, got "
            f"{max_scale!r} for T = {x.shape[0]}"
        )
    if method == "sample":
        order = 2 if order is None else order
        r = 0.2 * jnp.std(x) if tolerance is None else jnp.asarray(tolerance, x.dtype)
        t = x.shape[0]

        def padded(s):
            y = coarse_grain(x, s)
            return jnp.concatenate([y, jnp.zeros((t - y.shape[0],), x.dtype)]), y.shape[0]

        values = []
        for s in range(1, max_scale + 1):
            y, length = padded(s)
            values.append(_sampen(y, jnp.asarray(length), order, r))
    elif method == "permutation":
        from jentropy.ordinal import permutation_entropy

        order = 4 if order is None else order
        values = [permutation_entropy(coarse_grain(x, s), n=order) for s in range(1, max_scale + 1)]
    else:
        raise ValueError(f"method must be 'sample' or 'permutation', got {method!r}")
    entropy = jnp.stack(values)
    finite = jnp.isfinite(entropy)
    count = jnp.maximum(jnp.sum(finite), 1).astype(entropy.dtype)
    index = jnp.sum(jnp.where(finite, entropy, 0.0)) / count
    return MultiscaleEntropy(jnp.arange(1, max_scale + 1), entropy, index)
