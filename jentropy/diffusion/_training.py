"""ε-prediction training through :func:`jentropy.train.fit` (AdamW, EMA)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from jentropy import train

from ._schedules import AngularSchedule, NoiseSchedule

_LOSSES = ("l1", "l2")


def denoising_loss(
    schedule: NoiseSchedule, *, loss: str = "l1"
) -> Callable[[Any, Array, PRNGKeyArray], Array]:
    """The ε-prediction loss ``E_{t, ε} |ε̂(α x_0 + σ ε, t) − ε|`` as ``loss_fn(model, x0, key)``.

    ``t ~ U(0, 1)`` and ``ε ~ N(0, I)`` per example; ``loss="l1"`` is the mean absolute error that
    ADS trains with, ``"l2"`` the mean squared error of DDPM. ``x0`` is a batch
    ``(B, *image_shape)``; the returned function plugs into :func:`jentropy.train.fit`.

    Example::

        loss_fn = denoising_loss(AngularSchedule())
        loss_fn(model, images[:32], jax.random.key(0))
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")

    def loss_fn(model: Any, x0: Float[Array, "B ..."], key: PRNGKeyArray) -> Array:
        k_t, k_eps = jax.random.split(key)
        t = jax.random.uniform(k_t, x0.shape[:1], x0.dtype)
        eps = jax.random.normal(k_eps, x0.shape, x0.dtype)
        alpha, sigma = schedule(t)
        expand = (slice(None),) + (None,) * (x0.ndim - 1)
        x_t = alpha[expand] * x0 + sigma[expand] * eps
        err = jax.vmap(model)(x_t, t) - eps
        return jnp.mean(jnp.abs(err)) if loss == "l1" else jnp.mean(err**2)

    return loss_fn


def train_denoiser(
    model: Any,
    images: Float[Array, "N ..."],
    *,
    key: PRNGKeyArray,
    steps: int,
    batch_size: int = 64,
    schedule: NoiseSchedule | None = None,
    learning_rate: float = 1e-4,
    weight_decay: float = 1e-4,
    ema_decay: float | None = 0.999,
    loss: str = "l1",
    progress: bool = True,
) -> train.FitResult:
    """Train an ε-model on ``images`` with AdamW and an EMA (ADS's recipe).

    One jit-compiled :func:`jentropy.train.make_step` per step (from
    :func:`jentropy.train.init_state`), driven from Python: on CPU, XLA runs a convolutional
    network's training step several times slower inside a ``lax.scan`` (``train.fit``'s chunks)
    than as its own program. Minibatches are consecutive slices of a fresh shuffle per epoch
    (epoch ``e`` shuffled with ``fold_in(key, e)``); the loss of every step is kept.

    Args:
        model: the ε-model (e.g. :class:`UNet`), an Equinox module.
        images: (N, *image_shape) training data; ADS scales it to [−1, 1].
        key: run key. steps: optimiser steps. batch_size: minibatch size (≤ N).
        schedule: noise schedule (default :class:`AngularSchedule`).
        learning_rate, weight_decay: AdamW (ADS: 1e-4 and 1e-4).
        ema_decay: EMA of the weights (ADS: 0.999), or None.
        loss: ``"l1"`` (ADS) or ``"l2"``.
        progress: show a progress bar (also off when ``JENTROPY_PROGRESS=0``).

    Returns:
        A :class:`jentropy.train.FitResult`; sample with ``result.ema_model``.

    Raises:
        FloatingPointError: a loss or gradient became non-finite (the step is named).

    Example::

        model = UNet((8, 8), widths=(16, 32), key=k1)
        result = train_denoiser(model, 2 * images - 1, key=k2, steps=2_000, learning_rate=2e-3)
        eps_model = result.ema_model
    """
    import optax

    from jentropy.reproduce import progress as progress_bar

    images = jnp.asarray(images)
    if images.ndim < 3 or not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(
            f"images must be a float array (N, *image_shape), got {images.dtype} {images.shape}"
        )
    if not bool(jnp.all(jnp.isfinite(images))):
        raise ValueError("images must be finite, got NaN or inf values")
    n = images.shape[0]
    for value, name in ((steps, "steps"), (batch_size, "batch_size")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if batch_size > n:
        raise ValueError(f"batch_size must be <= N = {n} (the number of images), got {batch_size}")
    schedule = AngularSchedule() if schedule is None else schedule
    optimizer = optax.adamw(learning_rate, weight_decay=weight_decay)
    step_fn = train.make_step(
        denoising_loss(schedule, loss=loss), optimizer, model, ema_decay=ema_decay
    )
    per_epoch = n // batch_size

    def one_step(state: train.TrainState, perm: Array, position: Array) -> Any:
        index = jax.lax.dynamic_slice(perm, (position * batch_size,), (batch_size,))
        return step_fn(state, jnp.take(images, index, axis=0))

    state = train.init_state(model, optimizer, key=key, ema=ema_decay is not None)
    shuffle = jax.jit(lambda e: jax.random.permutation(jax.random.fold_in(key, e), n))
    start = time.perf_counter()
    compiled = jax.jit(one_step).lower(state, shuffle(0), jnp.int32(0)).compile()
    seconds_compile = time.perf_counter() - start
    start = time.perf_counter()
    losses = []
    perm = shuffle(0)
    for s in progress_bar(range(steps), desc="train", total=steps, disable=not progress or None):
        epoch, position = divmod(s, per_epoch)
        if position == 0 and s > 0:
            perm = shuffle(epoch)
        state, metrics = compiled(state, perm, jnp.int32(position))
        losses.append(metrics["loss"])
    history = {"loss": np.asarray(jax.device_get(jnp.stack(losses)))}
    seconds_run = time.perf_counter() - start
    if int(state.step) < steps:  # make_step skips (does not apply) a non-finite step
        finite = np.isfinite(history["loss"])
        where = f"at step {int(np.argmin(finite))}" if not finite.all() else "in a gradient"
        raise FloatingPointError(
            f"train_denoiser: non-finite loss or gradient {where}; "
            f"{steps - int(state.step)} steps were skipped"
        )
    _, static = eqx.partition(model, eqx.is_inexact_array)
    ema_model = None if state.ema is None else eqx.combine(state.ema, static)
    return train.FitResult(
        eqx.combine(state.params, static), ema_model, state, history, seconds_compile, seconds_run
    )
