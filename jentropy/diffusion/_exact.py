"""Exact ε-models: the denoiser of a known Gaussian-mixture prior at every noise level."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._mixture import GaussianMixture
from ._schedules import NoiseSchedule


class ExactDenoiser(eqx.Module):
    """The exact ε-prediction of a Gaussian-mixture prior: ``ε̂(x, t) = −σ(t) ∇ log p_t(x)``.

    With it, ``x̂0 = (x − σ ε̂)/α = E[x_0 | x_t = x]`` exactly (Tweedie), so samplers and guidance
    can be tested, and experiments run, without training. Images of any ``image_shape`` are
    flattened to the mixture's ``d = prod(image_shape)`` dimensions.

    Example::

        prior = mixture_from_labels(train_images.reshape(n, 64), labels, 10)
        model = ExactDenoiser(prior, AngularSchedule(), (8, 8))
        samples = ddim_sample(model, model.schedule, x_init, key=key, num_steps=100)
    """

    mixture: GaussianMixture
    schedule: NoiseSchedule
    image_shape: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self, mixture: GaussianMixture, schedule: NoiseSchedule, image_shape: tuple[int, ...]
    ):
        """Args: the prior, the schedule the sampler uses, and the image shape."""
        shape = tuple(int(s) for s in image_shape)
        size = 1
        for s in shape:
            size *= s
        if size != mixture.dim:
            raise ValueError(
                f"image_shape {shape} has {size} entries but the mixture has d = {mixture.dim}"
            )
        self.mixture, self.schedule, self.image_shape = mixture, schedule, shape

    def __call__(self, x: Float[Array, "..."], t: ArrayLike) -> Float[Array, "..."]:
        """ε̂ for one image ``x`` (``image_shape``) at scalar time ``t``."""
        alpha, sigma = self.schedule(jnp.asarray(t, x.dtype))
        score = self.mixture.score(x.reshape(-1), alpha, sigma)
        return (-sigma * score).reshape(x.shape)

    def denoise(self, x: Float[Array, "..."], t: ArrayLike) -> Float[Array, "..."]:
        """``E[x_0 | x_t = x]`` for one image."""
        alpha, sigma = self.schedule(jnp.asarray(t, x.dtype))
        return self.mixture.denoise(x.reshape(-1), alpha, sigma).reshape(x.shape)
