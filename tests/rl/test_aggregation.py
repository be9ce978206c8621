"""Loss aggregation: hand-computed values under TRL and verl names."""

import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl

LOSS = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
MASK = jnp.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])

# (mode, expected) for LOSS/MASK, by hand: row sums 6 and 4, row lengths 3 and 1, B = 2, L = 3
HAND = {
    "grpo": (6 / 3 + 4 / 1) / 2,
    "seq-mean-token-mean": (6 / 3 + 4 / 1) / 2,
    "bnpo": 10 / 4,
    "dapo": 10 / 4,
    "token-mean": 10 / 4,
    "dr_grpo": 10 / (2 * 3),
    "seq-mean-token-sum-norm": 10 / 3,
    "luspo": (6 + 4) / 2,
    "seq-mean-token-sum": (6 + 4) / 2,
}


@pytest.mark.parametrize("mode", rl.LOSS_AGG_MODES)
def test_hand_values(mode):
    np.testing.assert_allclose(rl.aggregate_loss(LOSS, MASK, mode), HAND[mode], rtol=1e-6)


@pytest.mark.parametrize(
    "trl,verl",
    [
        ("grpo", "seq-mean-token-mean"),
        ("dapo", "token-mean"),
        ("bnpo", "token-mean"),
        ("luspo", "seq-mean-token-sum"),
    ],
)
def test_trl_and_verl_names_agree_without_empty_rows(trl, verl):
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 7)), jnp.float32)
    m = (jnp.arange(7)[None, :] < jnp.array([[7], [3], [1], [5], [2]])).astype(jnp.float32)
    np.testing.assert_allclose(
        rl.aggregate_loss(x, m, trl), rl.aggregate_loss(x, m, verl), rtol=1e-6
    )


def test_empty_rows_trl_divides_by_B_verl_by_nonempty():
    m = jnp.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert float(rl.aggregate_loss(LOSS, m, "grpo")) == pytest.approx(1.0)
    assert float(rl.aggregate_loss(LOSS, m, "seq-mean-token-mean")) == pytest.approx(2.0)
    assert float(rl.aggregate_loss(LOSS, m, "luspo")) == pytest.approx(3.0)
    assert float(rl.aggregate_loss(LOSS, m, "seq-mean-token-sum")) == pytest.approx(6.0)


def test_dr_grpo_is_not_verl_norm_mode():
    # TRL dr_grpo divides by B·L_max, verl seq-mean-token-sum-norm by L_max only
    a = rl.aggregate_loss(LOSS, MASK, "dr_grpo", max_length=4)
    b = rl.aggregate_loss(LOSS, MASK, "seq-mean-token-sum-norm", max_length=4)
    assert float(a) == pytest.approx(10 / 8) and float(b) == pytest.approx(10 / 4)


def test_global_normalisers():
    assert float(rl.aggregate_loss(LOSS, MASK, "dapo", num_tokens=20)) == pytest.approx(0.5)
    assert float(rl.aggregate_loss(LOSS, MASK, "bnpo", num_tokens=20)) == pytest.approx(
        2.5
    )  # bnpo is local
    assert float(
        rl.aggregate_loss(LOSS, MASK, "seq-mean-token-sum", num_sequences=4)
    ) == pytest.approx(2.5)


def test_masked_nan_and_empty_mask_never_leak():
    bad = LOSS.at[1, 2].set(jnp.nan).at[0, 1].set(jnp.inf)
    m = MASK.at[0, 1].set(0.0)
    for mode in rl.LOSS_AGG_MODES:
        assert np.isfinite(float(rl.aggregate_loss(bad, m, mode)))
        assert float(rl.aggregate_loss(LOSS, jnp.zeros_like(MASK), mode)) == 0.0


def test_sequence_level_luspo_matches_trl_form():
    # TRL luspo with importance_sampling_level="sequence": mean_i(ℓ_i · |o_i|) with ℓ_i per sequence
    per_seq = jnp.array([0.3, -1.2])
    per_tok = jnp.broadcast_to(per_seq[:, None], LOSS.shape)
    trl = float(jnp.mean(per_seq * MASK.sum(1)))
    assert float(rl.aggregate_loss(per_tok, MASK, "luspo")) == pytest.approx(trl, rel=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="mode must be one of"):
        rl.aggregate_loss(LOSS, MASK, "mean")
    with pytest.raises(ValueError, match="mask must have shape"):
        rl.aggregate_loss(LOSS, jnp.ones(3), "grpo")
    with pytest.raises(ValueError, match=r"\(batch, tokens\)"):
        rl.aggregate_loss(jnp.ones(3), None, "grpo")
