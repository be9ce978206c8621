r"""Power spectra and the dominant period of a trajectory.

dysts stores, per system, the period of the dominant peak of the power spectrum (its
"Fourier timescale", used to resample trajectories to a fixed number of points per period).
:func:`dominant_period` recomputes it: the periodogram of each (Hann-windowed, mean-removed)
coordinate, normalised to unit total power and averaged over coordinates; the highest peak away
from zero frequency, refined by a parabola through the log-power of the peak bin and its two
neighbours (sub-bin accuracy).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._series import as_series


def power_spectrum(
    x: Float[ArrayLike, "T d"], dt: float = 1.0
) -> tuple[Float[Array, " F"], Float[Array, "F d"]]:
    r"""One-sided periodogram ``|FFT(w · (x − x̄))|²`` of each coordinate (Hann window ``w``).

    Args:
        x: series ``(T,)`` or ``(T, d)`` sampled every ``dt``.
        dt: sampling step.

    Returns:
        ``(freqs, psd)``: frequencies ``k / (T dt)`` for ``k = 0 … T//2`` (shape ``(F,)``) and
        the power per coordinate (shape ``(F, d)``, unnormalised).

    Example::

        f, p = power_spectrum(jnp.sin(2 * jnp.pi * jnp.arange(1000) / 50.0))   # peak at 0.02
    """
    x = as_series(x, min_len=8, multivariate=True)
    return _power_spectrum(x, jnp.asarray(dt, x.dtype))


@jax.jit
def _power_spectrum(x: Array, dt: Array) -> tuple[Array, Array]:
    t = x.shape[0]
    w = jnp.sin(jnp.pi * (jnp.arange(t, dtype=x.dtype) + 0.5) / t) ** 2
    z = (x - jnp.mean(x, axis=0)) * w[:, None]
    psd = jnp.abs(jnp.fft.rfft(z, axis=0)) ** 2
    freqs = jnp.arange(psd.shape[0], dtype=x.dtype) / (t * dt)
    return freqs, psd


@functools.partial(jax.jit, static_argnames=("min_bin",))
def _peak(freqs: Array, psd: Array, min_bin: int) -> Array:
    total = jnp.sum(psd, axis=0, keepdims=True)
    p = jnp.mean(psd / jnp.where(total > 0, total, jnp.ones_like(total)), axis=1)
    p = p.at[:min_bin].set(0.0)
    k = jnp.clip(jnp.argmax(p), 1, p.shape[0] - 2)
    tiny = jnp.finfo(p.dtype).tiny
    a, b, c = (jnp.log(jnp.maximum(p[k + j], tiny)) for j in (-1, 0, 1))
    denom = a - 2 * b + c
    shift = jnp.where(denom < 0, 0.5 * (a - c) / jnp.where(denom < 0, denom, -1.0), 0.0)
    df = freqs[1] - freqs[0]
    return freqs[k] + jnp.clip(shift, -0.5, 0.5) * df


def dominant_frequency(x: Float[ArrayLike, "T d"], dt: float = 1.0, *, min_bin: int = 2) -> Array:
    """Frequency ``f*`` of the highest peak of the coordinate-averaged normalised power spectrum.

    Bins below ``min_bin`` (the mean and the slowest trend) are ignored; the peak is refined by
    a parabola through the log-power of its bin and the two neighbours. See
    :func:`dominant_period` for the arguments.

    Returns:
        ``f*`` in cycles per unit of ``dt`` (a scalar).

    Example::

        dominant_frequency(jnp.sin(2 * jnp.pi * 0.05 * jnp.arange(2000.0)))     # ≈ 0.05
    """
    x = as_series(x, min_len=8, multivariate=True)
    if not isinstance(min_bin, int) or not 1 <= min_bin < x.shape[0] // 2 - 1:
        raise ValueError(f"min_bin must be an int in [1, T/2 − 1), got {min_bin!r}")
    freqs, psd = power_spectrum(x, dt)
    return _peak(freqs, psd, min_bin)


def dominant_period(x: Float[ArrayLike, "T d"], dt: float = 1.0, *, min_bin: int = 2) -> Array:
    r"""Period ``1 / f*`` of the dominant spectral peak of a (multivariate) series.

    The periodogram of each Hann-windowed coordinate is normalised to unit power and averaged;
    ``f*`` is its highest peak above the ``min_bin``-th frequency bin, refined by parabolic
    interpolation of the log-power. Resolution: the series should span many periods (the bin
    width is ``1 / (T dt)``).

    Args:
        x: series ``(T,)`` or ``(T, d)``.
        dt: sampling step (the period is returned in the same unit).
        min_bin: lowest frequency bin considered.

    Returns:
        The period, a scalar.

    Example::

        t = jnp.arange(4000.0) * 0.01
        dominant_period(jnp.sin(2 * jnp.pi * t / 1.7), dt=0.01)      # ≈ 1.7
    """
    return 1.0 / dominant_frequency(x, dt, min_bin=min_bin)
