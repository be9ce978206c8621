"""Atomic save/load of a pytree of arrays plus JSON metadata (the RL trainer's checkpoints)."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

__all__ = ["load_pytree", "save_pytree"]


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    x = np.asarray(x)
    # bfloat16 & co. are not numpy builtins (np.load cannot read them back): store their bits
    return x if x.dtype.kind in "biufc" else x.view(f"u{x.dtype.itemsize}")


def save_pytree(
    path: str, tree: PyTree, meta: dict[str, Any], extra: dict[str, np.ndarray] | None = None
) -> None:
    """Write the leaves of ``tree``, ``meta`` (JSON) and ``extra`` named arrays (e.g. a training
    history of any length) to ``path`` (.npz) atomically."""
    leaves = jax.tree_util.tree_leaves(tree)
    arrays = {f"leaf/{i}": _to_numpy(x) for i, x in enumerate(leaves)}
    arrays.update({f"extra/{k}": np.asarray(v) for k, v in (extra or {}).items()})
    arrays["meta"] = np.asarray(json.dumps(meta))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_pytree(
    path: str, template: PyTree
) -> tuple[PyTree, dict[str, Any], dict[str, np.ndarray]]:
    """Read a :func:`save_pytree` file into the structure of ``template`` (shapes checked);
    returns ``(tree, meta, extra)``."""
    leaves, treedef = jax.tree_util.tree_flatten(template)
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        out = []
        for i, like in enumerate(leaves):
            value = np.asarray(f[f"leaf/{i}"])
            if isinstance(like, jax.Array) and jax.dtypes.issubdtype(
                like.dtype, jax.dtypes.prng_key
            ):
                out.append(
                    jax.random.wrap_key_data(jnp.asarray(value), impl=jax.random.key_impl(like))
                )
                continue
            if value.shape != np.shape(like):
                raise ValueError(
                    f"{path}: leaf {i} has shape {value.shape}, expected {np.shape(like)}"
                )
            dtype = np.dtype(jnp.result_type(like))
            if dtype.kind not in "biufc":
                value = value.view(dtype)
            out.append(jnp.asarray(value, dtype=dtype))
        extra = {k[len("extra/") :]: np.asarray(f[k]) for k in f.files if k.startswith("extra/")}
    return jax.tree_util.tree_unflatten(treedef, out), meta, extra
