"""Weighted, Rényi and Tsallis permutation entropies and planes, missing patterns, vs ordpy.

Float64 with atol 1e-10 (observed ~1e-15). The Jensen–Rényi / Jensen–Tsallis maxima that
normalise the complexities are evaluated at a one-pattern distribution through jentropy.info;
they are checked against the published closed forms (Jauregui et al. 2018 eq. 5; Ribeiro et al.
2017 eq. 11) to 1e-12.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import ordpy
import pytest

from jentropy import ordinal

ALPHAS = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
QS = np.array([0.5, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("name", ["white", "logistic", "ties"])
def test_weighted_permutation_entropy(x64, peer_series, name):
    x = peer_series[name]
    for n, ell in [(3, 1), (6, 5)]:
        got = ordinal.weighted_permutation_entropy(x, n, ell)
        ref = ordpy.weighted_permutation_entropy(x, dx=n, taux=ell)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)


def test_renyi_and_tsallis_planes(x64, peer_series):
    names = ["white", "henon", "logistic"]
    batch = np.stack([peer_series[k] for k in names])  # one compiled call per function
    n, ell = 4, 2
    h_r, c_r = ordinal.renyi_entropy_complexity(batch, ALPHAS, n, ell)
    h_t, c_t = ordinal.tsallis_entropy_complexity(batch, QS, n, ell)
    assert h_r.shape == (3, len(ALPHAS)) and h_t.shape == (3, len(QS))
    for b, name in enumerate(names):
        x = peer_series[name]
        for k, a in enumerate(ALPHAS):
            ref = ordpy.renyi_complexity_entropy(x, alpha=a, dx=n, taux=ell)
            np.testing.assert_allclose([h_r[b, k], c_r[b, k]], ref, rtol=0, atol=1e-10)
        for k, q in enumerate(QS):
            ref = ordpy.tsallis_complexity_entropy(x, q=q, dx=n, taux=ell)
            np.testing.assert_allclose([h_t[b, k], c_t[b, k]], ref, rtol=0, atol=1e-10)
    # entropy-only functions (same compiled programs) against ordpy's entropies
    h_only = ordinal.renyi_permutation_entropy(batch, ALPHAS, n, ell)
    np.testing.assert_allclose(h_only, h_r, rtol=0, atol=0)
    ref = ordpy.renyi_entropy(batch[2], alpha=ALPHAS, dx=n, taux=ell)
    np.testing.assert_allclose(h_only[2], ref, rtol=0, atol=1e-10)
    h_only = ordinal.tsallis_permutation_entropy(batch, QS, n, ell)
    ref = ordpy.tsallis_entropy(batch[2], q=QS, dx=n, taux=ell)
    np.testing.assert_allclose(h_only[2], ref, rtol=0, atol=1e-10)
    # order 1 recovers the Shannon plane
    h, c = ordinal.entropy_complexity(batch, n, ell)
    for hh, cc, orders in ((h_r, c_r, ALPHAS), (h_t, c_t, QS)):
        k = int(np.flatnonzero(orders == 1.0)[0])
        np.testing.assert_allclose(hh[:, k], h, rtol=0, atol=1e-13)
        np.testing.assert_allclose(cc[:, k], c, rtol=0, atol=1e-13)


def _jr_max(num, a):  # Jauregui et al., Physica A 498, 74 (2018), eq. 5
    return (
        math.log(((num + 1) ** (1 - a) + num - 1) / (2 ** (1 - a) * num))
        + (1 - a) * math.log((num + 1) / (2 * num))
    ) / (2 * (a - 1))


def _jt_max(num, q):  # Ribeiro et al., PRE 95, 062106 (2017), eq. 11
    return (
        2 ** (2 - q) * num - (1 + num) ** (1 - q) - num * (1 + 1 / num) ** (1 - q) - num + 1
    ) / ((1 - q) * 2 ** (2 - q) * num)


def test_divergence_maxima_closed_forms(x64):
    from jentropy.ordinal import _variants  # the normalisers are private: test them directly

    orders = jnp.array([0.5, 2.0, 3.0])
    both = jax.jit(lambda p, a: (_variants._jensen_renyi(p, a), _variants._jensen_tsallis(p, a)))
    num = 120
    jr, jt = both(jnp.zeros(num).at[0].set(1.0), orders)
    np.testing.assert_allclose(jr, [_jr_max(num, float(a)) for a in orders], rtol=1e-12)
    np.testing.assert_allclose(jt, [_jt_max(num, float(a)) for a in orders], rtol=1e-12)


def test_missing_patterns(x64, peer_series):
    for name in ("sine", "logistic", "white"):
        x = peer_series[name]
        for n, ell in [(3, 1), (4, 1), (5, 2)]:
            ref = ordpy.missing_patterns(
                x, dx=n, taux=ell, return_fraction=False, return_missing=False
            )
            assert int(ordinal.missing_patterns(x, n, ell)) == ref
            frac = ordinal.missing_patterns(x, n, ell, fraction=True)
            np.testing.assert_allclose(frac, ref / math.factorial(n), rtol=1e-14)
    # the logistic map forbids patterns (a deterministic signature); white noise shows them all
    assert int(ordinal.missing_patterns(peer_series["logistic"], 4)) > 0


def test_weighted_rejects_constant_series():
    with pytest.raises(ValueError, match="constant"):
        ordinal.weighted_permutation_entropy(np.ones(100), 3)
