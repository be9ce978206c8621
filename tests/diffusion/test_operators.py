"""Subsampling operators: adjoint identity, isometry, the FFT convention, data consistency."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import diffusion

OPERATORS = [
    diffusion.PixelSampling((6, 5)),
    diffusion.PixelSampling((2, 6, 5)),
    diffusion.LineSampling((6, 5)),
    diffusion.LineSampling((2, 6, 5)),
    diffusion.KSpaceLineSampling((6, 5)),
    diffusion.KSpaceLineSampling((8, 8)),
]
IDS = [f"{type(o).__name__}{o.image_shape}" for o in OPERATORS]


@pytest.mark.parametrize("op", OPERATORS, ids=IDS)
def test_adjoint_and_isometry(op, x64):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=op.image_shape))
    y = jnp.asarray(rng.normal(size=(op.num_locations, op.num_features)))
    m = op.measure(x)
    assert m.shape == (op.num_locations, op.num_features)
    # <A x, y> = <x, A^T y> and |A x| = |x| (Parseval for k-space), to float64 rounding
    np.testing.assert_allclose(jnp.vdot(m, y), jnp.vdot(x, op.adjoint(y)), rtol=1e-12)
    np.testing.assert_allclose(jnp.linalg.norm(m), jnp.linalg.norm(x), rtol=1e-12)
    np.testing.assert_allclose(op.adjoint(m), x, atol=1e-12)  # A^T A = I


@pytest.mark.parametrize("op", OPERATORS, ids=IDS)
def test_forward_and_hard_consistency(op, x64):
    rng = np.random.default_rng(1)
    x, other = (jnp.asarray(rng.normal(size=op.image_shape)) for _ in range(2))
    mask = jnp.asarray(rng.uniform(size=op.num_locations) < 0.5).at[0].set(True)
    y = op.forward(x, mask)
    np.testing.assert_array_equal(y[~mask], 0.0)
    fixed = op.hard_consistency(other, y, mask)
    if isinstance(op, diffusion.KSpaceLineSampling):
        # replace the measured k-space lines, back-transform, keep the real part
        k = diffusion.centered_fft2(other)
        k_meas = diffusion.centered_fft2(x)
        replaced = jnp.where(mask[None, :], k_meas, k)
        np.testing.assert_allclose(fixed, diffusion.centered_ifft2(replaced).real, atol=1e-12)
        # a Hermitian-symmetric mask (frequency f with −f) keeps the measured lines exactly
        w = op.image_shape[1]
        mask = mask | mask[(2 * (w // 2) - jnp.arange(w)) % w]
        y = op.forward(x, mask)
        fixed = op.hard_consistency(other, y, mask)
    # the measured locations now carry y; the unmeasured ones kept other's measurement
    np.testing.assert_allclose(op.forward(fixed, mask), y, atol=1e-12)
    np.testing.assert_allclose(op.measure(fixed)[~mask], op.measure(other)[~mask], atol=1e-12)


def test_centered_fft_matches_numpy(x64):
    x = np.random.default_rng(2).normal(size=(6, 7))
    ref = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))
    k = diffusion.centered_fft2(jnp.asarray(x))
    np.testing.assert_allclose(k, ref, atol=1e-12)
    np.testing.assert_allclose(diffusion.centered_ifft2(k).real, x, atol=1e-12)
    op = diffusion.KSpaceLineSampling((6, 7))
    m = op.measure(jnp.asarray(x))
    np.testing.assert_allclose(m[:, :6], ref.T.real, atol=1e-12)  # column j of k-space
    np.testing.assert_allclose(m[:, 6:], ref.T.imag, atol=1e-12)
    # the centre column (DC) of k-space is column W // 2
    np.testing.assert_allclose(ref[3, 3], x.sum() / np.sqrt(42), rtol=1e-12)


def test_mask_images():
    op = diffusion.LineSampling((4, 3))
    np.testing.assert_array_equal(op.mask_image(jnp.array([True, False, True])), [[1, 0, 1]] * 4)
    pix = diffusion.PixelSampling((2, 2))
    np.testing.assert_array_equal(pix.mask_image(jnp.array([1.0, 0.0, 0.0, 1.0])), [[1, 0], [0, 1]])


def test_operators_jit_with_traced_masks():
    op = diffusion.KSpaceLineSampling((8, 8))
    x = jax.random.normal(jax.random.key(0), (8, 8))
    f = jax.jit(op.forward)
    masks = [jnp.arange(8) < k for k in (2, 5)]
    for m in masks:
        np.testing.assert_allclose(f(x, m), op.forward(x, m), atol=1e-6)
    assert f._cache_size() == 1


def test_bad_masks_and_shapes():
    op = diffusion.PixelSampling((8, 8))
    with pytest.raises(ValueError, match=r"mask must have shape \(64,\)"):
        op.forward(jnp.zeros((8, 8)), jnp.ones(63, bool))
    with pytest.raises(ValueError, match="bool or float"):
        op.forward(jnp.zeros((8, 8)), jnp.ones(64, jnp.int32))
    with pytest.raises(ValueError, match="image_shape must be"):
        diffusion.KSpaceLineSampling((1, 8, 8))
    with pytest.raises(ValueError, match="image_shape must be"):
        diffusion.LineSampling((8,))
    with pytest.raises(ValueError, match="x must be a float image of shape"):
        op.check_image(jnp.zeros((4, 4)))
