"""The local transformer and the k-nearest-neighbour search: exact neighbours (brute force),
cell search == all pairs, permutation equivariance over particles, invariance to neighbour
order, translation invariance in the periodic box, the Jacobian diagonal, the shift option.

Float32 tolerance 2e-5: the same arithmetic on permuted inputs differs only through the order
of the attention softmax sums (17 terms), a few ulp of O(1) activations through 2 blocks.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am

from .conftest import random_positions

K = 8
SYSTEM = am.mips_system(96, 0.5)
TOL = 2e-5


MODEL = dict(n_neighbors=K, width=16, depth=1, num_heads=2)  # one block: equivariance is per block


@pytest.fixture(scope="module")
def model():
    return am.LocalTransformer(**MODEL, key=jax.random.key(0))


@pytest.fixture(scope="module")
def config():
    k1, k2 = jax.random.split(jax.random.key(1))
    return random_positions(k1, SYSTEM), jax.random.normal(k2, (96, 2))


def test_knn_matches_brute_force(x64, config):
    x = jnp.asarray(config[0], jnp.float64)
    nb = am.nearest_neighbors(x, K, SYSTEM.half_width)
    d = np.asarray(x)[:, None] - np.asarray(x)[None]
    d -= 2 * SYSTEM.half_width * np.round(d / (2 * SYSTEM.half_width))
    r = np.linalg.norm(d, axis=-1) + np.diag(np.full(96, np.inf))
    np.testing.assert_array_equal(np.sort(nb.index, 1), np.sort(np.argsort(r, 1)[:, :K], 1))
    np.testing.assert_allclose(
        nb.displacement, -np.take_along_axis(d, np.asarray(nb.index)[..., None], 1)
    )
    cells = am.nearest_neighbors(x, K, SYSTEM.half_width, search_radius=8.0)
    assert bool(cells.exact)
    np.testing.assert_array_equal(cells.index, nb.index)
    # a radius too small for K neighbours: the cell search is not exact, the fallback is
    small = am.nearest_neighbors(x, K, SYSTEM.half_width, search_radius=1.0)
    np.testing.assert_array_equal(small.index, nb.index)


def test_permutation_equivariance(model, config):
    x, g = config
    s = am.particle_scores(model, x, g, SYSTEM.half_width)
    assert s.shape == (96, 2)
    perm = jax.random.permutation(jax.random.key(2), 96)
    s_perm = am.particle_scores(model, x[perm], g[perm], SYSTEM.half_width)
    np.testing.assert_allclose(s_perm, s[perm], rtol=0, atol=TOL)


def test_neighbour_order_and_translation_invariance(model, config):
    x, g = config
    patches = am.particle_patches(x, g, K, SYSTEM.half_width)
    p0 = jax.tree.map(lambda a: a[0], patches)
    order = jnp.array([3, 0, 7, 1, 6, 2, 5, 4])
    shuffled = p0._replace(x_nbr=p0.x_nbr[order], g_nbr=p0.g_nbr[order])
    apply = eqx.filter_jit(lambda m, p: m(p))
    np.testing.assert_allclose(apply(model, shuffled), apply(model, p0), rtol=0, atol=TOL)
    shifted = am.wrap(x + jnp.array([13.7, -41.2]), SYSTEM.half_width)
    np.testing.assert_allclose(
        am.particle_scores(model, shifted, g, SYSTEM.half_width),
        am.particle_scores(model, x, g, SYSTEM.half_width),
        rtol=0,
        atol=1e-4,  # wrapping changes x by multiples of 2L ≈ 30: float32 ulp ~4e-6 there
    )


@pytest.fixture(scope="module")
def snapshots(model, config):
    """Two snapshots (the configuration and its relabelling) and the network's score field on
    them: one compilation of ``particle_score_fields`` shared by the tests below."""
    x, g = config
    xs, gs = jnp.stack([x, x[::-1]]), jnp.stack([g, g[::-1]])
    return xs, gs, am.particle_score_fields(model, xs, gs, SYSTEM.half_width)


def test_jacobian_diagonal_and_shift(model, config, snapshots):
    """The field's self-Jacobian diagonal (jacfwd) equals that of a reverse-mode Jacobian of
    the forward pass for every particle; its score is the forward pass; ``shift=True`` (same
    weights) subtracts g_i. Tolerances: float32, the same arithmetic compiled into different
    programs (XLA fusion/reassociation): a few ulp of O(1) values."""
    x, g = config
    field = snapshots[2]
    patches = am.particle_patches(x, g, K, SYSTEM.half_width)

    @eqx.filter_jit
    def reverse_mode_diagonal(m, p):
        def one(q):
            return jnp.diagonal(jax.jacrev(lambda v: m(q._replace(g_self=v)))(q.g_self))

        return jax.vmap(one)(p)

    reference = reverse_mode_diagonal(model, patches)
    np.testing.assert_allclose(field.jacobian_diagonal[0], reference, rtol=1e-5, atol=1e-6)
    direct = am.particle_scores(model, x, g, SYSTEM.half_width)  # compiled by the tests above
    np.testing.assert_allclose(field.score[0], direct, rtol=0, atol=1e-6)
    shifted = am.LocalTransformer(**MODEL, shift=True, key=jax.random.key(0))  # same weights
    np.testing.assert_allclose(
        am.particle_scores(shifted, x, g, SYSTEM.half_width), direct - g, rtol=0, atol=1e-6
    )
    # the (x, g) variant with pre-LN blocks: output and Jacobian diagonal of size 2d (shapes
    # only, by tracing; its values go through the same code as the g-variant's)
    xg = am.LocalTransformer(**MODEL, targets="xg", post_norm=False, key=jax.random.key(3))
    p0 = jax.tree.map(lambda a: a[0], patches)
    s_xg, diag_xg = jax.eval_shape(lambda p: am.score_and_divergence(xg, p), p0)
    assert s_xg.shape == (4,) and diag_xg.shape == (4,)


def test_jit_and_determinism(model, config):
    x, g = config
    eager = am.particle_scores(model, x, g, SYSTEM.half_width)
    jitted = eqx.filter_jit(am.particle_scores)(model, x, g, SYSTEM.half_width)
    np.testing.assert_allclose(jitted, eager, rtol=0, atol=TOL)
    again = am.LocalTransformer(**MODEL, key=jax.random.key(0))
    np.testing.assert_array_equal(am.particle_scores(again, x, g, SYSTEM.half_width), eager)


def test_score_fields_over_snapshots(model, snapshots):
    xs, gs, field = snapshots
    assert field.score.shape == (2, 96, 2) and field.jacobian_diagonal.shape == (2, 96, 2)
    np.testing.assert_allclose(field.score[1], field.score[0][::-1], atol=TOL)
    epr = am.particle_entropy_production(model, SYSTEM, xs, gs)
    np.testing.assert_allclose(
        epr.local, -SYSTEM.gamma * (2 + field.jacobian_diagonal.sum(-1)), rtol=1e-6
    )
    np.testing.assert_allclose(epr.per_snapshot, epr.local.sum(-1), rtol=1e-6)


def test_errors(model):
    with pytest.raises(ValueError, match="targets"):
        am.LocalTransformer(targets="x", key=jax.random.key(0))
    with pytest.raises(ValueError, match="width"):
        am.LocalTransformer(width=7, key=jax.random.key(0))
    bad = am.Patch(jnp.zeros(2), jnp.zeros(2), jnp.zeros((K + 1, 2)), jnp.zeros((K + 1, 2)))
    with pytest.raises(ValueError, match="patch neighbours"):
        model(bad)
    with pytest.raises(ValueError, match="k must be"):
        am.nearest_neighbors(jnp.zeros((5, 2)), 5, None)
