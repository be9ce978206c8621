"""Argument validation shared by the public ordinal functions (shapes, orders, delays, values).

Every public entry point validates what it can see before tracing: ``n`` and an integer ``delay``
are static Python values, the series' shape is static, and its values are checked for NaN/inf
when they are concrete. Under ``jit``/``vmap`` the values are traced, so the finiteness check
becomes an :func:`equinox.error_if` inside the computation instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

#: Largest pattern length accepted without ``allow_large=True`` (10! ≈ 3.6 million patterns).
MAX_DEFAULT_ORDER = 10
#: Hard limit: pattern codes are int32, and 12! < 2**31 - 1 < 13!.
MAX_ORDER = 12


def check_order(n: object, allow_large: bool = False) -> int:
    """Validate the pattern length ``n`` (a Python int, 2 ≤ n ≤ 10 unless ``allow_large``)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n (pattern length) must be a Python int, got {type(n).__name__} {n!r}")
    n = int(n)
    if n < 2:
        raise ValueError(f"n (pattern length) must be >= 2, got {n}")
    if n > MAX_ORDER:
        raise ValueError(
            f"n (pattern length) must be <= {MAX_ORDER}: n! = {math.factorial(n):,} patterns do "
            "not fit int32 pattern codes"
        )
    if n > MAX_DEFAULT_ORDER and not allow_large:
        raise ValueError(
            f"n={n} means n! = {math.factorial(n):,} patterns (a count array of that size per "
            f"series); n <= {MAX_DEFAULT_ORDER} is allowed by default, pass allow_large=True to "
            "opt in"
        )
    return n


def is_traced(x: object) -> bool:
    return isinstance(x, jax.core.Tracer)


def check_delays(delay: object, name: str = "delay") -> int | np.ndarray:
    """A delay is a Python int >= 1, or a 1-D array/sequence of them (returned as int32 numpy)."""
    if isinstance(delay, bool):
        raise TypeError(f"{name} must be an int >= 1 or a 1-D array of them, got a bool")
    if isinstance(delay, numbers.Integral):
        if delay < 1:
            raise ValueError(f"{name} (sampling interval ℓ) must be >= 1, got {delay}")
        return int(delay)
    if is_traced(delay):
        raise TypeError(
            f"{name} must be concrete (a Python int, or an array of ints known before jit); "
            "close over it or mark it static"
        )
    if not isinstance(delay, (Sequence, np.ndarray, jax.Array)):
        raise TypeError(f"{name} must be an int >= 1 or a 1-D array of them, got {delay!r}")
    arr = np.asarray(delay)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} array must be 1-D and non-empty, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise TypeError(f"{name} array must hold integers, got dtype {arr.dtype}")
    if np.any(arr < 1):
        raise ValueError(f"{name} values (sampling intervals ℓ) must be >= 1, got min {arr.min()}")
    return arr.astype(np.int32)


def check_series(x: ArrayLike, name: str = "x") -> Array:
    """Convert ``x`` to a JAX array of shape (T,) or (B, T) with a real dtype."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real array, got {type(x).__name__}")
    try:
        arr = jnp.asarray(x)
    except TypeError as err:
        raise TypeError(f"{name} must be a real array, got {type(x).__name__}") from err
    if arr.dtype == jnp.bool_ or not (
        jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)
    ):
        raise TypeError(f"{name} must have a real (float or int) dtype, got {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be a series of shape (T,) or a batch of shape (B, T), got shape "
            f"{arr.shape}"
        )
    return arr


def check_length(x: Array, n: int, delay: int | np.ndarray, name: str = "x") -> None:
    """The longest pattern span (n − 1)·ℓ + 1 must fit in the series."""
    max_delay = int(np.max(delay))
    span = (n - 1) * max_delay + 1
    if x.shape[-1] < span:
        raise ValueError(
            f"{name} has {x.shape[-1]} time points but a pattern of n={n} at delay {max_delay} "
            f"spans (n-1)*delay+1 = {span}; give a longer series or a smaller n/delay"
        )


def float_dtype(x: Array) -> jnp.dtype:
    """The float dtype results take: the input's, or the default float for integer input."""
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.dtype
    return jnp.result_type(float)


def finite_guard(x: Array, name: str = "x") -> Array:
    """Raise ``ValueError`` for NaN/inf in concrete ``x``; under tracing, an ``eqx.error_if``."""
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return x
    if is_traced(x):
        return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), f"{name} contains NaN or inf values")
    if not bool(_all_finite(x)):
        raise ValueError(f"{name} contains NaN or inf values; ordinal patterns need finite data")
    return x


@jax.jit
def _all_finite(x: Array) -> Array:
    return jnp.all(jnp.isfinite(x))
