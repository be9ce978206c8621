"""Confucius3-Math: TER (two-sided) and PSHW hand values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl


def test_ter_value_and_two_sided_gradient():
    assert float(rl.targeted_entropy_regularization(0.30)) == pytest.approx(0.001 * 0.25)
    g = jax.grad(lambda h: rl.targeted_entropy_regularization(h, target=0.55, coef=0.01))
    assert float(g(0.3)) == pytest.approx(-0.01)  # below target: descent raises H
    assert float(g(0.9)) == pytest.approx(0.01)  # above target: descent lowers H
    # a fixed bonus −c·H always pushes H up; adaptive control only acts when H ≤ target
    assert float(jax.grad(lambda h: rl.entropy_bonus(h[None, None], coef=0.01))(0.9)) < 0


def test_hardness_weight_endpoints():
    np.testing.assert_allclose(
        rl.hardness_weight(jnp.array([1.0, -1.0, 0.0])), [1.0, 1.512, 1.256], rtol=1e-6
    )


def test_pshw_hand_values():
    adv = rl.hardness_weighted_advantages(
        jnp.array([[True, False, False, False], [True, True, True, False]])
    )
    d1 = -0.256 * -0.5 + 1.256  # μ = −0.5
    d2 = -0.256 * 0.5 + 1.256  # μ = +0.5
    np.testing.assert_allclose(adv[0], np.array([1.5, -0.5, -0.5, -0.5]) * d1, rtol=1e-6)
    np.testing.assert_allclose(adv[1], np.array([0.5, 0.5, 0.5, -1.5]) * d2, rtol=1e-6)
    # same split of right/wrong: the harder group (fewer right) gets the larger |Â|
    assert float(jnp.abs(adv[0]).sum()) > float(jnp.abs(adv[1]).sum())
    # all right / all wrong / one sample → 0; 0/1 floats accepted; group_ids layout
    np.testing.assert_array_equal(
        rl.hardness_weighted_advantages(jnp.array([[1.0, 1.0], [0.0, 0.0]])), 0
    )
    flat = rl.hardness_weighted_advantages(jnp.array([1, 0, 0, 0, 1]), jnp.array([0, 0, 0, 0, 1]))
    np.testing.assert_allclose(flat, [*(np.array([1.5, -0.5, -0.5, -0.5]) * d1), 0.0], rtol=1e-6)
