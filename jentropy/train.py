"""The one optax training loop every jentropy module trains through.

:func:`fit` runs ``steps`` optimiser steps ``chunk`` at a time inside one jit-compiled
``lax.scan`` (Python overhead is per chunk), records the loss and any auxiliary metrics of every
step, keeps an optional EMA of the parameters, stops with ``FloatingPointError`` at the first
non-finite loss or gradient, and checkpoints/resumes bit-identically. :func:`init_state`,
:func:`make_step` and :func:`step_keys` are the building blocks for modules that need their own
loop (e.g. RL), and :func:`evaluate` maps a per-example function over a data set in batches.

Models are Equinox modules or any pytree. The trainable part is
``eqx.partition(model, eqx.is_inexact_array)``; everything else (activations, integer buffers)
is static and recombined with ``eqx.combine(state.params, model)``.

Randomness: the key of step ``s`` is ``fold_in(key, s)``, split into a data key (the batch of a
data callable; for array data, the shuffle of the epoch that starts at ``s``) and a loss key. So
results depend only on ``key`` and the step, never on ``chunk`` or on where a run was resumed.

Example::

    import equinox as eqx, jax, jax.numpy as jnp, optax
    from jentropy import train

    x = jnp.linspace(-3.0, 3.0, 256)[:, None]
    data = {"x": x, "y": jnp.sin(x)}

    def loss_fn(model, batch, key):
        return jnp.mean((jax.vmap(model)(batch["x"]) - batch["y"]) ** 2)

    model = eqx.nn.MLP(1, 1, 32, 2, key=jax.random.key(0))
    result = train.fit(loss_fn, model, optax.adam(1e-2), data, key=jax.random.key(1),
                       steps=2_000, batch_size=32, checkpoint_dir="ckpt")
    result.model, result.history["loss"]          # trained model, loss per step
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Int, PRNGKeyArray, PyTree

from jentropy import tree

__all__ = [
    "FitResult",
    "TrainState",
    "evaluate",
    "fit",
    "init_state",
    "make_step",
    "step_keys",
]

CHECKPOINT_FILE = "train_state.npz"
_FORMAT = 1


class TrainState(NamedTuple):
    """Everything that changes during training (a pytree; the model's static part is kept aside).

    Attributes:
        step: number of optimiser steps taken (int32 scalar).
        params: the trainable leaves, ``eqx.partition(model, eqx.is_inexact_array)[0]``.
        opt_state: the optax state of ``params``.
        ema: exponential moving average of ``params``, or None.
        key: the run's key; step ``s`` uses ``fold_in(key, s)`` (see :func:`step_keys`).

    Example::

        state = init_state(model, optax.adam(1e-3), key=jax.random.key(0))
        model = eqx.combine(state.params, model)
    """

    step: Int[Array, ""]
    params: PyTree
    opt_state: PyTree
    ema: PyTree | None
    key: PRNGKeyArray


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        model: the trained model (trainable leaves recombined with the static part).
        ema_model: the model with EMA parameters, or None when ``ema_decay`` was None.
        state: the final :class:`TrainState`.
        history: ``{"loss": (n,), **aux}`` numpy arrays, one entry per step taken (over every
            resumed run), where ``n == state.step``.
        seconds_compile: tracing + compilation time of the chunk function in this call.
        seconds_run: wall time of the chunks in this call (device work, progress, callback and
            checkpoints; compilation excluded).

    Example::

        result = fit(loss_fn, model, optax.adam(1e-3), data, key=key, steps=1000)
        plt.semilogy(result.history["loss"])
    """

    model: Any
    ema_model: Any | None
    state: TrainState
    history: dict[str, np.ndarray]
    seconds_compile: float
    seconds_run: float


def _partition(model: PyTree) -> tuple[PyTree, PyTree]:
    return eqx.partition(model, eqx.is_inexact_array)


def _check_optimizer(optimizer: Any) -> None:
    if not (
        callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None))
    ):
        raise TypeError(
            f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}"
        )


def _check_key(key: Any) -> None:
    if not isinstance(key, jax.Array):
        raise TypeError(f"key must be a JAX PRNG key (jax.random.key), got {type(key).__name__}")
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    if not (typed and key.shape == ()) and not (key.dtype == jnp.uint32 and key.shape == (2,)):
        raise ValueError(f"key must be a single PRNG key, got shape {key.shape} dtype {key.dtype}")


def _check_decay(ema_decay: Any) -> None:
    if ema_decay is None or callable(ema_decay):
        return
    if isinstance(ema_decay, bool) or not isinstance(ema_decay, (int, float)):
        raise TypeError(
            f"ema_decay must be a float, a schedule step -> decay, or None, got {ema_decay!r}"
        )
    if not 0.0 <= ema_decay < 1.0:
        raise ValueError(f"ema_decay must lie in [0, 1), got {ema_decay}")


def _check_int(value: Any, name: str, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def init_state(
    model: PyTree, optimizer: optax.GradientTransformation, *, key: PRNGKeyArray, ema: bool = False
) -> TrainState:
    """The :class:`TrainState` at step 0: trainable leaves of ``model``, ``optimizer.init`` of them.

    Args:
        model: an Equinox module or any pytree; its inexact-array leaves are trained.
        optimizer: any optax ``GradientTransformation``.
        key: the run's key (``jax.random.key``).
        ema: keep an EMA of the parameters (initialised to the parameters).

    Example::

        state = init_state(model, optax.adam(1e-3), key=jax.random.key(0), ema=True)
    """
    _check_optimizer(optimizer)
    _check_key(key)
    params, _ = _partition(model)
    if not jax.tree_util.tree_leaves(params):
        raise ValueError("model has no floating-point array leaves to train")
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state=optimizer.init(params),
        ema=params if ema else None,
        key=key,
    )


def step_keys(state: TrainState) -> tuple[PRNGKeyArray, PRNGKeyArray]:
    """``(data_key, loss_key)`` of the step ``state.step``: ``split(fold_in(state.key, step))``.

    Example::

        data_key, _ = step_keys(state)      # draw this step's rollout / batch
        state, metrics = step(state, batch)   # make_step uses the loss_key itself
    """
    return _keys_at(state.key, state.step)


def _keys_at(key: PRNGKeyArray, step: Int[Array, ""]) -> tuple[PRNGKeyArray, PRNGKeyArray]:
    data_key, loss_key = jax.random.split(jax.random.fold_in(key, step))
    return data_key, loss_key


def _loss_and_aux(out: Any, has_aux: bool) -> tuple[Array, dict[str, Array]]:
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
            raise TypeError("loss_fn with has_aux=True must return (loss, dict of scalar metrics)")
        loss, aux = out
        for name, value in aux.items():
            if not isinstance(name, str) or name == "loss":
                raise ValueError(
                    f"loss_fn: aux metric names must be strings other than 'loss', got {name!r}"
                )
            if jnp.shape(value) != ():
                raise ValueError(
                    f"loss_fn: aux metric {name!r} must be a scalar, got shape {jnp.shape(value)}"
                )
    else:
        if isinstance(out, tuple):
            raise TypeError("loss_fn returned a tuple; pass has_aux=True for (loss, metrics)")
        loss, aux = out, {}
    if jnp.shape(loss) != () or not jnp.issubdtype(jnp.result_type(loss), jnp.floating):
        raise ValueError(
            f"loss_fn must return a floating scalar loss, got shape {jnp.shape(loss)} "
            f"dtype {jnp.result_type(loss)}"
        )
    return loss, aux


def _all_finite(*trees: PyTree) -> Array:
    flags = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(trees)]
    return jnp.stack(flags).all()


def _select(pred: Array, new: TrainState, old: TrainState) -> TrainState:
    """``new`` where ``pred`` else ``old``, leafwise; the key never changes."""
    kept = jax.tree_util.tree_map(
        lambda n, o: jnp.where(pred, n, o), tuple(new[:4]), tuple(old[:4])
    )
    return TrainState(*kept, old.key)


def make_step(
    loss_fn: Callable[..., Any],
    optimizer: optax.GradientTransformation,
    model: PyTree,
    *,
    has_aux: bool = False,
    ema_decay: float | Callable[[Array], Any] | None = None,
) -> Callable[[TrainState, PyTree], tuple[TrainState, dict[str, Array]]]:
    """One optimiser step ``step(state, batch) -> (state, metrics)`` (pure; jit or scan it).

    The gradient of ``loss_fn(eqx.combine(state.params, model), batch, loss_key)`` (loss key from
    :func:`step_keys`) goes through ``optimizer``; the EMA, when kept, is updated with the new
    parameters: ``ema <- decay * ema + (1 - decay) * params`` (``tree.ema_update``). A step whose
    loss or gradient is not finite returns the state unchanged (``step`` included), so a loop
    detects it with ``new.step == old.step`` and never trains through it.

    Args:
        loss_fn: ``loss_fn(model, batch, key) -> loss``, or ``(loss, {name: scalar})`` with
            ``has_aux=True``.
        optimizer: any optax ``GradientTransformation``.
        model: the model; only its static (non-trainable) part is kept.
        has_aux: whether ``loss_fn`` also returns a dict of scalar metrics.
        ema_decay: EMA decay in [0, 1), a schedule ``step -> decay`` (a Python float or a scalar
            of the parameters' dtype), or None (then ``state.ema`` must be None).

    Returns:
        ``step``; its ``metrics`` are ``{"loss": loss, **aux}``.

    Example::

        state = init_state(model, opt, key=key)
        step = jax.jit(make_step(loss_fn, opt, model))
        for batch in batches:
            state, metrics = step(state, batch)
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    _check_optimizer(optimizer)
    _check_decay(ema_decay)
    _, static = _partition(model)

    def loss_of_params(params: PyTree, batch: PyTree, key: PRNGKeyArray) -> tuple[Array, Any]:
        return _loss_and_aux(loss_fn(eqx.combine(params, static), batch, key), has_aux)

    def step(state: TrainState, batch: PyTree) -> tuple[TrainState, dict[str, Array]]:
        if (state.ema is None) != (ema_decay is None):
            raise ValueError(
                "state.ema must be kept (init_state(ema=True)) exactly when ema_decay is set"
            )
        _, loss_key = step_keys(state)
        grad_fn = jax.value_and_grad(loss_of_params, has_aux=True)
        (loss, aux), grads = grad_fn(state.params, batch, loss_key)
        # optax is not clean under strict dtype promotion (adam's bias correction computes
        # float ** int32), so its update is traced with standard promotion.
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = eqx.apply_updates(state.params, updates)
        ema = state.ema
        if ema_decay is not None:
            decay = ema_decay(state.step) if callable(ema_decay) else ema_decay
            ema = tree.ema_update(ema, params, decay)
        new = TrainState(state.step + 1, params, opt_state, ema, state.key)
        return _select(_all_finite(loss, grads), new, state), {"loss": loss, **aux}

    return step


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


def fit(
    loss_fn: Callable[..., Any],
    model: PyTree,
    optimizer: optax.GradientTransformation,
    data: Callable[[PRNGKeyArray, Array], PyTree] | PyTree,
    *,
    key: PRNGKeyArray,
    steps: int,
    batch_size: int | None = None,
    ema_decay: float | Callable[[Array], Any] | None = None,
    chunk: int = 100,
    has_aux: bool = False,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = True,
    progress: bool = True,
    callback: Callable[[int, TrainState, dict[str, np.ndarray]], Any] | None = None,
) -> FitResult:
    """Train ``model`` for ``steps`` optimiser steps of ``loss_fn`` and return a :class:`FitResult`.

    Args:
        loss_fn: ``loss_fn(model, batch, key) -> loss`` (a floating scalar), or with
            ``has_aux=True`` ``(loss, {name: scalar})``; the metrics go into ``history``.
        model: an Equinox module or pytree; its inexact-array leaves are trained.
        optimizer: any optax ``GradientTransformation``.
        data: ``data(key, step) -> batch`` (jit-able, generated data), or a pytree of arrays with
            a common leading axis N: the whole of it each step (``batch_size=None``) or batches of
            ``batch_size`` from a fresh shuffle each epoch of ``N // batch_size`` steps.
        key: the run's key; see :func:`step_keys`.
        steps: the total number of steps (counting steps done before a resume).
        batch_size: minibatch size for array data.
        ema_decay: keep an EMA of the parameters with this decay (or schedule ``step -> decay``).
        chunk: steps per jit-compiled ``lax.scan``; results do not depend on it. A last, shorter
            chunk runs at full length with the surplus steps masked off (no second compilation).
        has_aux: ``loss_fn`` returns ``(loss, metrics)``.
        checkpoint_dir: folder for ``train_state.npz`` (state + history + metadata, written
            atomically) at the end, every ``checkpoint_every`` steps (at the next chunk end), on
            ``KeyboardInterrupt`` and before a non-finite loss is raised.
        checkpoint_every: steps between checkpoints.
        resume: continue from the checkpoint in ``checkpoint_dir`` if there is one. A resumed run
            is bit-identical to an uninterrupted one; a checkpoint of a different configuration
            (key, batch size, state structure, EMA, metric names, data shapes) is refused.
        progress: show a progress bar with the latest loss (also off when
            ``JENTROPY_PROGRESS=0``).
        callback: ``callback(step, state, metrics)`` after each chunk, with that chunk's metrics;
            returning True stops training (the state is checkpointed).

    Raises:
        FloatingPointError: a loss or gradient was not finite; the message names the step, and
            the last good state (before that step) is checkpointed.
        ValueError / TypeError: a bad argument (named in the message) or incompatible checkpoint.

    Example::

        result = fit(loss_fn, model, optax.adam(1e-3), {"x": x, "y": y}, key=jax.random.key(0),
                     steps=10_000, batch_size=128, ema_decay=0.999, checkpoint_dir="ckpt")
        result.ema_model, result.history["loss"][-1]
    """
    _check_int(steps, "steps")
    _check_int(chunk, "chunk")
    if checkpoint_every is not None:
        _check_int(checkpoint_every, "checkpoint_every")
        if checkpoint_dir is None:
            raise ValueError("checkpoint_every needs checkpoint_dir")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    arrays, batcher = _data_source(data, batch_size)
    state = init_state(model, optimizer, key=key, ema=ema_decay is not None)
    step_fn = make_step(loss_fn, optimizer, model, has_aux=has_aux, ema_decay=ema_decay)

    def run_chunk(state: TrainState, arrays: PyTree, stop: Array) -> tuple[TrainState, Any]:
        def body(carry: Any, _: Any) -> tuple[Any, Any]:
            state, ok, data_carry = carry
            batch, data_carry = batcher(arrays, data_carry, state)
            new, metrics = step_fn(state, batch)
            active = ok & (state.step < stop)
            ok = ok & ((new.step > state.step) | ~active)  # a skipped step ends the chunk's work
            return (_select(active, new, state), ok, data_carry), metrics

        carry = (state, jnp.bool_(True), batcher.init(arrays, state))
        (state, _, _), metrics = jax.lax.scan(body, carry, length=chunk)
        return state, metrics

    stop = jnp.asarray(steps, dtype=jnp.int32)
    run = jax.jit(run_chunk)
    start = time.perf_counter()
    lowered = run.lower(state, arrays, stop)  # traces once; the calls below reuse it
    seconds_compile = time.perf_counter() - start
    metric_dtypes = {k: np.dtype(v.dtype) for k, v in lowered.out_info[1].items()}

    config = _fingerprint(state, metric_dtypes, arrays, batch_size, ema_decay)
    path = (
        None if checkpoint_dir is None else os.path.join(os.fspath(checkpoint_dir), CHECKPOINT_FILE)
    )
    history = {name: np.zeros((0,), dtype) for name, dtype in metric_dtypes.items()}
    if path is not None and resume and os.path.exists(path):
        state, history = _load(path, state, config, metric_dtypes, steps)
    start = time.perf_counter()
    lowered.compile()  # cached for the calls below; after _load, so a refused resume is cheap
    seconds_compile += time.perf_counter() - start

    def save() -> None:
        if path is not None:
            _save(path, state, history, config, steps=steps, chunk=chunk)

    done = saved = int(state.step)
    bar = _progress_bar(steps, done, progress)
    start = time.perf_counter()
    try:
        while done < steps:
            expected = min(chunk, steps - done)
            new_state, new_metrics = run(state, arrays, stop)
            metrics = jax.device_get(new_metrics)
            new_state = jax.block_until_ready(new_state)
            # commit only once the chunk is complete: an interrupt above keeps the last good state
            taken = int(new_state.step) - done
            chunk_metrics = {k: np.asarray(v[:taken]) for k, v in metrics.items()}
            new_history = {k: np.concatenate([history[k], chunk_metrics[k]]) for k in history}
            state, history, done = new_state, new_history, done + taken
            bar.update(taken)
            if taken:
                bar.set_postfix_str(f"loss={float(chunk_metrics['loss'][-1]):.4g}")
            if taken < expected:
                save()
                where = f"; the last good state is in {path}" if path is not None else ""
                raise FloatingPointError(
                    f"fit: non-finite loss or gradient at step {done} "
                    f"(loss = {float(metrics['loss'][taken])}){where}"
                )
            if (
                checkpoint_every is not None
                and done // checkpoint_every > saved // checkpoint_every
            ):
                save()
                saved = done
            if callback is not None and callback(done, state, chunk_metrics) is True:
                break
    except KeyboardInterrupt:
        if done > saved:
            save()
        raise
    finally:
        bar.close()
    if done > saved:
        save()
    seconds_run = time.perf_counter() - start
    _, static = _partition(model)
    ema_model = None if state.ema is None else eqx.combine(state.ema, static)
    return FitResult(
        eqx.combine(state.params, static), ema_model, state, history, seconds_compile, seconds_run
    )


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    from jentropy.reproduce import progress

    return progress(total=total, initial=initial, desc="fit", unit="step", disable=not enabled)


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
