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
from jaxtyping import Array, PRNGKeyArray, PyTree

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
    x = np.asarray(x)
    # bfloat16 & co. are not numpy builtins: store their bits
    return x if x.dtype.kind in "biufc" else x.view(f"u{x.dtype.itemsize}")


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
    folder = os.path.dirname(path)
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
