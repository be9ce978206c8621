"""The clipped surrogate: asymmetric clipping (clip-higher), TRL's delta cap and verl's dual clip."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ._groups import float_array

__all__ = ["clip_masks", "clipped_surrogate"]


def _advantages_like(advantages: ArrayLike, ratio: Array) -> Array:
    a = float_array(advantages, "advantages").astype(ratio.dtype)
    if a.ndim == 1 and ratio.ndim == 2:
        a = a[:, None]
    try:
        jnp.broadcast_shapes(a.shape, ratio.shape)
    except ValueError:
        raise ValueError(
            f"advantages must be (batch,) or broadcast to the ratio's shape {ratio.shape}, "
            f"got {a.shape}"
        ) from None
    return a


def _check_eps(epsilon: float, epsilon_high: float | None, clip_ratio_c: float | None) -> float:
    if not 0 <= epsilon < 1:
        raise ValueError(f"epsilon must be in [0, 1), got {epsilon}")
    high = epsilon if epsilon_high is None else epsilon_high
    if high < 0:
        raise ValueError(f"epsilon_high must be >= 0, got {epsilon_high}")
    if clip_ratio_c is not None and clip_ratio_c <= 1:
        raise ValueError(f"clip_ratio_c must be > 1 (dual-clip lower bound), got {clip_ratio_c}")
    return high


def clipped_surrogate(
    ratio: Float[ArrayLike, "batch tokens"],
    advantages: Float[ArrayLike, "..."],
    *,
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    delta: float | None = None,
    clip_ratio_c: float | None = None,
) -> Float[Array, "batch tokens"]:
    """Per-token clipped policy loss ℓ_t = −min(ρ' A, clip(ρ, 1 − ε_low, 1 + ε_high) A).

    PPO's objective (Schulman et al. 2017, eq. 7) with DAPO's decoupled bounds (clip-higher,
    ε_high = 0.28) and two guards:

    - ``delta`` (TRL, two-sided clipping of INTELLECT-2): the unclipped branch uses
      ρ' = min(ρ, δ), so a huge ratio with A < 0 cannot blow the loss up;
    - ``clip_ratio_c`` (verl dual clip, Ye et al. 2020): for A < 0, ℓ = min(ℓ, −c A).

    Names: TRL ``epsilon`` / ``epsilon_high`` / ``delta``; verl ``clip_ratio_low`` /
    ``clip_ratio_high`` / ``clip_ratio_c`` (verl applies dual clip with c = 3 by default).

    Args:
        ratio: (B, T) importance ratios (see :func:`importance_ratio`).
        advantages: (B,) per sequence or (B, T) per token.

    Returns (B, T) losses to be aggregated with :func:`aggregate_loss`. Example: ρ = 1.5, A = 1,
    ε = 0.2 gives −1.2 (clipped); ρ = 0.5, A = 1 gives −0.5 (unclipped, pessimistic branch).
    """
    high = _check_eps(epsilon, epsilon_high, clip_ratio_c)
    rho = float_array(ratio, "ratio")
    a = _advantages_like(advantages, rho)
    rho1 = rho if delta is None else jnp.minimum(rho, delta)
    clipped = jnp.clip(rho, 1 - epsilon, 1 + high)
    loss = -jnp.minimum(rho1 * a, clipped * a)
    if clip_ratio_c is not None:
        loss = jnp.where(a < 0, jnp.minimum(loss, -clip_ratio_c * a), loss)
    return loss


def clip_masks(
    ratio: Float[ArrayLike, "batch tokens"],
    advantages: Float[ArrayLike, "..."],
    *,
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    clip_ratio_c: float | None = None,
) -> dict[str, Bool[Array, "batch tokens"]]:
    """Where the clip is active (its gradient is zero), as TRL and verl log it.

    Returns booleans (B, T): ``low`` ρ < 1 − ε_low with A < 0, ``high`` ρ > 1 + ε_high with A > 0,
    ``region`` either, and ``dual`` where verl's dual clip binds (A < 0 and ρ > c).

    Example: ``clip_masks(ratio, adv, epsilon_high=0.28)["high"].mean()``.
    """
    high = _check_eps(epsilon, epsilon_high, clip_ratio_c)
    rho = float_array(ratio, "ratio")
    a = _advantages_like(advantages, rho)
    low_m = (rho < 1 - epsilon) & (a < 0)
    high_m = (rho > 1 + high) & (a > 0)
    c = jnp.inf if clip_ratio_c is None else clip_ratio_c
    dual = (rho > c) & (a < 0)
    shape = jnp.broadcast_shapes(rho.shape, a.shape)
    return {
        "low": jnp.broadcast_to(low_m, shape),
        "high": jnp.broadcast_to(high_m, shape),
        "region": jnp.broadcast_to(low_m | high_m, shape),
        "dual": jnp.broadcast_to(dual, shape),
    }
