"""Groups of completions and masked reductions shared by the GRPO machinery.

A batch holds B completions; completion ``i`` answers prompt ``group_ids[i]`` (an int in
``[0, num_groups)``), so the G samples of one prompt form a group. Groups need not be contiguous or
of equal size. ``num_groups`` is static (it sets the size of the segment reductions); it defaults
to B, which is always large enough when the ids are in ``[0, B)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

__all__ = [
    "group_ids_from_size",
    "group_stats",
    "masked_mean",
    "masked_whiten",
]


def float_array(x: ArrayLike, name: str) -> Array:
    """``x`` as a floating array (ints/bools become the default float dtype)."""
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {x.dtype}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def mask_like(mask: ArrayLike | None, like: Array, name: str = "mask") -> Array:
    """A float mask with the dtype of ``like`` (all ones when ``mask`` is None)."""
    if mask is None:
        return jnp.ones(like.shape, like.dtype)
    mask = jnp.asarray(mask)
    if mask.shape != like.shape:
        raise ValueError(f"{name} must have shape {like.shape}, got {mask.shape}")
    return mask.astype(like.dtype)


def check_2d(x: Array, name: str) -> None:
    if x.ndim != 2:
        raise ValueError(f"{name} must be (batch, tokens), got shape {x.shape}")


def group_ids_from_size(batch_size: int, group_size: int) -> Int[Array, " batch"]:
    """Group ids ``[0]*G + [1]*G + …`` for a batch laid out prompt-major with G samples each.

    Example: ``group_ids_from_size(6, 3) == [0, 0, 0, 1, 1, 1]``.
    """
    if group_size < 1 or batch_size % group_size:
        raise ValueError(
            f"batch_size ({batch_size}) must be a positive multiple of group_size ({group_size})"
        )
    return jnp.arange(batch_size, dtype=jnp.int32) // group_size


def resolve_groups(
    rewards: Array, group_ids: ArrayLike | None, num_groups: int | None
) -> tuple[Array, Array, int, tuple[int, ...]]:
    """Flatten ``rewards`` and return ``(flat_rewards, ids, num_groups, original_shape)``.

    With ``group_ids=None`` the rewards must be a (P, G) grid whose rows are the groups.
    """
    shape = rewards.shape
    if group_ids is None:
        if rewards.ndim != 2:
            raise ValueError(
                "without group_ids, rewards must be a (num_prompts, group_size) grid whose rows are "
                f"the groups; got shape {shape}"
            )
        p, g = shape
        return rewards.reshape(-1), group_ids_from_size(p * g, g), p, shape
    ids = jnp.asarray(group_ids)
    if rewards.ndim != 1 or ids.shape != rewards.shape:
        raise ValueError(
            f"with group_ids, rewards and group_ids must both be (batch,), got {shape} and {ids.shape}"
        )
    if not jnp.issubdtype(ids.dtype, jnp.integer):
        raise TypeError(f"group_ids must be integers, got dtype {ids.dtype}")
    n = rewards.shape[0] if num_groups is None else int(num_groups)
    if n < 1:
        raise ValueError(f"num_groups must be >= 1, got {num_groups}")
    if not isinstance(ids, jax.core.Tracer) and ids.size and (ids.min() < 0 or ids.max() >= n):
        raise ValueError(
            f"group_ids must lie in [0, num_groups={n}), got range [{ids.min()}, {ids.max()}]"
        )
    return rewards, ids.astype(jnp.int32), n, shape


def group_stats(
    values: Float[Array, " batch"], group_ids: Int[Array, " batch"], num_groups: int
) -> tuple[
    Float[Array, " batch"], Float[Array, " batch"], Int[Array, " batch"], Bool[Array, " batch"]
]:
    """Per-sample statistics of the sample's group: ``(mean, std, count, constant)``.

    ``std`` is the unbiased (G−1) standard deviation computed in two passes; ``count`` the group
    size; ``constant`` is True when every value in the group is identical (max == min, an exact test
    that does not depend on round-off in the mean). Groups of one get mean 0 and std 1 (verl's
    convention), so their advantage is the raw reward.
    """
    seg = jax.ops.segment_sum
    ones = jnp.ones_like(values)
    count_g = seg(ones, group_ids, num_groups)
    sum_g = seg(values, group_ids, num_groups)
    mean_g = sum_g / jnp.maximum(count_g, 1)
    dev = values - mean_g[group_ids]
    var_g = seg(dev * dev, group_ids, num_groups) / jnp.maximum(count_g - 1, 1)
    max_g = jax.ops.segment_max(values, group_ids, num_groups)
    min_g = -jax.ops.segment_max(-values, group_ids, num_groups)
    count = count_g[group_ids]
    single = count <= 1
    mean = jnp.where(single, 0, mean_g[group_ids])
    std = jnp.where(single, 1, jnp.sqrt(var_g)[group_ids])
    constant = (max_g == min_g)[group_ids] & ~single
    return mean, std, count.astype(jnp.int32), constant


def masked_mean(x: Array, mask: Array, axis: int | tuple[int, ...] | None = None) -> Array:
    """``Σ m x / Σ m`` along ``axis`` (0 where the mask is empty; masked entries never leak NaN).

    Example: ``masked_mean(jnp.array([1.0, 3.0]), jnp.array([1.0, 0.0]))  # 1.0``.
    """
    total = jnp.sum(mask, axis=axis)
    s = jnp.sum(jnp.where(mask > 0, x, 0) * mask, axis=axis)
    return s / jnp.where(total > 0, total, 1)


def masked_whiten(x: Array, mask: Array, eps: float = 1e-8) -> Array:
    """``(x − mean) / sqrt(var + eps)`` over the masked entries, var with Bessel's correction.

    The normalisation verl (``masked_whiten``) and OpenRLHF use for REINFORCE++ returns.

    Example: ``masked_whiten(returns, mask) * mask``.
    """
    mean = masked_mean(x, mask)
    n = jnp.sum(mask)
    var = masked_mean((x - mean) ** 2, mask) * n / jnp.where(n > 1, n - 1, 1)
    return (x - mean) * jax.lax.rsqrt(var + eps)
