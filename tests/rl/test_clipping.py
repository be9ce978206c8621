"""Importance ratios (token, GSPO sequence, GSPO-token) and the clipped surrogate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl

LP = jnp.array([[-1.0, -2.0, -0.5], [-0.2, -0.3, -jnp.inf]])
OLD = jnp.array([[-1.5, -1.0, -0.5], [-0.4, -0.3, -jnp.inf]])
MASK = jnp.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])


def test_token_and_sequence_ratios():
    tok = rl.importance_ratio(LP, OLD, MASK)
    np.testing.assert_allclose(tok, np.exp([[0.5, -1.0, 0.0], [0.2, 0.0, 0.0]]), rtol=1e-6)
    seq = rl.importance_ratio(LP, OLD, MASK, level="sequence")
    np.testing.assert_allclose(seq[0], np.exp(-0.5 / 3), rtol=1e-6)
    np.testing.assert_allclose(seq[1, :2], np.exp(0.1), rtol=1e-6)
    assert float(seq[1, 2]) == 1.0  # masked


def test_gspo_token_value_of_sequence_gradient_of_token():
    st_ = rl.importance_ratio(LP, OLD, MASK, level="sequence_token")
    np.testing.assert_allclose(st_, rl.importance_ratio(LP, OLD, MASK, level="sequence"), rtol=1e-6)
    lp = LP[:1]
    jac = jax.jacobian(lambda x: rl.importance_ratio(x, OLD[:1], level="sequence_token")[0])(lp)[
        :, 0, :
    ]
    np.testing.assert_allclose(jac, np.diag(np.asarray(st_[0])), rtol=1e-6)  # only own token
    jac_seq = jax.jacobian(lambda x: rl.importance_ratio(x, OLD[:1], level="sequence")[0])(lp)[
        :, 0, :
    ]
    np.testing.assert_allclose(jac_seq, np.full((3, 3), float(st_[0, 0]) / 3), rtol=1e-6)


def test_on_policy_ratio_is_one_with_policy_gradient():
    r = rl.importance_ratio(LP, None, MASK)
    np.testing.assert_array_equal(np.asarray(r), 1.0)
    g = jax.grad(lambda x: jnp.sum(rl.importance_ratio(x, None, MASK)))(LP)
    np.testing.assert_array_equal(np.asarray(g), np.asarray(MASK))


def test_log_ratio_clamp():
    r = rl.log_importance_weights(jnp.array([[0.0]]), jnp.array([[-80.0]]))
    assert float(r[0, 0]) == 20.0
    assert (
        float(rl.log_importance_weights(jnp.array([[0.0]]), jnp.array([[-80.0]]), clamp=None)[0, 0])
        == 80.0
    )
    # a huge ratio stays finite (e^20), so the loss and its gradient do too
    g = jax.grad(lambda x: jnp.sum(rl.importance_ratio(x, jnp.array([[-1e4]]))))(jnp.array([[0.0]]))
    assert np.all(np.isfinite(np.asarray(g)))


@pytest.mark.parametrize(
    "rho,a,kw,expected",
    [
        (1.5, 1.0, {}, -1.2),  # clipped at 1 + ε
        (0.5, 1.0, {}, -0.5),  # pessimistic unclipped branch
        (0.5, -1.0, {}, 0.8),  # clipped at 1 − ε for A < 0
        (1.5, -1.0, {}, 1.5),  # unclipped for A < 0, ρ > 1
        (1.5, 1.0, {"epsilon_high": 0.28}, -1.28),  # clip-higher (DAPO)
        (2.0, -1.0, {"delta": 1.4}, 1.4),  # TRL delta caps ρ
        (5.0, -1.0, {"clip_ratio_c": 3.0}, 3.0),  # verl dual clip
        (5.0, 1.0, {"clip_ratio_c": 3.0}, -1.2),  # dual clip only for A < 0
    ],
)
def test_clipped_surrogate_hand_values(rho, a, kw, expected):
    out = rl.clipped_surrogate(jnp.array([[rho]]), jnp.array([a]), **kw)
    assert float(out[0, 0]) == pytest.approx(expected, rel=1e-6)


def _verl_vanilla(ratio, adv, lo, hi, c):
    # verl compute_policy_loss_vanilla written out in numpy
    l1 = -adv * ratio
    l2 = -adv * np.clip(ratio, 1 - lo, 1 + hi)
    cl1 = np.maximum(l1, l2)
    cl2 = np.minimum(-adv * c, cl1)
    return np.where(adv < 0, cl2, cl1)


def _trl(ratio, adv, lo, hi, delta):
    c2 = np.clip(ratio, 1 - lo, 1 + hi)
    c1 = ratio if delta is None else np.minimum(ratio, delta)
    return -np.minimum(c1 * adv, c2 * adv)


def test_matches_peer_formulas():
    rng = np.random.default_rng(0)
    ratio = np.exp(rng.normal(0, 0.7, (6, 9))).astype(np.float32)
    adv = rng.normal(size=(6, 9)).astype(np.float32)
    ours = rl.clipped_surrogate(ratio, adv, epsilon=0.2, epsilon_high=0.28, clip_ratio_c=3.0)
    np.testing.assert_allclose(ours, _verl_vanilla(ratio, adv, 0.2, 0.28, 3.0), rtol=1e-6)
    ours = rl.clipped_surrogate(ratio, adv, epsilon=0.2, epsilon_high=0.28, delta=2.0)
    np.testing.assert_allclose(ours, _trl(ratio, adv, 0.2, 0.28, 2.0), rtol=1e-6)


def test_clip_masks_fractions():
    rho = jnp.array([[0.5, 0.5, 1.5, 1.5, 4.0]])
    adv = jnp.array([[-1.0, 1.0, 1.0, -1.0, -1.0]])
    m = rl.clip_masks(rho, adv, epsilon=0.2, clip_ratio_c=3.0)
    np.testing.assert_array_equal(m["low"][0], [True, False, False, False, False])
    np.testing.assert_array_equal(m["high"][0], [False, False, True, False, False])
    np.testing.assert_array_equal(m["dual"][0], [False, False, False, False, True])


def test_errors():
    with pytest.raises(ValueError, match="level must be one of"):
        rl.importance_ratio(LP, OLD, level="seq")
    with pytest.raises(ValueError, match="clip_ratio_c"):
        rl.clipped_surrogate(jnp.ones((1, 1)), jnp.ones(1), clip_ratio_c=0.5)
    with pytest.raises(ValueError, match="epsilon must be"):
        rl.clipped_surrogate(jnp.ones((1, 1)), jnp.ones(1), epsilon=1.5)
    with pytest.raises(ValueError, match="advantages must be"):
        rl.clipped_surrogate(jnp.ones((2, 3)), jnp.ones(4))
