"""Advantage estimators: hand-computed fixtures, peers' definitions, invariants."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jentropy import rl

R = jnp.array([[1.0, 0.0, 0.0, 1.0]])


def test_tunix_registered_estimators_on_1001():
    # tunix: r = [1, 0, 0, 1] → ±0.866 (grpo), ±0.667 (rloo), ±0.5 (drgrpo); f32 rounding only.
    sign = np.array([[1, -1, -1, 1]])
    np.testing.assert_allclose(
        rl.ADVANTAGE_ESTIMATORS["grpo"](R), 0.5 / (np.sqrt(1 / 3) + 1e-6) * sign, rtol=1e-6
    )
    np.testing.assert_allclose(rl.ADVANTAGE_ESTIMATORS["rloo"](R), 2 / 3 * sign, rtol=1e-6)
    np.testing.assert_allclose(rl.ADVANTAGE_ESTIMATORS["drgrpo"](R), 0.5 * sign, rtol=1e-6)
    np.testing.assert_allclose(rl.ADVANTAGE_ESTIMATORS["dr_grpo"](R), 0.5 * sign, rtol=1e-6)
    np.testing.assert_allclose(rl.grpo_advantages(R), 0.866 * sign, atol=5e-4)


def test_trl_scale_rewards_options():
    r = jnp.array([[1.0, 0.0], [1.0, 1.0]])
    # batch: group means (0.5, 1), batch std of [1, 0, 1, 1] (unbiased) = 0.5, TRL eps 1e-4
    batch = rl.grpo_advantages(r, scale_rewards="batch", epsilon=1e-4)
    np.testing.assert_allclose(batch, np.array([[0.5, -0.5], [0, 0]]) / (0.5 + 1e-4), rtol=1e-6)
    # none == Dr.GRPO == verl norm_adv_by_std_in_grpo=False
    np.testing.assert_array_equal(
        rl.grpo_advantages(r, scale_rewards="none"), rl.dr_grpo_advantages(r)
    )
    # group: G = 2, std = 0.7071
    np.testing.assert_allclose(
        rl.grpo_advantages(r)[0],
        [0.5 / (np.sqrt(0.5) + 1e-6), -0.5 / (np.sqrt(0.5) + 1e-6)],
        rtol=1e-6,
    )


def test_group_ids_layout_matches_grid_and_noncontiguous_groups():
    rng = np.random.default_rng(0)
    grid = jnp.asarray(rng.normal(size=(3, 4)), jnp.float32)
    perm = rng.permutation(12)
    flat = grid.reshape(-1)[perm]
    ids = jnp.asarray((np.arange(12) // 4)[perm], jnp.int32)
    for fn in (rl.grpo_advantages, rl.dr_grpo_advantages, rl.rloo_advantages):
        np.testing.assert_allclose(fn(flat, ids), fn(grid).reshape(-1)[perm], rtol=1e-6, atol=1e-7)
    # num_groups larger than needed, unused slots are harmless
    np.testing.assert_allclose(
        rl.grpo_advantages(flat, ids, num_groups=10), rl.grpo_advantages(flat, ids), rtol=1e-6
    )


def test_zero_variance_groups_are_exactly_zero():
    # 0.1 is not representable: a round-off mean would otherwise give tiny/huge advantages
    r = jnp.array([[0.1, 0.1, 0.1], [0.3, 0.3, 0.3]], jnp.float32)
    for fn in (rl.grpo_advantages, rl.dr_grpo_advantages, rl.rloo_advantages):
        assert np.all(np.asarray(fn(r)) == 0)
    assert np.all(np.asarray(rl.opo_advantages(r, jnp.ones_like(r))) == 0)


def test_group_of_one_has_baseline_zero_and_unit_scale():
    r = jnp.array([3.0, 1.0, 0.0])
    ids = jnp.array([0, 1, 1])
    np.testing.assert_allclose(rl.grpo_advantages(r, ids)[0], 3 / (1 + 1e-6), rtol=1e-6)
    assert float(rl.rloo_advantages(r, ids)[0]) == 3.0
    assert float(rl.dr_grpo_advantages(r, ids)[0]) == 3.0


def test_rloo_is_leave_one_out():
    r = jnp.array([[3.0, 1.0, 0.0, 2.0]])
    expected = [ri - (6 - ri) / 3 for ri in (3.0, 1.0, 0.0, 2.0)]
    np.testing.assert_allclose(rl.rloo_advantages(r)[0], expected, rtol=1e-6)


def test_opo_length_weighted_baseline():
    adv = rl.opo_advantages(jnp.array([[1.0, 0.0]]), jnp.array([[1.0, 3.0]]))
    np.testing.assert_allclose(adv, [[0.75, -0.25]], rtol=1e-6)


def _np_whiten(x, m):
    v = x[m > 0]
    return (x - v.mean()) / np.sqrt(v.var(ddof=1) + 1e-8) * m


def test_reinforce_plus_plus_returns_reset_and_whiten():
    tok_r = jnp.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    mask = jnp.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    returns = np.array([[0.25, 0.5, 1.0], [0.5, 1.0, 0.0]])  # γ = 0.5, by hand
    out = rl.reinforce_plus_plus_advantages(tok_r, mask, gamma=0.5)
    np.testing.assert_allclose(out, _np_whiten(returns, np.asarray(mask)), rtol=1e-5, atol=1e-6)


def test_reinforce_plus_plus_baseline():
    r = jnp.array([[1.0, 0.0], [2.0, 0.0]])
    mask = jnp.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    centred = np.array([0.5, -0.5, 1.0, -1.0])[:, None] * np.asarray(mask)
    out = rl.reinforce_plus_plus_baseline_advantages(r, mask)
    np.testing.assert_allclose(out, _np_whiten(centred, np.asarray(mask)), rtol=1e-5, atol=1e-6)


def test_remax_and_broadcast():
    np.testing.assert_allclose(
        rl.remax_advantages(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.5])), [0.5, -0.5]
    )
    b = rl.broadcast_to_tokens(jnp.array([2.0, -1.0]), jnp.array([[1, 1, 0], [1, 0, 0]]))
    np.testing.assert_array_equal(b, [[2, 2, 0], [-1, 0, 0]])


def test_jit_and_vmap_agree_with_eager():
    r = jax.random.bernoulli(jax.random.key(1), 0.4, (5, 3, 8)).astype(jnp.float32)
    eager = jnp.stack([rl.grpo_advantages(x) for x in r])
    np.testing.assert_allclose(jax.jit(jax.vmap(rl.grpo_advantages))(r), eager, rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="scale_rewards"):
        rl.grpo_advantages(R, scale_rewards="global")
    with pytest.raises(ValueError, match="grid"):
        rl.grpo_advantages(jnp.ones(4))
    with pytest.raises(ValueError, match="group_ids must lie"):
        rl.grpo_advantages(jnp.ones(4), jnp.array([0, 1, 2, 7]), num_groups=4)
    with pytest.raises(TypeError, match="group_ids must be integers"):
        rl.grpo_advantages(jnp.ones(2), jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="lengths"):
        rl.opo_advantages(R, jnp.ones(3))


_grpo_jit = jax.jit(rl.grpo_advantages)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-5, 5, width=32), min_size=24, max_size=24),
    st.floats(-3, 3),
    st.floats(0.5, 4),
)
def test_grpo_invariants(values, shift, scale):
    r = jnp.asarray(np.array(values, np.float32).reshape(3, 8))
    a = np.asarray(_grpo_jit(r), np.float64)
    spread = np.asarray(r).std(axis=1, ddof=1)
    ok = spread > 1e-2
    # zero mean per group, unit unbiased std when std >> eps
    np.testing.assert_allclose(a.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(a[ok].std(axis=1, ddof=1), 1, atol=1e-3)
    # affine invariance (up to eps / std)
    a2 = np.asarray(_grpo_jit(r * np.float32(scale) + np.float32(shift)))
    np.testing.assert_allclose(a2[ok], a[ok], atol=2e-3)
    # rloo = G/(G-1) dr_grpo
    np.testing.assert_allclose(
        rl.rloo_advantages(r), 8 / 7 * rl.dr_grpo_advantages(r), rtol=1e-5, atol=1e-5
    )


@jax.jit
def _group_estimators(r, lengths, seq_ll, cluster_ids):
    return {
        "grpo": rl.grpo_advantages(r),
        "grpo/batch": rl.grpo_advantages(r, scale_rewards="batch"),
        "dr_grpo": rl.dr_grpo_advantages(r),
        "rloo": rl.rloo_advantages(r),
        "opo": rl.opo_advantages(r, lengths),
        "seed_grpo": rl.seed_grpo_advantages(r, seq_ll, cluster_ids)[0],
        "seed_grpo/grpo": rl.seed_grpo_advantages(
            r, seq_ll, cluster_ids, base="grpo", alpha=1.0, modulation="linear"
        )[0],
        "pshw": rl.hardness_weighted_advantages(r > 0.5),
    }


@jax.jit
def _token_estimators(r, mask):
    last = mask.sum(1, keepdims=True).astype(jnp.int32) - 1  # outcome reward on the last token
    tok = jnp.where(jnp.arange(mask.shape[1]) == last, 1.0, 0.0)
    return {
        "reinforce_plus_plus": rl.reinforce_plus_plus_advantages(tok * r.reshape(-1, 1), mask),
        "reinforce_plus_plus_baseline": rl.reinforce_plus_plus_baseline_advantages(r, mask),
    }


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 1.0]), min_size=12, max_size=12),
    st.lists(st.sampled_from([0.0, -1e4, -30.0, -1.0, -np.inf]), min_size=12, max_size=12),
    st.lists(st.integers(0, 3), min_size=12, max_size=12),
    st.lists(st.integers(0, 5), min_size=12, max_size=12),
)
def test_every_estimator_finite_and_silent_on_zero_variance_groups(rewards, ll, ids, lengths):
    # 0/1 rewards in groups of 4 are often constant; ℓ spans −1e4 and −∞; lengths may be 0 (an
    # all-masked response) and a whole group may be empty
    r = jnp.asarray(np.reshape(rewards, (3, 4)), jnp.float32)
    n = np.reshape(lengths, (3, 4))
    out = _group_estimators(
        r,
        jnp.asarray(n, jnp.float32),
        jnp.asarray(np.reshape(ll, (3, 4)), jnp.float32),
        jnp.asarray(np.reshape(ids, (3, 4)), jnp.int32),
    )
    constant = np.ptp(np.asarray(r), axis=1) == 0
    for name, adv in out.items():
        adv = np.asarray(adv)
        assert np.all(np.isfinite(adv)), name
        assert np.all(adv[constant] == 0), name
    mask = jnp.asarray(np.arange(5)[None] < n.reshape(-1, 1), jnp.float32)
    for name, adv in _token_estimators(r, mask).items():
        adv = np.asarray(adv)
        assert np.all(np.isfinite(adv)) and np.all(adv[np.asarray(mask) == 0] == 0), name
