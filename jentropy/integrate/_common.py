"""Input validation shared by the integrators, and :func:`check_finite`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, PyTree

#: A vector field written for ONE instance: ``f(t, y, args)`` returns a pytree shaped like ``y``.
VectorField = Callable[[Any, PyTree, Any], PyTree]


def _concrete(x: Any) -> np.ndarray | None:
    """``x`` as a NumPy array, or ``None`` when it is a tracer (checks are skipped under jit)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _as_state(y0: PyTree) -> tuple[PyTree, np.dtype]:
    """Leaves as arrays and the widest real floating dtype among them (the time dtype).

    Weak types are dropped (``jnp.full(s, 1.0)`` is weakly typed), so equal shapes and dtypes
    share one compiled solve and outputs are ordinary arrays.
    """
    y0 = jax.tree_util.tree_map(lambda x: jnp.asarray(x).astype(jnp.result_type(x)), y0)
    leaves = jax.tree_util.tree_leaves(y0)
    if not leaves:
        raise ValueError("y0 must contain at least one array, got an empty pytree")
    for x in leaves:
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            raise TypeError(f"y0 must have floating leaves, got dtype {x.dtype} (write 1.0, not 1)")
    dtypes = [jnp.finfo(x.dtype).dtype for x in leaves]
    return y0, max(dtypes, key=lambda d: d.itemsize)


def _resolve_solver(solver: Any, table: dict[str, type], fn: str) -> dfx.AbstractSolver:
    if isinstance(solver, dfx.AbstractSolver):
        return solver
    if isinstance(solver, str) and solver.lower() in table:
        return table[solver.lower()]()
    raise ValueError(
        f"{fn}: solver must be one of {sorted(table)} or a diffrax solver instance, got {solver!r}"
    )


def _times(ts: ArrayLike, t0: ArrayLike | None, dtype: Any, fn: str) -> tuple[Array, Array]:
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] == 0:
        raise ValueError(f"{fn}: ts must be a non-empty 1-D array of save times, got {ts.shape}")
    ts = ts.astype(dtype)
    t0 = ts[0] if t0 is None else jnp.asarray(t0).astype(dtype)
    ts_c, t0_c = _concrete(ts), _concrete(t0)
    if ts_c is not None and np.any(np.diff(ts_c) <= 0):
        raise ValueError(f"{fn}: ts must be strictly increasing, got {ts_c}")
    if ts_c is not None and t0_c is not None:
        if t0_c > ts_c[0]:
            raise ValueError(f"{fn}: t0={t0_c} must be <= ts[0]={ts_c[0]}")
        if not ts_c[-1] > t0_c:
            raise ValueError(f"{fn}: ts[-1]={ts_c[-1]} must be greater than t0={t0_c}")
    return ts, t0


def _batch_size(tree: PyTree, name: str, fn: str) -> int:
    shapes = [jnp.shape(x) for x in jax.tree_util.tree_leaves(tree)]
    sizes = {s[0] if s else None for s in shapes}
    if None in sizes or len(sizes) != 1:
        raise ValueError(
            f"{fn}: with batched=True every leaf of {name} needs the same leading batch axis, "
            f"got leaf shapes {shapes}"
        )
    return sizes.pop()


def _member(tree: PyTree) -> PyTree:
    """Shape/dtype structs of one batch member (leading axis dropped)."""
    return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape[1:], x.dtype), tree)


def _check_output(fn: Callable, name: str, t: Array, y: PyTree, args: Any, expected: PyTree):
    """Trace ``fn(t, y, args)`` abstractly and compare its output with ``expected`` shapes."""
    if not callable(fn):
        raise TypeError(f"{name} must be callable as {name}(t, y, args), got {type(fn).__name__}")
    out = eqx.filter_eval_shape(fn, t, y, args)
    got = jax.tree_util.tree_map(jnp.shape, out)
    want = jax.tree_util.tree_map(jnp.shape, expected)
    if jax.tree_util.tree_structure(out) != jax.tree_util.tree_structure(expected) or got != want:
        raise ValueError(f"{name}(t, y, args) must return shapes {want} for this y, got {got}")


def _check_steps(dt: Array, n_steps: int, save_every: int, fn: str, signed: bool = False):
    for name, v in (("n_steps", n_steps), ("save_every", save_every)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{fn}: {name} must be a positive Python int, got {v!r}")
    if n_steps % save_every:
        raise ValueError(f"{fn}: n_steps={n_steps} must be a multiple of save_every={save_every}")
    dt_c = _concrete(dt)
    if dt_c is not None and not (dt_c.ndim == 0 and (dt_c != 0 if signed else dt_c > 0)):
        kind = "non-zero" if signed else "positive"
        raise ValueError(f"{fn}: dt must be a {kind} scalar, got {dt_c}")


def _check_key(key: Any, fn: str) -> Array:
    key = jnp.asarray(key)
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ()
    raw = key.dtype == jnp.uint32 and key.shape == (2,)
    if not (typed or raw):
        raise TypeError(f"{fn}: key must be one PRNG key (jax.random.key(seed)), got {key}")
    return key


def _batched_inputs(y0, args, batched, batched_args, fn):
    """Validate the batch axes; return ``args`` and one member's ``(y, args)`` for shape checks."""
    if not isinstance(batched, bool) or not isinstance(batched_args, bool):
        raise TypeError(f"{fn}: batched and batched_args must be bools")
    if batched_args and not batched:
        raise ValueError(f"{fn}: batched_args=True requires batched=True")
    if not batched:
        return args, y0, args
    n = _batch_size(y0, "y0", fn)
    if batched_args:
        args = jax.tree_util.tree_map(jnp.asarray, args)
        m = _batch_size(args, "args", fn)
        if m != n:
            raise ValueError(f"{fn}: args has batch size {m} but y0 has {n} (batched_args=True)")
        return args, _member(y0), _member(args)
    return args, _member(y0), args


def check_finite(tree: PyTree, *, batched: bool = False) -> Bool[Array, "*batch"]:
    """Whether every element of every leaf is finite (no NaN, no ±inf).

    ``batched=False``: one boolean for the whole pytree. ``batched=True``: shape ``(B,)``, the
    answer for each member along the leading axis of every leaf. An empty pytree is finite.

    Example::

        check_finite({"x": jnp.array([[1.0, 2.0], [jnp.nan, 0.0]])}, batched=True)  # [True, False]
    """
    leaves = jax.tree_util.tree_leaves(tree)
    if batched:
        n = _batch_size(tree, "tree", "check_finite") if leaves else 0
        per = [
            jnp.all(jnp.isfinite(jnp.reshape(x, (n, math.prod(x.shape[1:])))), 1) for x in leaves
        ]
        out = jnp.ones((n,), bool)
    else:
        per = [jnp.all(jnp.isfinite(x)) for x in leaves]
        out = jnp.ones((), bool)
    for p in per:
        out = out & p
    return out
