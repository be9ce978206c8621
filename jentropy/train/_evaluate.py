"""Batched evaluation of a trained model: :func:`evaluate`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PyTree

from ._checks import _check_int


def evaluate(
    fn: Callable[[PyTree, PyTree], PyTree], model: PyTree, data: PyTree, *, batch_size: int
) -> PyTree:
    """Map a per-example function over ``data`` in batches: ``fn(model, batch)`` for batches of
    ``batch_size`` rows (a last, smaller batch for the remainder), outputs concatenated.

    ``fn`` returns a pytree whose leaves have the batch's leading axis; the result has leading
    axis N. One compilation per (fn, shapes); memory is bounded by one batch at a time.

    Example::

        logits = evaluate(lambda m, b: jax.vmap(m)(b["x"]), model, test_data, batch_size=512)
    """
    _check_int(batch_size, "batch_size")
    leaves = jax.tree_util.tree_leaves(data)
    if (
        not leaves
        or any(jnp.ndim(x) == 0 for x in leaves)
        or len({jnp.shape(x)[0] for x in leaves}) != 1
    ):
        raise ValueError("data must be a non-empty pytree of arrays with a common leading axis N")
    return _evaluate(fn, model, jax.tree_util.tree_map(jnp.asarray, data), batch_size)


@eqx.filter_jit
def _evaluate(fn: Callable[..., Any], model: PyTree, data: PyTree, batch_size: int) -> PyTree:
    n = jnp.shape(jax.tree_util.tree_leaves(data)[0])[0]
    full = n // batch_size * batch_size
    parts = []
    if full:
        batched = jax.tree_util.tree_map(
            lambda x: x[:full].reshape(-1, batch_size, *x.shape[1:]), data
        )
        out = jax.lax.map(lambda b: fn(model, b), batched)
        parts.append(jax.tree_util.tree_map(lambda y: y.reshape(full, *y.shape[2:]), out))
    if full < n:
        parts.append(fn(model, jax.tree_util.tree_map(lambda x: x[full:], data)))
    return jax.tree_util.tree_map(lambda *ys: jnp.concatenate(ys), *parts)
