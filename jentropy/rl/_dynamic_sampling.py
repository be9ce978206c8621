"""Dynamic sampling: find the groups whose rewards carry no learning signal (zero variance).

A group whose G rewards are all equal (all correct or all wrong) gets advantage 0 under every
group-relative estimator, so it only dilutes the batch (TRL issue #3857). DAPO (Yu et al. 2025,
eq. 11 constraint 0 < |{correct}| < G) drops such groups and samples more prompts until the batch
is full; Recent Sample Recovery (:mod:`._rsr`) keeps the surplus for the next step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ._groups import float_array, group_stats, resolve_groups

__all__ = ["group_has_signal", "zero_std_group_fraction"]


def group_has_signal(
    rewards: Float[ArrayLike, "..."],
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
    per_group: bool = False,
) -> Bool[Array, "..."]:
    """True where the sample's group has non-constant rewards (DAPO's keep condition).

    For binary rewards this is 0 < #correct < G. Groups of one never have signal.

    Args:
        rewards: (P, G) grid or (B,) with ``group_ids``.
        per_group: return one flag per group row (grid layout only) instead of one per sample.

    Example: ``group_has_signal([[1., 1], [0., 1]], per_group=True) == [False, True]``.
    """
    r = float_array(rewards, "rewards")
    flat, ids, n, shape = resolve_groups(r, group_ids, num_groups)
    _, _, count, constant = group_stats(flat, ids, n)
    keep = (count > 1) & ~constant
    if per_group:
        if group_ids is not None:
            raise ValueError("per_group=True needs the (num_prompts, group_size) grid layout")
        return keep.reshape(shape)[:, 0]
    return keep.reshape(shape)


def zero_std_group_fraction(
    rewards: Float[ArrayLike, "..."],
    group_ids: ArrayLike | None = None,
    *,
    num_groups: int | None = None,
) -> Float[Array, ""]:
    """Fraction of the (non-empty) groups whose rewards all coincide (TRL's
    ``frac_reward_zero_std``). Groups of one count as zero-std.

    Example: ``zero_std_group_fraction([[0.0, 1.0], [1.0, 1.0]])  # 0.5``.
    """
    r = float_array(rewards, "rewards")
    flat, ids, n, _ = resolve_groups(r, group_ids, num_groups)
    _, _, count, constant = group_stats(flat, ids, n)
    flag = (constant | (count <= 1)).astype(flat.dtype)
    # each group's flag once: average the per-sample flags with weight 1/count
    weight = 1 / count.astype(flat.dtype)
    present = jax.ops.segment_sum(weight, ids, n)
    return jnp.sum(flag * weight) / jnp.maximum(jnp.sum(present), 1)
