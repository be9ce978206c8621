"""DDIM/DDPM samplers with the exact denoiser of a known prior: they must sample that prior.

A Gaussian prior N(μ, C) makes the target exact. The samplers return x̂0 = E[x_0 | x_{t_N}] of the
last step (t = 1/N), whose law is N(μ, C − Cov[x_0 | x_t]) = N(μ, α² C (α² C + σ² I)⁻¹ C) at that t:
≈ C for the linear schedule (σ(1/200) ≈ 0.03), visibly smaller for ADS's angular schedule
(σ(1/200) ≈ 0.32). With 4000 particles the standard error of a mean is ~σ/63 and of a covariance
entry ≲ 0.5·√2/63 ≈ 0.011; the start at N(0, I) instead of p_1 adds < 0.01 (α(1) ≤ 0.02):
tolerances are 5 standard errors plus that bias.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import diffusion

MU = jnp.array([1.0, -0.5, 0.25])
COV = jnp.array([[0.5, 0.2, 0.0], [0.2, 0.3, -0.1], [0.0, -0.1, 0.2]])
PRIOR = diffusion.gaussian_mixture(MU[None], COV[None])
SCHEDULE = diffusion.AngularSchedule()
MODEL = diffusion.ExactDenoiser(PRIOR, SCHEDULE, (3,))
LINEAR = diffusion.LinearSchedule()
LINEAR_MODEL = diffusion.ExactDenoiser(PRIOR, LINEAR, (3,))
N = 4000
STEPS = 200


def _final_cov(schedule):
    alpha, sigma = (float(v) for v in schedule(1.0 / STEPS))
    c = np.asarray(COV, np.float64)
    return alpha**2 * c @ np.linalg.solve(alpha**2 * c + sigma**2 * np.eye(3), c)


def _check_moments(xs, cov):
    xs = np.asarray(xs, np.float64)
    se_mean = np.sqrt(np.diag(COV) / N)
    np.testing.assert_array_less(np.abs(xs.mean(0) - np.asarray(MU)), 5 * se_mean + 0.01)
    np.testing.assert_allclose(np.cov(xs.T), cov, atol=5 * np.sqrt(2) * 0.5 / np.sqrt(N) + 0.01)


@pytest.fixture(scope="module")
def noise():
    return jax.random.normal(jax.random.key(3), (N, 3))


def test_ddim_samples_the_prior(noise):
    xs = diffusion.ddim_sample(LINEAR_MODEL, LINEAR, noise, key=jax.random.key(0), num_steps=STEPS)
    np.testing.assert_allclose(_final_cov(LINEAR), COV, atol=2e-3)  # ≈ C at σ(1/200)
    _check_moments(xs, _final_cov(LINEAR))


def test_ddpm_samples_the_prior(noise):
    xs = diffusion.ddpm_sample(LINEAR_MODEL, LINEAR, noise, key=jax.random.key(0), num_steps=STEPS)
    _check_moments(xs, _final_cov(LINEAR))


def test_ddim_angular_schedule_ends_at_a_posterior_mean(noise):
    xs = diffusion.ddim_sample(MODEL, SCHEDULE, noise, key=jax.random.key(0), num_steps=STEPS)
    assert np.trace(_final_cov(SCHEDULE)) < 0.85 * np.trace(COV)  # a visible shrinkage
    _check_moments(xs, _final_cov(SCHEDULE))


def test_ddim_deterministic_and_ddpm_keyed(noise):
    x = noise[:8]
    a = diffusion.ddim_sample(MODEL, SCHEDULE, x, key=jax.random.key(0), num_steps=10)
    b = diffusion.ddim_sample(MODEL, SCHEDULE, x, key=jax.random.key(1), num_steps=10)
    np.testing.assert_array_equal(a, b)  # η = 0 ignores the key
    c = diffusion.ddpm_sample(MODEL, SCHEDULE, x, key=jax.random.key(0), num_steps=10)
    d = diffusion.ddpm_sample(MODEL, SCHEDULE, x, key=jax.random.key(0), num_steps=10)
    e = diffusion.ddpm_sample(MODEL, SCHEDULE, x, key=jax.random.key(1), num_steps=10)
    np.testing.assert_array_equal(c, d)
    assert not np.allclose(c, e)


def test_ddpm_noise_is_the_posterior_variance(x64):
    # η = 1: c² = (σ'²/σ²)(1 − α²/α'²) = (1 − ᾱ')/(1 − ᾱ) (1 − ᾱ/ᾱ'), DDPM's β̃ with ᾱ = α²
    s = diffusion.LinearSchedule()
    t, t_next = 0.6, 0.55
    (a, _), (an, sn) = s(t), s(t_next)
    abar, abar_next = a**2, an**2
    beta_tilde = (1 - abar_next) / (1 - abar) * (1 - abar / abar_next)
    zero = jnp.zeros(20_000)
    x = diffusion.ddim_update(zero, zero, t, t_next, s, eta=1.0, key=jax.random.key(0))
    np.testing.assert_allclose(jnp.var(x), beta_tilde, rtol=0.04)  # 20k draws: ~1% std err
    one = jnp.ones(3)
    np.testing.assert_allclose(diffusion.ddim_update(one, one, t, t_next, s), an + sn, rtol=1e-12)


def test_predict_is_tweedie_with_exact_model(x64):
    prior = diffusion.gaussian_mixture(MU[None].astype(jnp.float64), COV[None].astype(jnp.float64))
    model = diffusion.ExactDenoiser(prior, SCHEDULE, (3,))
    x = jnp.array([[0.3, -0.2, 1.0], [2.0, 0.0, -1.0]])
    x0, eps = diffusion.predict(model, SCHEDULE, x, 0.4)
    alpha, sigma = SCHEDULE(0.4)
    ref = jax.vmap(lambda v: prior.denoise(v, alpha, sigma))(x)
    np.testing.assert_allclose(x0, ref, rtol=1e-9)
    score = jax.vmap(lambda v: prior.score(v, alpha, sigma))(x)
    np.testing.assert_allclose(eps, -sigma * score, rtol=1e-12)
    np.testing.assert_allclose(model.denoise(x[0], 0.4), ref[0], rtol=1e-9)


def test_time_grid():
    np.testing.assert_allclose(diffusion.time_grid(4), [1.0, 0.75, 0.5, 0.25, 0.0])


def test_nonfinite_model_is_reported():
    bad = lambda x, t: jnp.full_like(x, jnp.nan)  # noqa: E731
    with pytest.raises(Exception, match=r"non-finite|NaN"):
        jax.block_until_ready(
            diffusion.ddim_sample(
                bad, SCHEDULE, jnp.zeros((2, 3)), key=jax.random.key(0), num_steps=2
            )
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_steps"):
        diffusion.ddim_sample(
            MODEL, SCHEDULE, jnp.zeros((2, 3)), key=jax.random.key(0), num_steps=0
        )
    with pytest.raises(ValueError, match="eta"):
        diffusion.ddim_sample(
            MODEL, SCHEDULE, jnp.zeros((2, 3)), key=jax.random.key(0), num_steps=2, eta=2.0
        )
    with pytest.raises(ValueError, match="x_init"):
        diffusion.ddim_sample(MODEL, SCHEDULE, jnp.zeros(3), key=jax.random.key(0), num_steps=2)
    with pytest.raises(ValueError, match="image_shape"):
        diffusion.ExactDenoiser(PRIOR, SCHEDULE, (2, 2))
