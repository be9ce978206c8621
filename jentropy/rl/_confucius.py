"""Confucius3-Math: Targeted Entropy Regularization and Policy-Specific Hardness Weighting.

(Recent Sample Recovery, the third technique, is the buffer in :mod:`._rsr`.) Formulas from Wu et al.
2025, arXiv 2506.18330, section 3.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._groups import float_array, group_stats, resolve_groups

__all__ = ["hardness_weight", "hardness_weighted_advantages", "targeted_entropy_regularization"]

#: D(q) = α μ + β with the paper's constants: D = 1 when every sample is right (μ = 1), 1.512 when
#: every sample is wrong (μ = −1).
PSHW_ALPHA = -0.256
PSHW_BETA = 1.256


def targeted_entropy_regularization(
    entropy: Float[ArrayLike, "..."], *, target: float = 0.55, coef: float = 0.001
) -> Float[Array, "..."]:
    """Targeted Entropy Regularization (TER): the loss term c · |H − H_target|.

    Two-sided: its gradient raises the entropy when H < H_target and lowers it when H > H_target,
    unlike a fixed bonus (always raises) or adaptive control (only raises when low). The paper's
    stage-1 values are H_target = 0.55 nats and c = 0.001. ``entropy`` is the mean token entropy
    of the batch (a scalar), or any array of entropies (the term is then elementwise).

    Example: ``targeted_entropy_regularization(0.3)  # 0.001 · 0.25``.
    """
    h = float_array(entropy, "entropy")
    return coef * jnp.abs(h - target)


def hardness_weight(
    mean_outcome: Float[ArrayLike, "..."], *, alpha: float = PSHW_ALPHA, beta: float = PSHW_BETA
) -> Float[Array, "..."]:
    """Policy-specific hardness D(q) = α μ + β, μ the group's mean of R_i ∈ {+1, −1}.

    Example: ``hardness_weight(jnp.array([1.0, -1.0]))  # [1.0, 1.512]``.
    """
    return alpha * float_array(mean_outcome, "mean_outcome") + beta


def hardness_weighted_advantages(
    correct: ArrayLike,
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
    alpha: float = PSHW_ALPHA,
    beta: float = PSHW_BETA,
) -> Float[Array, "..."]:
    """Policy-Specific Hardness Weighting (PSHW): Â_i = (R_i − μ) · D(q), no std division.

    R_i = +1 for a correct sample and −1 for a wrong one, μ = mean_i R_i over the group, and
    D(q) = α μ + β weights groups the policy mostly fails (μ → −1) up to 1.512× versus groups it
    mostly solves. Use with DAPO-style dynamic sampling (keep 0 < #correct < G; see
    :func:`group_has_signal`) and the "seq-mean-token-sum" aggregation (no length
    normalisation), as the paper does.

    Args:
        correct: (P, G) grid or (B,) with ``group_ids``; booleans or 0/1 (> 0.5 counts as correct).

    Returns advantages with the shape of ``correct``. Example: one right out of four gives
    R − μ = (1.5, −0.5, −0.5, −0.5) times D = −0.256·(−0.5) + 1.256 = 1.384.
    """
    c = jnp.asarray(correct)
    right = c if c.dtype == bool else c.astype(jnp.result_type(float)) > 0.5
    outcome = jnp.where(right, 1.0, -1.0)
    outcome = outcome.astype(jnp.result_type(float))
    flat, ids, n, shape = resolve_groups(outcome, group_ids, num_groups)
    _, _, count, constant = group_stats(flat, ids, n)
    # the group's actual mean (also for a group of one, whose advantage is then 0)
    mean = jax.ops.segment_sum(flat, ids, n)[ids] / count.astype(flat.dtype)
    adv = jnp.where(constant, 0, (flat - mean) * hardness_weight(mean, alpha=alpha, beta=beta))
    return adv.reshape(shape)
