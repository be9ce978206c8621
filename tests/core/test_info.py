"""jentropy.info against scipy.stats / scipy.special and closed forms.

Float64 comparisons (``x64`` fixture) use rtol 1e-12: every quantity is a short sum of logs, so
only a few ulps of rounding separate two correct implementations. Float32 checks use 1e-5.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from jentropy import info

RTOL64 = 1e-12


def _random_probs(rng, shape, zeros=False):
    p = rng.random(shape) ** 3
    if zeros:
        p[..., ::3] = 0.0
    return p / p.sum(-1, keepdims=True)


def test_shannon_matches_scipy(x64):
    rng = np.random.default_rng(0)
    p = _random_probs(rng, (5, 7), zeros=True)
    np.testing.assert_allclose(info.entropy(p), scipy.stats.entropy(p, axis=-1), rtol=RTOL64)
    np.testing.assert_allclose(
        info.entropy(p.T, axis=0, base=2), scipy.stats.entropy(p.T, axis=0, base=2), rtol=RTOL64
    )


def test_entropy_edge_cases(x64):
    assert float(info.entropy(jnp.array([0.0, 1.0, 0.0]))) == 0.0  # one-hot: 0·log 0 = 0
    np.testing.assert_allclose(info.entropy(jnp.ones(8) / 8, base=2), 3.0, rtol=RTOL64)
    np.testing.assert_allclose(info.entropy(jnp.array([0.5, 0.5, 0.0])), np.log(2), rtol=RTOL64)


def test_entropy_from_logits_and_counts(x64):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 9)) * 3
    p = scipy.special.softmax(logits, axis=-1)
    np.testing.assert_allclose(
        info.entropy_from_logits(logits), scipy.stats.entropy(p, axis=-1), rtol=RTOL64
    )
    # -inf logits are impossible outcomes and contribute nothing
    l2 = np.concatenate([logits, np.full((4, 2), -np.inf)], -1)
    np.testing.assert_allclose(info.entropy_from_logits(l2), info.entropy(p), rtol=RTOL64)
    counts = np.array([[3, 0, 1, 4], [0, 0, 5, 0]])
    np.testing.assert_allclose(
        info.entropy_from_counts(counts), scipy.stats.entropy(counts, axis=-1), rtol=RTOL64
    )
    # all-zero counts: empty distribution has zero entropy, not NaN
    assert float(info.entropy_from_counts(jnp.zeros(4))) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        info.normalize_counts(jnp.array([1.0, -1.0]))


def test_kl_cross_entropy_js_match_scipy(x64):
    rng = np.random.default_rng(2)
    p = _random_probs(rng, (6, 10), zeros=True)
    q = _random_probs(rng, (6, 10))
    np.testing.assert_allclose(
        info.kl_divergence(p, q), scipy.stats.entropy(p, q, axis=-1), rtol=RTOL64
    )
    np.testing.assert_allclose(
        info.cross_entropy(p, q),
        scipy.stats.entropy(p, axis=-1) + scipy.stats.entropy(p, q, axis=-1),
        rtol=RTOL64,
    )
    js_scipy = scipy.spatial.distance.jensenshannon(p, q, axis=-1) ** 2
    np.testing.assert_allclose(info.js_divergence(p, q), js_scipy, rtol=1e-10)
    np.testing.assert_allclose(
        info.js_divergence(p, q, base=2),
        scipy.spatial.distance.jensenshannon(p, q, axis=-1, base=2) ** 2,
        rtol=1e-10,
    )
    # from logits agree with from probabilities
    lp, lq = np.log(_random_probs(rng, (3, 5))), np.log(_random_probs(rng, (3, 5)))
    np.testing.assert_allclose(
        info.kl_divergence_from_logits(lp + 7.0, lq - 2.0),
        info.kl_divergence(np.exp(lp), np.exp(lq)),
        rtol=1e-11,
    )
    np.testing.assert_allclose(
        info.cross_entropy_from_logits(np.exp(lp), lq + 1.0),
        info.cross_entropy(np.exp(lp), np.exp(lq)),
        rtol=1e-11,
    )


def test_kl_support_and_js_bounds(x64):
    p, q = jnp.array([0.5, 0.5, 0.0]), jnp.array([1.0, 0.0, 0.0])
    assert float(info.kl_divergence(q, p)) == pytest.approx(np.log(2), rel=RTOL64)
    assert np.isposinf(float(info.kl_divergence(p, q)))  # p not ≪ q
    assert float(info.kl_divergence(p, p)) == 0.0
    # disjoint supports reach the JS maximum log 2
    a, b = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
    assert float(info.js_divergence(a, b)) == pytest.approx(np.log(2), rel=RTOL64)
    assert float(info.js_divergence(a, b, base=2)) == pytest.approx(1.0, rel=RTOL64)


def _renyi_ref(p, a):
    p = p[p > 0]
    if a == 1:
        return -np.sum(p * np.log(p))
    if a == 0:
        return np.log(len(p))
    if np.isinf(a):
        return -np.log(p.max())
    return np.log(np.sum(p**a)) / (1 - a)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 2.0, 3.7, np.inf])
def test_renyi_entropy_orders(x64, alpha):
    rng = np.random.default_rng(3)
    p = _random_probs(rng, (11,), zeros=True)
    ref = _renyi_ref(p, alpha)
    np.testing.assert_allclose(info.renyi_entropy(p, alpha), ref, rtol=RTOL64)
    with np.errstate(divide="ignore"):  # log 0 = -inf logits are deliberate: impossible outcomes
        logits = np.log(p)
    np.testing.assert_allclose(info.renyi_entropy_from_logits(logits, alpha), ref, rtol=1e-11)


def test_renyi_entropy_limits_and_vectorised_orders(x64):
    rng = np.random.default_rng(4)
    p = _random_probs(rng, (9,))
    # α → 1 is continuous: the generic formula at 1 ± 1e-6 brackets the Shannon value
    h1 = float(info.entropy(p))
    for a in (1 - 1e-6, 1 + 1e-6):
        assert float(info.renyi_entropy(p, a)) == pytest.approx(h1, abs=1e-5)
    alphas = jnp.array([0.0, 0.5, 1.0, 2.0, jnp.inf])
    vec = info.renyi_entropy(p, alphas)
    loop = np.array([_renyi_ref(p, float(a)) for a in alphas])
    np.testing.assert_allclose(vec, loop, rtol=RTOL64)
    # orders may be traced: vmap and jit over α
    np.testing.assert_allclose(
        jax.jit(jax.vmap(info.renyi_entropy, (None, 0)))(p, alphas), loop, rtol=RTOL64
    )
    # non-increasing in α
    assert np.all(np.diff(np.asarray(vec)) <= 1e-12)
    # a batch of distributions with a batch of orders
    pb = _random_probs(rng, (3, 9))
    out = info.renyi_entropy(pb, alphas[:, None])
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out[3], [_renyi_ref(r, 2.0) for r in pb], rtol=RTOL64)


def test_renyi_divergence(x64):
    rng = np.random.default_rng(5)
    p = _random_probs(rng, (8,), zeros=True)
    q = _random_probs(rng, (8,))
    for a in (0.3, 2.0, 5.0):
        ref = np.log(np.sum(p[p > 0] ** a * q[p > 0] ** (1 - a))) / (a - 1)
        np.testing.assert_allclose(info.renyi_divergence(p, q, a), ref, rtol=RTOL64)
    np.testing.assert_allclose(
        info.renyi_divergence(p, q, 1.0), scipy.stats.entropy(p, q), rtol=RTOL64
    )
    np.testing.assert_allclose(
        info.renyi_divergence(p, q, 0.0), -np.log(q[p > 0].sum()), rtol=RTOL64
    )
    np.testing.assert_allclose(
        info.renyi_divergence(p, q, np.inf), np.log(np.max(p[p > 0] / q[p > 0])), rtol=RTOL64
    )
    # D_α is non-decreasing in α, and D_α(p‖p) = 0
    vals = np.asarray(info.renyi_divergence(p, q, jnp.array([0.0, 0.5, 1.0, 2.0, jnp.inf])))
    assert np.all(np.diff(vals) >= -1e-12)
    np.testing.assert_allclose(info.renyi_divergence(p, p, jnp.array([0.5, 2.0])), 0.0, atol=1e-14)
    # D_{1/2} = −2 log Σ sqrt(p q) (Bhattacharyya)
    np.testing.assert_allclose(
        info.renyi_divergence(p, q, 0.5), -2 * np.log(np.sum(np.sqrt(p * q))), rtol=RTOL64
    )


def test_renyi_cross_entropy(x64):
    rng = np.random.default_rng(6)
    p, q = _random_probs(rng, (7,), zeros=True), _random_probs(rng, (7,))
    for a in (0.5, 2.0, 3.0):
        ref = np.log(np.sum(p * q ** (a - 1))) / (1 - a)
        np.testing.assert_allclose(info.renyi_cross_entropy(p, q, a), ref, rtol=RTOL64)
    np.testing.assert_allclose(
        info.renyi_cross_entropy(p, q, 1.0), info.cross_entropy(p, q), rtol=RTOL64
    )
    np.testing.assert_allclose(
        info.renyi_cross_entropy(p, q, np.inf), -np.log(q[p > 0].max()), rtol=RTOL64
    )
    # H_α(p; p) = H_α(p)
    np.testing.assert_allclose(
        info.renyi_cross_entropy(p, p, 2.5), info.renyi_entropy(p, 2.5), rtol=RTOL64
    )
    # Yang et al.: with r = log q, log E_p e^{λ r} = −λ H_{1+λ}(p; q)
    lam = 0.7
    np.testing.assert_allclose(
        np.log(np.sum(p * q**lam)), -lam * info.renyi_cross_entropy(p, q, 1 + lam), rtol=RTOL64
    )


def test_tsallis(x64):
    rng = np.random.default_rng(7)
    p = _random_probs(rng, (6,), zeros=True)
    for q in (0.5, 2.0, 3.0):
        np.testing.assert_allclose(
            info.tsallis_entropy(p, q), (1 - np.sum(p[p > 0] ** q)) / (q - 1), rtol=RTOL64
        )
    np.testing.assert_allclose(info.tsallis_entropy(p, 1.0), scipy.stats.entropy(p), rtol=RTOL64)
    # q = 2: Gini–Simpson index 1 − Σ p²
    np.testing.assert_allclose(info.tsallis_entropy(p, 2.0), 1 - np.sum(p**2), rtol=RTOL64)


def test_gaussian_closed_forms(x64):
    rng = np.random.default_rng(8)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 4 * np.eye(4)
    np.testing.assert_allclose(
        info.gaussian_entropy(cov),
        scipy.stats.multivariate_normal(np.zeros(4), cov).entropy(),
        rtol=RTOL64,
    )
    var = rng.random(3) + 0.5
    np.testing.assert_allclose(
        info.gaussian_entropy(var=var), info.gaussian_entropy(np.diag(var)), rtol=RTOL64
    )
    np.testing.assert_allclose(
        info.gaussian_entropy(var=np.ones(1), base=2), 0.5 * np.log2(2 * np.pi * np.e), rtol=RTOL64
    )
    b = rng.normal(size=(4, 4))
    cov1 = b @ b.T + 2 * np.eye(4)
    m0, m1 = rng.normal(size=4), rng.normal(size=4)
    inv = np.linalg.inv(cov1)
    ref = 0.5 * (
        np.trace(inv @ cov)
        + (m1 - m0) @ inv @ (m1 - m0)
        - 4
        + np.log(np.linalg.det(cov1) / np.linalg.det(cov))
    )
    np.testing.assert_allclose(info.gaussian_kl(m0, cov, m1, cov1), ref, rtol=1e-10)
    # batched and diagonal forms agree with the full form
    v0, v1 = rng.random(4) + 0.2, rng.random(4) + 0.2
    np.testing.assert_allclose(
        info.gaussian_kl(m0, v0, m1, v1, diagonal=True),
        info.gaussian_kl(m0, np.diag(v0), m1, np.diag(v1)),
        rtol=1e-12,
    )
    batch = info.gaussian_kl(
        np.stack([m0, m1]), np.stack([cov, cov1]), np.stack([m1, m0]), np.stack([cov1, cov])
    )
    np.testing.assert_allclose(batch[0], ref, rtol=1e-10)
    np.testing.assert_allclose(info.gaussian_kl(m0, cov, m0, cov), 0.0, atol=1e-12)


def test_float32_follows_input_dtype():
    p = jnp.array([0.2, 0.3, 0.5], dtype=jnp.float32)
    for out in (
        info.entropy(p),
        info.renyi_entropy(p, 2.0),
        info.kl_divergence(p, p[::-1]),
        info.tsallis_entropy(p, 2.0),
    ):
        assert out.dtype == jnp.float32
    np.testing.assert_allclose(info.entropy(p), scipy.stats.entropy(np.float64(p)), rtol=1e-6)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="same number of outcomes"):
        info.kl_divergence(jnp.ones(3) / 3, jnp.ones(4) / 4)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        info.renyi_entropy(jnp.ones(3) / 3, -1.0)
    with pytest.raises(ValueError, match="base"):
        info.entropy(jnp.ones(3) / 3, base=1)
    with pytest.raises(ValueError, match="scalar"):
        info.entropy(jnp.asarray(0.5))
    with pytest.raises(ValueError, match="axis"):
        info.entropy(jnp.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="exactly one"):
        info.gaussian_entropy()
    with pytest.raises(ValueError, match="covariance"):
        info.gaussian_entropy(jnp.ones(3))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=12), st.floats(0.05, 8.0))
def test_property_renyi_between_min_and_hartley(weights, alpha):
    w = np.array(weights, dtype=np.float32)
    if w.sum() <= 1e-3:
        return
    p = w / w.sum()
    h = float(info.renyi_entropy(p, alpha))
    # H_∞ ≤ H_α ≤ H_0 for every α (float32: 1e-4 slack for rounding)
    assert (
        float(info.renyi_entropy(p, jnp.inf)) - 1e-4
        <= h
        <= float(info.renyi_entropy(p, 0.0)) + 1e-4
    )
    # Gibbs: KL ≥ 0 and JS ∈ [0, log 2]
    q = np.roll(p, 1)
    assert float(info.js_divergence(p, q)) <= np.log(2) + 1e-6


def test_kl_from_logits_gradient_finite_with_padded_slots(x64):
    # padded outcome slots carry -inf logits on both sides; the value and gradient ignore them
    lp = jnp.array([0.3, -0.2, -jnp.inf])
    lq = jnp.array([0.1, 0.4, -jnp.inf])
    val, grad = jax.value_and_grad(info.kl_divergence_from_logits)(lp, lq)
    np.testing.assert_allclose(val, info.kl_divergence_from_logits(lp[:2], lq[:2]), rtol=1e-12)
    assert np.all(np.isfinite(np.asarray(grad)))
    # gradient of KL(softmax(l)‖q) w.r.t. l_i is p_i (log p_i/q_i − KL)
    p = np.exp(lp[:2] - scipy.special.logsumexp(lp[:2]))
    q = np.exp(lq[:2] - scipy.special.logsumexp(lq[:2]))
    expected = p * (np.log(p / q) - float(val))
    np.testing.assert_allclose(grad[:2], expected, rtol=1e-10)
