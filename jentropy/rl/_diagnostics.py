"""What a GRPO trainer logs each step: clip fractions, KL, entropy, ratio extremes, zero-std groups.

These are the numbers that expose the failure modes users report: clip fractions and ratio extremes
(NaN or huge ratios at low entropy, TRL #4772/#5815), ``ppo_kl`` (drift from π_old), the entropy
(collapse or explosion, verl #514/#651) and the fraction of zero-variance groups (TRL #3857).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._clipping import clip_masks
from ._dynamic_sampling import zero_std_group_fraction
from ._groups import float_array, mask_like, masked_mean
from ._ratios import log_importance_weights

__all__ = ["policy_diagnostics"]


def policy_diagnostics(
    logp: Float[ArrayLike, "batch tokens"],
    old_logp: Float[ArrayLike, "batch tokens"] | None,
    advantages: Float[ArrayLike, "..."],
    mask: ArrayLike | None = None,
    *,
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    clip_ratio_c: float | None = None,
    level: str = "token",
    log_ratio_clamp: float | None = 20.0,
    entropies: Float[ArrayLike, "batch tokens"] | None = None,
    kl: Float[ArrayLike, "batch tokens"] | None = None,
    rewards: Float[ArrayLike, "..."] | None = None,
    group_ids: ArrayLike | None = None,
    num_groups: int | None = None,
) -> dict[str, Array]:
    """Scalar diagnostics of one policy-loss evaluation (no gradient flows through them).

    Returns a dict with TRL's names where they exist:

    - ``clip_ratio/low_mean``, ``clip_ratio/high_mean``, ``clip_ratio/region_mean``: fraction of
      valid tokens where the lower / upper / either clip binds; ``clip_ratio/dual_mean`` for verl's
      dual clip (``pg_clipfrac_lower``);
    - ``ratio/mean``, ``ratio/max``, ``ratio/min`` over valid tokens, and ``ppo_kl`` = mean of
      log π_old − log π_θ (verl);
    - ``advantages/mean``, ``advantages/abs_mean``; ``entropy``, ``kl`` (mean over valid tokens) when
      given; ``frac_reward_zero_std`` when ``rewards`` are given.

    An all-masked batch yields zeros (and ratio extremes 1), never NaN.

    Example: ``policy_diagnostics(logp, old_logp, adv, mask)["clip_ratio/region_mean"]``.
    """
    lp = jax.lax.stop_gradient(float_array(logp, "logp"))
    old = None if old_logp is None else jax.lax.stop_gradient(float_array(old_logp, "old_logp"))
    m = mask_like(mask, lp)
    valid = m > 0
    any_valid = jnp.any(valid)
    logw = log_importance_weights(
        lp, lp if old is None else old, m, level=level, clamp=log_ratio_clamp
    )
    rho = jnp.exp(logw)
    a = jax.lax.stop_gradient(float_array(advantages, "advantages")).astype(lp.dtype)
    clips = clip_masks(
        rho, a, epsilon=epsilon, epsilon_high=epsilon_high, clip_ratio_c=clip_ratio_c
    )
    out = {f"clip_ratio/{k}_mean": masked_mean(v.astype(lp.dtype), m) for k, v in clips.items()}
    out["ratio/mean"] = masked_mean(rho, m)
    out["ratio/max"] = jnp.where(any_valid, jnp.max(jnp.where(valid, rho, -jnp.inf)), 1)
    out["ratio/min"] = jnp.where(any_valid, jnp.min(jnp.where(valid, rho, jnp.inf)), 1)
    out["ppo_kl"] = masked_mean(-logw, m)
    a_tok = jnp.broadcast_to(a[:, None] if a.ndim == 1 else a, lp.shape)
    out["advantages/mean"] = masked_mean(a_tok, m)
    out["advantages/abs_mean"] = masked_mean(jnp.abs(a_tok), m)
    if entropies is not None:
        out["entropy"] = masked_mean(jax.lax.stop_gradient(float_array(entropies, "entropies")), m)
    if kl is not None:
        out["kl"] = masked_mean(jax.lax.stop_gradient(float_array(kl, "kl")), m)
    if rewards is not None:
        out["frac_reward_zero_std"] = zero_std_group_fraction(
            rewards, group_ids, num_groups=num_groups
        )
    return out
