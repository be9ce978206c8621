"""The ADS loop: guided diffusion whose particles choose the next measurement (Algorithm 1).

P particles start from N(0, I) and follow DPS-guided DDIM. At ``budget`` steps evenly spaced in
the acquisition window ``[s0, s1)`` (every ``(s1 − s0) // budget`` steps), the particles' clean
estimates ``x̂0`` are mapped to measurement space, each location not yet sampled is scored (the
Gaussian-mixture entropy :func:`particle_entropy`, or :func:`particle_variance`), the best one
joins the mask and ``y`` is re-measured from the true signal; the guidance of that same step
already uses the new measurement. At the end, optionally, hard data consistency; the
reconstruction is the particle mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from jentropy import diffusion

from ._checks import (
    check_budget,
    check_finite,
    check_positive,
    check_positive_int,
    count_selected,
)
from ._entropy import particle_entropy, particle_variance, select_next

STRATEGIES = ("entropy", "variance")
EpsModel = Callable[[Array, Array], Array]


class ADSResult(NamedTuple):
    """What :func:`active_diffusion_subsampling` returns (shapes for one signal).

    Attributes:
        reconstruction: (*image_shape) the posterior mean (mean of the final particles).
        particles: (P, *image_shape) final posterior samples.
        mask: (L,) bool, the final sampling mask (initial mask + the ``budget`` choices).
        order: (budget,) the chosen locations in acquisition order.
        scores: (budget, L) the scores each choice was made from (taken locations included).
        estimates: (budget, *image_shape) the particle mean of ``x̂0`` at each acquisition,
            before its measurement.
    """

    reconstruction: Array
    particles: Array
    mask: Bool[Array, " L"]
    order: Int[Array, " K"]
    scores: Float[Array, "K L"]
    estimates: Array


def acquisition_steps(
    num_steps: int, budget: int, window: tuple[int, int] | None = None
) -> np.ndarray:
    """The sampler steps at which ADS acquires: ``s0 + j ((s1 − s0) // budget)``, ``j < budget``.

    Args:
        num_steps: N sampler steps.
        budget: number of acquisitions K.
        window: ``(s0, s1)`` with ``0 <= s0 < s1 <= N`` and ``s1 − s0 >= K``; default
            ``(0, ⌊0.8 N⌋)`` (ADS on MNIST: [0, 800] of 1000 steps).

    Returns:
        (K,) increasing step indices (numpy; the schedule is static).

    Example::

        acquisition_steps(100, 4)          # [0, 20, 40, 60]
    """
    check_positive_int(num_steps, "num_steps")
    check_positive_int(budget, "budget")
    s0, s1 = (0, (4 * num_steps) // 5) if window is None else window
    if not (
        isinstance(s0, (int, np.integer))
        and isinstance(s1, (int, np.integer))
        and 0 <= s0 < s1 <= num_steps
    ):
        raise ValueError(
            f"window must be ints (s0, s1) with 0 <= s0 < s1 <= {num_steps}, got {window!r}"
        )
    stride = (s1 - s0) // budget
    if stride < 1:
        raise ValueError(
            f"window {(s0, s1)} has {s1 - s0} steps, fewer than the budget {budget}: widen the "
            "window or use more num_steps"
        )
    return s0 + stride * np.arange(budget)


class _Config(eqx.Module):
    num_steps: int = eqx.field(static=True)
    budget: int = eqx.field(static=True)
    steps: tuple[int, ...] = eqx.field(static=True)
    num_particles: int = eqx.field(static=True)
    strategy: str = eqx.field(static=True)
    eta: float = eqx.field(static=True)
    hard_consistency: bool = eqx.field(static=True)
    mesh: Any = eqx.field(static=True)


def active_diffusion_subsampling(
    model: EpsModel,
    schedule: diffusion.NoiseSchedule,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    *,
    key: PRNGKeyArray,
    budget: int,
    num_particles: int = 16,
    num_steps: int = 100,
    window: tuple[int, int] | None = None,
    sigma: float = 1.0,
    omega: float = 1.0,
    strategy: str = "entropy",
    initial_mask: ArrayLike | None = None,
    linked: ArrayLike | None = None,
    noise_std: float = 0.0,
    eta: float = 0.0,
    hard_consistency: bool = False,
    mesh: Any = None,
) -> ADSResult:
    """Active Diffusion Subsampling of one signal (paper Algorithm 1).

    Args:
        model: ε-model ``model(x, t)`` on one image (trained UNet or exact denoiser).
        schedule: its noise schedule.
        operator: a :class:`jentropy.diffusion.MeasurementOperator` (pixels, lines, k-space).
        x_true: the signal being measured, of ``operator.image_shape``; only its measurements
            ``measure(x_true)`` at the chosen locations enter the algorithm.
        key: PRNG key (initial particles, measurement noise, η noise).
        budget: number of active acquisitions K (on top of ``initial_mask``).
        num_particles: P (ADS: 16).
        num_steps: N guided DDIM steps.
        window: acquisition window ``(s0, s1)`` in steps (see :func:`acquisition_steps`).
        sigma: the entropy kernel width σ (ignored by ``strategy="variance"``).
        omega: DPS guidance weight ω.
        strategy: ``"entropy"`` (ADS) or ``"variance"`` (maximum particle variance).
        initial_mask: (L,) locations measured from the start (e.g. the k-space centre line).
        linked: (L,) ints: measuring location ``l`` also yields location ``linked[l]`` (e.g.
            :meth:`jentropy.diffusion.KSpaceLineSampling.conjugate_lines` for real images, whose
            k-space is Hermitian); one acquisition counts once. None: locations are independent.
        noise_std: standard deviation of Gaussian measurement noise (one draw per location,
            fixed for the run, so a re-measurement returns the same value).
        eta: DDIM η.
        hard_consistency: replace the measured part of the final particles by ``y``.
        mesh: a ``jax.sharding.Mesh`` (``jentropy.parallel.device_mesh()``) to shard the
            particles over its devices (P divisible by the device count); None: no sharding.

    Returns:
        :class:`ADSResult`.

    Example::

        op = diffusion.PixelSampling((8, 8))
        model = diffusion.ExactDenoiser(prior, diffusion.AngularSchedule(), (8, 8))
        res = active_diffusion_subsampling(model, model.schedule, op, x_true,
                                           key=jax.random.key(0), budget=8)
        res.reconstruction, res.order
    """
    x_true = check_finite(operator.check_image(x_true, "x_true"), "x_true")
    check_positive_int(num_particles, "num_particles", minimum=2)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    check_positive(sigma, "sigma")
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or noise_std < 0:
        raise ValueError(f"noise_std must be a float >= 0, got {noise_std!r}")
    num_locations = operator.num_locations
    if initial_mask is None:
        initial = jnp.zeros((num_locations,), bool)
    else:
        initial = operator.check_mask(initial_mask, "initial_mask").astype(bool)
    n_initial = None if initial_mask is None else count_selected(initial_mask)
    check_budget(budget, num_locations, n_initial)
    steps = tuple(int(s) for s in acquisition_steps(num_steps, budget, window))
    if not (isinstance(eta, (int, float)) and 0.0 <= eta <= 1.0):
        raise ValueError(f"eta must be a float in [0, 1], got {eta!r}")
    if mesh is not None:
        n_dev = mesh.devices.size
        if num_particles % n_dev:
            raise ValueError(
                f"num_particles = {num_particles} must be divisible by the mesh's {n_dev} devices"
            )
    config = _Config(
        num_steps, budget, steps, num_particles, strategy, float(eta), bool(hard_consistency), mesh
    )
    dtype = x_true.dtype
    params = (jnp.asarray(sigma, dtype), jnp.asarray(omega, dtype), jnp.asarray(noise_std, dtype))
    if linked is None:
        partner = jnp.arange(num_locations)
    else:
        partner = jnp.asarray(linked)
        if partner.shape != (num_locations,) or not jnp.issubdtype(partner.dtype, jnp.integer):
            raise ValueError(
                f"linked must be ints of shape ({num_locations},) (a partner per location), "
                f"got {partner.dtype} {partner.shape}"
            )
        initial = initial | initial[partner]
    return _ads(model, schedule, operator, x_true, initial, partner, key, params, config)


@eqx.filter_jit
def _ads(
    model: Any,
    schedule: diffusion.NoiseSchedule,
    operator: diffusion.MeasurementOperator,
    x_true: Array,
    initial: Array,
    partner: Array,
    key: PRNGKeyArray,
    params: tuple[Array, Array, Array],
    config: _Config,
) -> ADSResult:
    sigma, omega, noise_std = params
    dtype = x_true.dtype
    k_init, k_noise, k_eta = jax.random.split(key, 3)
    shape = (config.num_particles, *operator.image_shape)
    x = jax.random.normal(k_init, shape, dtype)
    y_full = operator.measure(x_true)
    y_full = y_full + noise_std * jax.random.normal(k_noise, y_full.shape, dtype)

    def constrain(x: Array) -> Array:
        if config.mesh is None:
            return x
        from jentropy import parallel

        return jax.lax.with_sharding_constraint(x, parallel.batch_sharding(config.mesh))

    acquire = np.zeros(config.num_steps, bool)
    acquire[list(config.steps)] = True
    slot = np.clip(np.cumsum(acquire) - 1, 0, None).astype(np.int32)
    grid = diffusion.time_grid(config.num_steps, dtype)
    budget, num_locations = config.budget, operator.num_locations
    record = (
        jnp.zeros((budget,), jnp.int32),
        jnp.zeros((budget, num_locations), dtype),
        jnp.zeros((budget, *operator.image_shape), dtype),
    )

    def score(x0_hat: Array) -> Array:
        y_particles = jax.vmap(operator.measure)(x0_hat)
        if config.strategy == "variance":
            return particle_variance(y_particles)
        return particle_entropy(y_particles, sigma)

    def body(carry: Any, xs: Any) -> tuple[Any, None]:
        x, mask, record, _ = carry
        i, t, t_next, acq, j = xs
        x = constrain(x)
        (x0_hat, eps_hat), vjp = jax.vjp(lambda z: diffusion.predict(model, schedule, z, t), x)

        def take(args: Any) -> Any:
            mask, (order, scores, estimates) = args
            s = score(x0_hat)
            choice = select_next(s, mask).astype(jnp.int32)
            record = (
                order.at[j].set(choice),
                scores.at[j].set(s),
                estimates.at[j].set(jnp.mean(x0_hat, 0)),
            )
            return mask.at[choice].set(True).at[partner[choice]].set(True), record

        mask, record = jax.lax.cond(acq, take, lambda args: args, (mask, record))
        y = jnp.where(mask[:, None], y_full, 0.0)
        g_x0 = jax.grad(lambda z: diffusion.measurement_loss(operator, z, y, mask, omega))(x0_hat)
        (grad,) = vjp((g_x0, jnp.zeros_like(eps_hat)))
        k = jax.random.fold_in(k_eta, i)
        x = diffusion.ddim_update(x0_hat, eps_hat, t, t_next, schedule, eta=config.eta, key=k)
        return (x - grad, mask, record, x0_hat), None

    xs = (jnp.arange(config.num_steps), grid[:-1], grid[1:], jnp.asarray(acquire), slot)
    carry = (x, initial, record, jnp.zeros_like(x))
    (_, mask, (order, scores, estimates), particles), _ = jax.lax.scan(body, carry, xs)
    if config.hard_consistency:
        y = jnp.where(mask[:, None], y_full, 0.0)
        particles = jax.vmap(operator.hard_consistency, in_axes=(0, None, None))(particles, y, mask)
    particles = check_finite(particles, "active_diffusion_subsampling: the particles")
    return ADSResult(jnp.mean(particles, 0), particles, mask, order, scores, estimates)
