"""Exact answers for linear SDEs dz = A z dt + √(2D) dW: covariance, score, velocity and EPR.

The stationary law is N(0, Σ) with A Σ + Σ Aᵀ + 2D = 0 (Lyapunov equation), so the score is
s(z) = −Σ⁻¹ z, the probability-flow velocity v = b − D s = (A + D Σ⁻¹) z, and the entropy
production rate EPR = ⟨v·D⁻¹v⟩ = tr(Mᵀ D⁺ M Σ) with M = A + DΣ⁻¹ (over the coordinates with
D > 0; for invertible D this equals tr(Aᵀ D⁻¹ A Σ) + tr A). Every learned estimator in this
module is checked against these (the paper's exact test cases).
"""

from __future__ import annotations

import functools
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ._system import ActiveSystem


def _square(a: ArrayLike, name: str) -> Array:
    a = jnp.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {a.shape}")
    if not jnp.issubdtype(a.dtype, jnp.floating):
        a = a.astype(jnp.result_type(float))
    return a


def solve_lyapunov(
    a: Float[ArrayLike, "n n"],
    q: Float[ArrayLike, "n n"],
    *,
    method: Literal["sign", "kronecker"] = "sign",
    max_iter: int = 100,
) -> Float[Array, "n n"]:
    """Solve the continuous Lyapunov equation A X + X Aᵀ + Q = 0 for a stable (Hurwitz) A.

    ``method="sign"``: the matrix-sign-function (Newton) iteration of Roberts (1980) with
    determinant scaling, A_{k+1} = (c A_k + A_k⁻¹/c)/2, Q_{k+1} = (c Q_k + A_k⁻¹ Q_k A_k⁻ᵀ/c)/2,
    which keeps A_k X + X A_kᵀ + Q_k = 0 while A_k → −I, so X = Q_∞/2 (quadratic convergence,
    O(n³) per step; jit-able, forward-mode differentiable, compiled once per shape).
    ``method="kronecker"``: solve (I⊗A + A⊗I) vec X = −vec Q directly (O(n⁶); n ≲ 40; also
    reverse-mode differentiable). A non-converged iteration (A not stable) raises at run time
    (``eqx.error_if``), it never returns garbage.

    Args:
        a: (n, n) stable matrix.
        q: (n, n) right-hand side (symmetric for covariances).
        method: ``"sign"`` or ``"kronecker"``.
        max_iter: iteration cap for ``"sign"``.

    Returns:
        X, shape (n, n).

    Example::

        sigma = solve_lyapunov(A, 2 * D)        # stationary covariance of dz = Az dt + √(2D) dW
    """
    a, q = _square(a, "a"), _square(q, "q")
    if a.shape != q.shape:
        raise ValueError(f"a and q must have the same shape, got {a.shape} and {q.shape}")
    q = q.astype(a.dtype)
    n = a.shape[0]
    if method == "kronecker":
        eye = jnp.eye(n, dtype=a.dtype)
        op = jnp.kron(eye, a) + jnp.kron(a, eye)
        # column-major vec: vec(A X) = (I ⊗ A) vec X, vec(X Aᵀ) = (A ⊗ I) vec X
        x = jnp.linalg.solve(op, -q.T.reshape(-1)).reshape(n, n).T
        return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), "solve_lyapunov: singular system")
    if method != "sign":
        raise ValueError(f"method must be 'sign' or 'kronecker', got {method!r}")
    return _lyapunov_sign(a, q, max_iter)


@functools.partial(jax.jit, static_argnums=(2,))
def _lyapunov_sign(a: Array, q: Array, max_iter: int) -> Array:
    # compiled once per shape and dtype (an eager while_loop would recompile on every call)
    n = a.shape[0]
    tol = jnp.asarray(100 * n * jnp.finfo(a.dtype).eps, a.dtype)
    eye = jnp.eye(n, dtype=a.dtype)

    def cond(carry):
        _, _, k, err = carry
        return (k < max_iter) & (err > tol)

    def body(carry):
        ak, qk, k, _ = carry
        inv = jnp.linalg.inv(ak)
        _, logdet = jnp.linalg.slogdet(ak)
        c = jnp.exp(-logdet / n)
        c = jnp.where(jnp.isfinite(c), c, jnp.ones_like(c))
        new_a = 0.5 * (c * ak + inv / c)
        new_q = 0.5 * (c * qk + inv @ qk @ inv.T / c)
        err = jnp.max(jnp.abs(new_a + eye))
        return new_a, new_q, k + 1, err

    start = (a, q, jnp.int32(0), jnp.asarray(jnp.inf, a.dtype))
    _, qk, _, err = jax.lax.while_loop(cond, body, start)
    x = 0.5 * qk
    return eqx.error_if(
        x,
        ~(err <= tol) | ~jnp.all(jnp.isfinite(x)),
        "solve_lyapunov: the sign iteration did not converge (is A stable?)",
    )


def _diffusion(d: ArrayLike, n: int) -> Array:
    d = jnp.asarray(d)
    if d.shape != (n,):
        raise ValueError(f"diffusion must be the diagonal of D, shape ({n},), got {d.shape}")
    return d


class LinearSDE(NamedTuple):
    """dz = A z dt + √(2 diag(D)) dW.

    Attributes:
        drift_matrix: A, (n, n), stable.
        diffusion: the diagonal of D, (n,), ≥ 0 (zeros allowed: hypoelliptic systems).
    """

    drift_matrix: Float[Array, "n n"]
    diffusion: Float[Array, " n"]


def stationary_covariance(sde: LinearSDE, **kwargs: object) -> Float[Array, "n n"]:
    """Σ solving A Σ + Σ Aᵀ + 2D = 0 (keyword arguments go to :func:`solve_lyapunov`).

    Example::

        sde = LinearSDE(-k * I + w * J, eps * jnp.ones(2))
        stationary_covariance(sde)          # (eps / k) I
    """
    a = _square(sde.drift_matrix, "drift_matrix")
    d = _diffusion(sde.diffusion, a.shape[0]).astype(a.dtype)
    return solve_lyapunov(a, 2 * jnp.diag(d), **kwargs)  # type: ignore[arg-type]


def linear_score(
    sigma: Float[Array, "n n"], z: Float[Array, "*batch n"]
) -> Float[Array, "*batch n"]:
    """The exact score s(z) = −Σ⁻¹ z of N(0, Σ) (batched over leading axes of ``z``).

    Example::

        s = linear_score(stationary_covariance(sde), zs)      # (samples, n)
    """
    precision = jnp.linalg.inv(sigma)
    return -z @ precision.T


def linear_velocity_matrix(sde: LinearSDE, sigma: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """M with v(z) = M z = (A + D Σ⁻¹) z, the exact probability-flow velocity (zero at
    equilibrium).

    Example::

        m = linear_velocity_matrix(sde, stationary_covariance(sde))
        v = zs @ m.T                                          # (samples, n)
    """
    return sde.drift_matrix + jnp.diag(sde.diffusion) @ jnp.linalg.inv(sigma)


def linear_epr(
    sde: LinearSDE,
    sigma: Float[Array, "n n"] | None = None,
    *,
    mask: Bool[ArrayLike, " n"] | None = None,
) -> Float[Array, ""]:
    """Exact entropy production rate ⟨v_S · D_S⁻¹ v_S⟩ = tr(Mᵀ D_S⁺ M Σ) of a linear SDE.

    S = the coordinates with D > 0 (and in ``mask`` when given): with invertible D and no mask
    this is tr(Aᵀ D⁻¹ A Σ) + tr A (spec case 3); with ``mask`` selecting the g-coordinates of an
    AOUP system it is the g-part γ(tr[(Σ⁻¹)_gg] − N d).

    Args:
        sde: the :class:`LinearSDE`.
        sigma: its stationary covariance (computed when None).
        mask: (n,) booleans restricting the sum to a subset of coordinates (x/g split).

    Example::

        A = jnp.array([[-1.0, 2.0], [-2.0, -1.0]])      # −k I + ω J, k = 1, ω = 2
        linear_epr(LinearSDE(A, 0.5 * jnp.ones(2)))      # 2 ω² / k = 8
    """
    a = _square(sde.drift_matrix, "drift_matrix")
    n = a.shape[0]
    d = _diffusion(sde.diffusion, n).astype(a.dtype)
    sigma = stationary_covariance(LinearSDE(a, d)) if sigma is None else jnp.asarray(sigma)
    keep = d > 0
    if mask is not None:
        mask = jnp.asarray(mask)
        if mask.shape != (n,) or mask.dtype != jnp.bool_:
            raise ValueError(f"mask must be a boolean array of shape ({n},), got {mask.shape}")
        keep = keep & mask
    inv_d = jnp.where(keep, 1.0 / jnp.where(d > 0, d, jnp.ones_like(d)), jnp.zeros_like(d))
    m = linear_velocity_matrix(LinearSDE(a, d), sigma)
    return jnp.trace(m.T @ (inv_d[:, None] * m) @ sigma)


def aoup_linear_sde(system: ActiveSystem) -> LinearSDE:
    """The linear SDE of AOUPs in a harmonic trap with all-to-all springs and no repulsion.

    State z = (x.ravel(), g.ravel()) for (N, d) arrays x, g (row-major), so
    A = [[−(A_trap I + κ(N I − 11ᵀ)) ⊗ I_d, v0 I], [0, −γ I]] and D = (ε, …, ε, γ, …, γ).

    Example::

        sde = aoup_linear_sde(ActiveSystem(1, v0=1.0, gamma=1.0, epsilon=0.5,
                                           stiffness=0.0, trap=2.0))
        linear_epr(sde)          # 2 γ v0² / (ε (k + γ)) for d = 2
    """
    if system.propulsion != "aoup" or system.stiffness > 0 or system.periodic:
        raise ValueError(
            "aoup_linear_sde needs propulsion='aoup', stiffness=0 (no repulsion) and free space"
        )
    if not system.trap > 0:
        raise ValueError("aoup_linear_sde needs trap > 0 (otherwise there is no stationary law)")
    n, d = system.n_particles, system.dim
    dtype = jnp.result_type(float)
    coupling = system.trap * jnp.eye(n, dtype=dtype) + system.spring * (
        n * jnp.eye(n, dtype=dtype) - jnp.ones((n, n), dtype)
    )
    axx = -jnp.kron(coupling, jnp.eye(d, dtype=dtype))
    size = n * d
    eye = jnp.eye(size, dtype=dtype)
    a = jnp.block([[axx, system.v0 * eye], [jnp.zeros_like(eye), -system.gamma * eye]])
    diff = jnp.concatenate(
        [jnp.full((size,), system.epsilon, dtype), jnp.full((size,), system.gamma, dtype)]
    )
    return LinearSDE(a, diff)


def aoup_trap_epr(v0: float, trap: float, gamma: float, epsilon: float) -> tuple[float, float]:
    """Closed forms for one AOUP in a harmonic trap, per spatial dimension (spec case 2).

    Full EPR = γ v0² / (ε (k + γ)); g-part = γ k v0² / (ε (k + γ)² + γ v0²) (→ k as ε → 0).

    Example::

        aoup_trap_epr(1.0, 2.0, 1.0, 0.5)      # (0.6667, 0.3636): full, g-part
    """
    k = trap
    full = gamma * v0**2 / (epsilon * (k + gamma)) if epsilon > 0 else float("inf")
    g_part = gamma * k * v0**2 / (epsilon * (k + gamma) ** 2 + gamma * v0**2)
    return full, g_part


def aoup_trap_covariance(v0: float, trap: float, gamma: float, epsilon: float) -> Array:
    """The 2 × 2 stationary covariance of (x, g) per dimension for one trapped AOUP:
    Σ_xx = (ε(k+γ) + v0²)/(k(k+γ)), Σ_xg = v0/(k+γ), Σ_gg = 1.

    Example::

        aoup_trap_covariance(1.0, 1.0, 1.0, 0.5)      # [[1.0, 0.5], [0.5, 1.0]]
    """
    k = trap
    sxx = (epsilon * (k + gamma) + v0**2) / (k * (k + gamma))
    sxg = v0 / (k + gamma)
    return jnp.array([[sxx, sxg], [sxg, 1.0]])
