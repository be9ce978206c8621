"""ε-prediction training through :func:`jentropy.train.fit` (AdamW, EMA)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
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
    chunk: int = 100,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> train.FitResult:
    """Train an ε-model on ``images`` with AdamW and an EMA (ADS's recipe) via ``train.fit``.

    Args:
        model: the ε-model (e.g. :class:`UNet`), an Equinox module.
        images: (N, *image_shape) training data, ADS scales it to [−1, 1].
        key: run key. steps: optimiser steps. batch_size: minibatch size.
        schedule: noise schedule (default :class:`AngularSchedule`).
        learning_rate, weight_decay: AdamW (ADS: 1e-4 and 1e-4).
        ema_decay: EMA of the weights (ADS: 0.999), or None.
        loss: ``"l1"`` (ADS) or ``"l2"``.
        chunk, checkpoint_dir, progress: passed to :func:`jentropy.train.fit`.

    Returns:
        The :class:`jentropy.train.FitResult`; sample with ``result.ema_model``.

    Example::

        model = UNet((8, 8), widths=(32, 64), key=k1)
        result = train_denoiser(model, images, key=k2, steps=2_000, learning_rate=1e-3)
        eps_model = result.ema_model
    """
    import optax

    images = jnp.asarray(images)
    if images.ndim < 3 or not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(
            f"images must be a float array (N, *image_shape), got {images.dtype} {images.shape}"
        )
    if not bool(jnp.all(jnp.isfinite(images))):
        raise ValueError("images must be finite, got NaN or inf values")
    schedule = AngularSchedule() if schedule is None else schedule
    optimizer = optax.adamw(learning_rate, weight_decay=weight_decay)
    return train.fit(
        denoising_loss(schedule, loss=loss),
        model,
        optimizer,
        images,
        key=key,
        steps=steps,
        batch_size=batch_size,
        ema_decay=ema_decay,
        chunk=chunk,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )
