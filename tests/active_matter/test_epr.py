"""EPR estimators with the exact score of linear systems (spec cases 1, 3, 4, 5).

Monte-Carlo checks use |estimate − exact| < 4 standard errors (a false alarm rate ~6e-5 per
check); identities that hold pointwise are checked to float64 rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am

N, D = 4, 2
COUPLED = am.ActiveSystem(N, v0=1.0, gamma=0.8, epsilon=0.3, stiffness=0.0, trap=1.0, spring=0.3)


@pytest.fixture
def exact(x64):
    sde = am.aoup_linear_sde(COUPLED)
    sigma = am.stationary_covariance(sde)
    zs = jax.random.normal(jax.random.key(3), (20_000, 2 * N * D), jnp.float64)
    zs = zs @ jnp.linalg.cholesky(sigma).T
    return sde, sigma, zs


def _split(z):
    return z[..., : N * D].reshape(*z.shape[:-1], N, D), z[..., N * D :].reshape(
        *z.shape[:-1], N, D
    )


def test_global_epr_both_forms(exact):
    sde, sigma, zs = exact
    drift = lambda z: sde.drift_matrix @ z  # noqa: E731
    score = lambda z: am.linear_score(sigma, z)  # noqa: E731
    g_mask = jnp.arange(2 * N * D) >= N * D
    for mask, form in ((None, "quadratic"), (None, "divergence"), (g_mask, "divergence")):
        truth = am.linear_epr(sde, sigma, mask=mask)
        est = am.entropy_production_rate(drift, score, sde.diffusion, zs, form=form, mask=mask)
        assert abs(float(est.value - truth)) < 4 * float(est.stderr) + 1e-12, (form, mask)
    # x + g split adds up
    parts = [am.linear_epr(sde, sigma, mask=m) for m in (g_mask, ~g_mask)]
    np.testing.assert_allclose(sum(parts), am.linear_epr(sde, sigma), rtol=1e-12)


def test_identities_and_stationarity(exact):
    sde, sigma, zs = exact
    score = lambda z: am.linear_score(sigma, z)  # noqa: E731
    ids = am.score_identities(score, zs)
    assert abs(float(ids["z_dot_s"].value) + 2 * N * D) < 4 * float(ids["z_dot_s"].stderr)
    assert abs(float(ids["stein"].value)) < 4 * float(ids["stein"].stderr)
    res = am.stationarity_residual(lambda z: sde.drift_matrix @ z, score, sde.diffusion, zs[:50])
    assert abs(float(res.value)) < 1e-10 and float(res.stderr) < 1e-10  # zero pointwise


def test_local_epr_sums_to_global(exact):
    """For the exact linear score ∇_{g_i}·s_{g_i} = −tr P_{g_i g_i} is constant, so the
    divergence-form local EPRs sum to EPR_g for every sample (pointwise identity)."""
    sde, sigma, zs = exact
    s = am.linear_score(sigma, zs[:1000])
    _, g = _split(zs[:1000])
    _, s_g = _split(s)
    precision = jnp.linalg.inv(sigma)
    diag = jnp.diagonal(precision)[N * D :].reshape(N, D)
    div = jnp.broadcast_to(-diag.sum(-1), (1000, N))
    local = am.local_entropy_production(COUPLED, g, s_g, div)
    truth = am.linear_epr(sde, sigma, mask=jnp.arange(2 * N * D) >= N * D)
    np.testing.assert_allclose(local.sum(-1), truth, rtol=1e-10)
    quad = am.local_entropy_production(COUPLED, g, s_g, form="quadratic").sum(-1)
    assert abs(float(quad.mean() - truth)) < 4 * float(quad.std() / np.sqrt(1000))
    ids = am.particle_score_identities(g, s_g, div)
    assert abs(float(ids["g_dot_s"].value) + 1) < 4 * float(ids["g_dot_s"].stderr)
    assert abs(float(ids["stein"].value)) < 4 * float(ids["stein"].stderr)
    v = am.particle_velocity_g(COUPLED, g, s_g)
    np.testing.assert_allclose(
        (v**2).sum((-1, -2)) / COUPLED.gamma, quad, rtol=1e-12
    )  # the two quadratic spellings agree


def test_equilibrium_velocity_vanishes(x64, key):
    """Spec case 1: v0 = 0, ε > 0, any potential (here soft repulsion in a periodic box):
    s = (F/ε, −g) makes v = b − D s ≡ 0, hence EPR = 0."""
    system = am.mips_system(128, 0.5, v0=0.0, epsilon=0.2, gamma=1.0)
    n = 128 * 2

    def drift(z):
        bx, bg, _ = am.drift(z[:n].reshape(128, 2), z[n:].reshape(128, 2), system)
        return jnp.concatenate([bx.ravel(), bg.ravel()])

    def score(z):
        f = am.conservative_forces(z[:n].reshape(128, 2), system).force
        return jnp.concatenate([f.ravel() / system.epsilon, -z[n:]])

    diffusion = jnp.concatenate([jnp.full(n, 0.2), jnp.full(n, 1.0)])
    state = am.init_particles(key, system, dtype=jnp.float64)
    zs = jnp.concatenate([state.x.ravel(), state.g.ravel()])[None]
    v = am.probability_flow_velocity(drift, score, diffusion, zs[0])
    np.testing.assert_allclose(v, 0.0, atol=1e-13)
    assert float(am.entropy_production_rate(drift, score, diffusion, zs).value) < 1e-24


def test_binned_map_matches_numpy(key):
    x = jax.random.uniform(key, (3, 500, 2), minval=-5.0, maxval=5.0)
    values = jnp.sin(x[..., 0]) + x[..., 1]
    mean, counts = am.binned_map(x, values, 5.0, 4)
    xs, vs = np.asarray(x).reshape(-1, 2), np.asarray(values).ravel()
    edges = np.linspace(-5, 5, 5)
    ref_counts, _, _ = np.histogram2d(xs[:, 0], xs[:, 1], bins=[edges, edges])
    ref_sums, _, _ = np.histogram2d(xs[:, 0], xs[:, 1], bins=[edges, edges], weights=vs)
    np.testing.assert_allclose(counts, ref_counts)
    np.testing.assert_allclose(mean, ref_sums / np.maximum(ref_counts, 1), rtol=1e-5, atol=1e-5)


def test_errors():
    drift = lambda z: -z  # noqa: E731
    zs = jnp.ones((5, 3))
    with pytest.raises(ValueError, match="form"):
        am.entropy_production_rate(drift, drift, jnp.ones(3), zs, form="log")
    with pytest.raises(ValueError, match="zs must have shape"):
        am.entropy_production_rate(drift, drift, jnp.ones(2), zs)
    with pytest.raises(ValueError, match="mask"):
        am.entropy_production_rate(drift, drift, jnp.ones(3), zs, mask=jnp.ones(2, bool))
    with pytest.raises(ValueError, match="div_g"):
        am.local_entropy_production(COUPLED, jnp.ones((4, 2)), jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="bins"):
        am.binned_map(jnp.ones((4, 2)), jnp.ones(4), 1.0, 0)
