"""Fixed baseline masks: counts, exclusions, and the sampling law of the data-variance mask."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_sampling as ads


def test_random_mask(key):
    initial = jnp.zeros(20, bool).at[3].set(True)
    m = ads.random_mask(key, 20, 5, initial)
    assert int(m.sum()) == 6 and bool(m[3])
    np.testing.assert_array_equal(m, ads.random_mask(key, 20, 5, initial))
    assert not np.array_equal(m, ads.random_mask(jax.random.key(9), 20, 5, initial))


def test_top_variance_and_order():
    v = jnp.array([0.1, 5.0, 0.3, 2.0, 4.0])
    np.testing.assert_array_equal(ads.top_variance_mask(v, 2), [False, True, False, False, True])
    np.testing.assert_array_equal(ads.mask_from_order(jnp.array([3, 0]), 5), [1, 0, 0, 1, 0])


def test_variance_mask_sampling_law():
    # budget 1: P(l) = v_l / Σ v (Gumbel-max); 4000 draws, standard error ≤ 0.008 → 4.5 se
    v = jnp.array([1.0, 2.0, 3.0, 4.0])
    masks = jax.vmap(lambda k: ads.variance_mask(k, v, 1))(
        jax.random.split(jax.random.key(0), 4000)
    )
    np.testing.assert_allclose(masks.mean(0), v / v.sum(), atol=0.035)
    assert bool(jnp.all(masks.sum(1) == 1))


def test_line_masks(key):
    np.testing.assert_array_equal(ads.central_lines_mask(8, 3), [0, 0, 0, 1, 1, 1, 0, 0])
    m = ads.central_random_lines_mask(key, 32, 8, 3)
    assert int(m.sum()) == 8 and bool(m[15:18].all())
    np.testing.assert_array_equal(
        ads.central_random_lines_mask(key, 32, 3, 3), ads.central_lines_mask(32, 3)
    )


def test_budget_errors(key):
    with pytest.raises(ValueError, match="budget = 9 exceeds the 8 locations"):
        ads.random_mask(key, 8, 9)
    with pytest.raises(ValueError, match=r"exceeds the 7 locations available.*1 already"):
        ads.random_mask(key, 8, 8, jnp.zeros(8, bool).at[0].set(True))
    with pytest.raises(ValueError, match="initial must have shape"):
        ads.top_variance_mask(jnp.ones(5), 2, jnp.zeros(4, bool))
    with pytest.raises(ValueError, match="num_central"):
        ads.central_random_lines_mask(key, 32, 4, 5)
