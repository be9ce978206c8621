"""DDIM (η) and DDPM samplers for ε-prediction models, as ``lax.scan`` over a uniform time grid.

An ε-model is any callable ``model(x, t) -> ε̂`` on one image ``x`` and a scalar time ``t ∈ (0, 1]``
(a trained :class:`~jentropy.diffusion.UNet`, an :class:`~jentropy.diffusion.ExactDenoiser`, …).
Samplers act on a batch of particles ``(P, *image_shape)``.

Step ``i = 0 … N−1`` evaluates the model at ``t_i = 1 − i/N``, forms
``x̂0 = (x_t − σ ε̂)/α`` and moves to ``t_{i+1}`` with the DDIM update (Song et al. 2021, eq. 12)

    x_{t'} = α' x̂0 + sqrt(σ'² − c²) ε̂ + c z,   c = η (σ'/σ) sqrt(1 − α²/α'²),

(``η = 0`` deterministic DDIM, ``η = 1`` DDPM ancestral sampling). Like the Keras DDIM that ADS
builds on, the sample returned is ``x̂0`` of the last step (``t = 1/N``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._schedules import NoiseSchedule

EpsModel = Callable[[Array, Array], Array]


def check_finite(x: Array, name: str) -> Array:
    """``x`` unchanged if all finite; ValueError (concrete) or a runtime error (traced) if not."""
    if isinstance(x, jax.core.Tracer):
        return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), f"{name} contains NaN or inf")
    if not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError(f"{name} must be finite, got NaN or inf values")
    return x


def check_steps(num_steps: Any, name: str = "num_steps") -> int:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"{name} must be an int >= 1, got {num_steps!r}")
    return num_steps


def check_particles(x: Array, name: str = "x_init") -> Array:
    x = jnp.asarray(x)
    if x.ndim < 2 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(
            f"{name} must be a float array (particles, *image_shape), got {x.dtype} {x.shape}"
        )
    return x


def time_grid(num_steps: int, dtype: Any = None) -> Float[Array, " n"]:
    """The sampler's times ``t_i = 1 − i/N``, ``i = 0 … N`` (N + 1 values from 1 down to 0):
    step ``i`` evaluates the model at ``t_i`` and moves to ``t_{i+1}``.

    Example::

        time_grid(4)      # [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    check_steps(num_steps)
    dtype = jnp.result_type(float) if dtype is None else dtype
    return 1.0 - jnp.arange(num_steps + 1, dtype=dtype) / num_steps


def step_times(i: ArrayLike, num_steps: int, dtype: Any) -> tuple[Array, Array]:
    """``(t_i, t_{i+1})`` of :func:`time_grid` for a (traced) step index ``i``."""
    i = jnp.asarray(i).astype(dtype)
    return 1.0 - i / num_steps, 1.0 - (i + 1.0) / num_steps


def predict(
    model: EpsModel, schedule: NoiseSchedule, x: Float[Array, "P ..."], t: ArrayLike
) -> tuple[Float[Array, "P ..."], Float[Array, "P ..."]]:
    """``(x̂0, ε̂)`` for a batch of particles at time ``t``: ``ε̂ = model(x, t)``,
    ``x̂0 = (x − σ(t) ε̂) / α(t)``.

    Example::

        x0_hat, eps_hat = predict(model, AngularSchedule(), particles, 0.5)
    """
    t = jnp.asarray(t, x.dtype)
    alpha, sigma = schedule(t)
    eps = jax.vmap(model, in_axes=(0, None))(x, t)
    return (x - sigma * eps) / alpha, eps


def ddim_update(
    x0_hat: Array,
    eps_hat: Array,
    t: ArrayLike,
    t_next: ArrayLike,
    schedule: NoiseSchedule,
    *,
    eta: float = 0.0,
    key: PRNGKeyArray | None = None,
) -> Array:
    """One DDIM move from ``t`` to ``t_next`` given ``(x̂0, ε̂)`` (module docstring's equation).

    Args:
        x0_hat, eps_hat: predictions at ``t`` (any shape, the same).
        t, t_next: scalar times, ``t_next < t``.
        schedule: the noise schedule.
        eta: 0 (deterministic DDIM) … 1 (DDPM); needs ``key`` when > 0.

    Example::

        x = ddim_update(x0_hat, eps_hat, 0.5, 0.49, AngularSchedule())
    """
    alpha, sigma = schedule(jnp.asarray(t, x0_hat.dtype))
    alpha_next, sigma_next = schedule(jnp.asarray(t_next, x0_hat.dtype))
    if eta == 0.0:
        return alpha_next * x0_hat + sigma_next * eps_hat
    if key is None:
        raise ValueError("ddim_update: eta > 0 needs a key")
    c = eta * sigma_next / sigma * jnp.sqrt(jnp.maximum(1.0 - (alpha / alpha_next) ** 2, 0.0))
    keep = jnp.sqrt(jnp.maximum(sigma_next**2 - c**2, 0.0))
    noise = jax.random.normal(key, x0_hat.shape, x0_hat.dtype)
    return alpha_next * x0_hat + keep * eps_hat + c * noise


def _check_eta(eta: Any) -> float:
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be a float in [0, 1], got {eta!r}")
    return float(eta)


def ddim_sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    x_init: Float[Array, "P ..."],
    *,
    key: PRNGKeyArray,
    num_steps: int,
    eta: float = 0.0,
) -> Float[Array, "P ..."]:
    """Unconditional DDIM/DDPM sampling of a batch of particles from ``x_init`` ~ N(0, I).

    Args:
        model: ε-model ``model(x, t)`` on one image.
        schedule: the noise schedule.
        x_init: (P, *image_shape) starting noise.
        key: PRNG key (used for the η noise).
        num_steps: N model evaluations.
        eta: 0 = DDIM (deterministic), 1 = DDPM.

    Returns:
        (P, *image_shape) samples (``x̂0`` of the last step).

    Example::

        x_init = jax.random.normal(k1, (16, 8, 8))
        samples = ddim_sample(model, AngularSchedule(), x_init, key=k2, num_steps=100)
    """
    x_init = check_particles(x_init)
    return _ddim_sample(model, schedule, x_init, key, check_steps(num_steps), _check_eta(eta))


@eqx.filter_jit
def _ddim_sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    x_init: Array,
    key: PRNGKeyArray,
    num_steps: int,
    eta: float,
) -> Array:
    def body(x: Array, i: Array) -> tuple[Array, Array]:
        t, t_next = step_times(i, num_steps, x.dtype)
        x0_hat, eps_hat = predict(model, schedule, x, t)
        x = ddim_update(
            x0_hat, eps_hat, t, t_next, schedule, eta=eta, key=jax.random.fold_in(key, i)
        )
        return x, x0_hat

    _, x0_hats = jax.lax.scan(body, x_init, jnp.arange(num_steps))
    return check_finite(x0_hats[-1], "ddim_sample: the sample")


def ddpm_sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    x_init: Float[Array, "P ..."],
    *,
    key: PRNGKeyArray,
    num_steps: int,
) -> Float[Array, "P ..."]:
    """Ancestral DDPM sampling: :func:`ddim_sample` with ``η = 1``.

    Example::

        samples = ddpm_sample(model, LinearSchedule(), x_init, key=key, num_steps=500)
    """
    return ddim_sample(model, schedule, x_init, key=key, num_steps=num_steps, eta=1.0)
