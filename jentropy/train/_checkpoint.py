"""Checkpoints of :func:`fit`: one ``train_state.npz`` (state, history, metadata) written
atomically, and a fingerprint of the run so that only a compatible run resumes from it."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray, PyTree

from ._state import TrainState

CHECKPOINT_FILE = "train_state.npz"
_FORMAT = 1


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _fingerprint(
    state: TrainState,
    metrics: dict[str, np.dtype],
    arrays: PyTree,
    batch_size: int | None,
    ema_decay: Any,
) -> dict[str, Any]:
    """What a checkpoint must share with the run resuming it (values, not just structure, of key)."""

    def spec(t: PyTree) -> list[Any]:
        flat = jax.tree_util.tree_flatten_with_path(t)[0]
        return [
            (jax.tree_util.keystr(p), list(jnp.shape(x)), str(jnp.result_type(x))) for p, x in flat
        ]

    key_data = np.asarray(_key_data(state.key))
    return {
        "state": _digest(spec(tuple(state[:4]))),
        "ema": state.ema is not None,
        "ema_decay": "schedule" if callable(ema_decay) else ema_decay,
        "key": hashlib.sha256(key_data.tobytes()).hexdigest()[:16],
        "metrics": {k: str(v) for k, v in metrics.items()},
        "data": "callable" if arrays is None else _digest(spec(arrays)),
        "batch_size": batch_size,
    }


def _key_data(key: PRNGKeyArray) -> Array:
    return (
        jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    )


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    x = np.asarray(x)
    # bfloat16 & co. are not numpy builtins (np.load cannot read them back): store their bits
    return x if x.dtype.kind in "biufc" else x.view(f"u{x.dtype.itemsize}")


def _atomic_savez(path: str, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file in the target folder, then ``os.replace``: an interrupted
    write never leaves a truncated checkpoint behind."""
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


def save_pytree(
    path: str, tree: PyTree, meta: dict[str, Any], extra: dict[str, ArrayLike] | None = None
) -> None:
    """Write the leaves of ``tree``, ``meta`` (JSON-serialisable) and ``extra`` named arrays (e.g.
    a history of any length) to ``path`` (``.npz``) atomically.

    For modules with their own training loop (e.g. RL); :func:`fit` checkpoints by itself. Typed
    PRNG keys are stored as key data and bfloat16 (and other non-NumPy dtypes) as their bits, so
    :func:`load_pytree` restores every leaf exactly.

    Example::

        train.save_pytree("ckpt/state.npz", (params, opt_state), {"step": 100}, {"loss": losses})
        (params, opt_state), meta, extra = train.load_pytree("ckpt/state.npz", (params, opt_state))
    """
    leaves = jax.tree_util.tree_leaves(tree)
    arrays = {f"leaf/{i}": _to_numpy(x) for i, x in enumerate(leaves)}
    arrays.update({f"extra/{k}": np.asarray(v) for k, v in (extra or {}).items()})
    arrays["meta"] = np.asarray(json.dumps(meta))
    _atomic_savez(path, arrays)


def load_pytree(
    path: str, template: PyTree
) -> tuple[PyTree, dict[str, Any], dict[str, np.ndarray]]:
    """Read a :func:`save_pytree` file into the structure, dtypes and placement of ``template``
    (shapes checked, ``ValueError`` naming the leaf on a mismatch); returns ``(tree, meta, extra)``."""
    leaves, treedef = jax.tree_util.tree_flatten(template)
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        n_saved = sum(k.startswith("leaf/") for k in f.files)
        if n_saved != len(leaves):
            raise ValueError(f"{path}: holds {n_saved} leaves, the template has {len(leaves)}")
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
            value = value.view(dtype) if dtype.kind not in "biufc" else value.astype(dtype)
            out.append(_place(value, like) if isinstance(like, jax.Array) else jnp.asarray(value))
        extra = {k[len("extra/") :]: np.asarray(f[k]) for k in f.files if k.startswith("extra/")}
    return jax.tree_util.tree_unflatten(treedef, out), meta, extra


def _save(
    path: str,
    state: TrainState,
    history: dict[str, np.ndarray],
    config: dict[str, Any],
    **meta: int,
) -> None:
    leaves = jax.tree_util.tree_leaves(tuple(state[:4]))
    record = {"format": _FORMAT, "step": int(state.step), **meta, "config": config}
    arrays = {f"state/{i}": _to_numpy(x) for i, x in enumerate(leaves)}
    arrays.update({f"history/{k}": _to_numpy(v) for k, v in history.items()})
    arrays["state/key"] = np.asarray(_key_data(state.key))
    arrays["meta"] = np.asarray(json.dumps(record))
    _atomic_savez(path, arrays)


def _load(
    path: str,
    template: TrainState,
    config: dict[str, Any],
    metric_dtypes: dict[str, np.dtype],
    steps: int,
) -> tuple[TrainState, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as f:
        record = json.loads(str(f["meta"]))
        if record.get("format") != _FORMAT:
            raise ValueError(
                f"checkpoint_dir: {path} has format {record.get('format')}, need {_FORMAT}"
            )
        diff = [k for k in config if record["config"].get(k) != config[k]]
        if diff:
            details = ", ".join(
                f"{k}: checkpoint {record['config'].get(k)!r} vs now {config[k]!r}" for k in diff
            )
            raise ValueError(
                f"checkpoint_dir: {path} was written by an incompatible run ({details}); "
                "pass resume=False or another checkpoint_dir"
            )
        if record["step"] > steps:
            raise ValueError(
                f"steps={steps} is below the checkpoint's step {record['step']} ({path})"
            )
        leaves, treedef = jax.tree_util.tree_flatten(tuple(template[:4]))
        restored = [
            _place(np.asarray(f[f"state/{i}"]).view(np.dtype(x.dtype)), x)
            for i, x in enumerate(leaves)
        ]
        history = {k: np.asarray(f[f"history/{k}"]).view(v) for k, v in metric_dtypes.items()}
    state = TrainState(*jax.tree_util.tree_unflatten(treedef, restored), template.key)
    return state, history


def _place(value: np.ndarray, like: Array) -> Array:
    """``value`` placed as ``like`` is: committed to its sharding, or uncommitted like a fresh
    array (a committed/uncommitted mismatch would make jit compile the chunk again)."""
    return jax.device_put(value, like.sharding) if like.committed else jnp.asarray(value)
