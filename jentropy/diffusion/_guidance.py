"""Diffusion posterior sampling (DPS, Chung et al. 2023) with subsampling operators.

The guidance loss is ``ω ‖y − A x̂0(x_t)‖₂``, the un-squared L2 norm over all particles together
(as in ADS), and the guided DDIM move is ``x_{t'} = DDIM(x̂0, ε̂) − ∇_{x_t} loss``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._operators import MeasurementOperator
from ._samplers import (
    EpsModel,
    _check_eta,
    check_finite,
    check_particles,
    check_steps,
    ddim_update,
    predict,
    step_times,
)
from ._schedules import NoiseSchedule


def _safe_norm(x: Array) -> Array:
    """‖x‖₂ with a zero (not NaN) gradient at x = 0."""
    sq = jnp.sum(x**2)
    positive = sq > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def measurement_loss(
    operator: MeasurementOperator,
    x0_hat: Float[Array, "P ..."],
    y: Float[Array, "L F"],
    mask: ArrayLike,
    omega: ArrayLike = 1.0,
) -> Float[Array, ""]:
    """The DPS loss ``ω ‖mask · (y − measure(x̂0_i))‖₂`` over all particles ``i`` together
    (un-squared; its gradient is zero, not NaN, when the residual is zero).

    Example::

        loss = measurement_loss(op, x0_hat, y, mask, 1.0)
    """
    mask = operator.check_mask(mask).astype(x0_hat.dtype)[:, None]
    resid = mask * (y - jax.vmap(operator.measure)(x0_hat))
    return omega * _safe_norm(resid)


def dps_predict(
    model: EpsModel,
    schedule: NoiseSchedule,
    operator: MeasurementOperator,
    x: Float[Array, "P ..."],
    t: ArrayLike,
    y: Float[Array, "L F"],
    mask: ArrayLike,
    omega: ArrayLike = 1.0,
) -> tuple[Array, Array, Array, Array]:
    """Predictions and the DPS gradient for a batch of particles at time ``t``.

    ``loss(x) = ω ‖mask · (y − measure(x̂0(x)))‖₂`` over all particles together; its gradient
    goes through the model (one backward pass for the batch).

    Args:
        model, schedule: the ε-model and its noise schedule.
        operator: the measurement operator; ``y`` (L, F) and ``mask`` (L,) live on its locations.
        x: (P, *image_shape) particles at time ``t``.
        omega: guidance weight ω.

    Returns:
        ``(x̂0, ε̂, ∇_x loss, loss)``.

    Example::

        x0_hat, eps_hat, grad, loss = dps_predict(model, schedule, op, x, 0.5, y, mask)
    """

    def loss_fn(x: Array) -> tuple[Array, tuple[Array, Array]]:
        x0_hat, eps_hat = predict(model, schedule, x, t)
        return measurement_loss(operator, x0_hat, y, mask, omega), (x0_hat, eps_hat)

    (loss, (x0_hat, eps_hat)), grad = jax.value_and_grad(loss_fn, has_aux=True)(x)
    return x0_hat, eps_hat, grad, loss


class _Config(eqx.Module):
    num_steps: int = eqx.field(static=True)
    eta: float = eqx.field(static=True)
    hard_consistency: bool = eqx.field(static=True)


def dps_sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    operator: MeasurementOperator,
    y: Float[Array, "L F"],
    mask: ArrayLike,
    x_init: Float[Array, "P ..."],
    *,
    key: PRNGKeyArray,
    num_steps: int,
    omega: float = 1.0,
    eta: float = 0.0,
    hard_consistency: bool = False,
) -> Float[Array, "P ..."]:
    """Posterior samples ``p(x | y)`` for a fixed mask by DPS-guided DDIM.

    Args:
        model, schedule: the ε-model and its noise schedule.
        operator: the measurement operator.
        y: (L, F) measurements (``operator.forward(x_true, mask)`` plus noise, or the full
            measurement: entries off the mask are ignored).
        mask: (L,) sampled locations.
        x_init: (P, *image_shape) starting noise.
        key: PRNG key (η noise).
        num_steps: number of guided DDIM steps.
        omega: guidance weight ω. eta: DDIM η.
        hard_consistency: replace the measured part of each final sample by ``y``.

    Returns:
        (P, *image_shape) posterior samples.

    Example::

        op = KSpaceLineSampling((32, 32))
        y = op.forward(x_true, mask)
        xs = dps_sample(model, schedule, op, y, mask, jax.random.normal(k, (16, 32, 32)),
                        key=k2, num_steps=200)
        reconstruction = xs.mean(0)
    """
    x_init = check_particles(x_init)
    if x_init.shape[1:] != operator.image_shape:
        raise ValueError(
            f"x_init must have shape (particles, *{operator.image_shape}), got {x_init.shape}"
        )
    y = check_finite(jnp.asarray(y), "y")
    if y.shape != (operator.num_locations, operator.num_features):
        raise ValueError(
            f"y must have shape {(operator.num_locations, operator.num_features)}, got {y.shape}"
        )
    mask = operator.check_mask(mask)
    config = _Config(check_steps(num_steps), _check_eta(eta), bool(hard_consistency))
    omega = jnp.asarray(omega, x_init.dtype)
    return _dps_sample(model, schedule, operator, y, mask, x_init, key, omega, config)


@eqx.filter_jit
def _dps_sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    operator: MeasurementOperator,
    y: Array,
    mask: Array,
    x_init: Array,
    key: PRNGKeyArray,
    omega: ArrayLike,
    config: _Config,
) -> Array:
    def body(x: Array, i: Array) -> tuple[Array, Array]:
        t, t_next = step_times(i, config.num_steps, x.dtype)
        x0_hat, eps_hat, grad, _ = dps_predict(model, schedule, operator, x, t, y, mask, omega)
        k = jax.random.fold_in(key, i)
        x = ddim_update(x0_hat, eps_hat, t, t_next, schedule, eta=config.eta, key=k) - grad
        return x, x0_hat

    _, x0_hats = jax.lax.scan(body, x_init, jnp.arange(config.num_steps))
    x0 = x0_hats[-1]
    if config.hard_consistency:
        x0 = jax.vmap(operator.hard_consistency, in_axes=(0, None, None))(x0, y, mask)
    return check_finite(x0, "dps_sample: the sample")
