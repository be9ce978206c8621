"""Two-dimensional ordinal patterns of images (Ribeiro et al., PLoS ONE 7, e40689 (2012)).

A window of dy rows × dx columns (row and column delays ℓ_y, ℓ_x) is read in row-major order —
(y, x), (y, x+ℓ_x), …, (y+ℓ_y, x), … — and replaced by the stable argsort of those n = dx·dy
values, exactly as ordpy does for 2-D data. The same Lehmer-code encoding and counting as for
series apply, so the pattern order is that of :func:`all_patterns` (n = dx·dy) and H, C are the
usual normalised permutation entropy and statistical complexity of the image.

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, Real

from ._checks import check_delays, check_order, finite_guard, float_dtype
from ._complexity import hc_from_counts
from ._patterns import ENCODERS, bincount_rows

__all__ = ["image_entropy_complexity", "image_ordinal_distribution", "image_pattern_counts"]


def _validated(image, dx, dy, delay_x, delay_y, allow_large):
    if isinstance(dx, bool) or not isinstance(dx, int) or dx < 1:
        raise ValueError(f"dx (window columns) must be an int >= 1, got {dx!r}")
    if isinstance(dy, bool) or not isinstance(dy, int) or dy < 1:
        raise ValueError(f"dy (window rows) must be an int >= 1, got {dy!r}")
    n = check_order(dx * dy, allow_large)
    delay_x, delay_y = check_delays(delay_x, "delay_x"), check_delays(delay_y, "delay_y")
    if not (isinstance(delay_x, int) and isinstance(delay_y, int)):
        raise TypeError("delay_x and delay_y must be single ints for images")
    img = jnp.asarray(image)
    if img.dtype == jnp.bool_ or not (
        jnp.issubdtype(img.dtype, jnp.floating) or jnp.issubdtype(img.dtype, jnp.integer)
    ):
        raise TypeError(f"image must have a real (float or int) dtype, got {img.dtype}")
    if img.ndim not in (2, 3):
        raise ValueError(
            f"image must have shape (H, W) or a batch (B, H, W), got shape {img.shape}"
        )
    span_y, span_x = (dy - 1) * delay_y + 1, (dx - 1) * delay_x + 1
    if img.shape[-2] < span_y or img.shape[-1] < span_x:
        raise ValueError(
            f"image of size {img.shape[-2:]} is smaller than the {span_y} x {span_x} window "
            f"(dy={dy}, dx={dx}, delay_y={delay_y}, delay_x={delay_x})"
        )
    return finite_guard(img, "image"), n, delay_x, delay_y


@functools.partial(jax.jit, static_argnames=("dx", "dy", "delay_x", "delay_y", "what"))
def _image_kernel(img: Array, dx: int, dy: int, delay_x: int, delay_y: int, what: str):
    counts = _image_counts(img, dx, dy, delay_x, delay_y)
    if what == "counts":
        return counts
    if what == "hc":
        return hc_from_counts(counts, float_dtype(img))
    c = counts.astype(float_dtype(img))
    return c / jnp.sum(c, axis=-1, keepdims=True)


def _image_counts(img: Array, dx: int, dy: int, delay_x: int, delay_y: int) -> Array:
    rows = img.shape[-2] - (dy - 1) * delay_y
    cols = img.shape[-1] - (dx - 1) * delay_x
    views = [
        img[..., j * delay_y : j * delay_y + rows, i * delay_x : i * delay_x + cols]
        for j in range(dy)
        for i in range(dx)
    ]
    views = [v.reshape(*img.shape[:-2], rows * cols) for v in views]
    return bincount_rows(ENCODERS["argsort"](views, dx * dy), math.factorial(dx * dy))


def image_pattern_counts(
    image: Real[ArrayLike, "*batch height width"],
    dx: int = 2,
    dy: int = 2,
    delay_x: int = 1,
    delay_y: int = 1,
    *,
    allow_large: bool = False,
) -> Int[Array, "*batch n_patterns"]:
    """Counts of the (dx·dy)! two-dimensional ordinal patterns of an image (or a batch).

    Args:
        image: (H, W) or (B, H, W), float or int (ties ranked in row-major order).
        dx, dy: window width and height (dx·dy ≥ 2, ≤ 10 unless ``allow_large``). Static.
        delay_x, delay_y: column and row delays (ints ≥ 1). Static.

    Returns:
        int32 counts (..., (dx·dy)!) in the order of ``all_patterns(dx * dy)``.

    Example::

        image_pattern_counts(jax.random.normal(key, (64, 64)))   # (24,) counts, 2x2 windows
    """
    return _image(image, dx, dy, delay_x, delay_y, allow_large, "counts")


def _image(image, dx, dy, delay_x, delay_y, allow_large, what):
    img, _, delay_x, delay_y = _validated(image, dx, dy, delay_x, delay_y, allow_large)
    return _image_kernel(img, dx=dx, dy=dy, delay_x=delay_x, delay_y=delay_y, what=what)


def image_ordinal_distribution(
    image: Real[ArrayLike, "*batch height width"],
    dx: int = 2,
    dy: int = 2,
    delay_x: int = 1,
    delay_y: int = 1,
    *,
    allow_large: bool = False,
) -> Float[Array, "*batch n_patterns"]:
    """Probabilities of the two-dimensional ordinal patterns (see :func:`image_pattern_counts`).

    Equals ``ordpy.ordinal_distribution(image, dx, dy, taux, tauy, return_missing=True,
    ordered=True)``.

    Example::

        image_ordinal_distribution(image, dx=3, dy=2)   # (720,)
    """
    return _image(image, dx, dy, delay_x, delay_y, allow_large, "probs")


def image_entropy_complexity(
    image: Real[ArrayLike, "*batch height width"],
    dx: int = 2,
    dy: int = 2,
    delay_x: int = 1,
    delay_y: int = 1,
    *,
    allow_large: bool = False,
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """(H, C) of an image's two-dimensional ordinal patterns (the complexity–entropy plane).

    Equals ``ordpy.complexity_entropy(image, dx=dx, dy=dy, taux=delay_x, tauy=delay_y)``.

    Example::

        H, C = image_entropy_complexity(image, dx=2, dy=2)
    """
    return _image(image, dx, dy, delay_x, delay_y, allow_large, "hc")
