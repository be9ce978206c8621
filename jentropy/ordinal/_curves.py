"""The complexity–entropy plane: its minimum/maximum-complexity curves and its regions.

For N = n! patterns, every distribution's (H, C) lies between two curves (Martin, Plastino &
Rosso, Physica A 369, 439 (2006)):

* minimum complexity: one pattern has probability p ∈ [1/N, 1], the other N − 1 share 1 − p;
* maximum complexity: for i = 1 … N − 1, i − 1 patterns are absent, one has p ∈ [0, 1/(N−i+1)]
  and the other N − i share 1 − p (consecutive segments join continuously).

Each such distribution has at most three distinct probabilities, so the curves are evaluated
from (value, multiplicity) pairs — S = Σ_k m_k ·(−p_k log p_k) — instead of N-vectors (n = 8
would otherwise need 40319 × N floats per point). They depend only on n, so they are computed
once in float64 NumPy (no compilation) and returned as JAX arrays in the requested dtype; the
tests check them against ``jentropy.info`` on full vectors, ordpy and peccary.

Regions (PECCARY): a periodic signal shows at most 2(2n − 3) of the n! patterns and at least 2,
so H_min,per = ln 2 / ln n! and H_max,per = ln(2(2n−3)) / ln n! (n = 5: 0.1448, 0.5512).
Points with H ≤ H_max,per are *regular*. To the right, high C means *complex* (chaotic) and low C
*stochastic*. The paper draws no numeric complex/stochastic line, so :func:`classify` takes it as
a parameter: C ≥ ``boundary`` × (largest C attainable for this n); the default 0.5 (C ≈ 0.212
for n = 5) separates the paper's chaotic maps and double pendulum (C ≥ 0.35) from its coloured
noises (C ≤ 0.16).

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int
from scipy.special import entr

from ._checks import check_order
from ._complexity import js_complexity_normalization

__all__ = [
    "REGIONS",
    "classify",
    "max_complexity",
    "maximum_complexity_curve",
    "minimum_complexity_curve",
    "periodic_entropy_bounds",
]

#: Names of the codes returned by :func:`classify`.
REGIONS = ("regular", "complex", "stochastic")


def _hc_grouped(
    values: list[np.ndarray], mult: list[np.ndarray | float], num: int
) -> tuple[np.ndarray, np.ndarray]:
    """(H, C) of distributions given as distinct probabilities ``values`` with multiplicities."""
    u = 1.0 / num
    s = sum(m * entr(v) for v, m in zip(values, mult))
    s_mix = sum(m * entr(0.5 * (v + u)) for v, m in zip(values, mult))
    s_mix = s_mix + (num - sum(mult)) * entr(0.5 * u)  # absent patterns still mix with U
    js = np.maximum(s_mix - 0.5 * s - 0.5 * math.log(num), 0)
    h = s / math.log(num)
    return h, js_complexity_normalization(num) * js * h


def _min_curve(big: int, num: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.linspace(1.0, 1.0 / big, num)
    return _hc_grouped([p, (1 - p) / (big - 1)], [1.0, big - 1.0], big)


def _max_segments(big: int, num: int, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, C) on ``count`` maximum-complexity segments i = first … first+count−1, num points each."""
    i = np.arange(first, first + count, dtype=np.float64)[:, None]
    p = np.linspace(0.0, 1.0, num)[None, :] / (big - i + 1)
    q = (1 - p) / (big - i)
    return _hc_grouped([p, q], [np.ones_like(i), big - i], big)


def _as_jax(a: np.ndarray, dtype: jnp.dtype | None) -> Array:
    return jnp.asarray(a, dtype or jnp.result_type(float))


def minimum_complexity_curve(
    n: int = 5, num: int = 1000, *, dtype: jnp.dtype | None = None
) -> tuple[Float[Array, " num"], Float[Array, " num"]]:
    """Lower bound C_min(H) of the complexity–entropy plane for patterns of length ``n``.

    Evaluated on ``num`` distributions with one probability p from 1 (H = 0) to 1/N (H = 1)
    and the rest uniform, i.e. sorted by increasing H.

    Returns:
        (H, C), each of shape (num,), in ``dtype`` (default float).

    Example::

        H, C = minimum_complexity_curve(5)   # plot(H, C) for the lower envelope
    """
    n = check_order(n)
    if num < 2:
        raise ValueError(f"num must be >= 2, got {num}")
    h, c = _min_curve(math.factorial(n), num)
    return _as_jax(h, dtype), _as_jax(c, dtype)


def maximum_complexity_curve(
    n: int = 5, points_per_segment: int = 20, *, dtype: jnp.dtype | None = None
) -> tuple[Float[Array, " points"], Float[Array, " points"]]:
    """Upper bound C_max(H) of the complexity–entropy plane for patterns of length ``n``.

    The curve is made of N − 1 segments (N = n!), each traced with ``points_per_segment``
    points; the result is sorted by increasing H. For large n use few points per segment:
    the segments get short (n = 7 has 5039 of them).

    Returns:
        (H, C), each of shape ((N − 1) · points_per_segment,).

    Example::

        H, C = maximum_complexity_curve(5)   # 119 segments × 20 points
    """
    n = check_order(n)
    if points_per_segment < 2:
        raise ValueError(f"points_per_segment must be >= 2, got {points_per_segment}")
    big = math.factorial(n)
    h, c = _max_segments(big, points_per_segment, 1, big - 1)
    h, c = h.reshape(-1), c.reshape(-1)
    order = np.argsort(h, kind="stable")
    return _as_jax(h[order], dtype), _as_jax(c[order], dtype)


@functools.cache
def max_complexity(n: int = 5) -> tuple[float, float]:
    """The largest statistical complexity any distribution over n! patterns can have, and its H.

    Found on the maximum-complexity curve: a coarse pass over all segments, then a fine pass
    (20001 points) over the best segment and its neighbours, in float64. Values: n = 3:
    0.2915, 4: 0.3541, 5: 0.4248 (at H ≈ 0.615), 6: 0.4967.

    Returns:
        (H*, C*) as Python floats.

    Example::

        max_complexity(5)  # (0.615..., 0.4248...)
    """
    n = check_order(n)
    big = math.factorial(n)
    _, c = _max_segments(big, 16, 1, big - 1)
    best = int(np.argmax(c.max(axis=1))) + 1
    first = max(1, best - 1)
    count = min(big - 1, best + 1) - first + 1
    h, c = _max_segments(big, 20001, first, count)
    k = int(np.argmax(c))
    return float(h.reshape(-1)[k]), float(c.reshape(-1)[k])


def periodic_entropy_bounds(n: int = 5) -> tuple[float, float]:
    """(H_min,per, H_max,per) = (ln 2, ln(2(2n−3))) / ln n!: the H range of periodic signals.

    A periodic signal visits at least 2 and at most 2(2n − 3) ordinal patterns (PECCARY), each
    with at most the uniform share; n = 5 gives (0.1448, 0.5512).

    Example::

        h_lo, h_hi = periodic_entropy_bounds(5)
    """
    n = check_order(n)
    log_big = math.log(math.factorial(n))
    return math.log(2) / log_big, math.log(2 * (2 * n - 3)) / log_big


def classify(
    h: Float[ArrayLike, "*shape"],
    c: Float[ArrayLike, "*shape"],
    n: int = 5,
    *,
    boundary: float = 0.5,
) -> Int[Array, "*shape"]:
    """Region of each (H, C) point: 0 regular, 1 complex, 2 stochastic (names in ``REGIONS``).

    * regular: H ≤ H_max,per (the periodic band and below; :func:`periodic_entropy_bounds`);
    * complex: H > H_max,per and C ≥ ``boundary`` · C*, with C* = :func:`max_complexity` (n);
    * stochastic: H > H_max,per and C below that line.

    The complex/stochastic line is this library's documented convention (the paper describes
    the regions qualitatively); choose ``boundary`` in (0, 1) to move it.

    Args:
        h, c: entropies and complexities (broadcastable arrays, any shape).
        n: the pattern length they were computed with.
        boundary: the complex/stochastic line as a fraction of the maximal complexity.

    Returns:
        int32 codes with the broadcast shape of h and c (jit-able).

    Example::

        REGIONS[int(classify(0.600, 0.351, n=5))]   # 'complex' (double pendulum)
    """
    n = check_order(n)
    if not 0.0 < boundary < 1.0:
        raise ValueError(f"boundary must be a fraction in (0, 1), got {boundary}")
    h, c = jnp.asarray(h), jnp.asarray(c)
    _, h_max_per = periodic_entropy_bounds(n)
    c_line = boundary * max_complexity(n)[1]
    regular = h <= h_max_per
    complex_ = c >= c_line
    return jnp.where(regular, 0, jnp.where(complex_, 1, 2)).astype(jnp.int32)
