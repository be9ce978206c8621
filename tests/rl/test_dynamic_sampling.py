"""Dynamic sampling: zero-variance groups."""

import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl


def test_group_has_signal():
    r = jnp.array([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(rl.group_has_signal(r, per_group=True), [False, True, False])
    np.testing.assert_array_equal(rl.group_has_signal(r)[1], [True, True, True])
    ids = jnp.array([0, 0, 1, 2, 2])
    np.testing.assert_array_equal(
        rl.group_has_signal(jnp.array([1.0, 0, 1, 1, 1]), ids), [True, True, False, False, False]
    )


def test_zero_std_fraction_counts_groups_not_samples():
    r = jnp.array([1.0, 1.0, 1.0, 1.0, 0.0, 1.0])  # group 0 (4 equal), group 1 (2 mixed)
    ids = jnp.array([0, 0, 0, 0, 1, 1])
    assert float(rl.zero_std_group_fraction(r, ids)) == pytest.approx(0.5)
    assert float(
        rl.zero_std_group_fraction(jnp.array([[0.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
    ) == pytest.approx(2 / 3)


def test_errors():
    with pytest.raises(ValueError, match="per_group"):
        rl.group_has_signal(jnp.ones(2), jnp.array([0, 0]), per_group=True)
