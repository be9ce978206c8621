"""Active Diffusion Subsampling (ADS): measure next where guided-diffusion particles disagree most.

O. Nolan, T. S. W. Stevens, W. L. van Nierop, R. J. G. van Sloun, "Active Diffusion
Subsampling", TMLR 2025. Particles of a DPS-guided diffusion posterior are mapped to measurement
space; the location with the largest Gaussian-mixture entropy estimate of their predictions is
measured next; the posterior is then guided by the grown measurement set. Built on
:mod:`jentropy.diffusion` (schedules, samplers, operators, exact mixture priors).

Example::

    import jax
    from jentropy import active_sampling as ads, diffusion

    op = diffusion.KSpaceLineSampling((32, 32))
    result = ads.active_diffusion_subsampling(
        model, schedule, op, x_true, key=jax.random.key(0), budget=7,
        initial_mask=ads.central_lines_mask(32, 1), num_steps=200, sigma=1.0,
        hard_consistency=True)
    ads.ssim(result.reconstruction, x_true), result.order
"""

from ._ads import ADSResult as ADSResult
from ._ads import acquisition_steps as acquisition_steps
from ._ads import active_diffusion_subsampling as active_diffusion_subsampling
from ._data import load_digits as load_digits
from ._data import random_phantoms as random_phantoms
from ._data import shepp_logan as shepp_logan
from ._entropy import gaussian_information_gain as gaussian_information_gain
from ._entropy import greedy_gaussian_design as greedy_gaussian_design
from ._entropy import particle_entropy as particle_entropy
from ._entropy import particle_variance as particle_variance
from ._entropy import posterior_covariance as posterior_covariance
from ._entropy import select_next as select_next
from ._exact import exact_design as exact_design
from ._exact import exact_posterior as exact_posterior
from ._exact import exact_posterior_mean as exact_posterior_mean
from ._masks import central_lines_mask as central_lines_mask
from ._masks import central_random_lines_mask as central_random_lines_mask
from ._masks import mask_from_order as mask_from_order
from ._masks import random_mask as random_mask
from ._masks import top_variance_mask as top_variance_mask
from ._masks import variance_mask as variance_mask
from ._metrics import mae as mae
from ._metrics import psnr as psnr
from ._metrics import ssim as ssim

__all__ = [
    "ADSResult",
    "acquisition_steps",
    "active_diffusion_subsampling",
    "central_lines_mask",
    "central_random_lines_mask",
    "exact_design",
    "exact_posterior",
    "exact_posterior_mean",
    "gaussian_information_gain",
    "greedy_gaussian_design",
    "load_digits",
    "mae",
    "mask_from_order",
    "particle_entropy",
    "particle_variance",
    "posterior_covariance",
    "psnr",
    "random_mask",
    "random_phantoms",
    "select_next",
    "shepp_logan",
    "ssim",
    "top_variance_mask",
    "variance_mask",
]
