"""Recent Sample Recovery (Confucius3-Math, Algorithm 1) as a pure, jit-able buffer of groups.

Dynamic sampling fills a buffer B_c with valid groups (0 < #correct < G) until it holds N; the
step trains on B_c[:N]. Without RSR the overflow B_c[N:] is thrown away; with RSR it becomes B_r
and is put in front of the next step's buffer, so fewer rollouts are needed per useful group (no
importance correction for its staleness, as in the paper).

The buffer has a static capacity and holds any pytree of per-group arrays (tokens, rewards,
old log-probs, …), so the whole loop — sample, filter, push, pop — can run inside ``jit``::

    buf = group_buffer_init(example_group, capacity=4 * N)
    buf, rounds = fill_group_buffer(buf, sample_fn, key, target=N, max_rounds=8)
    batch, valid, buf = group_buffer_pop(buf, N)
    if not recover: buf = group_buffer_clear(buf)       # plain DAPO dynamic sampling
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, PRNGKeyArray, PyTree

__all__ = [
    "GroupBuffer",
    "fill_group_buffer",
    "group_buffer_clear",
    "group_buffer_init",
    "group_buffer_pop",
    "group_buffer_push",
]


class GroupBuffer(NamedTuple):
    """A FIFO of groups: ``data`` leaves have a leading axis ``capacity``; the first ``count`` are
    live. ``pushed`` and ``dropped`` count groups offered to / lost by the buffer (for logging).

    Example: ``buf = group_buffer_init({"r": jnp.zeros(8)}, capacity=64); buf.count  # 0``.
    """

    data: PyTree
    count: Array
    pushed: Array
    dropped: Array

    @property
    def capacity(self) -> int:
        return int(jax.tree_util.tree_leaves(self.data)[0].shape[0])


def group_buffer_init(example: PyTree, capacity: int) -> GroupBuffer:
    """An empty buffer for groups shaped like ``example`` (one group, no leading axis)."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")
    if not jax.tree_util.tree_leaves(example):
        raise ValueError("example must be a pytree with at least one array leaf")
    data = jax.tree_util.tree_map(
        lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.result_type(x)), example
    )
    z = jnp.zeros((), jnp.int32)
    return GroupBuffer(data, z, z, z)


def group_buffer_push(
    buffer: GroupBuffer, groups: PyTree, keep: Bool[ArrayLike, " n"]
) -> GroupBuffer:
    """Append the groups with ``keep`` True (in order) after the live ones; overflow is dropped.

    ``groups`` leaves have a leading axis n matching ``keep`` (n,).

    Example: ``buf = group_buffer_push(buf, groups, group_has_signal(groups["r"], per_group=True))``.
    """
    keep = jnp.asarray(keep).astype(bool)
    leaves = jax.tree_util.tree_leaves(groups)
    if keep.ndim != 1 or any(x.shape[0] != keep.shape[0] for x in leaves):
        raise ValueError("groups' leaves must share the leading axis of keep (n,)")
    cap = buffer.capacity
    pos = buffer.count + jnp.cumsum(keep.astype(jnp.int32)) - 1
    pos = jnp.where(keep, pos, cap)  # out of range → dropped by the scatter
    data = jax.tree_util.tree_map(
        lambda d, x: d.at[pos].set(x.astype(d.dtype), mode="drop"), buffer.data, groups
    )
    n_keep = jnp.sum(keep.astype(jnp.int32))
    total = buffer.count + n_keep
    return GroupBuffer(
        data,
        jnp.minimum(total, cap),
        buffer.pushed + n_keep,
        buffer.dropped + jnp.maximum(total - cap, 0),
    )


def group_buffer_pop(
    buffer: GroupBuffer, n: int, *, keep_at_most: int | None = None
) -> tuple[PyTree, Bool[Array, " n"], GroupBuffer]:
    """Take the first ``n`` groups: returns ``(batch, valid, buffer)``.

    ``valid`` (n,) marks which of the n slots held live groups (fewer than n when the buffer ran
    short). The rest stay in order for the next step (RSR's B_r); ``keep_at_most`` caps how many
    are kept (the others are dropped), bounding their staleness.

    Example: ``batch, valid, buf = group_buffer_pop(buf, 32)``.
    """
    if not 1 <= n <= buffer.capacity:
        raise ValueError(f"n must be in [1, capacity={buffer.capacity}], got {n}")
    batch = jax.tree_util.tree_map(lambda d: d[:n], buffer.data)
    valid = jnp.arange(n) < buffer.count
    data = jax.tree_util.tree_map(lambda d: jnp.roll(d, -n, axis=0), buffer.data)
    rest = jnp.maximum(buffer.count - n, 0)
    dropped = buffer.dropped
    if keep_at_most is not None:
        dropped = dropped + jnp.maximum(rest - keep_at_most, 0)
        rest = jnp.minimum(rest, keep_at_most)
    return batch, valid, GroupBuffer(data, rest.astype(jnp.int32), buffer.pushed, dropped)


def group_buffer_clear(buffer: GroupBuffer) -> GroupBuffer:
    """Empty the buffer (plain dynamic sampling: the overflow is discarded).

    Example: ``buf = group_buffer_clear(buf)  # DAPO without RSR``.
    """
    return buffer._replace(count=jnp.zeros((), jnp.int32), dropped=buffer.dropped + buffer.count)


def fill_group_buffer(
    buffer: GroupBuffer,
    sample_fn: Callable[[PRNGKeyArray], tuple[PyTree, Bool[Array, " m"]]],
    key: PRNGKeyArray,
    *,
    target: int,
    max_rounds: int,
) -> tuple[GroupBuffer, Array]:
    """Dynamic sampling: call ``sample_fn`` until the buffer holds ``target`` groups.

    ``sample_fn(key) -> (groups, keep)`` generates a batch of m groups and says which carry signal
    (e.g. :func:`group_has_signal`). Runs as a ``lax.while_loop`` (jit-able) for at most
    ``max_rounds`` rounds; returns ``(buffer, rounds)``. Rounds × m is the number of groups
    generated, the cost RSR reduces.

    Example: ``buf, rounds = fill_group_buffer(buf, sample_fn, key, target=32, max_rounds=8)``.
    """
    if target < 1 or target > buffer.capacity:
        raise ValueError(f"target must be in [1, capacity={buffer.capacity}], got {target}")

    def cond(state: tuple[GroupBuffer, Array, Any]) -> Array:
        buf, rounds, _ = state
        return (buf.count < target) & (rounds < max_rounds)

    def body(state: tuple[GroupBuffer, Array, Any]) -> tuple[GroupBuffer, Array, Any]:
        buf, rounds, k = state
        k, sub = jax.random.split(k)
        groups, keep = sample_fn(sub)
        return group_buffer_push(buf, groups, keep), rounds + 1, k

    buf, rounds, _ = jax.lax.while_loop(cond, body, (buffer, jnp.zeros((), jnp.int32), key))
    return buf, rounds
