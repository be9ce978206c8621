"""Generic diffusion toolkit: VP schedules, DDIM/DDPM samplers, ε-prediction training, exact
Gaussian-mixture denoisers, DPS guidance and subsampling operators.

Built for Active Diffusion Subsampling (O. Nolan, T. S. W. Stevens, W. L. van Nierop,
R. J. G. van Sloun, "Active Diffusion Subsampling", TMLR 2025; see ``jentropy.active_sampling``)
and usable on its own. Conventions: time ``t ∈ [0, 1]`` (1 = noise), ``x_t = α x_0 + σ ε`` with
``α² + σ² = 1``; an ε-model is ``model(x, t) -> ε̂`` on one image; samplers act on particle
batches ``(P, *image_shape)``; images are ``(H, W)`` or ``(C, H, W)``.

Example::

    import jax
    from jentropy import diffusion

    prior = diffusion.gaussian_mixture(means, covs)                  # (k, 64), (k, 64, 64)
    schedule = diffusion.AngularSchedule()
    model = diffusion.ExactDenoiser(prior, schedule, (8, 8))
    op = diffusion.PixelSampling((8, 8))
    y = op.forward(x_true, mask)
    xs = diffusion.dps_sample(model, schedule, op, y, mask, jax.random.normal(k1, (16, 8, 8)),
                              key=k2, num_steps=100)
"""

from ._exact import ExactDenoiser as ExactDenoiser
from ._fit import kmeans as kmeans
from ._fit import mixture_from_kmeans as mixture_from_kmeans
from ._fit import mixture_from_labels as mixture_from_labels
from ._guidance import dps_predict as dps_predict
from ._guidance import dps_sample as dps_sample
from ._guidance import measurement_loss as measurement_loss
from ._mixture import GaussianMixture as GaussianMixture
from ._mixture import condition_gaussians as condition_gaussians
from ._mixture import condition_mixture as condition_mixture
from ._mixture import gaussian_mixture as gaussian_mixture
from ._operators import KSpaceLineSampling as KSpaceLineSampling
from ._operators import LineSampling as LineSampling
from ._operators import MeasurementOperator as MeasurementOperator
from ._operators import PixelSampling as PixelSampling
from ._operators import centered_fft2 as centered_fft2
from ._operators import centered_ifft2 as centered_ifft2
from ._samplers import ddim_sample as ddim_sample
from ._samplers import ddim_update as ddim_update
from ._samplers import ddpm_sample as ddpm_sample
from ._samplers import predict as predict
from ._samplers import time_grid as time_grid
from ._schedules import AngularSchedule as AngularSchedule
from ._schedules import CosineSchedule as CosineSchedule
from ._schedules import LinearSchedule as LinearSchedule
from ._schedules import NoiseSchedule as NoiseSchedule
from ._training import denoising_loss as denoising_loss
from ._training import train_denoiser as train_denoiser
from ._unet import UNet as UNet

__all__ = [
    "AngularSchedule",
    "CosineSchedule",
    "ExactDenoiser",
    "GaussianMixture",
    "KSpaceLineSampling",
    "LineSampling",
    "LinearSchedule",
    "MeasurementOperator",
    "NoiseSchedule",
    "PixelSampling",
    "UNet",
    "centered_fft2",
    "centered_ifft2",
    "condition_gaussians",
    "condition_mixture",
    "ddim_sample",
    "ddim_update",
    "ddpm_sample",
    "denoising_loss",
    "dps_predict",
    "dps_sample",
    "gaussian_mixture",
    "kmeans",
    "measurement_loss",
    "mixture_from_kmeans",
    "mixture_from_labels",
    "predict",
    "time_grid",
    "train_denoiser",
]
