"""Exact best-of-N: draw N outcomes from p, keep the one with the highest reward.

With F the reward CDF under p and F⁻ the mass strictly below a reward level, a level ℓ is chosen
with probability π_N(ℓ) = F_ℓ^N − (F_ℓ⁻)^N, split inside the level in proportion to p (ties are
exact). Everything is computed in log space from log N, so N = e^{nδ} with nδ in the thousands and
vocabularies of 10⁶ outcomes are fine; non-integer N is the continuous extension of the same
formula (Beirami et al., arXiv 2401.01879).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._numerics import _LOG_HALF, log1mexp, neg_exp_of_log
from ._outcomes import Outcomes, check_outcomes, host, pad_batch, pad_outcomes, unpad


class Levels(NamedTuple):
    """Distinct reward levels in increasing order, padded to a static length.

    Attributes (all of length L, the static number of slots; slots past ``count`` are padding):
        logp: log P_ℓ, the base mass of level ℓ (−inf for padding or zero-mass levels).
        log_cdf: log F_ℓ, the mass at or below the level (accurate near 1 via the upper tail).
        log_ratio: log(F_ℓ⁻ / F_ℓ) ≤ 0 (−inf for the lowest level).
        reward: the level's reward.
        valid: whether the slot is a real level.
    """

    logp: Float[Array, " l"]
    log_cdf: Float[Array, " l"]
    log_ratio: Float[Array, " l"]
    reward: Float[Array, " l"]
    valid: Array


def levels_from_sorted(logp: Array, reward: Array, valid: Array | None = None) -> Levels:
    """:class:`Levels` from masses of distinct rewards already in increasing order (internal)."""
    if valid is None:
        valid = jnp.ones(logp.shape, bool)
    logp = jnp.where(valid, logp, -jnp.inf)
    lower = jax.lax.cumlogsumexp(logp)  # log F_ℓ summed from below
    upper = jax.lax.cumlogsumexp(logp, reverse=True)  # log of the mass at or above ℓ
    above = jnp.concatenate([upper[1:], jnp.full((1,), -jnp.inf, logp.dtype)])
    log_cdf = jnp.where(above < _LOG_HALF, log1mexp(jnp.minimum(above, 0)), lower)
    below = jnp.concatenate([jnp.full((1,), -jnp.inf, logp.dtype), lower[:-1]])
    frac = jnp.where(log_cdf > -jnp.inf, logp - log_cdf, -jnp.inf)  # log(P/F) ≤ 0
    frac = jnp.minimum(frac, 0)
    # F⁻/F = 1 − P/F: from P/F when it is small, from the lower sums when F⁻ is small
    direct = jnp.where(log_cdf > -jnp.inf, below - log_cdf, -jnp.inf)
    log_ratio = jnp.where(frac > _LOG_HALF, jnp.minimum(direct, 0), log1mexp(frac))
    return Levels(logp, log_cdf, log_ratio, reward, valid)


class _Sorted(NamedTuple):
    order: Array  # argsort of the reward
    level: Array  # level index of each sorted outcome
    levels: Levels


@jax.jit
def _sort_into_levels(o: Outcomes) -> _Sorted:
    k = o.reward.shape[0]
    r, lp, order = jax.lax.sort((o.reward, o.logp, jnp.arange(k)), num_keys=1, is_stable=True)
    new = jnp.concatenate([jnp.ones((1,), bool), r[1:] != r[:-1]])
    level = jnp.cumsum(new.astype(jnp.int32)) - 1
    count = level[-1] + 1
    m = jax.ops.segment_max(lp, level, num_segments=k, indices_are_sorted=True)
    m_safe = jnp.where(jnp.isfinite(m), m, 0)
    s = jax.ops.segment_sum(
        jnp.where(lp > -jnp.inf, jnp.exp(lp - m_safe[level]), 0), level, k, indices_are_sorted=True
    )
    level_logp = jnp.where(s > 0, jnp.log(jnp.where(s > 0, s, 1)) + m_safe, -jnp.inf)
    level_reward = jax.ops.segment_max(r, level, num_segments=k, indices_are_sorted=True)
    valid = jnp.arange(k, dtype=level.dtype) < count
    level_reward = jnp.where(valid, level_reward, 0)
    return _Sorted(order, level, levels_from_sorted(level_logp, level_reward, valid))


def reward_levels(o: Outcomes) -> Levels:
    """Group the outcomes of ``o`` into distinct reward levels (ties merged), increasing.

    Returns :class:`Levels` padded to K slots (rounded up to a power of two). Sorting is the
    O(K log K) part of best-of-N; pass the result to :func:`best_of_n_stats` to evaluate many N
    (or several calls) at the cost of one sort.

    Example: ``lv = reward_levels(o); best_of_n_stats(lv, jnp.geomspace(1, 1e6, 50))``.
    """
    return _sort_into_levels(pad_outcomes(check_outcomes(o))[0]).levels


def _log_n(n: ArrayLike | None, log_n: ArrayLike | None, dtype: jnp.dtype) -> Array:
    if (n is None) == (log_n is None):
        raise ValueError("give exactly one of n (number of draws) or log_n (its logarithm)")
    if n is not None:
        n = jnp.asarray(n)
        if not (jnp.issubdtype(n.dtype, jnp.integer) or jnp.issubdtype(n.dtype, jnp.floating)):
            raise TypeError(f"n must be a real number or array, got dtype {n.dtype}")
        n = n.astype(dtype)
        n_host = host(n)
        if n_host is not None and not np.all(n_host >= 1):
            raise ValueError(f"n must be >= 1 (best of N draws), got {n}")
        return jnp.log(n)
    log_n = jnp.asarray(log_n, dtype)
    ln_host = host(log_n)
    if ln_host is not None and not np.all(ln_host >= 0):
        raise ValueError(f"log_n must be >= 0 (N >= 1), got {log_n}")
    return log_n


def level_log_probs(levels: Levels, log_n: Array) -> Float[Array, " l"]:
    """log π_N(ℓ) = N log F_ℓ + log(1 − (F_ℓ⁻/F_ℓ)^N) for one scalar log N (internal)."""
    a = neg_exp_of_log(log_n, levels.log_cdf)
    b = neg_exp_of_log(log_n, levels.log_ratio)
    out = a + log1mexp(b)
    return jnp.where(levels.valid & (levels.logp > -jnp.inf), out, -jnp.inf)


class BestOfNStats(NamedTuple):
    """Exact best-of-N summaries (each with the shape of n)."""

    kl: Array  #: D(π_N ‖ p) in nats
    reward: Array  #: E_{π_N} r
    win_rate: Array  #: P(r(Y) > r(Y')) + ½ P(r(Y) = r(Y')), Y ~ π_N, Y' ~ p; ≤ N/(N+1)
    bound: Array  #: log N − (N − 1)/N


def _stats_one(levels: Levels, log_n: Array) -> BestOfNStats:
    lpi = level_log_probs(levels, log_n)
    live = lpi > -jnp.inf
    lpi = jnp.where(live, lpi, 0)
    pi = jnp.where(live, jnp.exp(lpi), 0)
    # D(π_N‖p) over levels (the within-level split is p's, so the ratio is π_ℓ/P_ℓ); the masked
    # form keeps gradients finite at the padded slots, which info.kl_divergence_from_logits cannot
    kl = jnp.sum(jnp.where(live, pi * (lpi - jnp.where(live, levels.logp, 0)), 0))
    reward = jnp.sum(jnp.where(live, pi * levels.reward, 0))
    half_tie = 0.5 * jnp.exp(jnp.where(live, levels.logp - levels.log_cdf, 0))
    win = jnp.sum(jnp.where(live, pi * jnp.exp(levels.log_cdf) * (1 - half_tie), 0))
    return BestOfNStats(jnp.maximum(kl, 0), reward, win, best_of_n_kl_bound_log(log_n))


def best_of_n_kl_bound_log(log_n: Array) -> Array:
    """log N − (N − 1)/N from log N (internal; stable for N → 1 and N → ∞)."""
    return log_n + jnp.expm1(-log_n)


def best_of_n_kl_bound(n: ArrayLike | None = None, *, log_n: ArrayLike | None = None) -> Array:
    """The upper bound D(π_N‖p) ≤ log N − (N − 1)/N (equality only for continuous rewards).

    Give ``n`` (≥ 1, any shape, non-integer allowed) or ``log_n``; returns the bound with that
    shape (Beirami et al., Theorem 1).

    Example: ``best_of_n_kl_bound(jnp.array([2.0, 16.0, 256.0]))`` = [0.19315, 1.83509, 4.54908].
    """
    dtype = jnp.result_type(float)
    for v in (n, log_n):
        if v is not None and jnp.issubdtype(jnp.asarray(v).dtype, jnp.floating):
            dtype = jnp.asarray(v).dtype
    return best_of_n_kl_bound_log(_log_n(n, log_n, dtype))


def best_of_n_stats(
    o: Outcomes | Levels,
    n: ArrayLike | None = None,
    *,
    log_n: ArrayLike | None = None,
    batch_size: int | None = None,
) -> BestOfNStats:
    """Exact KL(π_N‖p), expected reward, win rate and the KL bound of best-of-N, for many N at once.

    π_N(y) = [F(r_y)^N − F(r_y⁻)^N] · p(y)/P(r = r_y) (ties split by p). The sort is done once and
    the per-N work is O(K); N runs through ``lax.map`` (in chunks of ``batch_size``) so a 10⁶
    vocabulary with many N stays within memory.

    Args:
        o: :class:`Outcomes` (or precomputed :func:`reward_levels`).
        n: N ≥ 1, any shape; non-integer N is the continuous extension.
        log_n: alternatively log N ≥ 0 (use this for N = e^{nδ} beyond the float range).
        batch_size: how many N to evaluate together (default: all when K ≤ 10⁴, else 8).

    Returns:
        :class:`BestOfNStats` (kl, reward, win_rate, bound), each with the shape of n.

    Example::

        o = outcomes(jnp.arange(10.0), probs=jnp.full(10, 0.1))
        best_of_n_stats(o, 16).kl        # 1.733063 (< bound 1.835089)
    """
    levels = o if isinstance(o, Levels) else reward_levels(o)
    k = levels.logp.shape[0]
    ln = _log_n(n, log_n, levels.logp.dtype)
    flat, shape, count = pad_batch(ln, k)
    if batch_size is None:
        batch_size = flat.shape[0] if k <= 10_000 else 8
    out = _stats_many(levels, flat, max(1, min(batch_size, flat.shape[0])))
    return BestOfNStats(*(unpad(v, shape, count) for v in out))


@partial(jax.jit, static_argnums=2)
def _stats_many(levels: Levels, log_n: Array, batch_size: int) -> BestOfNStats:
    return jax.lax.map(lambda x: _stats_one(levels, x), log_n, batch_size=batch_size)


def best_of_n_kl(o: Outcomes | Levels, n: ArrayLike | None = None, *, log_n=None) -> Array:
    """Exact D(π_N ‖ p) = Σ_ℓ π_N(ℓ) log(π_N(ℓ)/P(ℓ)) in nats, shape of n (≤ log N − (N−1)/N).

    See :func:`best_of_n_stats` for the arguments. Example: uniform p over 10 outcomes,
    ``best_of_n_kl(o, 16)`` = 1.733063.
    """
    return best_of_n_stats(o, n, log_n=log_n).kl


def best_of_n_reward(o: Outcomes | Levels, n: ArrayLike | None = None, *, log_n=None) -> Array:
    """Exact expected reward E_{π_N} r = Σ_ℓ π_N(ℓ) r_ℓ, shape of n (see :func:`best_of_n_stats`).

    Example: uniform p over rewards 0..9, ``best_of_n_reward(o, 2)`` = 6.15.
    """
    return best_of_n_stats(o, n, log_n=log_n).reward


def best_of_n_win_rate(o: Outcomes | Levels, n: ArrayLike | None = None, *, log_n=None) -> Array:
    """Win rate P(r(Y) > r(Y')) + ½ P(r(Y) = r(Y')), Y ~ π_N, Y' ~ p, shape of n (≤ N/(N+1)).

    See :func:`best_of_n_stats`. Example: uniform p over 10 distinct rewards,
    ``best_of_n_win_rate(o, 2)`` = 0.665 (< 2/3: Y and Y' can land on the same outcome,
    which counts ½; the bound is attained only for continuous rewards).
    """
    return best_of_n_stats(o, n, log_n=log_n).win_rate


def best_of_n_log_probs(
    o: Outcomes, n: ArrayLike | None = None, *, log_n: ArrayLike | None = None
) -> Float[Array, "... k"]:
    """log π_N(y) for every outcome, in the original order: the exact best-of-N policy.

    Args:
        o: base distribution and reward.
        n: N ≥ 1 (any shape, non-integer allowed) or ``log_n``.

    Returns log-probabilities of shape ``n.shape + (K,)`` (−inf where p(y) = 0).

    Example: ``best_of_n_log_probs(o, 1.0) == o.logp``; ``jnp.exp(...).sum(-1) == 1``.
    """
    o = check_outcomes(o)
    o_p, k = pad_outcomes(o)
    ln = _log_n(n, log_n, o.logp.dtype)
    flat, shape, count = pad_batch(ln, k)
    return unpad(_log_probs_many(o_p, flat), shape, count, k)


@jax.jit
def _log_probs_many(o: Outcomes, log_n: Array) -> Array:
    srt = _sort_into_levels(o)
    lp_sorted = o.logp[srt.order]
    live = lp_sorted > -jnp.inf
    within = lp_sorted - jnp.where(live, srt.levels.logp[srt.level], 0)

    def one(x: Array) -> Array:
        lpi = level_log_probs(srt.levels, x)[srt.level]
        out_sorted = jnp.where(live, lpi + within, -jnp.inf)
        return jnp.zeros_like(out_sorted).at[srt.order].set(out_sorted)

    return jax.vmap(one)(log_n)
