"""Ordinal patterns (Bandt & Pompe 2002) of a series, their counts and their distribution.

A window of pattern length ``n`` at delay (sampling interval) ℓ starting at time i is
(x_i, x_{i+ℓ}, …, x_{i+(n−1)ℓ}); there are T − (n−1)ℓ windows. Its ordinal pattern is the
stable argsort of the window: ties are ranked in time order, so an earlier value counts as the
smaller one (exactly what ``np.argsort(kind="stable")`` in ordpy and peccary does).

**Pattern order.** Pattern index j is the position of the argsort permutation in lexicographic
order, i.e. in ``itertools.permutations(range(n))``; :func:`all_patterns` lists them. This is the
order of ``ordpy.ordinal_distribution(x, dx=n, taux=ℓ, return_missing=True, ordered=True)``, so
``ordinal_distribution(x, n, ℓ)`` equals ordpy's probabilities element by element.

**How it is computed (fast).** No window is sorted. The n(n−1)/2 comparisons between the
window's entries, taken on shifted views of the series, give its pattern index directly as a
Lehmer code (O(n²) elementwise work that XLA fuses into one pass with int32 output; no (B, T, n)
float intermediates). Counting is one ``segment_sum`` into n! bins per series. A batch is
processed in cache-sized blocks of rows (``lax.map``), so the series is read from memory once
and the codes are counted while still cached. Entropies do not depend on how the bins are
ordered, so they use the rank-vector code (no lookups), while the distributions returned to
users use the argsort order above.

Multiple delays (a 1-D ``delay`` array) are handled in one compiled call: the delay is traced, the
windows beyond T − (n−1)ℓ are masked into a discarded bin, and ``lax.map`` walks the delays.

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Int, Real

from ._checks import (
    check_delays,
    check_length,
    check_order,
    check_series,
    finite_guard,
    float_dtype,
    is_traced,
)

__all__ = ["all_patterns", "ordinal_distribution", "ordinal_patterns", "pattern_counts"]

# Work is cut into pieces of ~64K values (0.5 MB of float64), small enough that a piece and its
# int32 codes stay in cache between encoding and counting: blocks of rows of a batch, and
# groups of delays in the multi-delay loop.
_BLOCK_ELEMENTS = 1 << 16
_DELAY_CHUNK_ELEMENTS = 1 << 16


def _rank_codes(cols: list[Array], n: int) -> Array:
    """Lehmer code Σ_i d_i (n−1−i)!, d_i = #{j > i : x_j < x_i}, of each window's rank vector.

    A bijection onto [0, n!) that costs n(n−1)/2 comparisons and no lookups; it orders patterns
    differently from :func:`all_patterns`, which does not matter for entropies.
    """
    code = None
    for i in range(n - 1):
        smaller = functools.reduce(
            jnp.add, [(cols[j] < cols[i]).astype(jnp.int32) for j in range(i + 1, n)]
        )
        term = smaller * math.factorial(n - 1 - i) if i < n - 2 else smaller
        code = term if code is None else code + term
    return code


def _argsort_codes(cols: list[Array], n: int) -> Array:
    """Lexicographic index of each window's stable argsort π (the order of :func:`all_patterns`).

    The Lehmer code of π has, at position r_i (the rank of x_i), the digit
    c_i = #{j < i : x_j > x_i} (earlier values ranked above x_i; a tie ranks the earlier value
    lower, so it is not counted). With g_ij = [x_j < x_i] for i < j, c_i = Σ_{j<i} g_ji and
    r_i = Σ_{j>i} g_ij + i − c_i, so the index Σ_i c_i (n−1−r_i)! needs the same comparisons as
    :func:`_rank_codes` plus a factorial lookup.
    """
    below = {
        (i, j): (cols[j] < cols[i]).astype(jnp.int32) for i in range(n) for j in range(i + 1, n)
    }
    factorials = jnp.asarray([math.factorial(n - 1 - r) for r in range(n)], jnp.int32)
    index = None
    for i in range(1, n):
        c = functools.reduce(jnp.add, [below[(j, i)] for j in range(i)])
        later = [below[(i, j)] for j in range(i + 1, n)]
        rank = (functools.reduce(jnp.add, later) if later else 0) + i - c
        term = c * jnp.take(factorials, rank, mode="clip")
        index = term if index is None else index + term
    return index


ENCODERS = {"rank": _rank_codes, "argsort": _argsort_codes}


def window_columns(x: Array, n: int, delay: int) -> list[Array]:
    windows = x.shape[-1] - (n - 1) * delay
    return [x[..., k * delay : k * delay + windows] for k in range(n)]


def bincount_rows(codes: Array, length: int, weights: Array | None = None) -> Array:
    """Per-row histogram of int codes in [0, length): (..., W) -> (..., length).

    Counts are int32; with ``weights`` (..., W) the histogram sums the weights instead.
    """
    batch = codes.shape[:-1]
    rows = math.prod(batch)
    offsets = (jnp.arange(rows, dtype=jnp.int32) * length).reshape(*batch, 1)
    flat = (codes + offsets).reshape(-1)
    data = jnp.ones_like(flat) if weights is None else weights.reshape(-1)
    counts = jax.ops.segment_sum(data, flat, num_segments=rows * length)
    return counts.reshape(*batch, length)


def _counts_static(x: Array, n: int, delay: int, order: str) -> Array:
    """Pattern counts for one static delay: (..., T) -> (..., n!) int32."""
    codes = ENCODERS[order](window_columns(x, n, delay), n)
    return bincount_rows(codes, math.factorial(n))


def _counts_traced(x: Array, delay: Array, n: int, order: str) -> Array:
    """Counts for a traced delay: windows past T − (n−1)ℓ go to a discarded extra bin."""
    length = x.shape[-1]
    big = math.factorial(n)
    padded = jnp.concatenate([x, jnp.zeros_like(x)], axis=-1)
    zero = jnp.zeros((), jnp.int32)
    cols = [
        jax.lax.dynamic_slice(padded, (zero,) * (x.ndim - 1) + (k * delay,), x.shape)
        for k in range(n)
    ]
    valid = jnp.arange(length, dtype=jnp.int32) < length - (n - 1) * delay
    codes = jnp.where(valid, ENCODERS[order](cols, n), big)
    return bincount_rows(codes, big + 1)[..., :big]


def _counts_delays(x: Array, delays: Array, n: int, order: str) -> Array:
    """Counts for each of ``delays`` (k,): (..., T) -> (..., k, n!), walked by ``lax.map``."""
    batch_size = max(1, min(delays.shape[0], _DELAY_CHUNK_ELEMENTS // max(1, x.size)))
    per_delay = jax.lax.map(
        lambda d: _counts_traced(x, d, n, order), delays.astype(jnp.int32), batch_size=batch_size
    )
    return jnp.moveaxis(per_delay, 0, -2)


def _row_block(num_rows: int, length: int) -> tuple[int, int]:
    """(rows per block, padded row count) so that a block holds ~``_BLOCK_ELEMENTS`` values."""
    target = max(1, _BLOCK_ELEMENTS // max(1, length))
    if num_rows <= target:
        return num_rows, num_rows
    best = max(d for d in range(1, target + 1) if num_rows % d == 0)
    if 4 * best >= target:  # a divisor close to the target: no padding copy needed
        return best, num_rows
    return target, -(-num_rows // target) * target


def counts_impl(
    x: Array,
    n: int,
    delay: int | None,
    delays: Array | None,
    order: str = "argsort",
    with_finite: bool = False,
) -> Array | tuple[Array, Array]:
    """Traceable pattern counts: a static int ``delay``, or (``delay=None``) traced ``delays``.

    With ``delays`` (k,), the result gains a delay axis before the pattern axis. A large batch
    (B, T) is processed in blocks of rows small enough to stay in cache (``lax.map``): the
    codes of a block are counted while still cached, so the series is read from memory once
    and the int32 codes never travel to DRAM — several times faster than whole-array passes
    when memory bandwidth is shared. ``with_finite=True`` also returns whether every value is
    finite, computed in the same blocks.
    """

    def block(xb: Array) -> tuple[Array, Array]:
        if delay is not None:
            c = _counts_static(xb, n, delay, order)
        else:
            c = _counts_delays(xb, delays, n, order)
        finite = jnp.all(jnp.isfinite(xb)) if jnp.issubdtype(xb.dtype, jnp.floating) else True
        return c, jnp.asarray(finite)

    if x.ndim == 1:
        counts, finite = block(x)
    else:
        num_rows, length = x.shape
        rows, padded = _row_block(num_rows, length)
        if rows == num_rows:
            counts, finite = block(x)
        else:
            xp = x if padded == num_rows else jnp.pad(x, ((0, padded - num_rows), (0, 0)))
            counts, finite = jax.lax.map(block, xp.reshape(padded // rows, rows, length))
            counts = counts.reshape(padded, *counts.shape[2:])[:num_rows]
            finite = jnp.all(finite)
    return (counts, finite) if with_finite else counts


@functools.partial(jax.jit, static_argnames=("n", "delay", "order"))
def _counts_jit(x: Array, delays: Array | None, n: int, delay: int | None, order: str) -> Array:
    return counts_impl(x, n, delay, delays, order)


def counts(x: Array, n: int, delay: int | np.ndarray, order: str = "argsort") -> Array:
    """Pattern counts of validated inputs (one compiled call per shape, n and int delay)."""
    if isinstance(delay, int):
        return _counts_jit(x, None, n=n, delay=delay, order=order)
    return _counts_jit(x, jnp.asarray(delay), n=n, delay=None, order=order)


def split_delay(delay: int | np.ndarray) -> tuple[int | None, Array | None]:
    """(static delay, traced delays) pair for the jitted kernels."""
    if isinstance(delay, int):
        return delay, None
    return None, jnp.asarray(delay)


def counts_to_probs(counts: Array, x: Array) -> Array:
    """Normalise counts along the last axis, in the float dtype that follows x."""
    c = counts.astype(float_dtype(x))
    return c / jnp.sum(c, axis=-1, keepdims=True)


def validated(
    x: ArrayLike,
    n: object,
    delay: object,
    allow_large: bool = False,
    check_finite: bool = True,
) -> tuple[Array, int, int | np.ndarray]:
    """Validate (x, n, delay) for the public functions; returns the converted values.

    ``check_finite=False`` leaves the NaN/inf check of concrete ``x`` to the caller (whose
    compiled kernel returns a finiteness flag, saving a separate pass over the data).
    """
    n = check_order(n, allow_large)
    delay = check_delays(delay)
    x = check_series(x)
    check_length(x, n, delay)
    if check_finite or is_traced(x):
        x = finite_guard(x)
    return x, n, delay


def all_patterns(n: int, *, allow_large: bool = False) -> Int[Array, "n_patterns n"]:
    """All n! ordinal patterns in the order used for pattern indices and distributions.

    Row j is the j-th permutation of ``itertools.permutations(range(n))`` (lexicographic order):
    a window whose stable argsort is that row has pattern index j.

    Example::

        all_patterns(3)  # [[0,1,2],[0,2,1],[1,0,2],[1,2,0],[2,0,1],[2,1,0]]
    """
    n = check_order(n, allow_large)
    return jnp.asarray(np.array(list(itertools.permutations(range(n))), dtype=np.int32))


def ordinal_patterns(
    x: Real[ArrayLike, "*batch time"], n: int = 5, delay: int = 1, *, allow_large: bool = False
) -> Int[Array, "*batch windows"]:
    """Pattern index of every window: j such that ``all_patterns(n)[j]`` is its stable argsort.

    Args:
        x: a series (T,) or a batch of series (B, T), float or integer (ties are ranked in time
            order).
        n: pattern length (≥ 2; ≤ 10 unless ``allow_large``). Static.
        delay: sampling interval ℓ ≥ 1 (an int; use :func:`pattern_counts` for many delays).
        allow_large: accept 10 < n ≤ 12.

    Returns:
        int32 array (..., T − (n−1)ℓ) of indices in [0, n!).

    Example::

        ordinal_patterns(jnp.array([4.0, 7.0, 9.0, 10.0, 6.0]), n=3)  # [0, 0, 4]
    """
    x, n, delay = validated(x, n, delay, allow_large)
    if not isinstance(delay, int):
        raise TypeError("ordinal_patterns needs a single int delay (window counts differ)")
    return _pattern_indices(x, n=n, delay=delay)


@functools.partial(jax.jit, static_argnames=("n", "delay"))
def _pattern_indices(x: Array, n: int, delay: int) -> Array:
    return _argsort_codes(window_columns(x, n, delay), n)


def pattern_counts(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> Int[Array, "*batch n_patterns"]:
    """Number of windows showing each of the n! ordinal patterns (order of :func:`all_patterns`).

    Args:
        x: a series (T,) or a batch (B, T).
        n: pattern length (static).
        delay: an int ℓ ≥ 1, or a 1-D array of k delays (then a delay axis is added).
        allow_large: accept 10 < n ≤ 12.

    Returns:
        int32 counts of shape (..., n!), or (..., k, n!) for an array of delays; each row sums to
        the number of windows T − (n−1)ℓ.

    Example::

        pattern_counts(jnp.arange(10.0), n=3)  # 8 windows, all the identity pattern (index 0)
    """
    x, n, delay = validated(x, n, delay, allow_large)
    return counts(x, n, delay)


def ordinal_distribution(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> Array:
    """Probability p_j = count_j / (T − (n−1)ℓ) of each ordinal pattern (Bandt & Pompe 2002).

    Patterns never observed have p_j = 0 and are included, in the order of :func:`all_patterns`
    (ordpy's ``ordinal_distribution(..., return_missing=True, ordered=True)`` order).

    Args:
        x: a series (T,) or a batch (B, T); the result has x's float dtype (the default float
            for integer input).
        n, delay, allow_large: as in :func:`pattern_counts`.

    Returns:
        (..., n!) probabilities, or (..., k, n!) for an array of k delays.

    Example::

        ordinal_distribution(jnp.array([1.0, 3.0, 2.0, 4.0]), n=2)  # [2/3, 1/3]
    """
    x, n, delay = validated(x, n, delay, allow_large)
    static, traced = split_delay(delay)
    return _probs_jit(x, traced, n=n, delay=static)


@functools.partial(jax.jit, static_argnames=("n", "delay"))
def _probs_jit(x: Array, delays: Array | None, n: int, delay: int | None) -> Array:
    return counts_to_probs(counts_impl(x, n, delay, delays, "argsort"), x)
