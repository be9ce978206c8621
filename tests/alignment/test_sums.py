"""Exact law of the sequence reward (tilted FFT) against scipy and direct convolution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import binom

from jentropy import alignment as al


@pytest.mark.parametrize("n", [1, 37, 1000])
def test_binomial_to_far_tails(bernoulli, n):
    # every s, including tails like 0.7^1000 = e^{-357}: absolute log error ≤ 1e-9 (f64)
    values, log_pmf = al.sum_reward_log_pmf(bernoulli, n)
    np.testing.assert_array_equal(values, np.arange(n + 1))
    ref = binom.logpmf(np.arange(n + 1), n, 0.3)
    np.testing.assert_allclose(log_pmf, ref, rtol=0, atol=1e-9)


def direct_convolution(levels, n):
    out = np.array([1.0])
    for _ in range(n):
        out = np.convolve(out, levels)
    return out


@pytest.mark.parametrize(
    ("rewards", "probs"),
    [
        # (all of span 4: one compilation)
        ([0.0, 1.0, 4.0], [0.5, 0.3, 0.2]),  # gaps in the lattice
        ([0.0, 2.0, 4.0], [0.4, 0.5, 0.1]),  # period 2: odd sums are impossible (−inf)
        ([-1.0, 0.0, 1.0, 3.0, 1.0], [0.1, 0.2, 0.2, 0.4, 0.1]),  # negative, tied rewards
    ],
)
def test_lattices_against_direct_convolution(x64, rewards, probs):
    o = al.outcomes(jnp.asarray(rewards), probs=jnp.asarray(probs))
    n = 30
    rmin = int(min(rewards))
    levels = np.zeros(int(max(rewards)) - rmin + 1)
    for r, p in zip(rewards, probs):
        levels[int(r) - rmin] += p
    ref = direct_convolution(levels, n)
    values, log_pmf = al.sum_reward_log_pmf(o, n)
    np.testing.assert_array_equal(values, n * rmin + np.arange(ref.shape[0]))
    live = ref > 0
    np.testing.assert_allclose(np.asarray(log_pmf)[live], np.log(ref[live]), atol=1e-11)
    assert np.all(np.isneginf(np.asarray(log_pmf)[~live]))
    np.testing.assert_allclose(np.exp(np.asarray(log_pmf)).sum(), 1.0, rtol=1e-12)


def test_lattice_errors(x64):
    o = al.outcomes(jnp.array([0.0, 0.5]), probs=jnp.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="integer rewards"):
        al.sum_reward_log_pmf(o, 3)
    good = al.outcomes(jnp.array([0.0, 1.0]), probs=jnp.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="length"):
        al.sum_reward_log_pmf(good, 0)
    with pytest.raises(ValueError, match="concrete"):
        jax.jit(lambda r: al.lattice_levels(al.Outcomes(good.logp, r))[0])(good.reward)
