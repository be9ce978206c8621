"""Ordinal patterns and their distribution against ordpy (exact: counts are integers).

Distributions are compared in float64 with atol 1e-15 (both sides divide the same integer counts
by the same number of windows), pattern indices exactly.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import ordpy
import pytest

from jentropy import ordinal

DELAYS = np.array([1, 2, 5])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_distribution_matches_ordpy(x64, peer_series, n):
    names = list(peer_series)
    batch = np.stack([peer_series[k] for k in names])
    # one compiled call per n: the whole batch at all delays
    probs = np.asarray(ordinal.ordinal_distribution(batch, n, DELAYS))
    assert probs.shape == (len(names), len(DELAYS), ordinal_count(n))
    for b, name in enumerate(names):
        for d, ell in enumerate(DELAYS):
            _, ref = ordpy.ordinal_distribution(
                peer_series[name], dx=n, taux=int(ell), return_missing=True, ordered=True
            )
            np.testing.assert_allclose(probs[b, d], ref, rtol=0, atol=1e-15, err_msg=name)


def ordinal_count(n):
    return len(list(itertools.permutations(range(n))))


def test_all_patterns_order_is_lexicographic():
    for n in (2, 3, 4, 5):
        expected = np.array(list(itertools.permutations(range(n))))
        np.testing.assert_array_equal(ordinal.all_patterns(n), expected)


@pytest.mark.parametrize("n", [3, 4])
def test_pattern_indices_match_ordpy_sequence_with_ties(peer_series, n):
    x = peer_series["ties"][:600]  # values in {0,1,2,3}: most windows hold ties
    for ell in (1, 3):
        idx = np.asarray(ordinal.ordinal_patterns(x, n, ell))
        seq = ordpy.ordinal_sequence(x, dx=n, taux=ell)
        np.testing.assert_array_equal(np.asarray(ordinal.all_patterns(n))[idx], seq)


def test_ties_ranked_in_time_order():
    # constant windows are the identity pattern (earlier value = smaller)
    x = jnp.array([2.0, 2.0, 2.0, 1.0, 1.0, 3.0])
    idx = np.asarray(ordinal.ordinal_patterns(x, 3, 1))
    pats = np.asarray(ordinal.all_patterns(3))[idx]
    expected = [np.argsort(np.asarray(x)[i : i + 3], kind="stable") for i in range(4)]
    np.testing.assert_array_equal(pats, expected)


def test_integer_input_counts(peer_series):
    xi = peer_series["ties"].astype(np.int32)
    counts = ordinal.pattern_counts(xi, 4, 2)
    assert counts.dtype == jnp.int32
    _, ref = ordpy.ordinal_distribution(xi, dx=4, taux=2, return_missing=True, ordered=True)
    windows = len(xi) - 3 * 2
    np.testing.assert_array_equal(np.asarray(counts), np.rint(ref * windows).astype(int))


def test_delays_and_batch_equal_loops(key):
    x = jax.random.normal(key, (3, 500))
    delays = np.array([1, 7, 50])
    both = np.asarray(ordinal.pattern_counts(x, 4, delays))
    np.testing.assert_array_equal(both.sum(-1), [[497, 479, 350]] * 3)  # T − (n−1)ℓ windows
    for b in range(3):
        np.testing.assert_array_equal(both[b, 1], ordinal.pattern_counts(x[b], 4, 7))
    np.testing.assert_array_equal(both[:, 2], ordinal.pattern_counts(x, 4, 50))


def test_vmap_and_jit_equal_batched(key):
    x = jax.random.normal(key, (3, 500))
    batched = ordinal.ordinal_distribution(x, 4, 7)
    vmapped = jax.vmap(lambda s: ordinal.ordinal_distribution(s, 4, 7))(x)
    jitted = jax.jit(lambda s: ordinal.ordinal_distribution(s, 4, 7))(x)
    np.testing.assert_array_equal(batched, vmapped)
    np.testing.assert_array_equal(batched, jitted)


def test_distribution_dtype_follows_input(key):
    x = jax.random.normal(key, (200,))
    assert ordinal.ordinal_distribution(x, 3).dtype == jnp.float32
    with jax.enable_x64(True):
        x64 = jnp.asarray(np.asarray(x), jnp.float64)
        assert ordinal.ordinal_distribution(x64, 3).dtype == jnp.float64
