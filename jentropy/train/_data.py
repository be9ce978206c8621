"""Batches inside the training scan: a data callable, the full arrays, or shuffled epochs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, PyTree

from ._checks import _check_int
from ._state import TrainState, _keys_at, step_keys


def _data_source(data: Any, batch_size: int | None) -> tuple[PyTree, Callable[..., Any]]:
    """``(arrays, batcher)``: the data arrays (None for a callable) and a batcher with
    ``init(arrays, state) -> carry`` and ``batcher(arrays, carry, state) -> (batch, carry)``,
    which runs inside the scan."""
    if callable(data):
        if batch_size is not None:
            raise ValueError(
                "batch_size applies to array data; a data callable makes its own batches"
            )
        return None, _CallableBatcher(data)
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError(
            "data must be a callable data(key, step) -> batch or a non-empty pytree of arrays"
        )
    shapes = [jnp.shape(x) for x in leaves]
    if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
        raise ValueError(f"data: every array needs the same leading axis N, got shapes {shapes}")
    n = shapes[0][0]
    if batch_size is None:
        return jax.tree_util.tree_map(jnp.asarray, data), _FullBatcher()
    _check_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(
            f"batch_size must be <= N = {n} (the data's leading axis), got {batch_size}"
        )
    return jax.tree_util.tree_map(jnp.asarray, data), _EpochBatcher(n, batch_size)


class _CallableBatcher(NamedTuple):
    data: Callable[..., Any]

    def init(self, arrays: PyTree, state: TrainState) -> Any:
        return None

    def __call__(self, arrays: PyTree, carry: Any, state: TrainState) -> tuple[PyTree, Any]:
        data_key, _ = step_keys(state)
        return self.data(data_key, state.step), carry


class _FullBatcher(NamedTuple):
    def init(self, arrays: PyTree, state: TrainState) -> Any:
        return None

    def __call__(self, arrays: PyTree, carry: Any, state: TrainState) -> tuple[PyTree, Any]:
        return arrays, carry


class _EpochBatcher(NamedTuple):
    """Epochs of ``N // batch_size`` steps; each shuffles the data with the data key of its first
    step and serves consecutive slices (no example twice in a batch or in an epoch). The shuffle
    is O(N log N) once per epoch (and per chunk), not per step."""

    n: int
    batch_size: int

    def _perm(self, state: TrainState, epoch: Array) -> Array:
        per_epoch = self.n // self.batch_size
        data_key, _ = _keys_at(state.key, epoch * per_epoch)
        return jax.random.permutation(data_key, self.n)

    def init(self, arrays: PyTree, state: TrainState) -> Any:
        epoch = state.step // (self.n // self.batch_size)
        return self._perm(state, epoch), epoch

    def __call__(self, arrays: PyTree, carry: Any, state: TrainState) -> tuple[PyTree, Any]:
        per_epoch = self.n // self.batch_size
        epoch, position = state.step // per_epoch, state.step % per_epoch
        perm, perm_epoch = jax.lax.cond(
            epoch == carry[1], lambda: carry, lambda: (self._perm(state, epoch), epoch)
        )
        index = jax.lax.dynamic_slice(perm, (position * self.batch_size,), (self.batch_size,))
        batch = jax.tree_util.tree_map(lambda x: jnp.take(x, index, axis=0), arrays)
        return batch, (perm, perm_epoch)
