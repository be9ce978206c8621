"""Exact linear SDEs: the JAX Lyapunov solvers against scipy, the closed forms of spec cases
2 and 3, the hypoelliptic g-part formula and the equilibrium case. Float64 throughout; the
solvers are backward stable, so 1e-10 relative is loose for condition numbers ~1e2."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from jentropy import active_matter as am


def _stable(rng, n):
    a = rng.normal(size=(n, n))
    return a - (np.max(np.linalg.eigvals(a).real) + 0.5) * np.eye(n)


@pytest.mark.parametrize("method", ["sign", "kronecker"])
@pytest.mark.parametrize("n", [2, 7, 16])
def test_lyapunov_matches_scipy(x64, method, n):
    rng = np.random.default_rng(n)
    a = _stable(rng, n)
    q = rng.normal(size=(n, n))
    q = q @ q.T
    ref = scipy.linalg.solve_continuous_lyapunov(a, -q)  # scipy: A X + X Aᴴ = Q
    x = am.solve_lyapunov(a, q, method=method)
    np.testing.assert_allclose(x, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())


def test_lyapunov_jit_and_unstable(x64):
    a = jnp.array([[-1.0, 2.0], [0.0, -3.0]])
    x = jax.jit(am.solve_lyapunov)(a, jnp.eye(2))
    np.testing.assert_allclose(a @ x + x @ a.T + jnp.eye(2), 0.0, atol=1e-13)
    with pytest.raises(Exception, match="did not converge"):
        am.solve_lyapunov(jnp.array([[1.0, 0.0], [0.0, -1.0]]), jnp.eye(2))
    with pytest.raises(ValueError, match="square"):
        am.solve_lyapunov(jnp.ones((2, 3)), jnp.eye(2))
    with pytest.raises(ValueError, match="method"):
        am.solve_lyapunov(a, jnp.eye(2), method="schur")


@pytest.mark.parametrize(("v0", "k", "gamma", "eps"), [(1.0, 1.0, 1.0, 0.5), (0.3, 2.5, 0.1, 0.1)])
def test_trapped_aoup_closed_forms(x64, v0, k, gamma, eps):
    system = am.ActiveSystem(1, v0=v0, gamma=gamma, epsilon=eps, stiffness=0.0, trap=k)
    sde = am.aoup_linear_sde(system)
    sigma = am.stationary_covariance(sde)
    per_dim = am.aoup_trap_covariance(v0, k, gamma, eps)
    np.testing.assert_allclose(sigma[::2, ::2], per_dim, rtol=1e-12)  # (x₁, g₁) block
    full, g_part = am.aoup_trap_epr(v0, k, gamma, eps)
    g_mask = jnp.array([False, False, True, True])
    np.testing.assert_allclose(am.linear_epr(sde, sigma), 2 * full, rtol=1e-12)
    np.testing.assert_allclose(am.linear_epr(sde, sigma, mask=g_mask), 2 * g_part, rtol=1e-12)
    # invertible D: tr(Aᵀ D⁻¹ A Σ) + tr A (spec case 3)
    a, d = sde.drift_matrix, sde.diffusion
    np.testing.assert_allclose(
        jnp.trace(a.T @ jnp.diag(1 / d) @ a @ sigma) + jnp.trace(a), 2 * full, rtol=1e-12
    )


def test_g_part_tends_to_trap_stiffness(x64):
    _, g_part = am.aoup_trap_epr(0.5, 2.0, 1.0, 1e-9)
    assert g_part == pytest.approx(2.0, rel=1e-6)
    system = am.ActiveSystem(1, dim=1, v0=0.5, gamma=1.0, epsilon=0.0, stiffness=0.0, trap=2.0)
    np.testing.assert_allclose(am.linear_epr(am.aoup_linear_sde(system)), 2.0, rtol=1e-10)


def test_rotational_example(x64):
    """A = −kI + ωJ, D = εI: Σ = (ε/k) I and EPR = 2ω²/k."""
    k, w, eps = 1.5, 0.7, 0.3
    a = jnp.array([[-k, w], [-w, -k]])
    sde = am.LinearSDE(a, jnp.full(2, eps))
    np.testing.assert_allclose(am.stationary_covariance(sde), eps / k * np.eye(2), atol=1e-14)
    np.testing.assert_allclose(am.linear_epr(sde), 2 * w**2 / k, rtol=1e-12)


def test_coupled_hypoelliptic_formula(x64):
    """N AOUPs with springs, ε = 0: EPR_g = γ (tr[(Σ⁻¹)_gg] − N d) (spec case 3)."""
    n, d, gamma = 5, 2, 0.7
    system = am.ActiveSystem(
        n, v0=1.2, gamma=gamma, epsilon=0.0, stiffness=0.0, trap=0.8, spring=0.4
    )
    sde = am.aoup_linear_sde(system)
    sigma = am.stationary_covariance(sde)
    precision = jnp.linalg.inv(sigma)
    expected = gamma * (jnp.trace(precision[n * d :, n * d :]) - n * d)
    np.testing.assert_allclose(am.linear_epr(sde, sigma), expected, rtol=1e-10)
    # permutation symmetry: relabelling particles leaves Σ invariant
    perm = np.r_[np.arange(n * d).reshape(n, d)[::-1].ravel()]
    perm = np.r_[perm, perm + n * d]
    np.testing.assert_allclose(sigma[np.ix_(perm, perm)], sigma, rtol=1e-12, atol=1e-14)


def test_equilibrium_has_zero_epr(x64):
    system = am.ActiveSystem(3, v0=0.0, gamma=1.0, epsilon=0.4, stiffness=0.0, trap=1.0, spring=0.5)
    sde = am.aoup_linear_sde(system)
    sigma = am.stationary_covariance(sde)
    assert abs(float(am.linear_epr(sde, sigma))) < 1e-12
    m = am.linear_velocity_matrix(sde, sigma)
    np.testing.assert_allclose(m, 0.0, atol=1e-12)  # v ≡ 0 at equilibrium


def test_linear_sde_errors():
    with pytest.raises(ValueError, match="trap > 0"):
        am.aoup_linear_sde(am.ActiveSystem(2, stiffness=0.0))
    with pytest.raises(ValueError, match="stiffness=0"):
        am.aoup_linear_sde(am.ActiveSystem(2, trap=1.0))
    with pytest.raises(ValueError, match="diagonal"):
        am.linear_epr(am.LinearSDE(-jnp.eye(2), jnp.ones(3)))
