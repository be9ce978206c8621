"""Sharded Monte Carlo: determinism, independence of the device count, moments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import alignment as al
from jentropy import parallel

# the sizes below equal those of the other Monte-Carlo tests, so the sharded programs are shared
N, NUM = 5, 40_001  # 40 001: padded to a multiple of the 4 devices


def test_same_key_same_draws_on_any_device_count(tied, key):
    four = al.sample_best_of_n(key, tied, N, NUM)
    one_device = parallel.device_mesh(devices=jax.devices()[:1])
    np.testing.assert_array_equal(four, al.sample_best_of_n(key, tied, N, NUM, mesh=one_device))
    assert four.shape == (NUM,)
    other = al.sample_best_of_n(jax.random.split(key)[1], tied, N, NUM)
    assert not np.array_equal(four, other)


def test_zero_probability_outcomes_are_never_drawn(x64, key):
    o = al.outcomes(jnp.array([5.0, 0.0, 9.0, 1.0]), probs=jnp.array([0.5, 0.5, 0.0, 0.0]))
    draws = np.asarray(al.sample_best_of_n(key, o, N, NUM))
    assert set(np.unique(draws)) <= {0, 1}


def test_sequence_reward_moments_under_the_tilt(bernoulli, key):
    # R under φ_λ: mean n Λ'(λ), variance n Λ''(λ) (4 standard errors), for each prefix length
    lengths, num, lam = (10, 40), 100_000, 0.9
    sums = np.asarray(al.sample_sequence_rewards(key, bernoulli, lengths, num, lam=lam))
    assert sums.shape == (num, 2) and np.all(sums[:, 1] >= sums[:, 0])  # prefix sums, r ≥ 0
    k1, k2 = np.asarray(al.tilt_cumulants(bernoulli, lam, 4))[:2]
    for r, n in zip(sums.T, lengths):
        assert abs(r.mean() - n * k1) <= 4 * np.sqrt(n * k2 / num)
        # the sample variance has SE ≈ σ² √(2/num) for a near-Gaussian sum
        assert abs(r.var() - n * k2) <= 4 * n * k2 * np.sqrt(2 / num)
    single = al.sample_sequence_rewards(key, bernoulli, 40, 10)
    assert single.shape == (10,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda k, o: al.sample_best_of_n(k, o, 0, 10), "n must be an int"),
        (lambda k, o: al.sample_best_of_n(k, o, 2, 0), "num_samples"),
        (lambda k, o: al.sample_sequence_rewards(k, o, 0, 10), "length"),
        (lambda k, o: al.sample_sequence_rewards(k, o, 3, 10, lam=jnp.ones(2)), "scalar"),
        (lambda k, o: al.sample_best_of_n_sequences(k, o, 3, 2.5, 10), "n must be an int"),
    ],
)
def test_bad_arguments(tied, key, call, match):
    with pytest.raises(ValueError, match=match):
        call(key, tied)
