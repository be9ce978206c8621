"""The training state: :class:`TrainState`, :func:`init_state` and the per-step keys
(:func:`step_keys`)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Int, PRNGKeyArray, PyTree

from ._checks import _check_key, _check_optimizer


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


def _partition(model: PyTree) -> tuple[PyTree, PyTree]:
    return eqx.partition(model, eqx.is_inexact_array)


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


def _select(pred: Array, new: TrainState, old: TrainState) -> TrainState:
    """``new`` where ``pred`` else ``old``, leafwise; the key never changes."""
    kept = jax.tree_util.tree_map(
        lambda n, o: jnp.where(pred, n, o), tuple(new[:4]), tuple(old[:4])
    )
    return TrainState(*kept, old.key)
