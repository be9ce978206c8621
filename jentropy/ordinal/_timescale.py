"""Choosing the sampling interval: natural timescales, pattern time and H, C as functions of ℓ.

PECCARY ties the sampling interval ℓ to the signal's own timescale. A pattern of length n at
delay ℓ spans the *pattern time* t_pat = (n − 1) ℓ δt. With a *natural timescale* t_nat of the
series (estimated from its mean crossings, or the mean spacing of its minima or maxima), the
recommended choice is t_pat / t_nat ≈ 0.4 (0.3 – 0.5 is the recommended range), i.e.
ℓ = round(0.4 t_nat / ((n − 1) δt)), and the series should last at least 1.5 t_nat.

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Real

from ._checks import check_order, check_series, finite_guard, float_dtype
from ._complexity import entropy_complexity

__all__ = [
    "TIMESCALE_METHODS",
    "entropy_complexity_vs_delay",
    "natural_timescale",
    "pattern_time",
    "recommended_delay",
    "recommended_delay_range",
    "suggest_delay",
]

#: Natural-timescale estimators accepted by :func:`natural_timescale`.
TIMESCALE_METHODS = ("crossings", "minima", "maxima")
#: Recommended range of t_pat / t_nat, and the value used in the paper's examples.
RECOMMENDED_RATIO_RANGE = (0.3, 0.5)
DEFAULT_RATIO = 0.4
#: A series should last at least this many natural timescales.
MIN_DURATION_IN_TNAT = 1.5


@functools.partial(jax.jit, static_argnames=("method",))
def _natural_timescale(x: Array, dt: Array, center: Array | None, method: str) -> Array:
    dtype = dt.dtype
    length = x.shape[-1]
    if method == "crossings":
        c = jnp.mean(x, axis=-1, keepdims=True) if center is None else center[..., None]
        s = jnp.sign(x - c)
        crossings = jnp.sum(s[..., 1:] != s[..., :-1], axis=-1).astype(dtype)
        duration = (length - 1) * dt
        return jnp.where(crossings > 0, duration / jnp.maximum(crossings / 2, 0.5), jnp.inf)
    mid, left, right = x[..., 1:-1], x[..., :-2], x[..., 2:]
    if method == "minima":
        extremum = (mid < left) & (mid < right)
    else:
        extremum = (mid > left) & (mid > right)
    idx = jnp.arange(1, length - 1, dtype=jnp.int32)
    count = jnp.sum(extremum, axis=-1)
    first = jnp.min(jnp.where(extremum, idx, length), axis=-1)
    last = jnp.max(jnp.where(extremum, idx, -1), axis=-1)
    spacing = (last - first).astype(dtype) / jnp.maximum(count - 1, 1).astype(dtype)
    return jnp.where(count >= 2, spacing * dt, jnp.inf)


def natural_timescale(
    x: Real[ArrayLike, "*batch time"],
    dt: float = 1.0,
    *,
    method: str = "crossings",
    center: Float[ArrayLike, "*batch"] | None = None,
) -> Float[Array, "*batch"]:
    """Natural timescale t_nat of a series (PECCARY's estimators).

    * ``"crossings"`` (default): the series crosses ``center`` (default: its mean) k times over
      its duration (T − 1)·dt, so t_nat = (T − 1)·dt / (k / 2) (two crossings per cycle). A
      crossing is a change of sign of x − center between consecutive samples.
    * ``"minima"`` / ``"maxima"``: mean spacing of the strict local minima (maxima) — points
      below (above) both neighbours — times dt.

    Args:
        x: a series (T,) or a batch (B, T), sampled every ``dt``.
        dt: sampling step δt (> 0).
        method: one of ``TIMESCALE_METHODS``.
        center: level for the crossing count, per series (default: the series mean).

    Returns:
        t_nat per series (in x's float dtype); +inf when the series has no crossings (fewer than
        two extrema), i.e. no timescale is visible in it.

    Example::

        t = jnp.arange(0, 100, 0.01)
        natural_timescale(jnp.sin(2 * jnp.pi * t / 10), dt=0.01)   # ≈ 10
    """
    if method not in TIMESCALE_METHODS:
        raise ValueError(f"method must be one of {TIMESCALE_METHODS}, got {method!r}")
    x = check_series(x)
    if x.shape[-1] < 3:
        raise ValueError(f"x needs at least 3 time points, got {x.shape[-1]}")
    x = finite_guard(x)
    if not (isinstance(dt, (int, float)) and dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt (sampling step) must be a positive finite number, got {dt!r}")
    dtype = float_dtype(x)
    cen = None if center is None else jnp.asarray(center, x.dtype)
    if cen is not None and cen.shape != x.shape[:-1]:
        raise ValueError(f"center must have shape {x.shape[:-1]} (one per series), got {cen.shape}")
    return _natural_timescale(x, jnp.asarray(dt, dtype), cen, method)


def pattern_time(delay: int | ArrayLike, dt: float = 1.0, n: int = 5) -> float | Array:
    """Pattern time t_pat = (n − 1)·ℓ·δt: the time a pattern of length n at delay ℓ spans.

    Example::

        pattern_time(10, dt=2**-6, n=5)   # 0.625
    """
    n = check_order(n)
    return (n - 1) * (delay if isinstance(delay, (int, float)) else jnp.asarray(delay)) * dt


def _check_tnat(t_nat: float, dt: float) -> tuple[float, float]:
    t_nat, dt = float(t_nat), float(dt)
    if not (math.isfinite(t_nat) and t_nat > 0):
        raise ValueError(
            f"t_nat (natural timescale) must be positive and finite, got {t_nat}; a series "
            "without crossings/extrema has no natural timescale"
        )
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt (sampling step) must be positive and finite, got {dt}")
    return t_nat, dt


def recommended_delay(
    t_nat: float,
    dt: float = 1.0,
    n: int = 5,
    *,
    ratio: float = DEFAULT_RATIO,
    duration: float | None = None,
) -> int:
    """PECCARY's sampling interval ℓ = round(ratio · t_nat / ((n − 1) δt)), at least 1.

    Args:
        t_nat: natural timescale (e.g. from :func:`natural_timescale`), same units as dt.
        dt: sampling step δt of the series.
        n: pattern length.
        ratio: target t_pat / t_nat; 0.4 by default, 0.3–0.5 recommended (a ``UserWarning``
            outside that range).
        duration: the series' duration; a ``UserWarning`` if it is shorter than 1.5 t_nat.

    Returns:
        ℓ as a Python int.

    Example::

        recommended_delay(1.58, dt=2**-6, n=5)   # 10 (the paper's double pendulum)
    """
    n = check_order(n)
    t_nat, dt = _check_tnat(t_nat, dt)
    if not ratio > 0:
        raise ValueError(f"ratio (t_pat / t_nat) must be positive, got {ratio}")
    lo, hi = RECOMMENDED_RATIO_RANGE
    if not lo <= ratio <= hi:
        warnings.warn(
            f"ratio t_pat/t_nat = {ratio} is outside PECCARY's recommended range {lo}-{hi}",
            UserWarning,
            stacklevel=2,
        )
    if duration is not None and duration < MIN_DURATION_IN_TNAT * t_nat:
        warnings.warn(
            f"the series lasts {duration:.4g}, less than {MIN_DURATION_IN_TNAT} natural "
            f"timescales ({MIN_DURATION_IN_TNAT * t_nat:.4g}); H and C may not be representative",
            UserWarning,
            stacklevel=2,
        )
    return max(1, round(ratio * t_nat / ((n - 1) * dt)))


def recommended_delay_range(
    t_nat: float, dt: float = 1.0, n: int = 5, *, ratios: tuple[float, float] = (0.3, 0.5)
) -> tuple[int, int]:
    """The delays (ℓ_lo, ℓ_hi) for t_pat / t_nat at the ends of ``ratios`` (default 0.3, 0.5).

    Example::

        recommended_delay_range(1.58, dt=2**-6)   # (8, 13)
    """
    n = check_order(n)
    t_nat, dt = _check_tnat(t_nat, dt)
    lo, hi = sorted(ratios)
    return tuple(max(1, round(r * t_nat / ((n - 1) * dt))) for r in (lo, hi))


def suggest_delay(
    x: Real[ArrayLike, " time"],
    dt: float = 1.0,
    n: int = 5,
    *,
    ratio: float = DEFAULT_RATIO,
    method: str = "crossings",
) -> int:
    """Estimate t_nat of a concrete 1-D series and return :func:`recommended_delay` for it.

    Warns (``UserWarning``) when the series lasts less than 1.5 t_nat.

    Example::

        ell = suggest_delay(pendulum_x2, dt=2**-6)   # ≈ 10
    """
    arr = check_series(x)
    if arr.ndim != 1:
        raise ValueError(f"x must be one series of shape (T,), got shape {arr.shape}")
    t_nat = float(natural_timescale(arr, dt, method=method))
    return recommended_delay(t_nat, dt, n, ratio=ratio, duration=(arr.shape[0] - 1) * dt)


def entropy_complexity_vs_delay(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delays: Int[ArrayLike, " delays"] | None = None,
    *,
    allow_large: bool = False,
) -> tuple[np.ndarray, Float[Array, "*batch delays"], Float[Array, "*batch delays"]]:
    """H(ℓ) and C(ℓ): entropy and complexity over many sampling intervals, in one compiled call.

    Args:
        x: a series (T,) or a batch (B, T).
        n: pattern length.
        delays: 1-D integer delays; default ℓ = 1 … 99, keeping those whose pattern span
            (n − 1)ℓ + 1 fits in the series.

    Returns:
        (delays as numpy int array, H, C) with H, C of shape (..., len(delays)).

    Example::

        ells, H, C = entropy_complexity_vs_delay(x, n=5)   # plot(ells, H); plot(ells, C)
    """
    n = check_order(n, allow_large)
    if delays is None:
        length = check_series(x).shape[-1]
        delays = np.arange(1, 100)
        delays = delays[(n - 1) * delays + 1 <= length]
        if delays.size == 0:
            raise ValueError(
                f"x has {length} time points, fewer than the span n = {n} of a delay-1 pattern"
            )
    delays = np.asarray(delays)
    h, c = entropy_complexity(x, n, delays, allow_large=allow_large)
    return delays, h, c
