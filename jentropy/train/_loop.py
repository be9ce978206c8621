"""The training loop :func:`fit` and its result :class:`FitResult`."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, PRNGKeyArray, PyTree

from ._checkpoint import CHECKPOINT_FILE, _fingerprint, _load, _save
from ._checks import _check_int
from ._data import _data_source
from ._state import TrainState, _partition, _select, init_state
from ._step import make_step


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
