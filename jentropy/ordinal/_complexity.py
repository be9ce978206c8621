"""Normalised permutation entropy H and Jensen–Shannon statistical complexity C.

For the ordinal-pattern distribution P over N = n! patterns and the uniform distribution U:

    H[P] = S[P] / log N,                   S[P] = −Σ_j p_j log p_j   (Bandt & Pompe 2002)
    C[P] = Q0 · JS(P, U) · H[P],           JS(P, U) = S((P+U)/2) − S(P)/2 − S(U)/2
    Q0   = 1 / max_P JS(P, U) = −2 / [((N+1)/N) log(N+1) − 2 log(2N) + log N]

(Rosso et al., PRL 99, 154102 (2007); the PECCARY paper's H and C). The maximum of JS is reached
at a one-pattern distribution δ, so Q0 = 1/JS(δ, U); :func:`js_complexity_normalization` gives
the closed form and the tests check it against ``info.js_divergence(δ, U)``. Unobserved
patterns contribute to S((P+U)/2). Both numbers lie in [0, 1]. Entropies come from
:mod:`jentropy.info`.

Everything works on a series (T,) or a batch (B, T) in one call, and on an array of delays
(one compiled call; a delay axis is appended). ``n`` and an int ``delay`` are static under
``jit``; the functions are ``vmap``-able.

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Real

from jentropy import info

from ._checks import float_dtype, is_traced
from ._patterns import counts_impl, split_delay, validated

__all__ = [
    "entropy_complexity",
    "entropy_complexity_from_distribution",
    "js_complexity_normalization",
    "permutation_entropy",
    "statistical_complexity",
]


def js_complexity_normalization(num_patterns: int) -> float:
    """Q0 = 1 / max_P JS(P, U) for N = ``num_patterns`` outcomes (closed form, float64).

    Q0 = −2 / [((N+1)/N) log(N+1) − 2 log(2N) + log N]; the maximum is JS(δ, U) for a
    distribution δ concentrated on one pattern (Lamberti et al., Physica A 334, 119 (2004)).

    Example::

        js_complexity_normalization(120)  # n = 5: 1 / JS(δ, U) ≈ 1.4947
    """
    if isinstance(num_patterns, bool) or not isinstance(num_patterns, int) or num_patterns < 2:
        raise ValueError(f"num_patterns must be an int >= 2, got {num_patterns!r}")
    n_ = float(num_patterns)
    return -2.0 / ((n_ + 1) / n_ * math.log(n_ + 1) - 2 * math.log(2 * n_) + math.log(n_))


def hc_from_probs(p: Array) -> tuple[Array, Array]:
    """(H, C) from probabilities over all N patterns along the last axis (traceable)."""
    num = p.shape[-1]
    uniform = jnp.full((num,), 1.0 / num, p.dtype)
    h = info.entropy(p) / jnp.log(jnp.asarray(num, p.dtype))
    js = info.js_divergence(p, uniform)
    c = jnp.asarray(js_complexity_normalization(num), p.dtype) * js * h
    return h, c


_hc_from_probs_jit = jax.jit(hc_from_probs)


def hc_from_counts(counts: Array, dtype: jnp.dtype) -> tuple[Array, Array]:
    c = counts.astype(dtype)
    return hc_from_probs(c / jnp.sum(c, axis=-1, keepdims=True))


@functools.partial(jax.jit, static_argnames=("n", "delay"))
def _hc_jit(
    x: Array, delays: Array | None, n: int, delay: int | None
) -> tuple[Array, Array, Array]:
    counts, finite = counts_impl(x, n, delay, delays, order="rank", with_finite=True)
    return (*hc_from_counts(counts, float_dtype(x)), finite)


def _entropy_complexity(x, n, delay, allow_large):
    x, n, delay = validated(x, n, delay, allow_large, check_finite=False)
    static, traced = split_delay(delay)
    h, c, finite = _hc_jit(x, traced, n=n, delay=static)
    if not is_traced(finite) and not bool(finite):
        raise ValueError("x contains NaN or inf values; ordinal patterns need finite data")
    return h, c


def entropy_complexity(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """Normalised permutation entropy H and statistical complexity C of a series, in one pass.

    H = S[P]/log n! and C = Q0 · JS(P, U) · H for the distribution P of ordinal patterns of
    length ``n`` at sampling interval ``delay`` (see the module docstring for the equations).

    Args:
        x: a series (T,) or a batch (B, T) (float or int; ties are ranked in time order). The
            results take x's float dtype (the default float for integer input).
        n: pattern length (default 5, as in PECCARY); static; 2 ≤ n ≤ 10 unless ``allow_large``.
        delay: sampling interval ℓ ≥ 1 (int, static), or a 1-D array of k delays; then the
            results get a trailing delay axis (..., k), computed in one compiled call.
        allow_large: accept 10 < n ≤ 12 (n! bins per series).

    Returns:
        (H, C), each of shape x.shape[:-1] (plus (k,) for an array of delays).

    Raises:
        ValueError: n < 2 or too large, delay < 1, series shorter than (n−1)ℓ+1, NaN/inf in x,
            x not 1-D or 2-D. TypeError: non-integer n or delay, non-real x.

    Example::

        t = jnp.arange(100_000)
        H, C = entropy_complexity(jnp.sin(2 * jnp.pi * t / 100), n=5)   # ≈ (0.21, 0.19)
        H, C = entropy_complexity(batch, n=5, delay=jnp.arange(1, 100))  # (B, 99) each
    """
    return _entropy_complexity(x, n, delay, allow_large)


def permutation_entropy(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> Float[Array, "*batch"]:
    """Normalised permutation entropy H = −Σ p_j log p_j / log n! (Bandt & Pompe 2002).

    Same arguments, shapes and errors as :func:`entropy_complexity`; H ∈ [0, 1] (0 for a
    monotonic series, 1 for all n! patterns equally frequent).

    Example::

        permutation_entropy(jax.random.normal(key, (1000, 10_000)), n=5)  # (1000,), ≈ 0.9988
    """
    return _entropy_complexity(x, n, delay, allow_large)[0]


def statistical_complexity(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> Float[Array, "*batch"]:
    """Jensen–Shannon statistical complexity C = Q0 · JS(P, U) · H (Rosso et al. 2007).

    Same arguments, shapes and errors as :func:`entropy_complexity`; C ∈ [0, 1], zero for both
    a monotonic series (H = 0) and the uniform distribution (JS = 0).

    Example::

        statistical_complexity(henon_x, n=5)  # ≈ 0.4044 for the Hénon map's x
    """
    return _entropy_complexity(x, n, delay, allow_large)[1]


def entropy_complexity_from_distribution(
    p: Float[ArrayLike, "*batch n_patterns"],
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """(H, C) of a given distribution over all N patterns (last axis; N = n! for patterns).

    Useful for distributions built elsewhere (weighted counts, pooled series, theory). ``p`` is
    not renormalised; it must be non-negative and sum to one along the last axis.

    Example::

        entropy_complexity_from_distribution(jnp.ones(120) / 120)  # (1.0, 0.0)
    """
    arr = jnp.asarray(p)
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    if arr.ndim < 1 or arr.shape[-1] < 2:
        raise ValueError(f"p must have at least 2 outcomes on its last axis, got {arr.shape}")
    if not isinstance(arr, jax.core.Tracer) and bool(np.any(np.asarray(arr) < 0)):
        raise ValueError("p must be non-negative")
    return _hc_from_probs_jit(arr)
