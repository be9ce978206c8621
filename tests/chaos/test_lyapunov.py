"""Lyapunov spectra (Benettin/QR with JAX tangents) against known values and closed forms.

Tolerances: the acceptance numbers of the issue (Lorenz within 1 % of [0.906, 0, −14.572], zero
exponent within 0.01, logistic r = 4 within 1e-3 of ln 2, Hénon within 0.005 of 0.419,
Kaplan–Yorke within 0.01 of 2.06); each run's statistical error (``stderr``, from block means over
members) is 5–20× smaller than those bounds (measured: Lorenz stderr [0.003, 0.001, 0.002],
worst error over 8 seeds [0.3 %, 0.0013, 0.01 %];
logistic 5e-5; Hénon 9e-4). Invariants are checked much tighter: the Lorenz exponents sum to the
constant trace −(σ + 1 + β) and the Hénon exponents to ln b (constant Jacobian determinant, exact
to round-off). Linear systems give the real parts of their eigenvalues (ODE) or of the roots of the
characteristic equation λ = −a e^{−λτ} (delay equation, Lambert W), up to the RK4 discretisation
error (< 1e-4 at the steps used).
"""

import dataclasses
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import lambertw

from jentropy import chaos

LORENZ = np.array([0.906, 0.0, -14.572])


@pytest.fixture(scope="module")
def lorenz_result():
    with jax.enable_x64(True):
        system = chaos.get("Lorenz").with_params(beta=8 / 3)
        return chaos.lyapunov_spectrum(
            system, n_ics=64, key=jax.random.key(0), time=200.0, dt=0.02, renorm_every=5
        )


def test_lorenz_spectrum(lorenz_result):
    lam = np.asarray(lorenz_result.exponents)
    assert lorenz_result.success.all()
    assert abs(lam[0] - LORENZ[0]) < 0.01 * LORENZ[0], lam
    assert abs(lam[1]) < 0.01, lam
    assert abs(lam[2] - LORENZ[2]) < 0.01 * abs(LORENZ[2]), lam
    # sum of exponents = time average of the trace = −(σ + 1 + β), exactly, for Lorenz
    np.testing.assert_allclose(lam.sum(), -(10 + 1 + 8 / 3), atol=2e-3)
    assert np.all(np.asarray(lorenz_result.stderr) < 0.01)


def test_kaplan_yorke_and_pesin(x64, lorenz_result):
    np.testing.assert_allclose(chaos.kaplan_yorke_dimension(LORENZ), 2 + 0.906 / 14.572, rtol=1e-6)
    dky = float(chaos.kaplan_yorke_dimension(lorenz_result.exponents))
    assert abs(dky - 2.06) <= 0.01, dky
    np.testing.assert_allclose(chaos.pesin_entropy(jnp.array([0.5, 0.2, -1.0])), 0.7, rtol=1e-6)
    assert float(chaos.kaplan_yorke_dimension(jnp.array([-0.1, -1.0]))) == 0.0  # fixed point
    assert float(chaos.kaplan_yorke_dimension(jnp.array([0.3, 0.1]))) == 2.0


def test_logistic_r4_is_ln2(x64):
    logistic = chaos.get("Logistic").with_params(r=4.0)
    res = chaos.lyapunov_spectrum(logistic, n_ics=64, key=jax.random.key(1), time=10_000)
    assert abs(float(res.exponents[0]) - np.log(2)) < 1e-3, res.exponents


def test_henon(x64):
    res = chaos.lyapunov_spectrum("Henon", n_ics=32, key=jax.random.key(2), time=5_000)
    lam = np.asarray(res.exponents)
    assert abs(lam[0] - 0.419) < 0.005, lam
    np.testing.assert_allclose(lam.sum(), np.log(0.3), atol=1e-10)
    one = chaos.max_lyapunov_exponent("Henon", n_ics=32, key=jax.random.key(2), time=5_000)
    np.testing.assert_allclose(one, lam[0], atol=1e-12)  # same members, same first vector


def _custom(base_name, **changes):
    base = chaos.get(base_name)
    changes["metadata"] = MappingProxyType(changes.get("metadata", {"period": 1.0, "dt": 0.01}))
    changes["params"] = MappingProxyType(changes.get("params", {}))
    return dataclasses.replace(base, postprocess=None, **changes)


def test_linear_flow_gives_eigenvalue_real_parts(x64):
    a = jnp.array([[-1.0, 2.0, 0.0], [-2.0, -1.0, 0.0], [0.0, 0.0, -3.0]])  # eig: −1 ± 2i, −3
    linear = _custom("Lorenz", name="linear", fn=lambda x, t, p: a @ x)
    res = chaos.lyapunov_spectrum(linear, init_cond=jnp.ones(3), time=50, dt=0.01)
    np.testing.assert_allclose(res.exponents, [-1.0, -1.0, -3.0], atol=1e-3)


def test_linear_delay_equation_gives_characteristic_roots(x64):
    # x' = −a x(t − τ): exponents are Re λ of λ = −a e^{−λτ}, i.e. λ = W_k(−aτ)/τ
    a, tau = 0.2, 1.0
    dde = _custom(
        "MackeyGlass",
        name="linear_dde",
        ic=np.ones(10),
        fn=lambda x, xd, t, p: -p["a"] * xd,
        params={"a": a, "tau": tau},
        metadata={"period": 1.0, "dt": 0.01, "embedding_dimension": 10},
    )
    res = chaos.lyapunov_spectrum(dde, init_cond=jnp.ones(10), n_exponents=2, time=200)
    want = [lambertw(-a * tau, 0).real / tau, lambertw(-a * tau, -1).real / tau]
    np.testing.assert_allclose(res.exponents, want, atol=2e-3)


def test_same_key_same_spectrum(x64):
    kw = dict(n_ics=4, key=jax.random.key(5), time=500)
    a = chaos.lyapunov_spectrum("Henon", **kw)
    b = chaos.lyapunov_spectrum("Henon", **kw)
    np.testing.assert_array_equal(a.blocks, b.blocks)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_exponents"):
        chaos.lyapunov_spectrum("Henon", n_exponents=3)
    with pytest.raises(ValueError, match="renorm_every"):
        chaos.lyapunov_spectrum("Henon", renorm_every=0)
    with pytest.raises(ValueError, match="1-D"):
        chaos.kaplan_yorke_dimension(jnp.ones((2, 2)))


def test_vmap_over_parameters(x64):
    x0 = jnp.array([[0.1, 0.1]])

    def lam(a):
        return chaos.lyapunov_spectrum("Henon", init_cond=x0, params={"a": a}, time=500.0).exponents

    a = jnp.array([1.2, 1.4])
    np.testing.assert_allclose(jax.vmap(lam)(a), jnp.stack([lam(v) for v in a]), rtol=1e-10)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_orthonormalization_matches_qr(x64, k):
    from jentropy.chaos._lyapunov import _orthonormalize

    q = jax.random.normal(jax.random.key(k), (12, k), jnp.float64)
    qq, logs = _orthonormalize(q)
    _, r = np.linalg.qr(np.asarray(q))
    np.testing.assert_allclose(logs, np.log(np.abs(np.diag(r))), rtol=1e-12)
    np.testing.assert_allclose(qq.T @ qq, np.eye(k), atol=1e-13)
    r_ours = np.asarray(qq.T @ q)  # q = Q R with R upper triangular, diag R = exp(logs) > 0
    np.testing.assert_allclose(np.tril(r_ours, -1), 0, atol=1e-12)
    np.testing.assert_allclose(np.diag(r_ours), np.exp(logs), rtol=1e-12)
    np.testing.assert_allclose(qq @ r_ours, q, atol=1e-12)
