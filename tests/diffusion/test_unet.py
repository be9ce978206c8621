"""The UNet ε-model and ε-prediction training through jentropy.train."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import diffusion


@pytest.mark.parametrize("shape", [(8, 8), (2, 8, 4)])
def test_unet_shapes_and_time_dependence(shape):
    model = diffusion.UNet(shape, widths=(4, 8), embedding_dim=8, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), shape)
    call = eqx.filter_jit(lambda m, x, t: jax.vmap(m)(x, t))
    out = call(model, jnp.stack([x, x, -x]), jnp.array([0.3, 0.7, 0.3]))
    assert out.shape == (3, *shape) and out.dtype == x.dtype
    assert not np.allclose(out[0], out[1])  # conditioned on t
    assert not np.allclose(out[0], out[2])


def test_unet_bad_shapes():
    with pytest.raises(ValueError, match="divisible"):
        diffusion.UNet((6, 6), widths=(8, 16, 32), key=jax.random.key(0))
    with pytest.raises(ValueError, match="image_shape"):
        diffusion.UNet((8,), key=jax.random.key(0))
    model = diffusion.UNet((8, 8), widths=(4,), embedding_dim=8, key=jax.random.key(0))
    with pytest.raises(ValueError, match="vmap for batches"):
        eqx.filter_eval_shape(model, jnp.zeros((2, 8, 8)), 0.5)


def test_denoising_loss_of_zero_model(key):
    # ε̂ = 0: the l1 loss is E|ε| = sqrt(2/π), the l2 loss E ε² = 1 (8192 draws: 1% std err)
    zero = lambda x, t: jnp.zeros_like(x)  # noqa: E731
    x0 = jnp.ones((128, 8, 8))
    l1 = diffusion.denoising_loss(diffusion.AngularSchedule())(zero, x0, key)
    l2 = diffusion.denoising_loss(diffusion.CosineSchedule(), loss="l2")(zero, x0, key)
    np.testing.assert_allclose(l1, np.sqrt(2 / np.pi), rtol=0.03)
    np.testing.assert_allclose(l2, 1.0, rtol=0.05)
    with pytest.raises(ValueError, match="loss must be one of"):
        diffusion.denoising_loss(diffusion.AngularSchedule(), loss="huber")


class _Scale(eqx.Module):
    """ε̂ = w · x_t: for all-zero data x_t = σ ε, so the loss falls as w grows from 0."""

    w: jax.Array

    def __call__(self, x, t):
        return self.w * x


def test_train_denoiser_fits_a_scalar_model():
    images = jnp.zeros((64, 4, 4))
    result = diffusion.train_denoiser(
        _Scale(jnp.zeros(())),
        images,
        key=jax.random.key(1),
        steps=200,
        batch_size=32,
        learning_rate=5e-2,
        ema_decay=0.9,
        loss="l2",
        progress=False,
    )
    # with l2 loss the optimum is w* = E[σ]/E[σ²] over t ~ U(0, 1) (σ = sin θ(t)), and the
    # loss at w* is 1 − E[σ]²/E[σ²]; 200 Adam steps reach it to a few percent
    t = np.linspace(0.0, 1.0, 100_001)
    sigma = np.asarray(diffusion.AngularSchedule().noise_rate(jnp.asarray(t)), np.float64)
    w_star = sigma.mean() / (sigma**2).mean()
    np.testing.assert_allclose(result.model.w, w_star, rtol=0.05)
    np.testing.assert_allclose(
        result.history["loss"][-50:].mean(), 1 - sigma.mean() ** 2 / (sigma**2).mean(), rtol=0.15
    )
    assert result.ema_model is not None


@pytest.mark.slow
def test_train_denoiser_learns():
    # a single training image: the optimal ε̂ is computable from x_t, so the loss must drop well
    # below the ≈ 0.8 of an untrained model within 100 AdamW steps of a tiny UNet
    images = jnp.broadcast_to(jnp.linspace(-1.0, 1.0, 16).reshape(4, 4), (32, 4, 4))
    model = diffusion.UNet((4, 4), widths=(4,), embedding_dim=8, key=jax.random.key(0))
    a = diffusion.train_denoiser(
        model,
        images,
        key=jax.random.key(1),
        steps=100,
        batch_size=16,
        learning_rate=1e-2,
        ema_decay=0.9,
        progress=False,
    )
    assert a.history["loss"][-20:].mean() < 0.6 * a.history["loss"][:5].mean()
    assert a.ema_model is not None
    leaves = jax.tree_util.tree_leaves(eqx.filter(a.ema_model, eqx.is_array))
    assert all(bool(jnp.all(jnp.isfinite(v))) for v in leaves)
    with pytest.raises(ValueError, match="images must be finite"):
        diffusion.train_denoiser(
            model, images.at[0, 0, 0].set(jnp.nan), key=jax.random.key(1), steps=2
        )
