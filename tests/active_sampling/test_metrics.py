"""MAE, PSNR, SSIM against closed forms and a SciPy reimplementation of scikit-image's SSIM.

The reference follows skimage.metrics.structural_similarity's defaults (7×7 uniform window via
scipy.ndimage.uniform_filter, sample covariances N/(N−1), the border of width 3 cropped);
agreement to 1e-10 in float64.
"""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.ndimage import uniform_filter

from jentropy import active_sampling as ads


def _ssim_reference(x, y, data_range, win=7):
    ndim = 2
    npix = win**ndim
    cov_norm = npix / (npix - 1)
    ux, uy = uniform_filter(x, win), uniform_filter(y, win)
    vx = cov_norm * (uniform_filter(x * x, win) - ux * ux)
    vy = cov_norm * (uniform_filter(y * y, win) - uy * uy)
    vxy = cov_norm * (uniform_filter(x * y, win) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    return s[pad:-pad, pad:-pad].mean()


def test_ssim_matches_reference(x64):
    rng = np.random.default_rng(0)
    y = rng.uniform(size=(20, 17))
    x = y + 0.1 * rng.normal(size=y.shape)
    np.testing.assert_allclose(
        ads.ssim(jnp.asarray(x), jnp.asarray(y), 1.0), _ssim_reference(x, y, 1.0), rtol=1e-10
    )
    np.testing.assert_allclose(ads.ssim(jnp.asarray(y), jnp.asarray(y), 1.0), 1.0, rtol=1e-12)


def test_psnr_and_mae(x64):
    y = jnp.zeros((4, 4))
    x = y.at[0, 0].set(0.4)  # MSE = 0.01 → PSNR = 20 dB at range 1; MAE = 0.025
    np.testing.assert_allclose(ads.psnr(x, y, 1.0), 20.0, rtol=1e-12)
    np.testing.assert_allclose(ads.mae(x, y), 0.025, rtol=1e-12)


def test_metric_errors():
    with pytest.raises(ValueError, match="same shape"):
        ads.mae(jnp.zeros(3), jnp.zeros(4))
    with pytest.raises(ValueError, match="window must be odd"):
        ads.ssim(jnp.zeros((5, 5)), jnp.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"\(H, W\) images"):
        ads.ssim(jnp.zeros((2, 8, 8)), jnp.zeros((2, 8, 8)))
