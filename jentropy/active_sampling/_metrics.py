"""Reconstruction metrics: MAE, PSNR and SSIM (Wang et al. 2004, as fastMRI evaluates it)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def _pair(x: ArrayLike, ref: ArrayLike) -> tuple[Array, Array]:
    x, ref = jnp.asarray(x), jnp.asarray(ref)
    if x.shape != ref.shape:
        raise ValueError(f"x and reference must have the same shape, got {x.shape} and {ref.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating) or x.dtype != ref.dtype:
        raise ValueError(f"x and reference must share a float dtype, got {x.dtype}, {ref.dtype}")
    return x, ref


def mae(x: ArrayLike, reference: ArrayLike) -> Float[Array, ""]:
    """Mean absolute error ``mean |x − reference|`` (ADS's MNIST metric).

    Example::

        mae(result.reconstruction, x_true)
    """
    x, ref = _pair(x, reference)
    return jnp.mean(jnp.abs(x - ref))


def psnr(x: ArrayLike, reference: ArrayLike, data_range: float = 1.0) -> Float[Array, ""]:
    """Peak signal-to-noise ratio ``10 log10(data_range² / MSE)`` in dB (+inf when equal).

    Example::

        psnr(reconstruction, x_true, data_range=1.0)
    """
    x, ref = _pair(x, reference)
    mse = jnp.mean((x - ref) ** 2)
    return 10.0 * jnp.log10(data_range**2 / mse)


def ssim(
    x: ArrayLike,
    reference: ArrayLike,
    data_range: float = 1.0,
    *,
    window: int = 7,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Float[Array, ""]:
    """Structural similarity of two (H, W) images: the mean over all fully covered ``window``²
    patches of ``(2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))``,
    ``C1 = (k1 R)²``, ``C2 = (k2 R)²``, with uniform windows and sample (co)variances — the
    convention of scikit-image's ``structural_similarity`` defaults, which fastMRI and ADS use.

    Args:
        x, reference: (H, W) images, H, W ≥ ``window``.
        data_range: R, the dynamic range (fastMRI: the reference's maximum).
        window: odd side of the uniform window. k1, k2: stabilisers.

    Example::

        ssim(reconstruction, x_true, data_range=float(x_true.max()))
    """
    x, ref = _pair(x, reference)
    if x.ndim != 2:
        raise ValueError(f"ssim takes (H, W) images (vmap for batches), got shape {x.shape}")
    if window < 2 or window % 2 == 0 or min(x.shape) < window:
        raise ValueError(
            f"window must be odd, >= 3 and <= min(H, W) = {min(x.shape)}, got {window}"
        )
    kernel = jnp.full((window, window), 1.0 / window**2, x.dtype)

    def blur(a: Array) -> Array:
        return jax.scipy.signal.convolve2d(a, kernel, mode="valid")

    n = window**2
    cov_norm = n / (n - 1.0)
    mx, my = blur(x), blur(ref)
    vx = cov_norm * (blur(x * x) - mx * mx)
    vy = cov_norm * (blur(ref * ref) - my * my)
    vxy = cov_norm * (blur(x * ref) - mx * my)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    num = (2.0 * mx * my + c1) * (2.0 * vxy + c2)
    den = (mx**2 + my**2 + c1) * (vx + vy + c2)
    return jnp.mean(num / den)
