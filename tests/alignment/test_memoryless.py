"""Memoryless LM with linear reward: rate function, Rényi link, sequence tilt, empirical tails."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

from jentropy import alignment as al

XS_LIST = [-0.5, 0.0, 0.1, 0.3, 0.514629, 0.9, 1.0, 1.5]


def test_rate_function_bernoulli_closed_form(bernoulli):
    # I(x) = D(Bern(x) ‖ Bern(0.3)); +inf outside [0, 1]; I(0) = −log 0.7, I(1) = −log 0.3
    XS = jnp.array(XS_LIST)
    general = al.rate_function(bernoulli, XS)
    closed = al.bernoulli_rate_function(0.3, XS)
    np.testing.assert_allclose(general, closed, rtol=1e-12, atol=1e-15)
    assert np.isinf(general[0]) and np.isinf(general[-1]) and float(general[3]) == 0.0
    np.testing.assert_allclose(general[jnp.array([1, 6])], [-np.log(0.7), -np.log(0.3)], rtol=1e-14)
    # the spec's δ = 0.1 at the tilted mean x* = 0.514629 (6 digits)
    np.testing.assert_allclose(closed[4], 0.1, atol=1e-6)


def test_rate_function_is_the_legendre_transform(categorical):
    # I(x) = sup_t [t x − Λ(λ + t) + Λ(λ)], with Λ and the supremum evaluated in NumPy/scipy
    o, lam = categorical, 0.4
    logp, r = np.asarray(o.logp), np.asarray(o.reward)

    def cgf(t):
        return logsumexp(logp + t * r)

    rs = np.sort(r)
    xs = np.array([rs[2], np.mean(rs), rs[-3]])
    rates = np.asarray(al.rate_function(o, jnp.asarray(xs), lam))
    for x, rate in zip(xs, rates):
        res = minimize_scalar(lambda t, x=x: -(t * x - cgf(lam + t) + cgf(lam)), bracket=(-1, 1))
        np.testing.assert_allclose(rate, -res.fun, rtol=1e-9, atol=1e-12)
    # zero at the tilted mean Λ'(λ)
    assert float(al.rate_function(o, al.tilt_reward(o, lam), lam)) <= 1e-14


def test_renyi_characterisation(x64):
    # for r = log q: Λ(λ) = −λ H_{1+λ}(p; q), and its derivatives are the scaled cumulants
    rng = np.random.default_rng(3)
    p_np = rng.dirichlet(np.ones(16))
    q_np = rng.uniform(size=16) + 0.01
    p, q = jnp.asarray(p_np), jnp.asarray(q_np)
    o = al.outcomes(jnp.asarray(np.log(q_np)), probs=p)
    lams = jnp.array([-0.9, -0.2, 0.0, 1e-3, 0.5, 3.0])
    renyi = al.renyi_cumulant_generating_function(p, q, lams)
    np.testing.assert_allclose(renyi, al.cumulant_generating_function(o, lams), atol=1e-13)
    # Λ''(λ) by autodiff through jentropy.info's Rényi cross-entropy (α = 1.5, away from α = 1)
    second = jax.jit(jax.grad(jax.grad(lambda t: al.renyi_cumulant_generating_function(p, q, t))))(
        0.5
    )
    np.testing.assert_allclose(second, al.tilt_cumulants(o, 0.5, 4)[1], rtol=1e-10)
    with pytest.raises(ValueError, match="lam must be >= -1"):
        al.renyi_cumulant_generating_function(p, q, -2.0)
    with pytest.raises(ValueError, match="positive"):
        al.renyi_cumulant_generating_function(p, q.at[0].set(0.0), 0.5)


def test_sequence_tilt(bernoulli):
    st = al.sequence_tilt(bernoulli, 100, 0.1)
    np.testing.assert_allclose([st.lam, st.token_reward], [0.905831, 0.514629], atol=5e-7)
    np.testing.assert_allclose(st.kl, 10.0, rtol=1e-14)
    np.testing.assert_allclose(st.reward, 100 * st.token_reward, rtol=1e-14)
    x = st.token_reward
    np.testing.assert_allclose(st.variance, 100 * x * (1 - x), rtol=1e-12)
    with pytest.raises(ValueError, match="length"):
        al.sequence_tilt(bernoulli, 0, 0.1)


def test_bernoulli_rate_bad_q():
    with pytest.raises(ValueError, match="q must lie in"):
        al.bernoulli_rate_function(1.2, 0.5)


def bahadur_rao(o, n, k):
    """e^{−n I(x)} / ((1 − e^{−θ}) √(2π n σ²_θ)) at x = k/n, Λ'(θ) = x: the lattice tail asymptotics.

    Its relative error is c/n with c < 8 for these x (checked against scipy's binomial tails at
    n = 40 … 4000), hence the 10/n tolerances below.
    """
    x = k / n
    rate = float(al.rate_function(o, x))
    theta = float(al.tilt_for_mean(o, x))
    var = float(al.tilt_cumulants(o, theta, 4)[1])
    return rate, np.exp(-n * rate) / ((1 - np.exp(-theta)) * np.sqrt(2 * np.pi * n * var))


def test_rate_function_agrees_with_empirical_tail(bernoulli, key):
    # sampled sums of n tokens (sharded over the 4 test devices) against the exact tail, and
    # both against the rate function: P(S_n ≥ n x) ≤ e^{−n I(x)} (Chernoff) and the
    # Bahadur–Rao asymptotics e^{−n I(x)}·prefactor (1 + O(1/n))
    n, num = 40, 100_000
    # lengths (10, 40): one batch of 40-token sequences (the moments test shares the program)
    sums = np.asarray(al.sample_sequence_rewards(key, bernoulli, (10, n), num))[:, 1]
    pmf = np.exp(np.asarray(al.sum_reward_log_pmf(bernoulli, n)[1]))
    for k in (18, 20, 22):  # x = 0.45 .. 0.55, tails 3e-2 .. 9e-4
        exact = pmf[k:].sum()
        emp = np.mean(sums >= k)
        assert abs(emp - exact) <= 4 * np.sqrt(exact * (1 - exact) / num)
        rate, asymptotic = bahadur_rao(bernoulli, n, k)
        assert exact <= np.exp(-n * rate)
        np.testing.assert_allclose(exact, asymptotic, rtol=10 / n)
        # the empirical decay rate −log P̂ / n is I(x) plus the prefactor's O(log n / n) term
        emp_rate = -np.log(emp) / n
        se = np.sqrt((1 - emp) / (num * emp)) / n  # delta method
        predicted = -np.log(asymptotic) / n
        assert abs(emp_rate - predicted) <= 4 * se + 10 / n**2
    # at n = 1000 (exact law only: tails of e^{-23} .. e^{-138} are beyond sampling)
    n = 1000
    pmf = np.exp(np.asarray(al.sum_reward_log_pmf(bernoulli, n)[1]))
    for k in (450, 500, 550):
        np.testing.assert_allclose(pmf[k:].sum(), bahadur_rao(bernoulli, n, k)[1], rtol=10 / n)
