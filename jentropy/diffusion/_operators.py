"""Subsampling measurement operators with adjoints: pixels, lines, k-space lines.

Every operator splits its full measurement into ``L`` *locations* with ``F`` real features each:
``measure(x)`` is an ``(L, F)`` array, and a subsampling mask is an ``(L,)`` vector over locations.
The masked measurement ``forward(x, mask) = mask[:, None] · measure(x)`` keeps its shape, so masks
can change inside ``jit``/``lax.scan`` without recompiling. ``adjoint`` is the transpose of
``measure`` (``⟨measure(x), y⟩ = ⟨x, adjoint(y)⟩``), and ``measure`` is an isometry for all three
operators, so ``x + adjoint(mask · (y − measure(x)))`` is hard data consistency (replace what was
measured, keep the rest).

Images are ``(H, W)`` or channel-first ``(C, H, W)``.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def _check_image_shape(image_shape: tuple[int, ...], *, channels: bool = True) -> tuple[int, ...]:
    shape = tuple(int(s) for s in image_shape)
    allowed = (2, 3) if channels else (2,)
    if len(shape) not in allowed or any(s < 1 for s in shape):
        what = "(H, W) or (C, H, W)" if channels else "(H, W)"
        raise ValueError(f"image_shape must be {what} with positive sizes, got {image_shape!r}")
    return shape


def centered_fft2(x: Float[Array, "... h w"]) -> Array:
    """The centred orthonormal 2-D DFT ``fftshift(fft2(ifftshift(x), norm="ortho"))`` over the
    last two axes (k-space with the zero frequency in the middle; Parseval holds exactly).

    Example::

        k = centered_fft2(image)            # complex (H, W)
        image = centered_ifft2(k).real
    """
    axes = (-2, -1)
    shifted = jnp.fft.ifftshift(x, axes=axes)
    return jnp.fft.fftshift(jnp.fft.fft2(shifted, axes=axes, norm="ortho"), axes=axes)


def centered_ifft2(k: Array) -> Array:
    """The inverse of :func:`centered_fft2` (complex output)."""
    axes = (-2, -1)
    shifted = jnp.fft.ifftshift(k, axes=axes)
    return jnp.fft.fftshift(jnp.fft.ifft2(shifted, axes=axes, norm="ortho"), axes=axes)


class MeasurementOperator(eqx.Module):
    """A linear subsampling operator: ``measure`` (L, F), its ``adjoint``, masks over L."""

    image_shape: tuple[int, ...] = eqx.field(static=True)

    @property
    @abc.abstractmethod
    def num_locations(self) -> int:
        """L, the number of selectable locations."""

    @property
    @abc.abstractmethod
    def num_features(self) -> int:
        """F, the real features measured at each location."""

    @abc.abstractmethod
    def measure(self, x: Array) -> Float[Array, "L F"]:
        """The full (unmasked) measurement of one image."""

    @abc.abstractmethod
    def adjoint(self, y: Float[Array, "L F"]) -> Array:
        """The transpose of :meth:`measure` (an image)."""

    @abc.abstractmethod
    def mask_image(self, mask: ArrayLike) -> Float[Array, "h w"]:
        """Where a location mask samples, drawn in the (H, W) plane (for pictures)."""

    def check_image(self, x: Array, name: str = "x") -> Array:
        """``x`` as an array of ``image_shape``; ValueError otherwise."""
        x = jnp.asarray(x)
        if x.shape != self.image_shape or not jnp.issubdtype(x.dtype, jnp.floating):
            raise ValueError(
                f"{name} must be a float image of shape {self.image_shape}, got {x.dtype} {x.shape}"
            )
        return x

    def check_mask(self, mask: ArrayLike, name: str = "mask") -> Array:
        """``mask`` as an (L,) array (bool or 0/1 floats); ValueError naming the shape otherwise."""
        mask = jnp.asarray(mask)
        if mask.shape != (self.num_locations,):
            raise ValueError(
                f"{name} must have shape ({self.num_locations},) (one entry per location of "
                f"{type(self).__name__} on images {self.image_shape}), got {mask.shape}"
            )
        if not (mask.dtype == jnp.bool_ or jnp.issubdtype(mask.dtype, jnp.floating)):
            raise ValueError(f"{name} must be bool or float 0/1, got dtype {mask.dtype}")
        return mask

    def forward(self, x: Array, mask: ArrayLike) -> Float[Array, "L F"]:
        """The masked measurement ``mask[:, None] · measure(x)`` (zeros where not sampled).

        Example::

            op = PixelSampling((8, 8))
            y = op.forward(x, mask)          # (64, 1)
        """
        y = self.measure(x)
        return self.check_mask(mask).astype(y.dtype)[:, None] * y

    def hard_consistency(self, x: Array, y: Float[Array, "L F"], mask: ArrayLike) -> Array:
        """``x + adjoint(mask · (y − measure(x)))``: the measured part replaced by ``y``.

        For pixels and lines this overwrites what was measured; for k-space lines it replaces the
        measured lines in ``x``'s k-space and returns the real part of the inverse transform.
        """
        mask = self.check_mask(mask).astype(y.dtype)[:, None]
        return x + self.adjoint(mask * (y - self.measure(x)))


class PixelSampling(MeasurementOperator):
    """Pixel subsampling (inpainting): ``L = H·W`` pixel locations, ``F = C`` channels.

    Example::

        op = PixelSampling((8, 8))
        y = op.forward(x, mask)            # mask: (64,), y: (64, 1)
        op.adjoint(y)                      # (8, 8), zeros off the mask
    """

    def __init__(self, image_shape: tuple[int, ...]):
        """Args: ``image_shape`` (H, W) or (C, H, W)."""
        self.image_shape = _check_image_shape(image_shape)

    @property
    def num_locations(self) -> int:
        return self.image_shape[-2] * self.image_shape[-1]

    @property
    def num_features(self) -> int:
        return self.image_shape[0] if len(self.image_shape) == 3 else 1

    def measure(self, x: Array) -> Float[Array, "L F"]:
        return x.reshape(self.num_features, self.num_locations).T

    def adjoint(self, y: Float[Array, "L F"]) -> Array:
        return y.T.reshape(self.image_shape)

    def mask_image(self, mask: ArrayLike) -> Float[Array, "h w"]:
        mask = jnp.asarray(mask)
        return mask.reshape(self.image_shape[-2:]).astype(jnp.result_type(float))


class LineSampling(MeasurementOperator):
    """Column subsampling in image space: ``L = W`` columns, ``F = C·H`` values each.

    Example::

        op = LineSampling((32, 32))
        y = op.forward(x, mask)            # mask: (32,), y: (32, 32)
    """

    def __init__(self, image_shape: tuple[int, ...]):
        """Args: ``image_shape`` (H, W) or (C, H, W); locations are the W columns."""
        self.image_shape = _check_image_shape(image_shape)

    @property
    def num_locations(self) -> int:
        return self.image_shape[-1]

    @property
    def num_features(self) -> int:
        channels = self.image_shape[0] if len(self.image_shape) == 3 else 1
        return channels * self.image_shape[-2]

    def measure(self, x: Array) -> Float[Array, "L F"]:
        return jnp.moveaxis(x, -1, 0).reshape(self.num_locations, self.num_features)

    def adjoint(self, y: Float[Array, "L F"]) -> Array:
        moved = (self.image_shape[-1], *self.image_shape[:-1])
        return jnp.moveaxis(y.reshape(moved), 0, -1)

    def mask_image(self, mask: ArrayLike) -> Float[Array, "h w"]:
        mask = jnp.asarray(mask).astype(jnp.result_type(float))
        return jnp.broadcast_to(mask[None, :], self.image_shape[-2:])


class KSpaceLineSampling(MeasurementOperator):
    """MRI-style subsampling: lines (columns) of the centred orthonormal 2-D DFT of an (H, W) image.

    ``measure(x)`` is ``[Re K, Im K]`` per column of ``K = centered_fft2(x)``: ``L = W`` lines,
    ``F = 2H`` features. The adjoint of this real-to-real map is ``Re centered_ifft2(K)``; the
    measurement is an isometry (Parseval).

    Example::

        op = KSpaceLineSampling((32, 32))
        y = op.forward(x, mask)            # mask over the 32 k-space columns, y: (32, 64)
        zero_filled = op.adjoint(y)        # the zero-filled reconstruction
    """

    def __init__(self, image_shape: tuple[int, int]):
        """Args: ``image_shape`` (H, W), a single-channel real image."""
        self.image_shape = _check_image_shape(image_shape, channels=False)

    @property
    def num_locations(self) -> int:
        return self.image_shape[1]

    @property
    def num_features(self) -> int:
        return 2 * self.image_shape[0]

    def measure(self, x: Array) -> Float[Array, "L F"]:
        k = centered_fft2(x).T  # (W, H): one row per column of k-space
        return jnp.concatenate([jnp.real(k), jnp.imag(k)], axis=-1)

    def adjoint(self, y: Float[Array, "L F"]) -> Array:
        h = self.image_shape[0]
        k = jax.lax.complex(y[:, :h], y[:, h:]).T
        return jnp.real(centered_ifft2(k))

    def mask_image(self, mask: ArrayLike) -> Float[Array, "h w"]:
        mask = jnp.asarray(mask).astype(jnp.result_type(float))
        return jnp.broadcast_to(mask[None, :], self.image_shape)

    def conjugate_lines(self) -> Array:
        """(W,) the column holding frequency −f for the column of frequency f.

        A real image has a Hermitian k-space, ``K(−k) = conj K(k)``: measuring a line also gives
        its conjugate line (partial Fourier). Column ``j`` holds ``f = j − W//2``, so its partner
        is ``(2 (W//2) − j) mod W`` (the DC column, and for even W the Nyquist column 0, are
        their own partners).

        Example::

            KSpaceLineSampling((8, 8)).conjugate_lines()    # [0, 7, 6, 5, 4, 3, 2, 1]
        """
        w = self.image_shape[1]
        return (2 * (w // 2) - jnp.arange(w)) % w
