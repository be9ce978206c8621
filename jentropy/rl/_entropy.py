"""Entropy terms of the policy loss: bonus, adaptive coefficient, top-entropy-quantile token mask.

Token entropies H_t = H(π_θ(· | o_<t)) come from :func:`jentropy.info.entropy_from_logits`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from jentropy import info

from ._aggregation import aggregate_loss
from ._groups import check_2d, float_array, mask_like

__all__ = [
    "AdaptiveEntropyState",
    "adaptive_entropy_coef",
    "adaptive_entropy_init",
    "adaptive_entropy_update",
    "entropy_bonus",
    "token_entropy",
    "top_entropy_mask",
]


def token_entropy(logits: Float[ArrayLike, "... vocab"]) -> Float[Array, "..."]:
    """Per-position entropy H_t = −Σ_v p_v log p_v of softmax(logits) (via ``jentropy.info``).

    ``logits`` (B, T, V) → (B, T). Apply the sampling temperature to the logits first if the loss
    should see the sampling distribution.

    Example: ``token_entropy(jnp.zeros((1, 1, 8)))  # [[log 8]]``.
    """
    return info.entropy_from_logits(logits, axis=-1)


def entropy_bonus(
    entropies: Float[ArrayLike, "batch tokens"],
    mask: ArrayLike | None = None,
    *,
    coef: ArrayLike,
    mode: str = "token-mean",
) -> Float[Array, ""]:
    """The term to add to the loss for an entropy bonus: −coef · agg(H_t).

    TRL always uses the token mean (``mode="token-mean"``); verl aggregates with the policy
    loss's ``loss_agg_mode``. ``coef`` may be traced (adaptive control).

    Example: ``entropy_bonus(jnp.array([[1.0, 3.0]]), coef=0.1)  # -0.2``.
    """
    return -jnp.asarray(coef) * aggregate_loss(entropies, mask, mode)


class AdaptiveEntropyState(NamedTuple):
    """State of adaptive entropy control: the coefficient and the last measured mean entropy.

    Example: ``state = adaptive_entropy_init(0.01)`` (a pytree; carry it through jit).
    """

    coef: Array
    last_entropy: Array


def adaptive_entropy_init(coef: float = 0.0, dtype=jnp.float32) -> AdaptiveEntropyState:
    """Initial state (``last_entropy = +inf``, so no bonus is applied before a measurement).

    Example: ``state = adaptive_entropy_init(0.01); adaptive_entropy_coef(state)  # 0``.
    """
    return AdaptiveEntropyState(jnp.asarray(coef, dtype), jnp.asarray(jnp.inf, dtype))


def adaptive_entropy_coef(state: AdaptiveEntropyState, *, target: float = 0.2) -> Array:
    """The coefficient to apply this step: ``coef`` if the last entropy ≤ target, else 0 (TRL).

    Example: ``loss, m = policy_loss(..., entropy_coef=adaptive_entropy_coef(state))``.
    """
    return jnp.where(state.last_entropy <= target, state.coef, 0).astype(state.coef.dtype)


def adaptive_entropy_update(
    state: AdaptiveEntropyState,
    entropy: ArrayLike,
    *,
    target: float = 0.2,
    delta: float = 0.005,
    coef_min: float = 0.0,
    coef_max: float = 1.0,
) -> AdaptiveEntropyState:
    """Adaptive entropy control (Skywork-OR1, He et al. 2025; TRL ``use_adaptive_entropy``).

    After an optimizer step with mean token entropy ``entropy``: coef += delta if
    entropy ≤ target, else coef −= delta, clipped to [coef_min, coef_max]; the measured entropy is
    stored and gates the next step (:func:`adaptive_entropy_coef`). It is one-sided: it only ever
    adds a bonus when entropy is low. Contrast :func:`targeted_entropy_regularization`.

    Example: ``state = adaptive_entropy_update(state, metrics["entropy"])``.
    """
    h = jnp.asarray(entropy, state.coef.dtype)
    step = jnp.where(h <= target, delta, -delta).astype(state.coef.dtype)
    coef = jnp.clip(state.coef + step, coef_min, coef_max)
    return AdaptiveEntropyState(coef, h)


def top_entropy_mask(
    entropies: Float[ArrayLike, "batch tokens"],
    mask: ArrayLike | None = None,
    *,
    quantile: float,
) -> Bool[Array, "batch tokens"]:
    """Keep only the highest-entropy tokens: H_t ≥ the (1 − ρ)-quantile of the valid entropies.

    TRL ``top_entropy_quantile`` = ρ ("Beyond the 80/20 rule", Wang et al. 2025: ρ = 0.2 keeps the
    forking tokens). The quantile interpolates linearly (``torch.quantile``); ρ = 1 keeps every
    valid token, ρ = 0 only the maximum (and ties). An empty mask keeps nothing.

    Example: ``top_entropy_mask(h, mask, quantile=0.2)  # the top 20% of tokens``.
    """
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile must be in [0, 1], got {quantile}")
    h = float_array(entropies, "entropies")
    check_2d(h, "entropies")
    m = mask_like(mask, h) > 0
    flat = jnp.where(m, h, jnp.inf).reshape(-1)
    s = jnp.sort(flat)
    n = jnp.sum(m)
    pos = (1 - quantile) * jnp.maximum(n - 1, 0).astype(h.dtype)
    lo = jnp.floor(pos).astype(jnp.int32)
    hi = jnp.minimum(lo + 1, jnp.maximum(n - 1, 0))
    frac = pos - lo.astype(h.dtype)
    s_lo = s[lo]
    s_hi = s[hi]
    threshold = s_lo + frac * jnp.where(frac > 0, s_hi - s_lo, 0)
    return m & (h >= threshold) & (n > 0)
