"""Data for the reproductions: scikit-learn's 8×8 digits and MRI-like ellipse phantoms."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

# The modified Shepp–Logan head (Toft 1996): intensity, semi-axes (a, b), centre (x0, y0) and
# rotation in degrees of each ellipse, on [-1, 1]².
_SHEPP_LOGAN = (
    (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
)


def load_digits() -> tuple[Float[Array, "n 8 8"], Int[Array, " n"]]:
    """scikit-learn's bundled 8×8 handwritten digits (1797 images, no download), scaled to
    [0, 1] (pixel / 16), with their labels 0–9.

    Raises:
        ImportError: scikit-learn is not installed (``pip install scikit-learn``).

    Example::

        images, labels = load_digits()         # (1797, 8, 8) float32, (1797,) int32
    """
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError as err:  # pragma: no cover - exercised only without scikit-learn
        raise ImportError(
            "the digits experiments need scikit-learn (its bundled 8x8 digits): "
            "pip install scikit-learn  (or pip install 'jentropy[test]')"
        ) from err
    bunch = _load()
    images = np.asarray(bunch.images, np.float32) / 16.0
    return jnp.asarray(images), jnp.asarray(bunch.target, jnp.int32)


def _draw_ellipses(params: Array, size: int, dtype: jnp.dtype) -> Array:
    """Sum of filled ellipses ``params`` (n, 6) = (intensity, a, b, x0, y0, angle[rad]) on a
    ``size``² grid over [-1, 1]² (row 0 at the top: y = +1)."""
    coords = (jnp.arange(size, dtype=dtype) + 0.5) * (2.0 / size) - 1.0
    xx, yy = jnp.meshgrid(coords, -coords)

    def one(p: Array) -> Array:
        value, a, b, x0, y0, angle = p
        c, s = jnp.cos(angle), jnp.sin(angle)
        u = (xx - x0) * c + (yy - y0) * s
        v = -(xx - x0) * s + (yy - y0) * c
        inside = (u / a) ** 2 + (v / b) ** 2 <= 1.0
        return jnp.where(inside, value, 0.0)

    return jnp.sum(jax.vmap(one)(params), 0)


def shepp_logan(size: int = 64) -> Float[Array, "size size"]:
    """The modified Shepp–Logan phantom (Toft 1996) on a ``size``² grid, values in [0, 1].

    Example::

        phantom = shepp_logan(64)
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValueError(f"size must be an int >= 2, got {size!r}")
    p = np.array(_SHEPP_LOGAN, np.float32)
    p[:, 5] *= math.pi / 180.0
    # sums like 1 − 0.8 − 0.2 round to ±1e-8: clip to the exact range
    return jnp.clip(_draw_ellipses(jnp.asarray(p), size, jnp.float32), 0.0, 1.0)


def _blur(image: Array, width: float) -> Array:
    radius = max(1, math.ceil(3 * width))
    offsets = jnp.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = jnp.exp(-0.5 * (offsets / width) ** 2)
    kernel = kernel / jnp.sum(kernel)
    padded = jnp.pad(image, radius, mode="edge")
    rows = jax.scipy.signal.convolve2d(padded, kernel[None, :], mode="valid")
    return jax.scipy.signal.convolve2d(rows, kernel[:, None], mode="valid")


def random_phantoms(
    key: PRNGKeyArray,
    num: int,
    size: int = 32,
    *,
    num_features: int = 4,
    oversample: int = 4,
    blur: float = 0.6,
    texture: float = 0.0,
) -> Float[Array, "num size size"]:
    """MRI-like random phantoms: a head (bright rim, darker brain) with jittered shape and
    position, and ``num_features`` random interior ellipses (tissue regions, lesions) of random
    size, position, orientation and contrast. Drawn on an ``oversample``-times finer grid and
    averaged down (partial-volume pixels), then smoothed by a Gaussian of ``blur`` pixels (the
    finite resolution of a scanner), so that the k-space decays as for real images. With
    ``texture > 0`` the brain carries a stripe pattern of amplitude up to ``texture`` whose
    frequency (3 to size/3 cycles across the image, along x), phase and tilt are drawn per image:
    fine, image-specific structure whose k-space lines differ from image to image. Values in
    [0, 1].

    Example::

        phantoms = random_phantoms(jax.random.key(0), 1000, 32)     # (1000, 32, 32)
    """
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"num must be an int >= 1, got {num!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 4:
        raise ValueError(f"size must be an int >= 4, got {size!r}")
    if isinstance(oversample, bool) or not isinstance(oversample, int) or oversample < 1:
        raise ValueError(f"oversample must be an int >= 1, got {oversample!r}")
    if not blur >= 0:
        raise ValueError(f"blur must be >= 0 (pixels), got {blur!r}")
    return _phantoms(key, num, size, num_features, oversample, float(blur), float(texture))


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5, 6))
def _phantoms(
    key: PRNGKeyArray,
    num: int,
    size: int,
    num_features: int,
    oversample: int,
    blur: float,
    texture: float,
) -> Array:

    def one(key: PRNGKeyArray) -> Array:
        k_head, k_feat, k_tex = jax.random.split(key, 3)
        h = jax.random.uniform(k_head, (5,), jnp.float32, -1.0, 1.0)
        a, b = 0.70 + 0.08 * h[0], 0.88 + 0.06 * h[1]
        x0, y0, angle = 0.06 * h[2], 0.06 * h[3], 0.25 * h[4]
        head = jnp.array(
            [
                [1.0, a, b, x0, y0, angle],
                [-0.75, 0.9 * a, 0.92 * b, x0, y0 - 0.015, angle],
            ]
        )
        f = jax.random.uniform(k_feat, (num_features, 6), jnp.float32)
        radius, theta = 0.55 * jnp.sqrt(f[:, 0]), 2.0 * math.pi * f[:, 1]
        centre_x = x0 + 0.8 * a * radius * jnp.cos(theta)
        centre_y = y0 + 0.8 * b * radius * jnp.sin(theta)
        axes_a = 0.06 + 0.2 * f[:, 2]
        axes_b = axes_a * (0.3 + 0.7 * f[:, 3])
        sign = jnp.where(f[:, 4] < 0.5, -1.0, 1.0)
        value = sign * (0.1 + 0.25 * jnp.abs(2.0 * f[:, 4] - 1.0))
        features = jnp.stack([value, axes_a, axes_b, centre_x, centre_y, math.pi * f[:, 5]], axis=1)
        fine = _draw_ellipses(jnp.concatenate([head, features]), size * oversample, jnp.float32)
        if texture > 0:
            u = jax.random.uniform(k_tex, (4,), jnp.float32)
            coords = (jnp.arange(size * oversample, dtype=jnp.float32) + 0.5) / oversample
            xx, yy = jnp.meshgrid(coords, coords)
            cycles = 3.0 + u[0] * (size / 3.0 - 3.0)
            tilt = 0.15 * (2.0 * u[2] - 1.0)
            phase = 2.0 * math.pi * (cycles * (xx + tilt * yy) / size + u[1])
            brain = _draw_ellipses(
                head[1:2] * jnp.array([-1.0, 1, 1, 1, 1, 1]), size * oversample, jnp.float32
            )
            fine = fine + texture * (0.5 + 0.5 * u[3]) * brain * jnp.cos(phase)
        image = jnp.clip(fine, 0.0, 1.0).reshape(size, oversample, size, oversample).mean((1, 3))
        if blur > 0:
            image = _blur(image, blur)
        return jnp.clip(image, 0.0, 1.0)

    return jax.vmap(one)(jax.random.split(key, num))
