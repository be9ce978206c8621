"""Argument checks shared by the training functions."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


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
