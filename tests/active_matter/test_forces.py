"""Pair forces: cell list == Verlet list == all pairs (1e-12 in float64), a NumPy brute force,
closed forms for two particles, the minimum image, trap and springs, overflow reporting.

Tolerance 1e-12 (float64): the three routines add the same ≤ ~20 terms of size ≤ 2 in different
orders, so they differ by a few ulp (~1e-15).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am

from .conftest import brute_force_forces, random_positions


@pytest.mark.parametrize(
    ("n", "phi", "beta"),
    [(300, 0.3, 7.5), (1000, 0.5, 7.5), (700, 0.8, None), (2000, 0.9, 7.5)],
)
def test_cell_list_equals_all_pairs(x64, n, phi, beta):
    system = am.mips_system(n, phi, beta=beta, cell_capacity=24, max_neighbors=48)
    for seed in range(2):
        x = random_positions(jax.random.key(seed), system)
        cells = am.pair_forces(x, system, method="cells")
        pairs = am.pair_forces(x, system, method="all_pairs")
        verlet = am.pair_forces(x, system, neighbors=am.neighbor_list(x, system))
        assert not bool(cells.overflow) and not bool(verlet.overflow)
        assert cells.force.dtype == jnp.float64
        np.testing.assert_allclose(cells.force, pairs.force, rtol=0, atol=1e-12)
        np.testing.assert_allclose(verlet.force, pairs.force, rtol=0, atol=1e-12)


def test_matches_numpy_brute_force(x64):
    system = am.mips_system(200, 0.6, cell_capacity=24)
    x = random_positions(jax.random.key(3), system)
    np.testing.assert_allclose(
        am.pair_forces(x, system).force, brute_force_forces(x, system), rtol=0, atol=1e-12
    )


def test_verlet_list_valid_within_half_skin(x64):
    """A list built at x0 gives exact forces at any x with |x − x0| < skin/2 per particle."""
    system = am.mips_system(800, 0.6, max_neighbors=48)
    k1, k2 = jax.random.split(jax.random.key(1))
    x0 = random_positions(k1, system)
    step = jax.random.normal(k2, x0.shape, x0.dtype)
    step = 0.49 * system.skin / 2 * step / jnp.linalg.norm(step, axis=1, keepdims=True)
    x = am.wrap(x0 + step, system.half_width)
    nl = am.neighbor_list(x0, system)
    np.testing.assert_allclose(
        am.pair_forces(x, system, neighbors=nl).force,
        am.pair_forces(x, system, method="all_pairs").force,
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("beta", [7.5, None])
def test_two_particles_closed_form(x64, beta):
    system = am.ActiveSystem(2, half_width=10.0, beta=beta)
    x = jnp.array([[0.3, 0.0], [0.3 + 1.5, 0.0]])
    f = am.pair_forces(x, system).force
    u = 2.0 - 1.5
    mag = u if beta is None else np.log1p(np.exp(beta * u)) / beta
    np.testing.assert_allclose(f, [[-mag, 0.0], [mag, 0.0]], rtol=0, atol=1e-14)


def test_minimum_image_across_the_boundary(x64):
    system = am.ActiveSystem(2, half_width=10.0, beta=None)
    x = jnp.array([[-9.6, 1.0], [9.6, 1.0]])  # 0.8 apart through the boundary
    f = am.pair_forces(x, system).force
    np.testing.assert_allclose(f, [[1.2, 0.0], [-1.2, 0.0]], rtol=0, atol=1e-12)


def test_beyond_cutoff_is_zero_and_momentum_conserved(x64):
    system = am.mips_system(500, 0.5)
    x = random_positions(jax.random.key(2), system)
    f = am.pair_forces(x, system).force
    np.testing.assert_allclose(jnp.sum(f, axis=0), 0.0, atol=1e-12)  # Newton's third law
    far = am.ActiveSystem(2, half_width=20.0)
    x = jnp.array([[0.0, 0.0], [far.interaction_range + 1e-9, 0.0]])
    assert float(jnp.max(jnp.abs(am.pair_forces(x, far).force))) == 0.0


def test_small_box_falls_back_to_all_pairs(x64):
    """m < 3 cells per side would visit a cell twice; every pair is used instead."""
    system = am.ActiveSystem(20, half_width=5.0)
    x = random_positions(jax.random.key(4), system)
    np.testing.assert_allclose(
        am.pair_forces(x, system, method="cells").force,
        brute_force_forces(x, system),
        rtol=0,
        atol=1e-12,
    )


def test_trap_and_springs(x64):
    system = am.ActiveSystem(5, stiffness=0.0, trap=0.7, spring=0.3)
    x = jax.random.normal(jax.random.key(0), (5, 2), jnp.float64)
    expected = -0.7 * x - 0.3 * (5 * x - x.sum(0))
    np.testing.assert_allclose(am.conservative_forces(x, system).force, expected, atol=1e-14)
    bx, bg, overflow = am.drift(x, x[::-1], system.replace(v0=0.5, gamma=2.0))
    np.testing.assert_allclose(bx, 0.5 * x[::-1] + expected, atol=1e-14)
    np.testing.assert_allclose(bg, -2.0 * x[::-1], atol=1e-14)
    assert not bool(overflow)


def test_overflow_is_reported():
    system = am.mips_system(400, 0.7, cell_capacity=2, max_neighbors=3)
    x = random_positions(jax.random.key(0), system)
    assert bool(am.pair_forces(x, system, method="cells").overflow)
    nl = am.neighbor_list(x, system.replace(cell_capacity=32))
    assert bool(nl.overflow) and int(nl.max_count) > 3
    assert not bool(am.pair_forces(x, system, method="all_pairs").overflow)


def test_jit_matches_eager(x64):
    system = am.mips_system(300, 0.5)
    x = random_positions(jax.random.key(5), system)
    eager = am.pair_forces(x, system).force
    jitted = jax.jit(lambda y: am.pair_forces(y, system).force)(x)
    np.testing.assert_allclose(jitted, eager, rtol=0, atol=1e-13)


def test_errors():
    system = am.mips_system(10, 0.5)
    with pytest.raises(ValueError, match="x must have shape"):
        am.pair_forces(jnp.zeros((9, 2)), system)
    with pytest.raises(TypeError, match="x must be floating"):
        am.pair_forces(jnp.zeros((10, 2), jnp.int32), system)
    with pytest.raises(ValueError, match="method"):
        am.pair_forces(jnp.zeros((10, 2)), system, method="tree")
    with pytest.raises(ValueError, match="2-D periodic"):
        am.pair_forces(jnp.zeros((10, 2)), am.ActiveSystem(10), method="cells")
