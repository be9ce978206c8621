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

from ._checkpoint import CHECKPOINT_FILE as CHECKPOINT_FILE
from ._checkpoint import load_pytree as load_pytree
from ._checkpoint import save_pytree as save_pytree
from ._evaluate import evaluate as evaluate
from ._loop import FitResult as FitResult
from ._loop import fit as fit
from ._state import TrainState as TrainState
from ._state import init_state as init_state
from ._state import step_keys as step_keys
from ._step import make_step as make_step

__all__ = [
    "FitResult",
    "TrainState",
    "evaluate",
    "fit",
    "init_state",
    "load_pytree",
    "make_step",
    "save_pytree",
    "step_keys",
]
