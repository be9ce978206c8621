"""Best-of-N on sequences with N = e^{nδ}: the spec's table, consistency, Monte Carlo."""

import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import alignment as al

# spec: Bernoulli(0.3) tokens, reward = number of ones, δ = 0.1 (N = e^{nδ}), digits as shown
TABLE = {
    100: (0.4929, 0.0895, 9.2e-3),
    1000: (0.5113, 0.0989, 2.0e-3),
    5000: (0.5138, 0.0998, 5.6e-4),
}


@pytest.mark.parametrize("n", sorted(TABLE))
def test_spec_table(bernoulli, n):
    s = al.sequence_best_of_n(bernoulli, n, 0.1)
    reward, kl_base, kl_tilt = TABLE[n]
    np.testing.assert_allclose(s.reward, reward, atol=5e-5)
    np.testing.assert_allclose(s.kl_base, kl_base, atol=5e-5)
    np.testing.assert_allclose(s.kl_tilt, kl_tilt, atol=0.05 * kl_tilt)  # 2 significant digits
    np.testing.assert_allclose([s.lam, s.tilt_reward], [0.905831, 0.514629], atol=5e-7)
    np.testing.assert_allclose(s.log_n, n * 0.1)
    # the bound holds per token and the gap to the tilt shrinks
    assert float(s.kl_base) <= 0.1 - (1 - np.exp(-n * 0.1)) / n + 1e-12


def test_length_one_is_token_best_of_n(tied):
    # with n = 1 the sequence reward is the token reward: same numbers as best_of_n_stats
    s = al.sequence_best_of_n(tied, 1, jnp.array([0.2, 0.5]), log_n=jnp.asarray(np.log([3.0, 7.0])))
    ref = al.best_of_n_stats(tied, jnp.array([3.0, 7.0]))
    np.testing.assert_allclose(s.reward, ref.reward, rtol=1e-12)
    np.testing.assert_allclose(s.kl_base, ref.kl, rtol=1e-10)


def test_n_equal_one_is_the_base_model(bernoulli):
    s = al.sequence_best_of_n(bernoulli, 100, 0.1, log_n=0.0)
    np.testing.assert_allclose(s.reward, 0.3, rtol=1e-12)
    assert abs(float(s.kl_base)) <= 1e-14


def test_monte_carlo_sequences_agree_within_4_standard_errors(bernoulli, key):
    n_tokens, ns, num = 32, (1, 4, 16), 20_000
    best = np.asarray(al.sample_best_of_n_sequences(key, bernoulli, n_tokens, ns, num))
    assert best.shape == (num, 3)
    assert np.all(np.diff(best, axis=1) >= 0)  # the best of the first N draws grows with N
    exact = al.sequence_best_of_n(
        bernoulli, n_tokens, jnp.full(3, 0.05), log_n=jnp.asarray(np.log(ns))
    )
    cdf = np.cumsum(np.exp(np.asarray(al.sum_reward_log_pmf(bernoulli, n_tokens)[1])))
    for i, n in enumerate(ns):
        rewards = best[:, i]
        mean = rewards.mean() / n_tokens
        se = rewards.std() / n_tokens / np.sqrt(num)
        assert abs(mean - float(exact.reward[i])) <= 4 * se
        # the whole law of the selected reward: each level within 4 SE of F^N − F⁻^N
        # (levels expected fewer than 20 times are pooled into one cell)
        law = cdf**n - np.concatenate([[0.0], cdf[:-1]]) ** n
        freq = np.bincount(rewards.astype(int), minlength=n_tokens + 1) / num
        common = law * num >= 20
        cells_law = np.append(law[common], law[~common].sum())
        cells_freq = np.append(freq[common], freq[~common].sum())
        se_cells = np.sqrt(cells_law * (1 - cells_law) / num)
        assert np.all(np.abs(cells_freq - cells_law) <= 4 * se_cells)


def test_bad_inputs(bernoulli):
    with pytest.raises(ValueError, match="delta"):
        al.sequence_best_of_n(bernoulli, 10, 2.0)
    with pytest.raises(ValueError, match="log_n"):
        al.sequence_best_of_n(bernoulli, 10, 0.1, log_n=-1.0)
    with pytest.raises(ValueError, match="length"):
        al.sequence_best_of_n(bernoulli, 2.5, 0.1)
