"""Variance-preserving noise schedules: ``x_t = α(t) x_0 + σ(t) ε`` with ``α² + σ² = 1``.

Time is continuous, ``t ∈ [0, 1]``, ``t = 1`` the noisiest. Every schedule is an angle
``θ(t) ∈ [0, π/2]`` with ``α = cos θ`` and ``σ = sin θ``, so ``α² + σ² = 1`` holds to rounding.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def _time(t: ArrayLike) -> Array:
    t = jnp.asarray(t)
    if not jnp.issubdtype(t.dtype, jnp.floating):
        t = t.astype(jnp.result_type(float))
    return t


def _check_rate(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a float in (0, 1), got {value!r}")
    return float(value)


class NoiseSchedule(eqx.Module):
    """A variance-preserving schedule: ``angle(t)`` with ``α = cos θ(t)``, ``σ = sin θ(t)``.

    Subclasses implement :meth:`angle`; ``signal_rate``/``noise_rate``/``__call__`` follow.
    """

    @abc.abstractmethod
    def angle(self, t: ArrayLike) -> Float[Array, "..."]:
        """``θ(t)`` in radians, increasing from ``θ(0)`` to ``θ(1)`` < π/2."""

    def signal_rate(self, t: ArrayLike) -> Float[Array, "..."]:
        """``α(t) = cos θ(t)`` (elementwise over ``t``)."""
        return jnp.cos(self.angle(t))

    def noise_rate(self, t: ArrayLike) -> Float[Array, "..."]:
        """``σ(t) = sin θ(t)`` (elementwise over ``t``)."""
        return jnp.sin(self.angle(t))

    def __call__(self, t: ArrayLike) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
        """``(α(t), σ(t))``."""
        theta = self.angle(t)
        return jnp.cos(theta), jnp.sin(theta)


class AngularSchedule(NoiseSchedule):
    """The schedule of the Keras DDIM example that ADS uses: θ linear in ``t``.

    ``θ(t) = θ_0 + t (θ_1 − θ_0)`` with ``θ_0 = arccos(max_signal)`` and
    ``θ_1 = arccos(min_signal)``, so ``α(0) = max_signal`` and ``α(1) = min_signal``
    (ADS: 0.95 and 0.02).

    Example::

        schedule = AngularSchedule()
        alpha, sigma = schedule(jnp.linspace(0.0, 1.0, 5))   # alpha[0] = 0.95, alpha[-1] = 0.02
    """

    max_signal: float = eqx.field(static=True)
    min_signal: float = eqx.field(static=True)

    def __init__(self, max_signal: float = 0.95, min_signal: float = 0.02):
        """Args: ``max_signal`` = α(0) and ``min_signal`` = α(1), with 0 < min < max < 1."""
        self.max_signal = _check_rate(max_signal, "max_signal")
        self.min_signal = _check_rate(min_signal, "min_signal")
        if not self.min_signal < self.max_signal:
            raise ValueError(
                f"min_signal must be < max_signal, got {self.min_signal} and {self.max_signal}"
            )

    def angle(self, t: ArrayLike) -> Float[Array, "..."]:
        t = _time(t)
        start, end = math.acos(self.max_signal), math.acos(self.min_signal)
        return (start + t * (end - start)).astype(t.dtype)


class CosineSchedule(NoiseSchedule):
    """The cosine schedule of Nichol & Dhariwal (2021), in continuous time.

    ``α(t) = cos(π/2 (t + s)/(1 + s)) / cos(π/2 s/(1 + s))`` with offset ``s`` (0.008), clipped
    below at ``min_signal`` so that ``x̂0 = (x_t − σ ε̂)/α`` stays finite at ``t = 1``.

    Example::

        alpha, sigma = CosineSchedule()(0.5)   # alpha ≈ 0.70
    """

    offset: float = eqx.field(static=True)
    min_signal: float = eqx.field(static=True)

    def __init__(self, offset: float = 0.008, min_signal: float = 0.02):
        """Args: ``offset`` s ≥ 0 and the floor ``min_signal`` in (0, 1) of α."""
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or offset < 0:
            raise ValueError(f"offset must be a float >= 0, got {offset!r}")
        self.offset = float(offset)
        self.min_signal = _check_rate(min_signal, "min_signal")

    def angle(self, t: ArrayLike) -> Float[Array, "..."]:
        t = _time(t)
        s = self.offset
        theta = 0.5 * math.pi * (t + s) / (1.0 + s)
        alpha = jnp.cos(theta) / math.cos(0.5 * math.pi * s / (1.0 + s))
        alpha = jnp.clip(alpha, self.min_signal, 1.0)
        return jnp.arccos(alpha).astype(t.dtype)


class LinearSchedule(NoiseSchedule):
    """DDPM's linear β schedule as the VP-SDE of Song et al. (2021).

    ``log α(t) = −¼ t² (β_max − β_min) − ½ t β_min`` (β_min = 0.1, β_max = 20: DDPM's 1e-4 to
    0.02 over 1000 steps), ``σ = sqrt(1 − α²)``.

    Example::

        alpha, sigma = LinearSchedule()(1.0)   # alpha ≈ 0.0064
    """

    beta_min: float = eqx.field(static=True)
    beta_max: float = eqx.field(static=True)

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0):
        """Args: ``0 ≤ beta_min < beta_max``."""
        if not (0.0 <= beta_min < beta_max):
            raise ValueError(
                f"need 0 <= beta_min < beta_max, got beta_min={beta_min!r}, beta_max={beta_max!r}"
            )
        self.beta_min, self.beta_max = float(beta_min), float(beta_max)

    def angle(self, t: ArrayLike) -> Float[Array, "..."]:
        t = _time(t)
        log_alpha = -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min
        # θ = arctan(σ/α) keeps precision at both ends (σ = sqrt(-expm1(2 log α)))
        sigma = jnp.sqrt(-jnp.expm1(2.0 * log_alpha))
        return jnp.arctan2(sigma, jnp.exp(log_alpha)).astype(t.dtype)
