"""Exact best-of-N: oracle values, ties, huge N and vocabularies, properties, Monte Carlo."""

import itertools
from decimal import Decimal, getcontext

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jentropy import alignment as al


def uniform(m):
    return al.outcomes(jnp.arange(m, dtype=jnp.float64), probs=jnp.full(m, 1.0 / m))


def test_spec_oracle_values(x64):
    # spec: uniform over M outcomes, N = 16: exact KL 1.733063 (M = 10), 1.835089 (M = 1e5)
    np.testing.assert_allclose(al.best_of_n_kl(uniform(10), 16), 1.733063, atol=5e-7)
    np.testing.assert_allclose(al.best_of_n_kl(uniform(100_000), 16), 1.835089, atol=5e-7)
    bounds = al.best_of_n_kl_bound(jnp.array([2.0, 16.0, 256.0]))
    np.testing.assert_allclose(bounds, [0.19315, 1.83509, 4.54908], atol=5e-6)


def brute_force(p, r, n):
    """Exact law of the first maximal draw among n i.i.d. draws, by enumerating all K^n draws."""
    out = np.zeros(len(p))
    for draws in itertools.product(range(len(p)), repeat=n):
        rewards = [r[d] for d in draws]
        out[draws[int(np.argmax(rewards))]] += np.prod([p[d] for d in draws])
    return out


def test_ties_match_enumeration(tied):
    p, r = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.0, 1.0, 1.0, 2.0])
    for n in (1, 2, 3, 5):
        exact = brute_force(p, r, n)
        np.testing.assert_allclose(np.exp(al.best_of_n_log_probs(tied, n)), exact, atol=1e-15)
        stats = al.best_of_n_stats(tied, n)
        kl = np.sum(exact * np.log(exact / p))
        np.testing.assert_allclose(stats.kl, kl, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(stats.reward, exact @ r, rtol=1e-14)
        # win rate with ties counting ½, against an independent draw from p
        win = sum(
            exact[i] * p[j] * (1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0)
            for i in range(4)
            for j in range(4)
        )
        np.testing.assert_allclose(stats.win_rate, win, rtol=1e-14)
        assert float(stats.win_rate) <= n / (n + 1) + 1e-15


def test_distinct_rewards_formula_and_order(categorical):
    # F(r)^N − F(r⁻)^N for distinct rewards, returned in the caller's outcome order
    p, r = np.exp(np.asarray(categorical.logp)), np.asarray(categorical.reward)
    order = np.argsort(r)
    cdf = np.cumsum(p[order])
    pi_sorted = cdf**7.5 - np.concatenate([[0.0], cdf[:-1]]) ** 7.5  # non-integer N
    ref = np.empty_like(p)
    ref[order] = pi_sorted
    np.testing.assert_allclose(np.exp(al.best_of_n_log_probs(categorical, 7.5)), ref, atol=1e-14)
    lp = al.best_of_n_log_probs(categorical, jnp.array([1.0, 7.5]))
    np.testing.assert_allclose(lp[0], categorical.logp, atol=1e-13)  # N = 1 is p
    np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, atol=1e-13)


def reference_uniform(m, n):
    """π_ℓ = (ℓ/M)^N − ((ℓ−1)/M)^N for uniform p, in a form independent of the library's."""
    ell = np.arange(1, m + 1, dtype=np.float64)
    log_top = n * np.log1p(-(m - ell) / m)
    with np.errstate(divide="ignore"):
        frac = -np.expm1(n * np.log1p(-1.0 / ell))
    pi = np.exp(log_top) * frac
    kl = np.sum(np.where(pi > 0, pi * (np.log(np.where(pi > 0, pi, 1)) + np.log(m)), 0))
    return kl, pi @ (ell - 1)


def test_uniform_against_decimal_arithmetic(x64):
    # 50-digit Decimal arithmetic as the oracle; non-integer N is the continuous extension
    getcontext().prec = 50
    m = 16
    levels = uniform(m)
    for n in (3.5, 1e6):
        kl_ref = Decimal(0)
        for ell in range(1, m + 1):
            pi = (Decimal(ell) / m) ** Decimal(n) - (Decimal(ell - 1) / m) ** Decimal(n)
            if pi > 0:
                kl_ref += pi * (pi * m).ln()
        np.testing.assert_allclose(al.best_of_n_kl(levels, n), float(kl_ref), rtol=1e-12)


def check_large_vocabulary(m):
    o = uniform(m)
    levels = al.reward_levels(o)  # one sort for all N
    ns = jnp.array([1.0, 10.0, 1e3, 1e6])
    stats = al.best_of_n_stats(levels, ns)
    for i, n in enumerate(np.asarray(ns)):
        kl, reward = reference_uniform(m, n)
        np.testing.assert_allclose(stats.kl[i], kl, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(stats.reward[i], reward, rtol=1e-12)
    assert np.all(np.asarray(stats.kl) <= np.asarray(stats.bound) + 1e-12)
    # N = e^{1000}: best-of-N is the point mass on the top outcome, KL = log M
    huge = al.best_of_n_stats(levels, log_n=jnp.array([1000.0]))
    np.testing.assert_allclose(huge.kl, np.log(m), rtol=1e-12)
    np.testing.assert_allclose(huge.reward, m - 1, rtol=1e-15)


def test_large_vocabulary_and_huge_n(x64):
    # 10^5 outcomes (the size of the spec's oracle: one compilation), N up to 10^6 and e^{1000}
    # (far beyond the float range: log N is used)
    check_large_vocabulary(100_000)


@pytest.mark.slow
def test_vocabulary_of_a_million(x64):
    check_large_vocabulary(1_000_000)


def kl_of(o, t):
    """KL(π_16‖p) with the logit of outcome 1 moved by t."""
    e = jnp.zeros(o.logp.shape[0], o.logp.dtype).at[1].set(1.0)
    return al.best_of_n_kl(al.Outcomes(jax.nn.log_softmax(o.logp + t * e), o.reward), 16.0)


kl_and_grad = jax.jit(jax.value_and_grad(kl_of, argnums=1))  # the whole backward pass at once


def test_vmap_over_n_equals_loop_jit_and_grad(categorical, tied):
    ns = jnp.array([1.0, 2.0, 16.0, 1e4])
    stats = al.best_of_n_stats(categorical, ns)
    for i, n in enumerate(ns):
        one = al.best_of_n_stats(categorical, n)
        np.testing.assert_allclose(stats.kl[i], one.kl, rtol=1e-14)
    # jit == no-jit, and differentiable in the logits (ties included): gradient vs central
    # differences (error O(h²) ≈ 1e-8)
    kl, grad = kl_and_grad(tied, 0.0)
    np.testing.assert_allclose(kl, al.best_of_n_kl(tied, 16.0), rtol=1e-14)
    h = 1e-4
    np.testing.assert_allclose(grad, (kl_of(tied, h) - kl_of(tied, -h)) / (2 * h), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": -3.0}, "n must be >= 1"),
        ({"n": 0.5}, "n must be >= 1"),
        ({"log_n": -1.0}, "log_n must be >= 0"),
        ({"n": 2.0, "log_n": 1.0}, "exactly one"),
        ({}, "exactly one"),
    ],
)
def test_bad_n(tied, kwargs, match):
    with pytest.raises(ValueError, match=match):
        al.best_of_n_stats(tied, **kwargs)


def test_monte_carlo_agrees_within_4_standard_errors(tied, key):
    num, n = 40_001, 5
    draws = al.sample_best_of_n(key, tied, n, num)
    freq = np.bincount(np.asarray(draws), minlength=4) / num
    exact = np.exp(np.asarray(al.best_of_n_log_probs(tied, n)))
    se = np.sqrt(exact * (1 - exact) / num)
    assert np.all(np.abs(freq - exact) <= 4 * se + 1e-12)
    rewards = np.asarray(tied.reward)[np.asarray(draws)]
    exact_reward = float(al.best_of_n_reward(tied, n))
    assert abs(rewards.mean() - exact_reward) <= 4 * rewards.std() / np.sqrt(num)
    # same key, same draws
    np.testing.assert_array_equal(al.sample_best_of_n(key, tied, n, num), draws)


PADDED = 12
NS = np.array([1.0, 1.5, 2.0, 3.0, 7.25, 16.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e8])


@st.composite
def distributions(draw):
    """Up to 12 outcomes (ties likely: integer rewards) padded with zero-probability slots."""
    k = draw(st.integers(1, PADDED))
    weights = draw(hnp.arrays(np.float64, k, elements=st.floats(1e-4, 1.0)))
    rewards = draw(hnp.arrays(np.float64, k, elements=st.integers(-4, 4).map(float)))
    p, r = np.zeros(PADDED), np.full(PADDED, draw(st.sampled_from([-9.0, 0.0, 9.0])))
    p[:k], r[:k] = weights / weights.sum(), rewards
    return p, r


@settings(max_examples=40, deadline=None)
@given(distributions())
def test_property_kl_below_bound_and_monotone_in_n(pr):
    with jax.enable_x64(True):
        p, r = pr
        o = al.outcomes(jnp.asarray(r), probs=jnp.asarray(p))
        stats = al.best_of_n_stats(o, jnp.asarray(NS))
        kl, bound = np.asarray(stats.kl), np.asarray(stats.bound)
        assert abs(kl[0]) <= 1e-14  # N = 1 is p itself
        assert np.all(kl <= bound + 1e-12)
        assert np.all(np.diff(kl) >= -1e-12)  # non-decreasing in N (1e-12: f64 sums)
        assert np.all(kl <= float(al.max_kl(o)) + 1e-12)  # and below −log p(top level)
        assert np.all(np.asarray(stats.win_rate) <= NS / (NS + 1) + 1e-12)
