"""Entropy bonus, adaptive entropy control, top-entropy-quantile masking."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jentropy import info, rl


def test_token_entropy_comes_from_info():
    logits = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 5)), jnp.float32)
    np.testing.assert_allclose(
        rl.token_entropy(logits), info.entropy_from_logits(logits), rtol=1e-6
    )
    np.testing.assert_allclose(rl.token_entropy(jnp.zeros((1, 1, 7))), np.log(7), rtol=1e-6)


def test_entropy_bonus_sign_and_modes():
    h = jnp.array([[1.0, 3.0], [2.0, 0.0]])
    m = jnp.array([[1.0, 1.0], [1.0, 0.0]])
    assert float(rl.entropy_bonus(h, m, coef=0.1)) == pytest.approx(-0.2)
    assert float(rl.entropy_bonus(h, m, coef=0.1, mode="grpo")) == pytest.approx(-0.1 * (2 + 2) / 2)


def test_adaptive_entropy_control_trl_semantics():
    s = rl.adaptive_entropy_init(0.01)
    assert float(rl.adaptive_entropy_coef(s)) == 0.0  # no measurement yet
    s = rl.adaptive_entropy_update(s, 0.1)  # below target 0.2 → +δ, and applied
    assert float(s.coef) == pytest.approx(0.015)
    assert float(rl.adaptive_entropy_coef(s)) == pytest.approx(0.015)
    s = rl.adaptive_entropy_update(s, 0.5)  # above → −δ, and not applied
    assert float(s.coef) == pytest.approx(0.01)
    assert float(rl.adaptive_entropy_coef(s)) == 0.0
    for _ in range(5):
        s = rl.adaptive_entropy_update(s, 0.5)
    assert float(s.coef) == 0.0  # clipped at coef_min
    # jit-able, state is a pytree
    s2 = jax.jit(rl.adaptive_entropy_update)(s, jnp.float32(0.0))
    assert float(s2.coef) == pytest.approx(0.005)


def test_top_entropy_mask_hand_value():
    h = jnp.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 0.0, 0.0]])
    m = jnp.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    keep = rl.top_entropy_mask(h, m, quantile=0.5)  # threshold = median of 1..6 = 3.5
    np.testing.assert_array_equal(keep, [[False, False, False, True], [True, True, False, False]])
    np.testing.assert_array_equal(rl.top_entropy_mask(h, m, quantile=1.0), m > 0)
    assert int(rl.top_entropy_mask(h, m, quantile=0.0).sum()) == 1
    assert not bool(rl.top_entropy_mask(h, jnp.zeros_like(m), quantile=0.2).any())


_mask_jit = jax.jit(rl.top_entropy_mask, static_argnames="quantile")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(0, 5, width=32), min_size=12, max_size=12),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_top_entropy_mask_matches_numpy_quantile(values, valid):
    h = np.array(values, np.float32).reshape(3, 4)
    m = np.array(valid, np.float32).reshape(3, 4)
    keep = np.asarray(_mask_jit(h, m, quantile=0.2))
    if m.sum() == 0:
        assert not keep.any()
        return
    thr = np.quantile(h[m > 0].astype(np.float64), 0.8)  # numpy 'linear' = torch.quantile
    expected = (h >= thr - 1e-6) & (m > 0)
    near = np.abs(h - thr) < 1e-5
    np.testing.assert_array_equal(keep[~near], expected[~near])


def test_errors():
    with pytest.raises(ValueError, match="quantile"):
        rl.top_entropy_mask(jnp.ones((1, 2)), None, quantile=1.5)
