"""The addition task: tokens, carries, pools, rewards."""

import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl

TASK = rl.AdditionTask(n_digits=2)


def test_tokens_of_47_plus_85():
    a, b = jnp.array([47]), jnp.array([85])
    np.testing.assert_array_equal(TASK.prompts(a, b), [[4, 7, 10, 8, 5, 11]])
    np.testing.assert_array_equal(TASK.answers(a, b), [[2, 3, 1, 12]])  # 132 reversed, EOS
    forward = rl.AdditionTask(n_digits=2, reverse=False)
    np.testing.assert_array_equal(forward.answers(a, b), [[1, 3, 2, 12]])
    assert TASK.decode(TASK.prompts(a, b)[0]) == "47+85="
    assert (TASK.prompt_len, TASK.completion_len, TASK.seq_len) == (6, 4, 10)


def test_carry_definition():
    a = jnp.array([12, 15, 45, 99, 50])
    b = jnp.array([34, 25, 54, 1, 40])
    np.testing.assert_array_equal(TASK.has_carry(a, b), [False, True, False, True, False])
    # brute force over all 2-digit pairs: no column ≥ 10 ⇔ digit-wise sum equals the sum
    aa, bb = np.divmod(np.arange(10_000), 100)
    no_carry = (aa % 10 + bb % 10 < 10) & (aa // 10 + bb // 10 < 10)
    np.testing.assert_array_equal(
        ~np.asarray(TASK.has_carry(jnp.asarray(aa), jnp.asarray(bb))), no_carry
    )


def test_pools_split_and_no_carry_subset():
    p = TASK.pools()
    train = set(zip(np.asarray(p.train_a).tolist(), np.asarray(p.train_b).tolist()))
    test = set(zip(np.asarray(p.test_a).tolist(), np.asarray(p.test_b).tolist()))
    assert len(train) + len(test) == 10_000 and not train & test and len(test) == 1000
    assert not bool(TASK.has_carry(p.no_carry_a, p.no_carry_b).any())
    assert set(zip(np.asarray(p.no_carry_a).tolist(), np.asarray(p.no_carry_b).tolist())) <= train
    a, b = TASK.sft_pool(0.1)
    assert float(TASK.has_carry(a, b).mean()) == pytest.approx(0.1, abs=0.002)


def test_rewards_and_parseable():
    a, b = jnp.array([47, 47, 47]), jnp.array([85, 85, 85])
    comp = jnp.array([[2, 3, 1, 12], [2, 3, 2, 12], [2, 12, 13, 13]])
    np.testing.assert_array_equal(TASK.rewards(comp, a, b), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(TASK.parseable(comp), [True, True, False])


def test_errors():
    with pytest.raises(ValueError, match="n_digits"):
        rl.AdditionTask(n_digits=7)
    with pytest.raises(ValueError, match="carry_fraction"):
        TASK.sft_pool(1.0)
