r"""The 0–1 test for chaos (Gottwald & Melbourne), correlation method.

From a scalar observable ``φ_j`` build the translation variables
``p_c(n) = Σ_{j≤n} φ_j cos(jc)``, ``q_c(n) = Σ_{j≤n} φ_j sin(jc)``; their mean-square displacement
``M_c(n)`` grows linearly in ``n`` for chaotic dynamics and stays bounded for regular dynamics.
With the oscillatory term removed, ``D_c(n) = M_c(n) − (Eφ)² (1 − cos nc)/(1 − cos c)``, the
statistic ``K_c = corr(n, D_c(n))`` over ``n ≤ n_cut`` is near 1 for chaos and near 0 for
regular motion; the median over random ``c ∈ (π/5, 4π/5)`` avoids resonances.

Reference: G. A. Gottwald & I. Melbourne, "On the implementation of the 0–1 test for chaos",
SIAM J. Appl. Dyn. Syst. 8:129 (2009), eqs. (2.1)–(2.5) and section 3.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._series import as_series


def _corr(u: Array, v: Array) -> Array:
    du, dv = u - jnp.mean(u), v - jnp.mean(v)
    den = jnp.sqrt(jnp.sum(du * du) * jnp.sum(dv * dv))
    return jnp.sum(du * dv) / jnp.where(den > 0, den, jnp.ones_like(den))


@functools.partial(jax.jit, static_argnames=("n_cut",))
def _k_statistic(phi: Array, c: Array, n_cut: int) -> Array:
    t = phi.shape[0]
    j = jnp.arange(1, t + 1, dtype=phi.dtype)
    ns = jnp.arange(1, n_cut + 1)
    mean2 = jnp.mean(phi) ** 2

    def one(ci):
        p = jnp.cumsum(phi * jnp.cos(j * ci))
        q = jnp.cumsum(phi * jnp.sin(j * ci))

        def msd(n):
            # mean over the first T − n_cut starting points (same count for every n)
            idx = jnp.arange(t - n_cut)
            dp = p[idx + n] - p[idx]
            dq = q[idx + n] - q[idx]
            return jnp.mean(dp * dp + dq * dq)

        m = jax.vmap(msd)(ns)
        nf = ns.astype(phi.dtype)
        d = m - mean2 * (1 - jnp.cos(nf * ci)) / (1 - jnp.cos(ci))
        return _corr(nf, d)

    return jax.lax.map(one, c)


def zero_one_test(
    x: Float[ArrayLike, " T"],
    *,
    key: PRNGKeyArray,
    n_c: int = 100,
    n_cut: int | None = None,
    return_all: bool = False,
) -> Array:
    r"""The 0–1 test for chaos: ``K ≈ 1`` for chaotic, ``K ≈ 0`` for regular dynamics.

    ``K`` is the median over ``n_c`` frequencies ``c`` drawn uniformly from ``(π/5, 4π/5)``
    with ``key`` of ``K_c = corr(n, D_c(n))``, ``n = 1 … n_cut`` (Gottwald & Melbourne 2009,
    eq. 2.5). Feed an observable sampled about once per characteristic time: a heavily
    oversampled flow looks regular on short windows (subsample it first, e.g. to a few points
    per period).

    Args:
        x: scalar series ``(T,)``.
        key: PRNG key for the frequencies ``c``; same key, same ``K``.
        n_c: number of frequencies.
        n_cut: largest lag (default ``T // 10``, as recommended).
        return_all: return the ``(n_c,)`` values ``K_c`` instead of their median.

    Returns:
        ``K`` (scalar), or ``K_c`` for every ``c``.

    Example::

        zero_one_test(logistic_series, key=jax.random.key(0))     # ≈ 1 for r = 4
    """
    x = as_series(x, min_len=100, multivariate=False)
    t = x.shape[0]
    n_cut = t // 10 if n_cut is None else n_cut
    if not isinstance(n_cut, int) or not 2 <= n_cut < t // 2:
        raise ValueError(f"n_cut must be an int in [2, T/2), got {n_cut!r}")
    if not isinstance(n_c, int) or n_c < 1:
        raise ValueError(f"n_c must be a positive int, got {n_c!r}")
    c = jax.random.uniform(key, (n_c,), x.dtype, jnp.pi / 5, 4 * jnp.pi / 5)
    kc = _k_statistic(x, c, n_cut)
    return kc if return_all else jnp.median(kc)
