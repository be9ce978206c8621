"""The fused GRPO-family policy loss: ratio → clip → token mask → KL → aggregation → entropy terms."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._aggregation import LOSS_AGG_MODES, aggregate_loss
from ._clipping import clipped_surrogate
from ._confucius import targeted_entropy_regularization
from ._diagnostics import policy_diagnostics
from ._entropy import entropy_bonus, top_entropy_mask
from ._groups import check_2d, float_array, mask_like
from ._kl import KL_ESTIMATORS, kl_penalty
from ._ratios import IMPORTANCE_LEVELS, log_importance_weights

__all__ = ["PolicyLossConfig", "policy_loss"]


@dataclasses.dataclass(frozen=True)
class PolicyLossConfig:
    """Options of :func:`policy_loss`, named as in TRL's ``GRPOConfig`` (verl name in brackets).

    Attributes:
        loss_type: aggregation, any of :data:`LOSS_AGG_MODES` [``loss_agg_mode``]; TRL's default
            is "dapo".
        epsilon, epsilon_high: clip bounds 1 − ε, 1 + ε_high (ε_high None = ε)
            [``clip_ratio_low``, ``clip_ratio_high``]; DAPO uses 0.2 / 0.28.
        delta: cap on ρ in the unclipped branch (None: off).
        clip_ratio_c: dual-clip bound for A < 0 (None: off) [``clip_ratio_c``, 3 in verl].
        importance_sampling_level: "token", "sequence" (GSPO) or "sequence_token" (GSPO-token).
        log_ratio_clamp: |log ρ| ≤ this (verl: 20).
        beta: KL coefficient β [``kl_loss_coef``]; needs ``ref_logp``.
        kl_estimator: see :data:`KL_ESTIMATORS` [``kl_loss_type``]; TRL always uses "k3".
        kl_clamp: verl's clamps inside k3 (False reproduces TRL exactly).
        use_bias_correction_kl: multiply the KL by ρ (TRL).
        entropy_coef: entropy bonus coefficient (the loss gets −coef · H̄) [``entropy_coeff``].
        entropy_mode: aggregation of the entropy term ("token-mean" as TRL; verl uses loss_type).
        top_entropy_quantile: keep only the top-ρ tokens by entropy in the policy term (1: all).
        target_entropy, target_entropy_coef: Confucius3-Math targeted entropy regularisation,
            loss += c · |H̄ − H_target| (None: off); the paper uses 0.55 and 0.001.
        max_length: L_max for "dr_grpo" / "seq-mean-token-sum-norm" (default: T).

    Example: ``PolicyLossConfig(loss_type="dr_grpo", epsilon_high=0.28, beta=0.04)``.
    """

    loss_type: str = "dapo"
    epsilon: float = 0.2
    epsilon_high: float | None = None
    delta: float | None = None
    clip_ratio_c: float | None = None
    importance_sampling_level: str = "token"
    log_ratio_clamp: float | None = 20.0
    beta: float = 0.0
    kl_estimator: str = "k3"
    kl_clamp: bool = True
    use_bias_correction_kl: bool = False
    entropy_coef: float = 0.0
    entropy_mode: str = "token-mean"
    top_entropy_quantile: float = 1.0
    target_entropy: float | None = None
    target_entropy_coef: float = 0.0
    max_length: int | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("loss_type", self.loss_type, LOSS_AGG_MODES),
            ("entropy_mode", self.entropy_mode, LOSS_AGG_MODES),
            ("importance_sampling_level", self.importance_sampling_level, IMPORTANCE_LEVELS),
            ("kl_estimator", self.kl_estimator, KL_ESTIMATORS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if not 0 <= self.top_entropy_quantile <= 1:
            raise ValueError(
                f"top_entropy_quantile must be in [0, 1], got {self.top_entropy_quantile}"
            )
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0, got {self.beta}")


def policy_loss(
    logp: Float[ArrayLike, "batch tokens"],
    mask: ArrayLike | None,
    advantages: Float[ArrayLike, "..."],
    *,
    old_logp: Float[ArrayLike, "batch tokens"] | None = None,
    ref_logp: Float[ArrayLike, "batch tokens"] | None = None,
    entropies: Float[ArrayLike, "batch tokens"] | None = None,
    config: PolicyLossConfig = PolicyLossConfig(),
    entropy_coef: ArrayLike | None = None,
    num_tokens: ArrayLike | None = None,
) -> tuple[Float[Array, ""], dict[str, Array]]:
    """GRPO-family policy loss and its diagnostics, as TRL's ``GRPOTrainer._compute_loss`` does it.

    ℓ_t = h_t · clip-surrogate(ρ_t, A) + β KL_t, L = agg(ℓ) − c_H · agg_H(H_t) + c_T |H̄ − H_target|,
    with h_t the top-entropy mask (1 when off).

    Args:
        logp: (B, T) log π_θ of the sampled tokens (differentiable).
        mask: (B, T) response mask, or None.
        advantages: (B,) or (B, T).
        old_logp: (B, T) log π_old; None = on-policy (μ = 1, ratio 1 with the policy gradient).
        ref_logp: (B, T) log π_ref, needed when ``config.beta > 0``.
        entropies: (B, T) token entropies (differentiable when an entropy term is on; needed by
            ``entropy_coef``, ``top_entropy_quantile < 1`` and ``target_entropy``).
        config: :class:`PolicyLossConfig`.
        entropy_coef: overrides ``config.entropy_coef`` with a (possibly traced) value, e.g. from
            :func:`adaptive_entropy_coef`.
        num_tokens: global token count for "dapo" / "token-mean" (see :func:`aggregate_loss`).

    Returns ``(loss, metrics)``; ``metrics`` holds :func:`policy_diagnostics` plus ``policy_loss``,
    ``entropy_term`` and ``target_entropy_term``. Example::

        loss, metrics = policy_loss(logp, mask, adv, old_logp=old, config=PolicyLossConfig(
            loss_type="dr_grpo", epsilon_high=0.28))
    """
    c = config
    lp = float_array(logp, "logp")
    check_2d(lp, "logp")
    m = mask_like(mask, lp)
    h = None if entropies is None else float_array(entropies, "entropies").astype(lp.dtype)
    coef = c.entropy_coef if entropy_coef is None else entropy_coef
    needs_h = c.top_entropy_quantile < 1 or c.target_entropy is not None or entropy_coef is not None
    if h is None and (needs_h or c.entropy_coef != 0):
        raise ValueError("entropies are required by the entropy options of this config")
    if c.beta > 0 and ref_logp is None:
        raise ValueError("ref_logp is required when config.beta > 0")

    logw = log_importance_weights(
        lp, old_logp, m, level=c.importance_sampling_level, clamp=c.log_ratio_clamp
    )
    ratio = jnp.exp(logw)
    per_token = clipped_surrogate(
        ratio,
        advantages,
        epsilon=c.epsilon,
        epsilon_high=c.epsilon_high,
        delta=c.delta,
        clip_ratio_c=c.clip_ratio_c,
    )
    loss_mask = m
    if c.top_entropy_quantile < 1:
        keep = top_entropy_mask(jax.lax.stop_gradient(h), m, quantile=c.top_entropy_quantile)
        per_token = per_token * keep.astype(lp.dtype)
    kl = None
    if c.beta > 0:
        kl = kl_penalty(
            lp,
            ref_logp,
            c.kl_estimator,
            mask=m,
            clamp=c.kl_clamp,
            ratio=ratio if c.use_bias_correction_kl else None,
        )
        per_token = per_token + c.beta * kl
    pg = aggregate_loss(
        per_token, loss_mask, c.loss_type, max_length=c.max_length, num_tokens=num_tokens
    )
    loss = pg
    zero = jnp.zeros((), lp.dtype)
    ent_term, ter_term = zero, zero
    if h is not None and (entropy_coef is not None or c.entropy_coef != 0):
        ent_mask = m
        if c.top_entropy_quantile < 1:
            ent_mask = m * keep.astype(lp.dtype)
        ent_term = entropy_bonus(h, ent_mask, coef=coef, mode=c.entropy_mode).astype(lp.dtype)
        loss = loss + ent_term
    if c.target_entropy is not None:
        mean_h = aggregate_loss(h, m, "token-mean")
        ter_term = targeted_entropy_regularization(
            mean_h, target=c.target_entropy, coef=c.target_entropy_coef
        ).astype(lp.dtype)
        loss = loss + ter_term
    metrics = policy_diagnostics(
        lp,
        old_logp,
        advantages,
        m,
        epsilon=c.epsilon,
        epsilon_high=c.epsilon_high,
        clip_ratio_c=c.clip_ratio_c,
        level=c.importance_sampling_level,
        log_ratio_clamp=c.log_ratio_clamp,
        entropies=h,
        kl=kl,
    )
    metrics["policy_loss"] = jax.lax.stop_gradient(pg)
    metrics["entropy_term"] = jax.lax.stop_gradient(ent_term)
    metrics["target_entropy_term"] = jax.lax.stop_gradient(ter_term)
    return loss, metrics
