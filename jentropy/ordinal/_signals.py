"""The paper's example signals: sines, sums of sines, coloured noises, chaotic maps, pendulum.

All generators return JAX arrays in ``dtype`` (default: the default float, so float32 unless x64
is enabled). Random ones take an explicit ``key``; the same key gives the same series.

* :func:`sine_wave`, :func:`sum_of_sines` — regular signals;
* :func:`colored_noise` — noise with power spectral density ∝ f^β (white β = 0, pink −1,
  red/Brownian −2, blue +1, violet +2; names in ``NOISE_EXPONENTS``), made by shaping the
  spectrum of white noise;
* :func:`logistic_map`, :func:`henon_map`, :func:`tent_map` — chaotic maps (``lax.scan``);
  in float64 the logistic orbit is the same numbers as a NumPy loop (the Hénon orbit is not:
  XLA fuses a·x² − 1 into one multiply–add, NumPy's ``x**2.`` is a libm ``pow``; the orbits part
  after ~10 steps and agree statistically, H within ~5e-4 at 1e5 points);
* :func:`double_pendulum` — the chaotic double pendulum, integrated by :mod:`jentropy.integrate`.

Chaotic orbits depend on every rounding: float32 and float64 orbits separate after a few dozen
steps (their H and C agree statistically, not digit by digit).

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

__all__ = [
    "NOISE_EXPONENTS",
    "DoublePendulum",
    "colored_noise",
    "double_pendulum",
    "henon_map",
    "logistic_map",
    "sine_wave",
    "sum_of_sines",
    "tent_map",
]

#: Spectral exponent β (PSD ∝ f^β) of the named noise colours.
NOISE_EXPONENTS = {
    "white": 0.0,
    "pink": -1.0,
    "red": -2.0,
    "brown": -2.0,
    "blue": 1.0,
    "violet": 2.0,
}


def _dtype(dtype: jnp.dtype | None) -> jnp.dtype:
    return jnp.dtype(dtype or jnp.result_type(float))


def _check_num(num: object) -> int:
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise ValueError(f"num (number of samples) must be an int >= 2, got {num!r}")
    return num


def sine_wave(
    num: int,
    period: float,
    dt: float = 1.0,
    *,
    amplitude: float = 1.0,
    phase: float = 0.0,
    dtype: jnp.dtype | None = None,
) -> Float[Array, " num"]:
    """x_k = amplitude · sin(2π k dt / period + phase), k = 0 … num − 1.

    Example::

        sine_wave(100_000, period=100.0)   # n = 5: H ≈ 0.21, C ≈ 0.19

    A sine whose period is a whole number of samples repeats equal values (sin a = sin(π − a));
    which of two such samples rounds lower decides their pattern, so H moves in the third
    decimal between float32, float64 and NumPy's ``np.sin`` (the spec's 0.214085 is NumPy's).
    """
    num = _check_num(num)
    if not period > 0:
        raise ValueError(f"period must be positive, got {period}")
    return sum_of_sines(num, [period], [amplitude], dt, phases=[phase], dtype=dtype)


def sum_of_sines(
    num: int,
    periods: Sequence[float],
    amplitudes: Sequence[float] | None = None,
    dt: float = 1.0,
    *,
    phases: Sequence[float] | None = None,
    dtype: jnp.dtype | None = None,
) -> Float[Array, " num"]:
    """Σ_i a_i sin(2π k dt / P_i + φ_i): a superposition of sines (equal amplitudes by default).

    Example::

        sum_of_sines(10_000, periods=[100.0, 37.0], amplitudes=[1.0, 0.5])
    """
    periods = list(periods)
    if not periods:
        raise ValueError("periods must name at least one period")
    amplitudes = [1.0] * len(periods) if amplitudes is None else list(amplitudes)
    phases = [0.0] * len(periods) if phases is None else list(phases)
    if not len(amplitudes) == len(phases) == len(periods):
        raise ValueError("periods, amplitudes and phases must have the same length")
    if any(not p > 0 for p in periods):
        raise ValueError(f"periods must be positive, got {periods}")
    dtype = _dtype(dtype)
    as_array = functools.partial(jnp.asarray, dtype=dtype)
    return _sines(
        _check_num(num), as_array(periods), as_array(amplitudes), as_array(phases), as_array(dt)
    )


@functools.partial(jax.jit, static_argnums=0)
def _sines(num: int, periods: Array, amplitudes: Array, phases: Array, dt: Array) -> Array:
    t = jnp.arange(num, dtype=dt.dtype) * dt
    total = jnp.zeros((num,), dt.dtype)
    for k in range(periods.shape[0]):  # a short static loop: one fused kernel
        total = total + amplitudes[k] * jnp.sin(2 * jnp.pi * t / periods[k] + phases[k])
    return total


def colored_noise(
    key: PRNGKeyArray,
    num: int,
    exponent: float | str = 0.0,
    *,
    shape: tuple[int, ...] = (),
    white: str = "uniform",
    dtype: jnp.dtype | None = None,
) -> Float[Array, "*shape num"]:
    """Noise whose power spectral density goes as f^exponent, standardised to mean 0, std 1.

    White noise is Fourier transformed, its amplitudes are scaled by f^(exponent/2) (the zero
    frequency is removed unless exponent = 0), and it is transformed back. The ordinal
    statistics of the result depend on the white noise it starts from, not only on the
    spectrum: PECCARY (and the spec's values) start from uniform noise on [0, 1)
    (``white="uniform"``, the default; red noise at n = 5 gives H ≈ 0.892, C ≈ 0.152), while
    Gaussian white noise (``white="normal"``) gives H ≈ 0.879, C ≈ 0.164.

    Args:
        key: PRNG key.
        num: samples per series.
        exponent: β in PSD ∝ f^β, or a colour name from ``NOISE_EXPONENTS`` ("white", "pink",
            "red"/"brown", "blue", "violet").
        shape: leading batch shape (independent series).
        white: "uniform" or "normal", the white noise that is shaped.

    Example::

        red = colored_noise(key, 10_000, "red")   # n = 5: H ≈ 0.89, C ≈ 0.15
    """
    num = _check_num(num)
    if isinstance(exponent, str):
        if exponent not in NOISE_EXPONENTS:
            raise ValueError(f"exponent must be a number or one of {sorted(NOISE_EXPONENTS)}")
        exponent = NOISE_EXPONENTS[exponent]
    if white not in ("uniform", "normal"):
        raise ValueError(f"white must be 'uniform' or 'normal', got {white!r}")
    dtype = _dtype(dtype)
    exponent = jnp.asarray(exponent, dtype)
    return _colored_noise(key, exponent, num, tuple(shape), white, dtype)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _colored_noise(key, exponent, num, shape, white, dtype):
    if white == "uniform":
        x = jax.random.uniform(key, (*shape, num), dtype)
    else:
        x = jax.random.normal(key, (*shape, num), dtype)
    # exponent is traced (one compilation for every colour): β = 0 keeps all frequencies
    freqs = jnp.fft.rfftfreq(num).astype(dtype)
    positive = jnp.where(freqs > 0, freqs, 1)
    scale = jnp.where(freqs > 0, positive ** (exponent / 2), jnp.where(exponent == 0, 1, 0))
    spectrum = jnp.fft.rfft(x)
    x = jnp.fft.irfft(spectrum * scale.astype(spectrum.dtype), n=num).astype(dtype)
    x = x - jnp.mean(x, axis=-1, keepdims=True)
    return x / jnp.std(x, axis=-1, keepdims=True)


def _iterate(step, state0: tuple[Array, ...], num: int) -> Array:
    def body(state, _):
        nxt = step(*state)
        return nxt, state[0]

    _, xs = jax.lax.scan(body, state0, None, length=num)
    return xs


def logistic_map(
    num: int, r: float = 4.0, x0: float = 0.1, *, dtype: jnp.dtype | None = None
) -> Float[Array, " num"]:
    """Logistic map x_{k+1} = r x_k (1 − x_k), starting at x0 (chaotic at r = 4).

    Example::

        logistic_map(100_000)   # n = 5 (float64): H = 0.679087, C = 0.399237
    """
    num, dtype = _check_num(num), _dtype(dtype)
    r_ = jnp.asarray(r, dtype)
    return _iterate(lambda x: (r_ * x * (1 - x),), (jnp.asarray(x0, dtype),), num)


def henon_map(
    num: int,
    a: float = 1.4,
    b: float = 0.3,
    x0: float = 1.0,
    y0: float = 1.0,
    *,
    dtype: jnp.dtype | None = None,
) -> Float[Array, " num"]:
    """x-coordinate of the Hénon map x_{k+1} = 1 − a x_k² + y_k, y_{k+1} = b x_k.

    Example::

        henon_map(100_000)   # n = 5: H ≈ 0.6159, C ≈ 0.4044
    """
    num, dtype = _check_num(num), _dtype(dtype)
    a_, b_ = jnp.asarray(a, dtype), jnp.asarray(b, dtype)
    state = (jnp.asarray(x0, dtype), jnp.asarray(y0, dtype))
    return _iterate(lambda x, y: (1 - a_ * x**2 + y, b_ * x), state, num)


def tent_map(
    num: int, mu: float = 2.0, x0: float = 0.1, *, dtype: jnp.dtype | None = None
) -> Float[Array, " num"]:
    """Tent map x_{k+1} = μ min(x_k, 1 − x_k).

    Iterated literally, μ = 2 doubles the value each step and loses one mantissa bit per step,
    so a floating-point orbit collapses to 0 within ~55 (float64) steps. For μ = 2 the orbit is
    therefore generated through the exact conjugacy with the logistic map at r = 4:
    x = (2/π) arcsin √y with y_{k+1} = 4 y_k (1 − y_k), y_0 = sin²(π x0 / 2). Other μ iterate
    directly.

    Example::

        tent_map(10_000)   # chaotic, fills [0, 1]
    """
    num, dtype = _check_num(num), _dtype(dtype)
    if mu == 2.0:
        y0 = math.sin(math.pi * x0 / 2) ** 2
        y = logistic_map(num, 4.0, y0, dtype=dtype)
        return (2 / jnp.pi) * jnp.arcsin(jnp.sqrt(jnp.clip(y, 0, 1)))
    mu_ = jnp.asarray(mu, dtype)
    return _iterate(lambda x: (mu_ * jnp.minimum(x, 1 - x),), (jnp.asarray(x0, dtype),), num)


class DoublePendulum(NamedTuple):
    """Cartesian positions of the two bobs of a double pendulum, sampled every dt.

    Attributes:
        t: sample times (num,); x1, y1: inner bob; x2, y2: outer bob (the paper's signal is x2);
        theta: the angles and angular velocities (num, 4) = (θ1, ω1, θ2, ω2);
        energy: total mechanical energy per sample (num,) — constant for an exact solution, so
            its drift measures the integration error;
        success: whether the adaptive solver finished (see ``jentropy.integrate``).
    """

    t: Array
    x1: Array
    y1: Array
    x2: Array
    y2: Array
    theta: Array
    energy: Array
    success: Array


def _pendulum_field(t, state, args):
    m1, m2, l1, l2, g = args
    th1, w1, th2, w2 = state[0], state[1], state[2], state[3]
    delta = th2 - th1
    cos_d, sin_d = jnp.cos(delta), jnp.sin(delta)
    den1 = (m1 + m2) * l1 - m2 * l1 * cos_d * cos_d
    dw1 = (
        m2 * l1 * w1 * w1 * sin_d * cos_d
        + m2 * g * jnp.sin(th2) * cos_d
        + m2 * l2 * w2 * w2 * sin_d
        - (m1 + m2) * g * jnp.sin(th1)
    ) / den1
    den2 = (l2 / l1) * den1
    dw2 = (
        -m2 * l2 * w2 * w2 * sin_d * cos_d
        + (m1 + m2) * g * jnp.sin(th1) * cos_d
        - (m1 + m2) * l1 * w1 * w1 * sin_d
        - (m1 + m2) * g * jnp.sin(th2)
    ) / den2
    return jnp.stack([w1, dw1, w2, dw2])


def double_pendulum(
    duration: float = 100.0,
    dt: float = 2.0**-6,
    *,
    angles: ArrayLike = (120.0, 0.0, -10.0, 0.0),
    lengths: tuple[float, float] = (1.0, 1.0),
    masses: tuple[float, float] = (1.0, 1.0),
    g: float = 9.80665,
    rtol: float = 1e-8,
    atol: float = 1e-8,
    dtype: jnp.dtype | None = None,
) -> DoublePendulum:
    """Integrate the planar double pendulum (point masses on rigid massless rods).

    The equations of motion for (θ1, ω1, θ2, ω2) are the standard ones for two point masses
    (angles from the downward vertical). The default start, (θ1, ω1, θ2, ω2) = (120°, 0, −10°,
    0) in degrees and degrees per second, 1 m rods and 1 kg bobs, is PECCARY's example
    (100 s at dt = 2^-6). Uses :func:`jentropy.integrate.solve_ode` (Tsit5, adaptive).

    The orbit is chaotic, so its 100-s statistics are those of one draw: starts that differ by
    1e-9° (or the same start on a machine that rounds differently) give t_nat spread over
    ~1.7–2.25 s. Over 16 such starts, measured in float64: with the default tolerances (energy
    conserved to ~1e-5 J) the outer bob's x has t_nat = 2.0 ± 0.13 s and (H, C) = (0.53 ± 0.02,
    0.35 ± 0.01) at ℓ = 10; with SciPy's default ``solve_ivp`` tolerances (``rtol=atol=1e-3``,
    which the paper's example used) the energy grows by 3–12 J and t_nat = 1.86 ± 0.16 s,
    (H, C) = (0.56 ± 0.02, 0.35 ± 0.01). The paper's t_nat ≈ 1.58 s and (0.600, 0.351) are a draw
    from the latter. At its recommended delay every accurate orbit is in the complex region (at
    ℓ = 10 the orbits with H below ~0.54 fall in the regular one). ``energy`` in the result
    shows the drift.

    Args:
        duration, dt: integration time and sampling step (s).
        angles: initial (θ1, ω1, θ2, ω2) in degrees and degrees per second.
        lengths, masses, g: rods (m), bobs (kg), gravity (m/s²).
        rtol, atol: solver tolerances.
        dtype: float dtype of the state (default float; float64 recommended for accuracy).

    Returns:
        :class:`DoublePendulum` with num = ⌈duration / dt⌉ samples at t = k·dt.

    Example::

        pend = double_pendulum(100.0)
        H, C = entropy_complexity(pend.x2, n=5, delay=10)
    """
    from jentropy import integrate

    dtype = _dtype(dtype)
    num = math.ceil(duration / dt)
    if num < 2:
        raise ValueError(f"duration / dt must give at least 2 samples, got {duration}/{dt}")
    ts = jnp.arange(num, dtype=dtype) * jnp.asarray(dt, dtype)
    y0 = jnp.deg2rad(jnp.asarray(angles, dtype))
    if y0.shape != (4,):
        raise ValueError(f"angles must be (theta1, omega1, theta2, omega2), got shape {y0.shape}")
    args = tuple(jnp.asarray(v, dtype) for v in (*masses, *lengths, g))
    sol = integrate.solve_ode(
        _pendulum_field, y0, ts, args=args, rtol=rtol, atol=atol, max_steps=1_000_000
    )
    th1, w1, th2, w2 = (sol.ys[:, k] for k in range(4))
    (l1, l2), (m1, m2) = lengths, masses
    x1, y1 = l1 * jnp.sin(th1), -l1 * jnp.cos(th1)
    x2, y2 = x1 + l2 * jnp.sin(th2), y1 - l2 * jnp.cos(th2)
    kinetic = 0.5 * (m1 + m2) * (l1 * w1) ** 2 + 0.5 * m2 * (l2 * w2) ** 2
    kinetic = kinetic + m2 * l1 * l2 * w1 * w2 * jnp.cos(th1 - th2)
    energy = kinetic + g * (m1 * y1 + m2 * y2)
    return DoublePendulum(ts, x1, y1, x2, y2, sol.ys, energy, sol.success)
