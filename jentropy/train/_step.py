"""One optimiser step: :func:`make_step` (gradient, optax update, EMA, non-finite guard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, PRNGKeyArray, PyTree

from jentropy import tree

from ._checks import _check_decay, _check_optimizer
from ._state import TrainState, _partition, _select, step_keys


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
