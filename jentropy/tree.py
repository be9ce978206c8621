"""Pytree utilities shared by every jentropy module.

Pytree arithmetic (``add``, ``sub``, ``scale``, ``axpy``, ``dot``, ``norm``), construction
(``zeros_like``, ``ones_like``, ``full_like``, ``random_normal_like``), batching (``stack``,
``unstack``), flattening (``ravel``, ``size``), comparison (``allclose`` with dtype-aware
tolerances) and the exponential moving average used for EMA parameters (``ema_update``).

Leaves are JAX/NumPy arrays or scalars; non-array leaves (e.g. static fields of an ``eqx.Module``
that ``eqx.filter`` did not remove) are not supported by the arithmetic: filter first.

Example::

    from jentropy import tree
    params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
    tree.norm(tree.scale(2.0, params))          # sqrt(4 * 6) = 4.899
    ema = tree.ema_update(ema, params, decay=0.999)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray, PyTree

__all__ = [
    "add",
    "allclose",
    "axpy",
    "default_tolerance",
    "dot",
    "ema_update",
    "full_like",
    "map",
    "norm",
    "ones_like",
    "random_normal_like",
    "ravel",
    "scale",
    "size",
    "stack",
    "sub",
    "unstack",
    "zeros_like",
]

map = jax.tree_util.tree_map


def add(a: PyTree, b: PyTree) -> PyTree:
    """Leafwise ``a + b`` for two pytrees of the same structure."""
    return jax.tree_util.tree_map(jnp.add, a, b)


def sub(a: PyTree, b: PyTree) -> PyTree:
    """Leafwise ``a - b``."""
    return jax.tree_util.tree_map(jnp.subtract, a, b)


def scale(alpha: ArrayLike, a: PyTree) -> PyTree:
    """``alpha * a`` leafwise; ``alpha`` is a scalar and each leaf keeps its dtype."""
    return jax.tree_util.tree_map(lambda x: (alpha * x).astype(jnp.result_type(x)), a)


def axpy(alpha: ArrayLike, x: PyTree, y: PyTree) -> PyTree:
    """``alpha * x + y`` leafwise (the BLAS name), each leaf keeping the dtype of ``y``."""
    return jax.tree_util.tree_map(lambda xi, yi: (alpha * xi + yi).astype(yi.dtype), x, y)


def dot(a: PyTree, b: PyTree) -> Array:
    """Inner product ``sum_leaves sum(conj(a) * b)`` of two pytrees of the same structure."""
    leaves = jax.tree_util.tree_leaves(jax.tree_util.tree_map(lambda x, y: jnp.vdot(x, y), a, b))
    if not leaves:
        return jnp.zeros(())
    return sum(leaves[1:], leaves[0])


def norm(a: PyTree, ord: int | float | str = 2) -> Array:
    """Norm of all leaves together: ``ord=2`` Euclidean (overflow-safe), ``1``, or ``inf``."""
    leaves = [jnp.ravel(x) for x in jax.tree_util.tree_leaves(a)]
    if not leaves:
        return jnp.zeros(())
    flat = jnp.concatenate([jnp.abs(x) for x in leaves])
    if ord == 2:
        big = jnp.max(flat)
        safe = jnp.where(big > 0, big, 1)
        return jnp.where(big > 0, safe * jnp.sqrt(jnp.sum((flat / safe) ** 2)), 0).astype(
            flat.dtype
        )
    if ord == 1:
        return jnp.sum(flat)
    if ord in (np.inf, "inf"):
        return jnp.max(flat)
    raise ValueError(f"ord must be 1, 2 or inf, got {ord!r}")


def zeros_like(a: PyTree) -> PyTree:
    """A pytree of zeros with the structure, shapes and dtypes of ``a``."""
    return jax.tree_util.tree_map(jnp.zeros_like, a)


def ones_like(a: PyTree) -> PyTree:
    """A pytree of ones with the structure, shapes and dtypes of ``a``."""
    return jax.tree_util.tree_map(jnp.ones_like, a)


def full_like(a: PyTree, fill_value: ArrayLike) -> PyTree:
    """A pytree filled with ``fill_value``, shaped and typed like ``a``."""
    return jax.tree_util.tree_map(lambda x: jnp.full_like(x, fill_value), a)


def random_normal_like(key: PRNGKeyArray, a: PyTree) -> PyTree:
    """Independent standard normal draws shaped and typed like each floating leaf of ``a``.

    Each leaf gets its own key (``jax.random.split`` over the leaves), so the result does not
    depend on how leaves are grouped. Non-floating leaves raise ``TypeError``.
    """
    leaves, treedef = jax.tree_util.tree_flatten(a)
    keys = jax.random.split(key, max(len(leaves), 1))
    out = []
    for k, x in zip(keys, leaves):
        dtype = jnp.result_type(x)
        if not jnp.issubdtype(dtype, jnp.inexact):
            raise TypeError(f"random_normal_like needs floating leaves, got dtype {dtype}")
        out.append(jax.random.normal(k, jnp.shape(x), dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


def stack(trees: Sequence[PyTree], axis: int = 0) -> PyTree:
    """Stack a sequence of same-structure pytrees into one pytree with a new ``axis``."""
    if len(trees) == 0:
        raise ValueError("stack needs at least one pytree, got an empty sequence")
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs, axis=axis), *trees)


def unstack(a: PyTree, axis: int = 0) -> list[PyTree]:
    """Inverse of :func:`stack`: split every leaf along ``axis`` into a list of pytrees."""
    leaves, treedef = jax.tree_util.tree_flatten(a)
    if not leaves:
        return []
    n = jnp.shape(leaves[0])[axis]
    for x in leaves:
        if jnp.shape(x)[axis] != n:
            raise ValueError(f"unstack: leaves differ in size along axis {axis}")
    return [
        jax.tree_util.tree_unflatten(treedef, [jnp.take(x, i, axis=axis) for x in leaves])
        for i in range(n)
    ]


def ravel(a: PyTree) -> tuple[Array, Callable[[Array], PyTree]]:
    """Flatten a pytree into one 1-D array; returns ``(flat, unravel)`` (``jax.flatten_util``)."""
    from jax.flatten_util import ravel_pytree

    return ravel_pytree(a)


def size(a: PyTree) -> int:
    """Total number of array elements over all leaves (a Python int; shapes are static)."""
    return int(sum(np.prod(jnp.shape(x), dtype=np.int64) for x in jax.tree_util.tree_leaves(a)))


def default_tolerance(dtype: Any) -> tuple[float, float]:
    """``(rtol, atol)`` that suit ``dtype``: tight for f64, looser for f32, bf16 and f16."""
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.inexact):
        return 0.0, 0.0
    eps = float(jnp.finfo(dtype).eps)
    # ~1000 ulp relative: room for reassociated sums without hiding real errors.
    return 1e3 * eps, 1e3 * eps


def allclose(a: PyTree, b: PyTree, *, rtol: float | None = None, atol: float | None = None) -> bool:
    """True when both pytrees have the same structure and shapes and every leaf is close.

    Tolerances default per leaf to :func:`default_tolerance` of the lower-precision dtype of
    the two leaves. NaNs compare equal only to NaNs at the same place.
    """
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:
        return False
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            return False
        lower = min(
            (x.dtype, y.dtype),
            key=lambda d: float(jnp.finfo(d).eps) if jnp.issubdtype(d, jnp.inexact) else 0.0,
        )
        r, t = default_tolerance(lower)
        r = r if rtol is None else rtol
        t = t if atol is None else atol
        if not np.allclose(x, y, rtol=r, atol=t, equal_nan=True):
            return False
    return True


def ema_update(ema: PyTree, new: PyTree, decay: ArrayLike) -> PyTree:
    """Exponential moving average ``decay * ema + (1 - decay) * new`` leafwise, dtype of ``ema``.

    ``decay`` may be traced (e.g. a warm-up schedule ``min(decay, (1 + t) / (10 + t))``).
    """
    return jax.tree_util.tree_map(
        lambda e, x: (decay * e + (1 - decay) * x).astype(jnp.result_type(e)), ema, new
    )
