"""The KL-constrained RL optimum: the exponential tilt φ_λ ∝ p e^{λr} and its budget solver.

For a budget Δ, the maximiser of E_φ r subject to D(φ‖p) ≤ Δ is φ_λ(y) = p(y) e^{λ r(y) − Λ(λ)}
with the cumulant generating function Λ(λ) = log E_p e^{λ r}, and λ = λ_Δ solving
D(φ_λ‖p) = λΛ'(λ) − Λ(λ) = Δ (β = 1/λ is the RLHF penalty coefficient).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from jentropy import info

from ._numerics import increasing_root
from ._outcomes import (
    Outcomes,
    _pad,
    check_outcomes,
    host,
    pad_batch,
    pad_outcomes,
    support_range,
    unpad,
)


class _Stats(NamedTuple):
    cgf: Array  # Λ(λ)
    mean: Array  # Λ'(λ) = E_φ r
    kl: Array  # λΛ'(λ) − Λ(λ) = D(φ_λ ‖ p)
    logphi: Array  # (K,) log φ_λ
    var: Array  # Λ''(λ) = Var_φ r


def _stats(o: Outcomes, lam: Array) -> _Stats:
    """Λ, Λ', D(φ_λ‖p) and log φ_λ for one scalar λ, accurate for small and for large |λ|.

    Small |λ|·spread: rewards centred at E_p r and Λ = log1p(Σ p expm1(λ r_c)), so Λ and the KL
    (both O(λ²)) keep relative accuracy instead of the absolute eps of a logsumexp. Large |λ|:
    rewards shifted by the extreme reward the tilt moves towards, so every exponent is ≤ 0 and
    KL → −log p(r = r_max) without cancellation.
    """
    logp, r = o.logp, o.reward
    support = logp > -jnp.inf
    p = jnp.exp(logp)
    r_s = jnp.where(support, r, 0)
    rmin, rmax = support_range(o)
    spread = rmax - rmin
    mean_p = jnp.sum(p * r_s)

    small = jnp.abs(lam) * spread <= 1
    lam_small = jnp.where(small, lam, 0)
    rc = jnp.where(support, r - mean_p, 0)
    e = jnp.expm1(lam_small * rc)
    s = jnp.sum(p * e)
    cgf_c = jnp.log1p(s)
    mean_c = (jnp.sum(p * rc) + jnp.sum(p * rc * e)) / (1 + s)
    small_stats = (cgf_c + lam * mean_p, mean_c + mean_p, lam_small * mean_c - cgf_c)
    logphi_small = logp + lam_small * rc - cgf_c

    c = jnp.where(lam >= 0, rmax, rmin)
    shifted = jnp.where(support, lam * (r_s - c), -jnp.inf)  # ≤ 0 on the support
    log_mass = jax.nn.logsumexp(jnp.where(support, logp + shifted, -jnp.inf))
    logphi_large = jnp.where(support, logp + shifted - log_mass, -jnp.inf)
    phi = jnp.exp(logphi_large)
    excess = jnp.sum(phi * jnp.where(support, r_s - c, 0))
    large_stats = (lam * c + log_mass, c + excess, lam * excess - log_mass)

    cgf, mean, kl = (jnp.where(small, a, b) for a, b in zip(small_stats, large_stats))
    logphi = jnp.where(small, logphi_small, logphi_large)
    var = jnp.sum(jnp.where(support, jnp.exp(logphi) * (r_s - mean) ** 2, 0))
    return _Stats(cgf, mean, jnp.maximum(kl, 0), logphi, var)


@jax.jit
def _stats_over(o: Outcomes, lam: Array) -> _Stats:
    return jax.vmap(lambda v: _stats(o, v))(lam)


def batched(
    impl: Callable[..., object], o: Outcomes, x: ArrayLike, *extra: object
) -> tuple[object, tuple[int, ...], int, int]:
    """``impl(o, x_flat, *extra)`` on bucket-padded K and batch (see ``_outcomes.bucket``).

    Returns (output, shape of x, batch count, K) for :func:`unpad`.
    """
    o_p, k = pad_outcomes(o)
    x = jnp.asarray(x, o.logp.dtype)
    flat, shape, count = pad_batch(x, k)
    return impl(o_p, flat, *extra), shape, count, k


def _tilt_field(o: Outcomes, lam: ArrayLike, field: str) -> Array:
    st, shape, count, k = batched(_stats_over, check_outcomes(o), lam)
    return unpad(getattr(st, field), shape, count, k if field == "logphi" else None)


def cumulant_generating_function(o: Outcomes, lam: ArrayLike) -> Float[Array, "..."]:
    """Λ(λ) = log E_p e^{λ r(y)}, the cumulant generating function of the reward under p.

    Args:
        o: base distribution and reward (:func:`outcomes`).
        lam: tilt parameter(s) λ, any shape (β = 1/λ in RLHF notation).

    Returns Λ with the shape of ``lam``. Stable for tiny λ (relative accuracy) and for huge λ.

    Example: for r = log q, ``cumulant_generating_function(o, lam) == -lam *
    info.renyi_cross_entropy(p, q, 1 + lam)`` (the Rényi characterisation, Yang et al. §IV).
    """
    return _tilt_field(o, lam, "cgf")


def tilt_log_probs(o: Outcomes, lam: ArrayLike) -> Float[Array, "... k"]:
    """log φ_λ(y) = log p(y) + λ r(y) − Λ(λ), the KL-regularised RL optimum at β = 1/λ.

    Args:
        o: base distribution and reward.
        lam: λ, any shape.

    Returns log-probabilities of shape ``lam.shape + (K,)``.

    Example: ``jnp.exp(tilt_log_probs(o, solve_lambda(o, 0.5)))`` is the optimum for Δ = 0.5.
    """
    return _tilt_field(o, lam, "logphi")


def tilt_reward(o: Outcomes, lam: ArrayLike) -> Float[Array, "..."]:
    """Expected reward of the tilt, E_{φ_λ} r = Λ'(λ) (increasing in λ), with the shape of ``lam``.

    Example: Bernoulli(0.3) token, r = y: ``tilt_reward(o, 0.905831)`` = x* = 0.514629.
    """
    return _tilt_field(o, lam, "mean")


def tilt_kl(o: Outcomes, lam: ArrayLike) -> Float[Array, "..."]:
    """D(φ_λ ‖ p) = λ Λ'(λ) − Λ(λ) (increasing in |λ|, → −log p(r = r_max) as λ → ∞).

    The closed form equals ``info.kl_divergence_from_logits(tilt_log_probs(o, lam), o.logp)``; it
    is evaluated without cancellation so that the budget solver works for Δ near 0.

    Returns the KL (nats) with the shape of ``lam``. Example: ``tilt_kl(o, solve_lambda(o, d)) == d``.
    """
    return _tilt_field(o, lam, "kl")


def _cumulants_one(o: Outcomes, lam: Array, order: int) -> Array:
    st = _stats(o, lam)
    phi = jnp.exp(st.logphi)
    centred = jnp.where(o.logp > -jnp.inf, o.reward - st.mean, 0)
    powers = jnp.cumprod(jnp.broadcast_to(centred, (order, centred.shape[0])), axis=0)
    central = jnp.concatenate([jnp.zeros((1,), phi.dtype), powers[1:] @ phi])  # μ_1 = 0, μ_2..
    # κ_n = μ_n − Σ_{k=2}^{n−2} C(n−1, k−1) κ_k μ_{n−k}  (moment–cumulant recursion, μ_1 = 0)
    kappa = [st.mean]
    if order >= 2:
        kappa.append(central[1])
    for n in range(3, order + 1):
        value = central[n - 1]
        for k in range(2, n - 1):
            binom = _binomial(n - 1, k - 1)
            value = value - binom * kappa[k - 1] * central[n - k - 1]
        kappa.append(value)
    return jnp.stack(kappa[:order])


def _binomial(n: int, k: int) -> float:
    from math import comb

    return float(comb(n, k))


def tilt_cumulants(o: Outcomes, lam: ArrayLike, order: int = 4) -> Float[Array, "... order"]:
    """Cumulants κ_1..κ_order of r under φ_λ, i.e. the derivatives Λ^{(k)}(λ), k = 1..order.

    For a memoryless LM with linear reward these are the scaled cumulants κ_k(R_n)/n of the
    sequence reward under the optimal policy (they do not depend on n).

    Args:
        o: base distribution and reward.
        lam: λ, any shape.
        order: highest cumulant (static, ≥ 1).

    Returns shape ``lam.shape + (order,)``: [mean, variance, third cumulant, ...].

    Example: ``tilt_cumulants(o, 0.0, 2)`` is (E_p r, Var_p r).
    """
    o = check_outcomes(o)
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be an int >= 1, got {order!r}")
    out, shape, count, _ = batched(_cumulants_over, o, lam, order)
    return unpad(out, shape, count)


@partial(jax.jit, static_argnums=2)
def _cumulants_over(o: Outcomes, lam: Array, order: int) -> Array:
    return jax.vmap(lambda v: _cumulants_one(o, v, order))(lam)


def max_kl(o: Outcomes) -> Float[Array, ""]:
    """Δ_max = −log p(r = r_max) = lim_{λ→∞} D(φ_λ‖p): the supremum of feasible KL budgets.

    (Ties at the maximum reward count together; the budget solver accepts 0 ≤ Δ < Δ_max.)

    Example: Bernoulli(0.3) token, r = y: ``max_kl(o)`` = −log 0.3 = 1.20397.
    """
    return _max_kl(pad_outcomes(check_outcomes(o))[0])


@jax.jit
def _max_kl(o: Outcomes) -> Array:
    _, rmax = support_range(o)
    top = (o.reward == rmax) & (o.logp > -jnp.inf)
    return -jax.nn.logsumexp(jnp.where(top, o.logp, -jnp.inf))


def _check_budget(delta: Array, dmax: Array) -> None:
    """0 ≤ Δ < Δ_max (Δ = 0 = Δ_max allowed), checked on the host when the values are known."""
    d, hi = host(delta), host(dmax)
    if d is None or hi is None:
        return
    bad = (d < 0) | (d >= hi) | np.isnan(d)
    bad &= ~((d == 0) & (hi == 0))
    if np.any(bad):
        raise ValueError(
            f"delta must lie in [0, {float(hi):.6g}) (the feasible KL budgets, up to "
            f"max_kl = −log p(r = r_max)), got {d}"
        )


def _solve_lambda_one(o: Outcomes, delta: Array) -> Array:
    rmin, rmax = support_range(o)
    spread = jnp.where(rmax > rmin, rmax - rmin, 1)
    p = jnp.exp(o.logp)
    r = jnp.where(o.logp > -jnp.inf, o.reward, 0)
    var = jnp.sum(p * (r - jnp.sum(p * r)) ** 2)
    guess = jnp.sqrt(2 * delta / jnp.where(var > 0, var, 1))  # Δ ≈ λ² Var/2 for small Δ

    def value_and_slope(x: Array) -> tuple[Array, Array]:
        st = _stats(o, x)
        return st.kl - delta, x * st.var  # d/dλ [λΛ' − Λ] = λΛ''

    lam = increasing_root(
        lambda x: _stats(o, x).kl - delta,
        value_and_slope,
        guess,
        lower_bounded=True,
        scale=1 / spread,
    )
    return jnp.where(delta == 0, jnp.zeros_like(lam), lam)


def solve_lambda(o: Outcomes, delta: ArrayLike) -> Float[Array, "..."]:
    """λ_Δ ≥ 0 with D(φ_λ‖p) = Δ: the KL-constrained RL optimum for budget Δ is φ_{λ_Δ}.

    Safeguarded Newton on a doubling bracket, differentiable in Δ, logits and rewards through
    the implicit function theorem (dλ/dΔ = 1/(λ Λ''(λ)), infinite at Δ = 0).

    Args:
        o: base distribution and reward.
        delta: KL budget(s) Δ in nats, any shape, 0 ≤ Δ < :func:`max_kl` (o).

    Returns λ_Δ with the shape of ``delta`` (0 where Δ = 0).

    Raises:
        ValueError: Δ outside [0, Δ_max) (checked eagerly; under jit an ``eqx.error_if`` fires,
            also when Δ is closer to Δ_max than the dtype resolves).

    Example: Bernoulli(0.3) tokens with r = 1{y=1} and Δ = 0.1 give λ = 0.905831.
    """
    o = check_outcomes(o)
    delta = jnp.asarray(delta, o.logp.dtype)
    dmax = max_kl(o)
    _check_budget(delta, dmax)
    out, shape, count, _ = batched(_solve_lambda_over, o, delta)
    return unpad(out, shape, count)


@eqx.filter_jit
def _solve_lambda_over(o: Outcomes, delta: Array) -> Array:
    dmax = _max_kl(o)
    lam = jax.vmap(lambda d: _solve_lambda_one(o, d))(delta)
    bad = (delta < 0) | (delta > dmax) | ((delta == dmax) & (dmax > 0)) | jnp.isnan(lam)
    return eqx.error_if(lam, bad, "solve_lambda: delta outside [0, max_kl) or not resolvable")


def _tilt_for_mean_one(o: Outcomes, x: Array) -> Array:
    rmin, rmax = support_range(o)
    spread = jnp.where(rmax > rmin, rmax - rmin, 1)
    base = _stats(o, jnp.zeros_like(x))
    guess = (x - base.mean) / jnp.where(base.var > 0, base.var, 1)

    def value_and_slope(t: Array) -> tuple[Array, Array]:
        st = _stats(o, t)
        return st.mean - x, st.var

    return increasing_root(
        lambda t: _stats(o, t).mean - x,
        value_and_slope,
        guess,
        lower_bounded=False,
        scale=1 / spread,
    )


def tilt_for_mean(o: Outcomes, x: ArrayLike) -> Float[Array, "..."]:
    """The λ with E_{φ_λ} r = Λ'(λ) = x (the Legendre dual point of x), for r_min < x < r_max.

    Args:
        o: base distribution and reward.
        x: target mean reward(s), any shape, strictly inside the reward range of p's support.

    Returns λ with the shape of ``x``; differentiable (dλ/dx = 1/Λ''(λ)).

    Raises:
        ValueError: x outside (r_min, r_max) (eagerly; ``eqx.error_if`` under jit).

    Example: ``tilt_reward(o, tilt_for_mean(o, 0.5)) == 0.5``.
    """
    o = check_outcomes(o)
    x = jnp.asarray(x, o.logp.dtype)
    x_host, logp, r = host(x), host(o.logp), host(o.reward)
    if x_host is not None and logp is not None and r is not None:
        rmin, rmax = r[logp > -np.inf].min(), r[logp > -np.inf].max()
        if not np.all((x_host > rmin) & (x_host < rmax)):
            raise ValueError(
                f"x must lie strictly inside the reward range ({rmin:.6g}, {rmax:.6g}), got {x_host}"
            )
    out, shape, count, _ = batched(_tilt_for_mean_over, o, x)
    return unpad(out, shape, count)


@eqx.filter_jit
def _tilt_for_mean_over(o: Outcomes, x: Array) -> Array:
    rmin, rmax = support_range(o)
    lam = jax.vmap(lambda v: _tilt_for_mean_one(o, v))(x)
    bad = ~((x > rmin) & (x < rmax)) | jnp.isnan(lam)
    return eqx.error_if(lam, bad, "tilt_for_mean: x outside the open reward range")


class Closeness(NamedTuple):
    """Terms of the closeness identity D(ψ‖φ_Δ) = D(ψ‖p) − Δ + λ_Δ (E_φ r − E_ψ r)."""

    kl_to_optimum: Array  #: D(ψ‖φ_Δ), from the right-hand side of the identity
    kl_to_base: Array  #: D(ψ‖p)
    reward_gap: Array  #: E_φ r − E_ψ r (≥ 0 when D(ψ‖p) ≤ Δ)
    lam: Array  #: λ_Δ
    bound: Array  #: λ_Δ · max(gap, 0), an upper bound on D(ψ‖φ_Δ) when D(ψ‖p) ≤ Δ


def closeness_identity(o: Outcomes, psi_logits: ArrayLike, delta: ArrayLike) -> Closeness:
    """How close any policy ψ is to the KL-RL optimum φ_Δ (Yang et al., Theorem 1).

    D(ψ‖φ_Δ) = D(ψ‖p) − Δ + λ_Δ (E_{φ_Δ} r − E_ψ r). Hence a policy with D(ψ‖p) ≤ Δ whose reward
    is within ε of the optimum's satisfies D(ψ‖φ_Δ) ≤ λ_Δ ε: any method with a comparable
    reward–KL trade-off must be close to φ_Δ.

    Args:
        o: base distribution and reward.
        psi_logits: (K,) logits (or log-probabilities) of the policy ψ.
        delta: scalar KL budget Δ ∈ [0, Δ_max).

    Returns:
        :class:`Closeness` with ``kl_to_optimum`` (from the identity), ``kl_to_base``,
        ``reward_gap``, ``lam`` and ``bound``.

    Example::

        c = closeness_identity(o, bon_logp, delta=kl_of_bon)
        c.kl_to_optimum   # equals info.kl_divergence_from_logits(bon_logp, tilt_log_probs(o, c.lam))
    """
    o = check_outcomes(o)
    psi = jnp.asarray(psi_logits, o.logp.dtype)
    if psi.shape != o.logp.shape:
        raise ValueError(f"psi_logits must have shape {o.logp.shape}, got {psi.shape}")
    delta = jnp.asarray(delta, o.logp.dtype)
    if delta.ndim != 0:
        raise ValueError(f"delta must be a scalar, got shape {delta.shape}")
    _check_budget(delta, max_kl(o))
    o_p, _ = pad_outcomes(o)
    psi_p = _pad(psi, o_p.logp.shape[0], -np.inf)
    return _closeness(o_p, psi_p, delta)


@eqx.filter_jit
def _closeness(o: Outcomes, psi: Array, delta: Array) -> Closeness:
    lam = _solve_lambda_over(o, delta[None])[0]
    kl_base = info.kl_divergence_from_logits(psi, o.logp)
    psi_p = jax.nn.softmax(psi)
    reward_psi = jnp.sum(jnp.where(psi_p > 0, psi_p * o.reward, 0))
    gap = _stats(o, lam).mean - reward_psi
    return Closeness(kl_base - delta + lam * gap, kl_base, gap, lam, lam * jnp.maximum(gap, 0))
