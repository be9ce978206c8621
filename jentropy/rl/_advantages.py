"""Outcome-reward advantage estimators with the option semantics of TRL, verl and tunix.

Every estimator takes the scalar rewards of B completions and their groups (the G samples of one
prompt), either as a (P, G) grid (rows are groups) or as flat (B,) rewards with ``group_ids``.
Groups of one get baseline 0 and scale 1 (verl's convention), and groups whose rewards are all
identical get advantage exactly 0 (tested with max == min, so float round-off in the group mean
never leaks a spurious ±1 into a zero-variance group).

Names users know, and where they differ:

=====================================  ==========================================================
jentropy                               peers
=====================================  ==========================================================
``grpo_advantages(scale_rewards=...)``  TRL ``scale_rewards`` "group" (default) / "batch" /
                                       "none"; verl ``adv_estimator="grpo"`` with
                                       ``norm_adv_by_std_in_grpo`` True ("group") / False
                                       ("none"); ε = 1e-4 in TRL, 1e-6 in verl and tunix.
``dr_grpo_advantages``                 TRL ``scale_rewards="none"``; tunix "drgrpo".
``rloo_advantages``                    verl / tunix "rloo".
``opo_advantages``                     verl "opo" (length-weighted baseline).
``reinforce_plus_plus_advantages``     verl "reinforce_plus_plus" (token returns, whitened).
``reinforce_plus_plus_baseline_…``     verl "reinforce_plus_plus_baseline".
``remax_advantages``                   verl "remax" (greedy-rollout baseline).
=====================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._groups import check_2d, float_array, group_stats, mask_like, masked_whiten, resolve_groups

__all__ = [
    "ADVANTAGE_ESTIMATORS",
    "broadcast_to_tokens",
    "dr_grpo_advantages",
    "grpo_advantages",
    "opo_advantages",
    "reinforce_plus_plus_advantages",
    "reinforce_plus_plus_baseline_advantages",
    "remax_advantages",
    "rloo_advantages",
]

_SCALES = ("group", "batch", "none")


def _prepare(rewards: ArrayLike, group_ids: ArrayLike | None, num_groups: int | None):
    r = float_array(rewards, "rewards")
    flat, ids, n, shape = resolve_groups(r, group_ids, num_groups)
    mean, std, count, constant = group_stats(flat, ids, n)
    return flat, ids, n, shape, mean, std, count, constant


def grpo_advantages(
    rewards: Float[ArrayLike, "..."],
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
    scale_rewards: str = "group",
    epsilon: float = 1e-6,
    std_floor: float = 0.0,
) -> Float[Array, "..."]:
    """GRPO advantages Â_i = (r_i − mean_g) / (std + ε) (DeepSeekMath eq. 3; TRL, verl, tunix).

    Args:
        rewards: (P, G) grid (rows are groups) or (B,) with ``group_ids``.
        group_ids: (B,) ints in ``[0, num_groups)``; None for the grid layout.
        num_groups: static number of group slots (default B).
        scale_rewards: "group" divides by the group's unbiased std (G−1), "batch" by the std of all
            B rewards (TRL), "none" does not divide (= Dr.GRPO).
        epsilon: added to the std; 1e-6 as verl and tunix, TRL uses 1e-4.
        std_floor: the std is raised to at least this value before dividing (a guard against a
            float32 std near 0 inflating advantages, as NeMo-RL does); 0 disables it.

    Returns advantages with the shape of ``rewards``. Example: ``grpo_advantages([[1., 0, 0, 1]])``
    gives ±0.866 (std = 0.577).
    """
    if scale_rewards not in _SCALES:
        raise ValueError(f"scale_rewards must be one of {_SCALES}, got {scale_rewards!r}")
    flat, _, _, shape, mean, std, _, constant = _prepare(rewards, group_ids, num_groups)
    centred = jnp.where(constant, 0, flat - mean)
    if scale_rewards == "none":
        return centred.reshape(shape)
    if scale_rewards == "batch":
        n = flat.shape[0]
        std = jnp.std(flat, ddof=1) if n > 1 else jnp.ones((), flat.dtype)
        std = jnp.broadcast_to(std, flat.shape)
    std = jnp.maximum(std, std_floor)
    return (centred / (std + epsilon)).astype(flat.dtype).reshape(shape)


def dr_grpo_advantages(
    rewards: Float[ArrayLike, "..."],
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
) -> Float[Array, "..."]:
    """Dr.GRPO advantages Â_i = r_i − mean_g, no std division (Liu et al. 2025, "GRPO done right").

    Same layout as :func:`grpo_advantages`. Example: ``dr_grpo_advantages([[1., 0, 0, 1]])`` = ±0.5.
    """
    flat, _, _, shape, mean, _, _, constant = _prepare(rewards, group_ids, num_groups)
    return jnp.where(constant, 0, flat - mean).reshape(shape)


def rloo_advantages(
    rewards: Float[ArrayLike, "..."],
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
) -> Float[Array, "..."]:
    """RLOO advantages Â_i = r_i − mean_{j≠i} r_j = G/(G−1) (r_i − mean_g) (Ahmadian et al. 2024).

    Groups of one keep their reward (verl). Example: ``rloo_advantages([[1., 0, 0, 1]])`` = ±0.667.
    """
    flat, _, _, shape, mean, _, count, constant = _prepare(rewards, group_ids, num_groups)
    g = count.astype(flat.dtype)
    factor = jnp.where(count > 1, g / jnp.maximum(g - 1, 1), 1)
    return jnp.where(constant, 0, factor * (flat - mean)).reshape(shape)


def opo_advantages(
    rewards: Float[ArrayLike, "..."],
    lengths: Float[ArrayLike, "..."],
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
) -> Float[Array, "..."]:
    """OPO advantages with the length-weighted baseline Â_i = r_i − Σ_j |o_j| r_j / Σ_j |o_j|.

    (Hao et al. 2025, the optimal baseline for on-policy sequence-level REINFORCE; verl "opo".)
    ``lengths`` are the response lengths |o_i| (same shape as ``rewards``); a group whose lengths
    sum to 0 falls back to the plain mean. Groups of one keep their reward.

    Example: ``opo_advantages([[1.0, 0.0]], [[1.0, 3.0]])  # [[0.75, -0.25]]``.
    """
    r = float_array(rewards, "rewards")
    lens = jnp.asarray(lengths).astype(r.dtype)
    if lens.shape != r.shape:
        raise ValueError(f"lengths must have the shape of rewards {r.shape}, got {lens.shape}")
    flat, ids, n, shape = resolve_groups(r, group_ids, num_groups)
    lens = lens.reshape(-1)
    _, _, count, constant = group_stats(flat, ids, n)
    seg = jax.ops.segment_sum
    wsum = seg(lens * flat, ids, n)
    lsum = seg(lens, ids, n)
    plain = seg(flat, ids, n) / jnp.maximum(seg(jnp.ones_like(flat), ids, n), 1)
    base = jnp.where(lsum > 0, wsum / jnp.where(lsum > 0, lsum, 1), plain)[ids]
    base = jnp.where(count > 1, base, 0)
    return jnp.where(constant, 0, flat - base).reshape(shape)


def reinforce_plus_plus_advantages(
    token_rewards: Float[ArrayLike, "batch tokens"],
    mask: ArrayLike | None = None,
    *,
    gamma: float = 1.0,
) -> Float[Array, "batch tokens"]:
    """REINFORCE++ advantages: discounted returns G_t = Σ_{s≥t} γ^{s−t} r_s, whitened over the batch.

    (Hu 2025, arXiv 2501.03262; verl "reinforce_plus_plus".) The running return resets after
    masked-out positions, then ``(G − mean) / sqrt(var + 1e-8)`` over all valid tokens (unbiased
    var), and masked positions are set to 0. Args: ``token_rewards`` (B, T) (an outcome reward sits
    on the last valid token), ``mask`` (B, T). Returns (B, T).

    Example: ``reinforce_plus_plus_advantages(token_rewards, mask, gamma=0.99)``.
    """
    r = float_array(token_rewards, "token_rewards")
    check_2d(r, "token_rewards")
    m = mask_like(mask, r)

    def step(running, xs):
        rt, mt = xs
        running = rt + gamma * running
        return running * mt, running

    _, returns = jax.lax.scan(step, jnp.zeros(r.shape[0], r.dtype), (r.T, m.T), reverse=True)
    return masked_whiten(returns.T, m) * m


def reinforce_plus_plus_baseline_advantages(
    rewards: Float[ArrayLike, "..."],
    mask: ArrayLike,
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
) -> Float[Array, "batch tokens"]:
    """REINFORCE++-baseline: (r_i − mean_g) on every token of response i, whitened over the batch.

    (verl "reinforce_plus_plus_baseline".) ``rewards`` as in :func:`grpo_advantages` (B = P·G rows
    in prompt-major order for the grid layout); ``mask`` (B, T). Returns (B, T), 0 where masked.

    Example: ``reinforce_plus_plus_baseline_advantages(rewards_PG, mask)  # (P·G, T)``.
    """
    flat, _, _, _, mean, _, _, constant = _prepare(rewards, group_ids, num_groups)
    m = jnp.asarray(mask).astype(flat.dtype)
    if m.ndim != 2 or m.shape[0] != flat.shape[0]:
        raise ValueError(f"mask must be ({flat.shape[0]}, tokens), got {m.shape}")
    centred = jnp.where(constant, 0, flat - mean)
    return masked_whiten(centred[:, None] * m, m) * m


def remax_advantages(
    rewards: Float[ArrayLike, "..."], baseline_rewards: Float[ArrayLike, "..."]
) -> Float[Array, "..."]:
    """ReMax advantages Â_i = r_i − r(greedy rollout of the same prompt) (Li et al. 2023; verl).

    ``baseline_rewards`` has the shape of ``rewards`` (the greedy reward repeated per sample).

    Example: ``remax_advantages([1.0, 0.0], [0.5, 0.5])  # [0.5, -0.5]``.
    """
    r = float_array(rewards, "rewards")
    b = float_array(baseline_rewards, "baseline_rewards").astype(r.dtype)
    if b.shape != r.shape:
        raise ValueError(f"baseline_rewards must have shape {r.shape}, got {b.shape}")
    return r - b


def broadcast_to_tokens(
    advantages: Float[ArrayLike, " batch"], mask: ArrayLike
) -> Float[Array, "batch tokens"]:
    """Sequence advantages (B,) on every valid token: ``advantages[:, None] * mask`` (B, T).

    Example: ``broadcast_to_tokens(jnp.array([2.0]), jnp.array([[1, 0]]))  # [[2, 0]]``.
    """
    a = float_array(advantages, "advantages").reshape(-1)
    m = jnp.asarray(mask).astype(a.dtype)
    if m.ndim != 2 or m.shape[0] != a.shape[0]:
        raise ValueError(f"mask must be ({a.shape[0]}, tokens), got {m.shape}")
    return a[:, None] * m


#: Estimators by the names TRL, verl and tunix use (aliases included). All take
#: ``(rewards, group_ids=None, *, num_groups=None, ...)`` except ``opo`` (needs ``lengths``),
#: ``reinforce_plus_plus`` (token rewards and mask), ``reinforce_plus_plus_baseline`` (mask) and
#: ``remax`` (greedy baseline rewards).
ADVANTAGE_ESTIMATORS: dict[str, Callable[..., Any]] = {
    "grpo": grpo_advantages,
    "dr_grpo": dr_grpo_advantages,
    "drgrpo": dr_grpo_advantages,
    "rloo": rloo_advantages,
    "opo": opo_advantages,
    "reinforce_plus_plus": reinforce_plus_plus_advantages,
    "reinforce_plus_plus_baseline": reinforce_plus_plus_baseline_advantages,
    "remax": remax_advantages,
}
