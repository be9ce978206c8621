"""Variants of permutation entropy: weighted, Rényi, Tsallis, and missing (forbidden) patterns.

* Weighted permutation entropy (Fadlallah et al., PRE 87, 022911 (2013)): each window counts
  with the weight of its variance, p_j = Σ_{windows with pattern j} var / Σ var.
* Rényi (α) and Tsallis (q) permutation entropies, normalised by their value at the uniform
  distribution: H_α = log(Σ p^α)/((1 − α) log N) and H_q = S_q(P)/ln_q N with
  ln_q N = (N^{1−q} − 1)/(1 − q). Their complexity planes use the matching Jensen divergences
  (Jauregui et al., Physica A 498, 74 (2018); Ribeiro et al., PRE 95, 062106 (2017)):
  JR_α = ½ D_α(P‖M) + ½ D_α(U‖M) with Rényi divergences, and JT_q = ½ K_q(P‖M) + ½ K_q(U‖M)
  with Tsallis relative entropies K_q = (exp((q−1) D_q) − 1)/(q − 1), M = (P + U)/2; then
  C = H · J / J_max, with J_max = J(δ, U) the value at a one-pattern distribution. These are
  ordpy's ``renyi_complexity_entropy`` / ``tsallis_complexity_entropy`` conventions; α, q → 1
  recover H and C. All divergences come from :mod:`jentropy.info`.
* Missing patterns: how many of the n! patterns never occur (forbidden patterns are a
  signature of determinism).

Reference: Hyman, Daniel & Schaffner, "PECCARY: A novel approach for characterizing orbital
complexity, stochasticity, and regularity", ApJ 987:195 (2025), arXiv:2407.11970.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Real

from jentropy import info

from ._checks import float_dtype, is_traced
from ._complexity import hc_from_probs
from ._patterns import ENCODERS, bincount_rows, counts_impl, split_delay, validated, window_columns

__all__ = [
    "missing_patterns",
    "renyi_entropy_complexity",
    "renyi_permutation_entropy",
    "tsallis_entropy_complexity",
    "tsallis_permutation_entropy",
    "weighted_entropy_complexity",
    "weighted_ordinal_distribution",
    "weighted_permutation_entropy",
]


def _weighted_sums(x: Array, n: int, delay: int) -> Array:
    cols = window_columns(x, n, delay)
    fcols = [c.astype(float_dtype(x)) for c in cols]
    mean = sum(fcols) / n
    var = sum((c - mean) ** 2 for c in fcols) / n
    return bincount_rows(ENCODERS["argsort"](cols, n), math.factorial(n), weights=var)


@functools.partial(jax.jit, static_argnames=("n", "delay", "with_hc"))
def _weighted_jit(x: Array, n: int, delay: int, with_hc: bool):
    sums = _weighted_sums(x, n, delay)
    total = jnp.sum(sums, axis=-1, keepdims=True)
    p = sums / jnp.where(total > 0, total, 1)
    ok = jnp.all(total > 0)
    return (hc_from_probs(p) if with_hc else p), ok


def _weighted(x, n, delay, allow_large, with_hc):
    x, n, delay = validated(x, n, delay, allow_large)
    if not isinstance(delay, int):
        raise TypeError("weighted patterns take a single int delay")
    out, ok = _weighted_jit(x, n=n, delay=delay, with_hc=with_hc)
    message = "x is constant within every window: no variance to weight patterns by"
    if is_traced(ok):
        return eqx.error_if(out, ~ok, message)
    if not bool(ok):
        raise ValueError(message)
    return out


def weighted_ordinal_distribution(
    x: Real[ArrayLike, "*batch time"], n: int = 5, delay: int = 1, *, allow_large: bool = False
) -> Float[Array, "*batch n_patterns"]:
    """Variance-weighted pattern distribution p_j = Σ_{w ∈ j} var(w) / Σ_w var(w).

    var(w) is the population variance of the window's n values (as in ordpy). Patterns are in
    the order of :func:`all_patterns`. Series whose windows are all constant have no weighted
    distribution: ``ValueError`` (an ``eqx.error_if`` under jit).

    Args:
        x: a series (T,) or a batch (B, T).
        n: pattern length (static); delay: an int ℓ ≥ 1 (static).

    Returns:
        (..., n!) probabilities.

    Example::

        weighted_ordinal_distribution(x, n=4, delay=2)
    """
    return _weighted(x, n, delay, allow_large, with_hc=False)


def weighted_permutation_entropy(
    x: Real[ArrayLike, "*batch time"], n: int = 5, delay: int = 1, *, allow_large: bool = False
) -> Float[Array, "*batch"]:
    """Weighted permutation entropy: H of :func:`weighted_ordinal_distribution`, in [0, 1].

    Matches ``ordpy.weighted_permutation_entropy(x, dx=n, taux=delay)``.

    Example::

        weighted_permutation_entropy(x, n=5)
    """
    return weighted_entropy_complexity(x, n, delay, allow_large=allow_large)[0]


def weighted_entropy_complexity(
    x: Real[ArrayLike, "*batch time"], n: int = 5, delay: int = 1, *, allow_large: bool = False
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """(H, C) of the variance-weighted pattern distribution (same formulas as unweighted).

    Example::

        H_w, C_w = weighted_entropy_complexity(x, n=5)
    """
    return _weighted(x, n, delay, allow_large, with_hc=True)


def _orders(order: ArrayLike, dtype: jnp.dtype, name: str) -> Array:
    arr = jnp.asarray(order, dtype)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array of orders, got {arr.shape}")
    if not is_traced(arr) and bool(jnp.any(~(arr >= 0))):
        raise ValueError(f"{name} must be >= 0, got {np.asarray(arr)}")
    return arr


def _generalized(x, order, name, n, delay, allow_large, kind):
    x, n, delay = validated(x, n, delay, allow_large)
    order = _orders(order, float_dtype(x), name)
    static, traced = split_delay(delay)
    return _generalized_jit(x, traced, order, n=n, delay=static, kind=kind)


@functools.partial(jax.jit, static_argnames=("n", "delay", "kind"))
def _generalized_jit(x, delays, order, n, delay, kind):
    c = counts_impl(x, n, delay, delays, order="rank").astype(float_dtype(x))
    p = c / jnp.sum(c, axis=-1, keepdims=True)
    if kind == "missing":
        return jnp.sum(c == 0, axis=-1, dtype=jnp.int32)
    num = p.shape[-1]
    po = _with_order_axis(p, order)
    # the entropy-only functions reuse these programs (one compilation; C costs little more)
    if kind == "renyi_plane":
        h = info.renyi_entropy(po, order) / jnp.log(jnp.asarray(num, p.dtype))
        return h, h * _jensen_renyi(po, order) / _jensen_renyi(_delta(num, p.dtype), order)
    h = info.tsallis_entropy(po, order) / _log_q(float(num), order)
    return h, h * _jensen_tsallis(po, order) / _jensen_tsallis(_delta(num, p.dtype), order)


def _with_order_axis(p: Array, order: Array) -> Array:
    """p (..., N) -> (..., 1, N) when there is an order axis, so results are (..., k)."""
    return p[..., None, :] if order.ndim == 1 else p


def _delta(num: int, dtype: jnp.dtype) -> Array:
    return jnp.zeros((num,), dtype).at[0].set(1)


def _jensen_renyi(p: Array, alpha: Array) -> Array:
    num = p.shape[-1]
    u = jnp.full((num,), 1.0 / num, p.dtype)
    m = 0.5 * (p + u)
    return 0.5 * info.renyi_divergence(p, m, alpha) + 0.5 * info.renyi_divergence(u, m, alpha)


def _tsallis_relative(p: Array, q_dist: Array, q: Array) -> Array:
    d = info.renyi_divergence(p, q_dist, q)
    q_safe = jnp.where(q == 1, 2.0, q)
    return jnp.where(q == 1, d, jnp.expm1((q_safe - 1) * d) / (q_safe - 1))


def _jensen_tsallis(p: Array, q: Array) -> Array:
    num = p.shape[-1]
    u = jnp.full((num,), 1.0 / num, p.dtype)
    m = 0.5 * (p + u)
    return 0.5 * _tsallis_relative(p, m, q) + 0.5 * _tsallis_relative(u, m, q)


def _log_q(x: float, q: Array) -> Array:
    q_safe = jnp.where(q == 1, 2.0, q)
    return jnp.where(q == 1, jnp.log(x), (x ** (1 - q_safe) - 1) / (1 - q_safe))


def renyi_permutation_entropy(
    x: Real[ArrayLike, "*batch time"],
    alpha: Float[ArrayLike, "*orders"] = 1.0,
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> Float[Array, "*batch"]:
    """Normalised Rényi permutation entropy H_α = log(Σ p_j^α) / ((1 − α) log n!), α ≥ 0.

    α = 1 is the Shannon H; α = 0 counts the patterns present; α = ∞ uses the most frequent.
    A 1-D ``alpha`` (k,) appends an order axis: (..., k) (after a delay axis if any).

    Example::

        renyi_permutation_entropy(x, alpha=jnp.array([0.5, 1.0, 2.0]), n=5)   # (3,)
    """
    return _generalized(x, alpha, "alpha", n, delay, allow_large, "renyi_plane")[0]


def renyi_entropy_complexity(
    x: Real[ArrayLike, "*batch time"],
    alpha: Float[ArrayLike, "*orders"] = 1.0,
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """Rényi complexity–entropy plane: (H_α, C_α = H_α · JR_α(P, U) / JR_α(δ, U)).

    Matches ``ordpy.renyi_complexity_entropy(x, alpha, dx=n, taux=delay)``; α = 1 gives
    (H, C) of :func:`entropy_complexity`. Shapes as in :func:`renyi_permutation_entropy`.

    Example::

        H_a, C_a = renyi_entropy_complexity(x, alpha=2.0, n=4)
    """
    return _generalized(x, alpha, "alpha", n, delay, allow_large, "renyi_plane")


def tsallis_permutation_entropy(
    x: Real[ArrayLike, "*batch time"],
    q: Float[ArrayLike, "*orders"] = 1.0,
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> Float[Array, "*batch"]:
    """Normalised Tsallis permutation entropy H_q = S_q(P) / ln_q(n!), q ≥ 0.

    S_q = (1 − Σ p^q)/(q − 1) (``info.tsallis_entropy``), ln_q N = (N^{1−q} − 1)/(1 − q);
    q = 1 is the Shannon H. A 1-D ``q`` (k,) appends an order axis.

    Example::

        tsallis_permutation_entropy(x, q=2.0, n=5)
    """
    return _generalized(x, q, "q", n, delay, allow_large, "tsallis_plane")[0]


def tsallis_entropy_complexity(
    x: Real[ArrayLike, "*batch time"],
    q: Float[ArrayLike, "*orders"] = 1.0,
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    allow_large: bool = False,
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """Tsallis complexity–entropy plane: (H_q, C_q = H_q · JT_q(P, U) / JT_q(δ, U)).

    Matches ``ordpy.tsallis_complexity_entropy(x, q, dx=n, taux=delay)``; q = 1 gives (H, C).

    Example::

        H_q, C_q = tsallis_entropy_complexity(x, q=jnp.array([0.5, 2.0]), n=4)
    """
    return _generalized(x, q, "q", n, delay, allow_large, "tsallis_plane")


def missing_patterns(
    x: Real[ArrayLike, "*batch time"],
    n: int = 5,
    delay: int | Int[ArrayLike, " delays"] = 1,
    *,
    fraction: bool = False,
    allow_large: bool = False,
) -> Array:
    """Number (or, with ``fraction=True``, the fraction) of the n! patterns that never occur.

    Example::

        missing_patterns(jnp.sin(jnp.arange(1000) / 10.0), n=4)   # most patterns are forbidden
    """
    missing = _generalized(x, 1.0, "order", n, delay, allow_large, "missing")
    if fraction:
        return missing.astype(float_dtype(jnp.asarray(x))) / math.factorial(n)
    return missing
