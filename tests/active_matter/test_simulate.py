"""Simulation: relabelling invariance, determinism, the exact OU/ABP updates, replicas over
devices, the stationary covariance of a trapped AOUP, and overflow/argument errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am

from .conftest import random_positions

MIPS = am.mips_system(256, 0.6, v0=0.025, gamma=1e-3)


def _noise(key, like):
    k1, k2 = jax.random.split(key)
    return am.ParticleState(
        jax.random.normal(k1, like.x.shape, like.x.dtype),
        jax.random.normal(k2, like.g.shape, like.g.dtype),
    )


@pytest.mark.parametrize("propulsion", ["aoup", "abp"])
def test_relabelling_invariance(x64, propulsion):
    """Stepping a relabelled state with relabelled noise gives the relabelled result (1e-12:
    the force sums visit the same pairs in another order)."""
    system = MIPS.replace(epsilon=0.01, propulsion=propulsion)
    key = jax.random.key(0)
    state = am.init_particles(key, system, dtype=jnp.float64)
    perm = jax.random.permutation(jax.random.key(1), system.n_particles)
    noises = [_noise(jax.random.key(10 + s), state) for s in range(5)]

    step = jax.jit(am.step, static_argnums=(2, 3))  # one compilation, ten calls

    def run(state, noises):
        for noise in noises:
            state, overflow = step(state, noise, system, 0.1)
            assert not bool(overflow)
        return state

    plain = run(state, noises)
    permuted = run(
        am.ParticleState(state.x[perm], state.g[perm]),
        [am.ParticleState(n.x[perm], n.g[perm]) for n in noises],
    )
    np.testing.assert_allclose(permuted.x, plain.x[perm], rtol=0, atol=1e-12)
    np.testing.assert_allclose(permuted.g, plain.g[perm], rtol=0, atol=1e-12)


def test_same_key_same_trajectory_and_saving(key):
    """Same key, same path, however it is saved; thermalisation = unsaved steps first. Two
    compilations (save every 20 steps; thermalise 20 then save every 10), shared with
    ``test_replicas_equal_single_runs``."""
    state = am.init_particles(key, MIPS)
    b = am.simulate(MIPS, state, key=jax.random.key(1), dt=0.1, n_steps=40, save_every=20)
    c = am.simulate(MIPS, state, key=jax.random.key(2), dt=0.1, n_steps=40, save_every=20)
    a = am.simulate(
        MIPS, state, key=jax.random.key(1), dt=0.1, n_steps=20, save_every=10, thermalize=20
    )
    assert a.x.shape == (2, 256, 2) and b.x.shape == (2, 256, 2)
    np.testing.assert_array_equal(a.x[1], b.x[1])  # step 40 whether saved or thermalised first
    np.testing.assert_array_equal(a.final.g, b.final.g)
    assert not np.allclose(a.x[0], b.x[0])  # steps 30 and 20
    assert not np.allclose(b.x, c.x)
    assert bool(jnp.all(jnp.abs(b.x) <= MIPS.half_width)) and not bool(b.overflow)


def test_exact_ou_and_abp_updates(x64):
    system = am.ActiveSystem(3, v0=0.0, gamma=0.5, stiffness=0.0, trap=1.0)
    g = jnp.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
    state = am.ParticleState(jnp.zeros((3, 2)), g)
    zero = am.ParticleState(jnp.zeros((3, 2)), jnp.zeros((3, 2)))
    new, _ = am.step(state, zero, system, 0.2)
    np.testing.assert_allclose(new.g, np.exp(-0.1) * g, rtol=1e-14)
    unit = am.ParticleState(jnp.zeros((3, 2)), jnp.ones((3, 2)))
    new, _ = am.step(state._replace(g=jnp.zeros((3, 2))), unit, system, 0.2)
    np.testing.assert_allclose(new.g, np.sqrt(1 - np.exp(-0.2)), rtol=1e-14)
    abp = system.replace(propulsion="abp")
    g_unit = g / jnp.linalg.norm(g, axis=1, keepdims=True)
    new, _ = am.step(state._replace(g=g_unit), unit, abp, 0.2)
    angle = np.sqrt(2 * 0.5 * 0.2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    np.testing.assert_allclose(new.g, g_unit @ rot.T, rtol=1e-13)


def test_trapped_aoup_stationary_covariance(key):
    """Many replicas of one trapped AOUP: the empirical covariance of (x, g) per dimension
    matches the closed form of spec case 2. Tolerance 0.05: Monte-Carlo error of 512 × 2 × 40
    correlated samples (relative ≈ 2%) plus the O(dt) Euler bias in x (≈ 1%)."""
    v0, k, gamma, eps = 1.0, 1.0, 1.0, 0.5
    system = am.ActiveSystem(1, v0=v0, gamma=gamma, epsilon=eps, stiffness=0.0, trap=k)
    states = jax.vmap(lambda kk: am.init_particles(kk, system))(jax.random.split(key, 512))
    traj = am.simulate_replicas(
        system,
        states,
        jax.random.split(jax.random.key(1), 512),
        dt=0.02,
        n_steps=2000,
        save_every=50,
        thermalize=500,
    )
    assert traj.x.shape == (512, 40, 1, 2)
    z = jnp.stack([traj.x[..., 0, :], traj.g[..., 0, :]], axis=-1).reshape(-1, 2)
    cov = jnp.cov(z.T)
    np.testing.assert_allclose(cov, am.aoup_trap_covariance(v0, k, gamma, eps), atol=0.05)


def test_replicas_equal_single_runs(key):
    keys = jax.random.split(key, 4)
    states = jax.vmap(lambda kk: am.init_particles(kk, MIPS))(keys)
    run_keys = jax.random.split(jax.random.key(5), 4)
    traj = am.simulate_replicas(MIPS, states, run_keys, dt=0.1, n_steps=40, save_every=20)
    one = am.simulate(  # the single-run program compiled by the test above
        MIPS,
        am.ParticleState(states.x[2], states.g[2]),
        key=run_keys[2],
        dt=0.1,
        n_steps=40,
        save_every=20,
    )
    # float32, vmapped vs single program: reassociated sums, a few ulp of |x| ≤ L ≈ 16 per step
    np.testing.assert_allclose(traj.x[2], one.x, rtol=0, atol=1e-5)
    assert len(traj.x.sharding.device_set) == len(jax.devices())  # one replica per device


def test_overflow_raises(key):
    tight = MIPS.replace(max_neighbors=2)
    state = am.ParticleState(random_positions(key, tight), jnp.zeros((256, 2)))
    with pytest.raises(RuntimeError, match="cell_capacity"):
        am.simulate(tight, state, key=key, dt=0.1, n_steps=2)
    traj = am.simulate(tight, state, key=key, dt=0.1, n_steps=2, check=False)
    assert bool(traj.overflow)


def test_errors(key):
    state = am.init_particles(key, MIPS)
    with pytest.raises(ValueError, match="multiple of save_every"):
        am.simulate(MIPS, state, key=key, dt=0.1, n_steps=10, save_every=3)
    with pytest.raises(ValueError, match="dt"):
        am.simulate(MIPS, state, key=key, dt=-0.1, n_steps=10)
    with pytest.raises(ValueError, match="n_steps"):
        am.simulate(MIPS, state, key=key, dt=0.1, n_steps=0)
    with pytest.raises(TypeError, match="key"):
        am.simulate(MIPS, state, key=0, dt=0.1, n_steps=10)


def test_initial_layouts(key):
    system = am.mips_system(300, 0.5)
    lattice = am.init_particles(key, system, layout="lattice")
    cluster = am.init_particles(key, system, layout="cluster")
    for state in (lattice, cluster):
        assert bool(jnp.all(jnp.abs(state.x) <= system.half_width))
    x, w = np.asarray(lattice.x, np.float64), 2 * system.half_width
    d = x[:, None] - x[None]
    r = np.linalg.norm(d - w * np.round(d / w), axis=-1) + np.diag(np.full(300, np.inf))
    spacing = w / 18  # 18² ≥ 300 sites
    assert r.min() > 0.6 * spacing  # jitter is 5%
    # the cluster start is denser in the middle than the box on average
    inner = jnp.mean(jnp.linalg.norm(cluster.x, axis=-1) < system.half_width / 2)
    assert float(inner) > 1.5 * np.pi / 16  # Gaussian: 1 − e^{−1/2} ≈ 0.39 vs uniform π/16
    with pytest.raises(ValueError, match="layout"):
        am.init_particles(key, system, layout="hexagonal")
