"""The KL-RL optimum φ_λ ∝ p e^{λr}: closed forms, the budget solver, the closeness identity."""

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from jentropy import alignment as al
from jentropy import info

LAMS = jnp.array([-30.0, -2.0, -1e-4, 0.0, 1e-7, 0.3, 2.0, 50.0, 1e4])


def test_bernoulli_oracle(bernoulli):
    # spec: Bernoulli(0.3), δ = 0.1 ⇒ λ = 0.905831, tilted mean x* = 0.514629 (6 digits shown)
    lam = al.solve_lambda(bernoulli, 0.1)
    assert abs(float(lam) - 0.905831) < 5e-7
    assert abs(float(al.tilt_reward(bernoulli, lam)) - 0.514629) < 5e-7
    np.testing.assert_allclose(al.tilt_kl(bernoulli, lam), 0.1, rtol=1e-13)


def test_closed_forms_match_info_and_scipy(categorical):
    o = categorical
    logp, r = np.asarray(o.logp), np.asarray(o.reward)
    for lam in np.asarray(LAMS):
        ref_cgf = logsumexp(logp + lam * r)
        np.testing.assert_allclose(al.cumulant_generating_function(o, lam), ref_cgf, atol=1e-12)
        logphi = al.tilt_log_probs(o, lam)
        np.testing.assert_allclose(logphi, logp + lam * r - ref_cgf, atol=1e-9)
        # KL(φ‖p) through jentropy.info equals the closed form λΛ' − Λ (tolerance: f64 sums)
        kl_info = info.kl_divergence_from_logits(logphi, o.logp)
        np.testing.assert_allclose(al.tilt_kl(o, lam), kl_info, atol=1e-12)
        mean = np.sum(np.exp(np.asarray(logphi)) * r)
        np.testing.assert_allclose(al.tilt_reward(o, lam), mean, atol=1e-12)


def test_small_lambda_keeps_relative_accuracy(categorical):
    # KL = κ2 λ²/2 + κ3 λ³/3 + O(λ⁴): a logsumexp would only give ~1e-16 absolute, i.e. no
    # digits at λ = 1e-9; the centred expm1 form keeps ~1e-7 relative accuracy there
    k1, k2, k3, _ = np.asarray(al.tilt_cumulants(categorical, 0.0, 4))
    for lam in [1e-9, 1e-6, 1e-4]:
        series = k2 * lam**2 / 2 + k3 * lam**3 / 3
        np.testing.assert_allclose(al.tilt_kl(categorical, lam), series, rtol=1e-6)
        np.testing.assert_allclose(
            al.cumulant_generating_function(categorical, lam) - k1 * lam,
            k2 * lam**2 / 2 + k3 * lam**3 / 6,
            rtol=1e-6,
        )


def test_cumulants(categorical, bernoulli):
    lam = 0.7
    kappa = np.asarray(al.tilt_cumulants(categorical, lam, 4))
    # reference: moments of φ_λ in NumPy and the moment–cumulant relations
    phi = np.exp(np.asarray(al.tilt_log_probs(categorical, lam)))
    r = np.asarray(categorical.reward)
    m = phi @ r
    mu2, mu3, mu4 = (phi @ (r - m) ** k for k in (2, 3, 4))
    np.testing.assert_allclose(kappa, [m, mu2, mu3, mu4 - 3 * mu2**2], rtol=1e-10)
    # κ2 = Λ'' = dΛ'/dλ by autodiff
    grad = jax.grad(lambda t: al.tilt_reward(categorical, t))(lam)
    np.testing.assert_allclose(kappa[1], grad, rtol=1e-10)
    q = 0.3  # Bernoulli cumulants: q, q(1−q), q(1−q)(1−2q), q(1−q)(1−6q(1−q))
    ref = [q, q * (1 - q), q * (1 - q) * (1 - 2 * q), q * (1 - q) * (1 - 6 * q * (1 - q))]
    np.testing.assert_allclose(al.tilt_cumulants(bernoulli, 0.0, 4), ref, rtol=1e-13)


def test_max_kl_counts_ties_at_the_top(x64):
    o = al.outcomes(jnp.array([0.0, 2.0, 1.0, 2.0]), probs=jnp.array([0.4, 0.1, 0.3, 0.2]))
    np.testing.assert_allclose(al.max_kl(o), -np.log(0.3), rtol=1e-14)
    np.testing.assert_allclose(al.tilt_kl(o, 200.0), -np.log(0.3), rtol=1e-12)


@pytest.mark.parametrize("frac", [0.0, 1e-12, 1e-6, 0.1, 0.5, 0.99, 1 - 1e-9])
def test_solver_round_trip(categorical, frac):
    # robust at both ends: Δ → 0 (λ ~ √(2Δ/Var)) and Δ → Δ_max (λ → ∞)
    delta = frac * float(al.max_kl(categorical))
    lam = al.solve_lambda(categorical, delta)
    assert float(lam) >= 0
    np.testing.assert_allclose(al.tilt_kl(categorical, lam), delta, rtol=1e-10, atol=1e-300)


def lam_of(o, delta, t):
    """λ_Δ for the base logits moved by t along outcome 3 (to differentiate through them)."""
    e = jnp.zeros(o.logp.shape[0], o.logp.dtype).at[3].set(1.0)
    return al.solve_lambda(al.Outcomes(jax.nn.log_softmax(o.logp + t * e), o.reward), delta)


# one compiled program serves the jit == no-jit check, both gradients and the in-jit error
lam_and_grads = jax.jit(jax.value_and_grad(lam_of, argnums=(1, 2)))


def test_solver_vmap_jit_and_gradient(categorical):
    deltas = jnp.array([1e-3, 0.2, 1.0])
    lams = al.solve_lambda(categorical, deltas)
    loop = jnp.stack([al.solve_lambda(categorical, d) for d in deltas])
    np.testing.assert_allclose(lams, loop, rtol=1e-14)
    lam, (g_delta, g_logit) = lam_and_grads(categorical, 0.2, 0.0)
    np.testing.assert_allclose(lam, lams[1], rtol=1e-14)
    # implicit function theorem: dλ/dΔ = 1 / (λ Λ''(λ)); through the logits vs central
    # differences (error O(h²) ~ 1e-8 relative)
    var = al.tilt_cumulants(categorical, lam, 4)[1]
    np.testing.assert_allclose(g_delta, 1 / (lam * var), rtol=1e-10)
    h = 1e-4
    fd = (lam_of(categorical, 0.2, h) - lam_of(categorical, 0.2, -h)) / (2 * h)
    np.testing.assert_allclose(g_logit, fd, rtol=1e-6)


def test_solver_rejects_infeasible_budgets(categorical):
    dmax = float(al.max_kl(categorical))
    for bad in [-0.1, dmax, dmax + 1.0]:
        with pytest.raises(ValueError, match="delta must lie in"):
            al.solve_lambda(categorical, bad)
    # inside jax.jit the eqx.error_if check fires at run time (equinox raises its runtime error;
    # JAX's cached fast path re-raises it as the XLA error, a ValueError, with the same message)
    with pytest.raises((RuntimeError, ValueError), match="delta outside"):
        lam_and_grads(categorical, dmax + 1.0, 0.0)


def test_constant_reward_has_only_zero_budget(x64):
    o = al.outcomes(jnp.ones(3), probs=jnp.full(3, 1 / 3))
    assert float(al.max_kl(o)) == 0.0
    assert float(al.solve_lambda(o, 0.0)) == 0.0
    with pytest.raises(ValueError, match="delta"):
        al.solve_lambda(o, 0.1)


def test_tilt_for_mean(categorical):
    r = np.sort(np.asarray(categorical.reward))
    xs = jnp.asarray([r[1], np.median(r), r[-2]])
    lams = al.tilt_for_mean(categorical, xs)
    np.testing.assert_allclose(al.tilt_reward(categorical, lams), xs, atol=1e-12)
    with pytest.raises(ValueError, match="strictly inside"):
        al.tilt_for_mean(categorical, 100.0)


def test_closeness_identity(categorical):
    # D(ψ‖φ_Δ) = D(ψ‖p) − Δ + λ_Δ (E_φ r − E_ψ r) for arbitrary ψ, to 1e-10 (spec)
    o = categorical
    rng = np.random.default_rng(4)
    for i in range(5):
        psi = jnp.asarray(3.0 * rng.standard_normal(16))
        delta = 0.3 * (i + 1)
        c = al.closeness_identity(o, psi, delta)
        direct = info.kl_divergence_from_logits(psi, al.tilt_log_probs(o, c.lam))
        np.testing.assert_allclose(c.kl_to_optimum, direct, atol=1e-10)
        np.testing.assert_allclose(c.kl_to_base, info.kl_divergence_from_logits(psi, o.logp))
    # best-of-N spends Δ = KL(π_N‖p) and must then be within λ_Δ·ε of the optimum
    bon = al.best_of_n_log_probs(o, 8.0)
    c = al.closeness_identity(o, bon, al.best_of_n_kl(o, 8.0))
    assert float(c.reward_gap) >= 0
    assert float(c.kl_to_optimum) <= float(c.bound) + 1e-12


def test_closeness_bad_shapes(categorical):
    with pytest.raises(ValueError, match="psi_logits"):
        al.closeness_identity(categorical, jnp.zeros(3), 0.1)
    with pytest.raises(ValueError, match="scalar"):
        al.closeness_identity(categorical, jnp.zeros(16), jnp.array([0.1, 0.2]))


PADDED = 12


@st.composite
def distributions(draw):
    """Up to 12 outcomes padded with zero-probability slots (one shape: one compilation)."""
    k = draw(st.integers(2, PADDED))
    weights = draw(hnp.arrays(np.float64, k, elements=st.floats(1e-3, 1.0)))
    rewards = draw(hnp.arrays(np.float64, k, elements=st.integers(-3, 3).map(float)))
    p = np.zeros(PADDED)
    p[:k] = weights / weights.sum()
    r = np.zeros(PADDED)
    r[:k] = rewards
    r[k:] = draw(st.sampled_from([0.0, 10.0]))  # zero-mass outcomes, even at the top reward
    return p, r


@settings(max_examples=40, deadline=None)
@given(distributions())
def test_property_tilt_kl_increasing_in_lambda(pr):
    with jax.enable_x64(True):
        p, r = pr
        o = al.outcomes(jnp.asarray(r), probs=jnp.asarray(p))
        lams = jnp.concatenate([jnp.zeros(1), jnp.geomspace(1e-3, 1e3, 40)])
        kl = np.asarray(al.tilt_kl(o, lams))
        kl_neg = np.asarray(al.tilt_kl(o, -lams))
        dmax = float(al.max_kl(o))
        # non-decreasing up to rounding (1e-13), bounded by Δ_max, 0 at λ = 0
        assert np.all(np.diff(kl) >= -1e-13) and np.all(np.diff(kl_neg) >= -1e-13)
        assert kl[0] == 0 and np.all(kl <= dmax + 1e-12)
