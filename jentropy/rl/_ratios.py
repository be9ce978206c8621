"""Importance ratios ρ = π_θ / π_old at token or sequence level (PPO, GSPO), with clamped logs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._groups import check_2d, float_array, mask_like

__all__ = ["IMPORTANCE_LEVELS", "importance_ratio", "log_importance_weights"]

#: ``importance_sampling_level`` values (TRL names; "sequence_token" is GSPO-token).
IMPORTANCE_LEVELS = ("token", "sequence", "sequence_token")


def log_importance_weights(
    logp: Float[ArrayLike, "batch tokens"],
    old_logp: Float[ArrayLike, "batch tokens"] | None,
    mask: ArrayLike | None = None,
    *,
    level: str = "token",
    clamp: float | None = 20.0,
) -> Float[Array, "batch tokens"]:
    """Log importance weights log ρ, shaped (B, T) for every level.

    - ``"token"``: log ρ_t = logπ_θ(o_t) − logπ_old(o_t) (PPO/GRPO; TRL, verl "vanilla").
    - ``"sequence"``: log ρ_i = Σ_t m_t (logπ_θ − logπ_old) / Σ_t m_t, the length-normalised
      sequence ratio of GSPO (Zheng et al. 2025, eq. 7), repeated on every token.
    - ``"sequence_token"``: GSPO-token, value of the sequence ratio with each token's own gradient,
      log ρ_{i,t} = sg[log ρ_i] + logπ_θ(o_t) − sg[logπ_θ(o_t)] (eq. 13).

    ``old_logp=None`` means on-policy (μ = 1): the old log-probs are ``stop_gradient(logp)``, so the
    value is 0 while the gradient is ∇logπ — the reason TRL users see a loss ≈ 0 with non-zero
    gradients. The log ratio is clamped to ±``clamp`` (verl clamps ±20; None disables), so huge
    ratios at low entropy never overflow. Masked positions return 0.

    Example: ``jnp.exp(log_importance_weights(lp, lp_old, m, level="sequence"))``.
    """
    if level not in IMPORTANCE_LEVELS:
        raise ValueError(f"level must be one of {IMPORTANCE_LEVELS}, got {level!r}")
    lp = float_array(logp, "logp")
    check_2d(lp, "logp")
    old = jax.lax.stop_gradient(lp) if old_logp is None else float_array(old_logp, "old_logp")
    if old.shape != lp.shape:
        raise ValueError(f"old_logp must have shape {lp.shape}, got {old.shape}")
    old = old.astype(lp.dtype)
    m = mask_like(mask, lp)
    valid = m > 0
    # where() before the subtraction: masked entries may hold -inf log-probs (padding).
    diff = jnp.where(valid, lp, 0) - jnp.where(valid, old, 0)
    if level == "token":
        out = diff
    else:
        n = jnp.sum(m, axis=-1, keepdims=True)
        seq = jnp.sum(diff * m, axis=-1, keepdims=True) / jnp.where(n > 0, n, 1)
        if level == "sequence":
            out = jnp.broadcast_to(seq, lp.shape)
        else:
            lp_v = jnp.where(valid, lp, 0)
            out = jax.lax.stop_gradient(seq) + lp_v - jax.lax.stop_gradient(lp_v)
    if clamp is not None:
        out = jnp.clip(out, -clamp, clamp)
    return jnp.where(valid, out, 0)


def importance_ratio(
    logp: Float[ArrayLike, "batch tokens"],
    old_logp: Float[ArrayLike, "batch tokens"] | None,
    mask: ArrayLike | None = None,
    *,
    level: str = "token",
    clamp: float | None = 20.0,
) -> Float[Array, "batch tokens"]:
    """ρ = exp(:func:`log_importance_weights`) (1 at masked positions). Same arguments.

    Example: ``importance_ratio(logp, old_logp, mask, level="sequence")``.
    """
    return jnp.exp(log_importance_weights(logp, old_logp, mask, level=level, clamp=clamp))
