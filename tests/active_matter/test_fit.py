"""Learned scores reproduce the exact entropy production rates (spec acceptance).

Training draws fresh exact Gaussian samples every step (a data callable), so the only errors are
the network's approximation and optimisation errors; evaluation uses 20,000 independent samples
(Monte-Carlo standard error ≈ 0.6% of the EPR, printed by the estimators). The acceptance bound
is 5% of the analytic value; runs here land within ~1-2%.
"""

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am
from jentropy import nn, train

REL = 0.05  # the acceptance bound


def _gaussian_data(sigma, batch):
    chol = jnp.linalg.cholesky(sigma)
    return lambda key, step: jax.random.normal(key, (batch, sigma.shape[0])) @ chol.T


def _train_flat(sde, *, loss, steps, key, width=32):
    sigma = am.stationary_covariance(sde)
    n = sigma.shape[0]
    model = nn.MLP(n, n, width, 2, key=key)
    loss_fn = am.make_score_loss(model, loss=loss, sigmas=(1e-2,))
    result = train.fit(
        loss_fn,
        model,
        am.score_optimizer(3e-3, steps=steps),
        _gaussian_data(sigma, 256),
        key=jax.random.fold_in(key, 1),
        steps=steps,
        ema_decay=0.99,
        progress=False,
    )
    zs = _gaussian_data(sigma, 20_000)(jax.random.key(99), 0)
    return result.ema_model, sigma, zs


def test_trapped_aoup_full_and_g_part(key):
    """Spec case 2: one AOUP in a trap (d = 2), full and g-part EPR from a learned score."""
    v0, k, gamma, eps = 1.0, 1.0, 1.0, 0.5
    system = am.ActiveSystem(1, v0=v0, gamma=gamma, epsilon=eps, stiffness=0.0, trap=k)
    sde = am.aoup_linear_sde(system)
    model, _, zs = _train_flat(sde, loss="hyvarinen", steps=1000, key=key)
    full, g_part = am.aoup_trap_epr(v0, k, gamma, eps)
    drift = lambda z: sde.drift_matrix @ z  # noqa: E731
    g_mask = jnp.array([False, False, True, True])
    est_full = am.entropy_production_rate(drift, model, sde.diffusion, zs)
    est_g = am.entropy_production_rate(drift, model, sde.diffusion, zs, mask=g_mask)
    est_div = am.entropy_production_rate(drift, model, sde.diffusion, zs, form="divergence")
    assert abs(float(est_full.value) / (2 * full) - 1) < REL
    assert abs(float(est_div.value) / (2 * full) - 1) < REL
    assert abs(float(est_g.value) / (2 * g_part) - 1) < REL
    ids = am.score_identities(model, zs)
    assert abs(float(ids["z_dot_s"].value) / -4 - 1) < REL  # ⟨z·s⟩ = −n
    assert abs(float(ids["stein"].value)) < 0.1  # ⟨|s|²⟩ + ⟨∇·s⟩ = 0; E|s|² ≈ 7.3 here


def test_general_linear_sde_with_dsm(key):
    """Spec case 3 with the paper's loss (denoising, antithetic): A = −kI + ωJ, EPR = 2ω²/k."""
    k, w, eps = 1.0, 1.0, 1.0
    sde = am.LinearSDE(jnp.array([[-k, w], [-w, -k]]), jnp.full(2, eps))
    model, _, zs = _train_flat(sde, loss="dsm", steps=800, key=key)
    est = am.entropy_production_rate(lambda z: sde.drift_matrix @ z, model, sde.diffusion, zs)
    assert abs(float(est.value) / (2 * w**2 / k) - 1) < REL
    res = am.stationarity_residual(lambda z: sde.drift_matrix @ z, model, sde.diffusion, zs)
    assert abs(float(res.value)) < 0.05  # ⟨∇·v + v·s⟩ = 0 for the exact score


def test_equilibrium_epr_near_zero(key):
    """Spec case 1: v0 = 0 (a trapped particle, ε > 0). The learned EPR is
    Σ_i D_i ⟨(s_i − s*_i)²⟩ ≥ 0 (a weighted Fisher divergence): it must stay below 2% of the
    EPR of the same system with v0 = 1 (= 2), i.e. well inside the 5% accuracy bound there."""
    system = am.ActiveSystem(1, v0=0.0, gamma=1.0, epsilon=0.5, stiffness=0.0, trap=1.0)
    sde = am.aoup_linear_sde(system)
    active = am.linear_epr(am.aoup_linear_sde(system.replace(v0=1.0)))
    model, _, zs = _train_flat(sde, loss="hyvarinen", steps=800, key=key)
    est = am.entropy_production_rate(lambda z: sde.drift_matrix @ z, model, sde.diffusion, zs)
    assert float(am.linear_epr(sde)) < 1e-6
    assert 0.0 <= float(est.value) < 0.02 * float(active)


def _coupled_patches(system, sigma, configs):
    n, d = system.n_particles, system.dim
    chol = jnp.linalg.cholesky(sigma)

    def sample(key, b):
        z = jax.random.normal(key, (b, 2 * n * d)) @ chol.T
        return z[:, : n * d].reshape(b, n, d), z[:, n * d :].reshape(b, n, d)

    def data(key, step):
        x, g = sample(key, configs)
        p = jax.vmap(lambda a, b: am.particle_patches(a, b, n - 1, None))(x, g)
        return jax.tree.map(lambda a: a.reshape(-1, *a.shape[2:]), p)

    return sample, data


def _coupled_case(n, *, width, depth, steps, loss, key, sigmas=(1e-2,), perturb_context=True):
    """Spec case 4: N AOUPs with all-to-all springs in a trap, ε = 0 (hypoelliptic, as MIPS),
    learned with the local transformer (k = N − 1, absolute position for the trap)."""
    system = am.ActiveSystem(
        n, v0=1.0, gamma=1.0, epsilon=0.0, stiffness=0.0, trap=1.0, spring=0.25
    )
    sde = am.aoup_linear_sde(system)
    sigma = am.stationary_covariance(sde)
    sample, data = _coupled_patches(system, sigma, 128 // n)
    model = am.LocalTransformer(
        n_neighbors=n - 1,
        width=width,
        depth=depth,
        num_heads=2,
        absolute_position=True,
        length_scale=1.0,
        key=key,
    )
    result = train.fit(
        am.make_score_loss(model, loss=loss, sigmas=sigmas, perturb_context=perturb_context),
        model,
        am.score_optimizer(2e-3, steps=steps),
        data,
        key=jax.random.fold_in(key, 1),
        steps=steps,
        ema_decay=0.99,
        progress=False,
    )
    x, g = sample(jax.random.key(7), 2_000)
    return system, am.linear_epr(sde, sigma), result.ema_model, x, g


def _check_coupled(system, exact, model, x, g):
    n = system.n_particles
    for form in ("divergence", "quadratic"):
        epr = am.particle_entropy_production(model, system, x, g, form=form)
        assert abs(float(epr.total.value) / float(exact) - 1) < REL, form
    field = epr.field
    ids = am.particle_score_identities(g, field.score, field.jacobian_diagonal.sum(-1))
    assert abs(float(ids["g_dot_s"].value) + 1) < REL  # ⟨g·s_g⟩ = −N d
    assert abs(float(ids["stein"].value)) < 0.1  # per coordinate; ⟨|s_g|²⟩/(N d) ≈ 2 here
    perm = jnp.arange(n)[::-1]
    s = am.particle_scores(model, x[0], g[0], None)
    np.testing.assert_allclose(
        am.particle_scores(model, x[0][perm], g[0][perm], None), s[perm], atol=2e-5
    )


@pytest.mark.slow
def test_coupled_aoups_transformer_hyvarinen(key):
    """N = 4 with the cheaper implicit loss (a few CPU-minutes; the quick reproduction's
    ``exact_systems`` reports the N = 8 case as ``8_relerr_*``)."""
    _check_coupled(*_coupled_case(4, width=32, depth=2, steps=1500, loss="hyvarinen", key=key))


@pytest.mark.slow
def test_coupled_aoups_transformer_dsm(key):
    """N = 8 with the paper's network (post-LN transformer) and antithetic denoising loss at one
    noise level σ = 1e-2, noising only the scored g_i (``perturb_context=False``).

    Noising the whole patch, as the paper noises the whole state, targets the same score, but
    its extra gradient variance left the EPR 9% (divergence form) / 12% (quadratic) low after
    1,500 steps and 5.5% / 8% low after 3,000. Noising g_i alone, 2,500 steps: 0.5% / 0.9% low
    with this key (seed 0), 2.7% / 3.9% and 0.5% / 0.9% with seeds 1 and 2. (Adding the
    paper's σ = 1e-3 level, whose cross term is noisier, also slowed convergence.)"""
    _check_coupled(
        *_coupled_case(8, width=32, depth=2, steps=2500, loss="dsm", key=key, perturb_context=False)
    )


def test_fit_score_resume_and_determinism(tmp_path, key):
    """fit_score passes checkpointing through to ``train.fit``: a run resumed from the step-20
    checkpoint of another run equals that run, bit for bit (DSM noise and batches depend on
    the key and the step only). Two compilations; stopping by callback and resuming after an
    interrupt are tested on ``train.fit`` itself (tests/core/test_train.py)."""
    zs = jax.random.normal(key, (512, 2))
    model = nn.MLP(2, 2, 8, 1, key=key)
    kwargs = dict(key=jax.random.key(1), batch_size=64, loss="dsm", progress=False, chunk=10)
    run_dir, at_20 = tmp_path / "run", tmp_path / "at_20"

    def keep_step_20(step, state, metrics):  # called after the step-20 checkpoint is written
        if step == 20:
            shutil.copytree(run_dir, at_20)

    straight = am.fit_score(
        model,
        zs,
        steps=40,
        checkpoint_dir=run_dir,
        checkpoint_every=20,
        callback=keep_step_20,
        **kwargs,
    )
    seen = []
    resumed = am.fit_score(
        model,
        zs,
        steps=40,
        checkpoint_dir=at_20,
        callback=lambda step, state, metrics: seen.append(step),
        **kwargs,
    )
    assert seen == [30, 40]  # it ran from the checkpoint, not from scratch
    assert straight.state.step == 40 and resumed.state.step == 40
    assert resumed.history["loss"].shape == (40,)  # 20 steps loaded + 20 run
    for u, v in zip(
        jax.tree.leaves((straight.model, straight.ema_model)),
        jax.tree.leaves((resumed.model, resumed.ema_model)),
    ):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(resumed.history["loss"], straight.history["loss"])


def test_fit_errors(key):
    model = nn.MLP(2, 2, 8, 1, key=key)
    with pytest.raises(ValueError, match="loss"):
        am.make_score_loss(model, loss="sliced")
    with pytest.raises(ValueError, match="drift_fn"):
        am.make_score_loss(model, fokker_planck_weight=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        am.score_optimizer(0.0, steps=10)
