"""Memoryless language model with a linear reward: rate function, scaled cumulants, Rényi link.

p(y_1..y_n) = Π p(y_i) and R = Σ r(y_i). The sequence-level KL-RL optimum is the product of the
per-token tilts at the same λ, with Δ = nδ. Under φ_λ, R/n obeys a large-deviation principle with
rate I(x) = sup_t [t x − Λ(λ + t) + Λ(λ)] and scaled cumulants κ_k(R)/n = Λ^{(k)}(λ); for r = log q,
Λ(λ) = −λ H_{1+λ}(p; q) (Rényi cross-entropy).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from jentropy import info

from ._outcomes import Outcomes, _as_float, check_outcomes, host, support_range, unpad
from ._tilt import _stats, _tilt_for_mean_one, batched, solve_lambda, tilt_cumulants


def _rate_one(o: Outcomes, x: Array, lam: Array) -> Array:
    tilted = Outcomes(_stats(o, lam).logphi, o.reward)  # p_λ, the law the LDP is about
    rmin, rmax = support_range(o)
    inside = (x > rmin) & (x < rmax)
    x_in = jnp.where(inside, x, _stats(tilted, jnp.zeros_like(x)).mean)
    t = _tilt_for_mean_one(tilted, x_in)
    interior = _stats(tilted, t).kl  # I(x) = D(p_{λ+t} ‖ p_λ) with Λ'(λ + t) = x
    support = tilted.logp > -jnp.inf

    def edge_mass(value: Array) -> Array:
        return -jax.nn.logsumexp(jnp.where(support & (o.reward == value), tilted.logp, -jnp.inf))

    edge = jnp.where(x == rmax, edge_mass(rmax), edge_mass(rmin))
    degenerate = rmin == rmax
    out = jnp.where(inside, interior, jnp.where((x == rmax) | (x == rmin), edge, jnp.inf))
    return jnp.where(degenerate, jnp.where(x == rmax, 0.0, jnp.inf), out)


def rate_function(o: Outcomes, x: ArrayLike, lam: ArrayLike = 0.0) -> Float[Array, "..."]:
    """Large-deviation rate I(x) of R_n/n for i.i.d. tokens from the tilt p_λ (λ = 0: from p).

    I(x) = sup_t [t x − Λ(λ + t) + Λ(λ)] = D(p_{θ} ‖ p_λ) with Λ'(θ) = x (the Legendre transform,
    solved to machine precision for any categorical token law); P(R_n ≥ n x) = e^{−n I(x) + o(n)}
    for x above the mean. Edges: I(r_max) = −log p_λ(r = r_max); outside the range I = +inf.

    Args:
        o: token distribution and per-token reward.
        x: per-token reward level(s), any shape.
        lam: scalar tilt λ of the token law (the KL-RL optimum φ_λ; 0 for the base model).

    Returns I(x) ≥ 0 with the shape of ``x`` (0 at x = Λ'(λ)).

    Example: Bernoulli(q) tokens with r = y give :func:`bernoulli_rate_function` (q, x).
    """
    o = check_outcomes(o)
    lam = jnp.asarray(lam, o.logp.dtype)
    if lam.ndim != 0:
        raise ValueError(f"lam must be a scalar, got shape {lam.shape}")
    out, shape, count, _ = batched(_rate_over, o, x, lam)
    return unpad(out, shape, count)


@eqx.filter_jit
def _rate_over(o: Outcomes, x: Array, lam: Array) -> Array:
    rate = jax.vmap(lambda v: _rate_one(o, v, lam))(x)
    return eqx.error_if(
        rate, jnp.isnan(rate), "rate_function: the Legendre transform did not converge"
    )


def bernoulli_rate_function(q: ArrayLike, x: ArrayLike) -> Float[Array, "..."]:
    """Closed-form rate of Bernoulli(q) sums (Cramér): I(x) = D(Bern(x) ‖ Bern(q)).

    I(x) = x log(x/q) + (1 − x) log((1 − x)/(1 − q)) for x ∈ [0, 1], +inf outside.

    Args:
        q: success probability in (0, 1), broadcasts with ``x``.
        x: mean(s) of the sum per token.

    Example: ``bernoulli_rate_function(0.3, 0.514629) ≈ 0.1`` (the δ of the spec's table).
    """
    q = _as_float(q, "q")
    x = _as_float(x, "x")
    dtype = jnp.promote_types(q.dtype, x.dtype)
    q, x = jnp.broadcast_arrays(q.astype(dtype), x.astype(dtype))
    q_host = host(q)
    if q_host is not None and not np.all((q_host > 0) & (q_host < 1)):
        raise ValueError(f"q must lie in (0, 1), got {q}")
    return _bernoulli_rate(q, x)


@jax.jit
def _bernoulli_rate(q: Array, x: Array) -> Array:
    inside = (x >= 0) & (x <= 1)
    xs = jnp.where(inside, x, q)
    kl = info.kl_divergence(jnp.stack([xs, 1 - xs], -1), jnp.stack([q, 1 - q], -1))
    return jnp.where(inside, kl, jnp.inf)


def renyi_cumulant_generating_function(
    p: ArrayLike, q: ArrayLike, lam: ArrayLike
) -> Float[Array, "..."]:
    """Λ(λ) for the reward r = log q written with the Rényi cross-entropy: −λ H_{1+λ}(p; q).

    H_α(p; q) = log(Σ p q^{α−1})/(1 − α) (from :func:`jentropy.info.renyi_cross_entropy`). Its
    derivatives in λ are the scaled cumulants of the sequence reward, which is how the paper
    characterises their growth.

    Args:
        p: (K,) token probabilities.
        q: (K,) positive weights defining the reward r = log q (need not be normalised).
        lam: λ ≥ −1 (order α = 1 + λ ≥ 0), any shape.

    Returns −λ H_{1+λ}(p; q) with the shape of ``lam``. Example: equals
    ``cumulant_generating_function(outcomes(jnp.log(q), probs=p), lam)``.
    """
    p = _as_float(p, "p")
    q = _as_float(q, "q")
    if p.ndim != 1 or p.shape != q.shape:
        raise ValueError(f"p and q must be 1-D of equal length, got {p.shape} and {q.shape}")
    q_host = host(q)
    if q_host is not None and not np.all(q_host > 0):
        raise ValueError("q must be positive (the reward is r = log q)")
    lam = jnp.asarray(lam, jnp.promote_types(p.dtype, q.dtype))
    lam_host = host(lam)
    if lam_host is not None and not np.all(lam_host >= -1):
        raise ValueError(f"lam must be >= -1 (Rényi order 1 + lam >= 0), got {lam}")
    return _renyi_cgf(p, q, lam)


@jax.jit
def _renyi_cgf(p: Array, q: Array, lam: Array) -> Array:
    return -lam * info.renyi_cross_entropy(p, q, 1 + lam)


class SequenceTilt(NamedTuple):
    """The KL-RL optimum for sequences of n tokens with budget Δ = nδ (a product of token tilts)."""

    lam: Array  #: λ, the same for every length
    token_reward: Array  #: x* = Λ'(λ), the per-token expected reward
    reward: Array  #: n x*
    kl: Array  #: n δ = D(φ^{(n)} ‖ p^{(n)})
    variance: Array  #: n Λ''(λ), the variance of R under φ


def sequence_tilt(o: Outcomes, length: int, delta: ArrayLike) -> SequenceTilt:
    """Sequence-level KL-RL optimum of a memoryless LM with linear reward.

    φ^{(n)}(y_1..y_n) = Π φ_λ(y_i) with λ = λ_δ from :func:`solve_lambda` on the token law, so
    D(φ^{(n)}‖p^{(n)}) = nδ and E R = n Λ'(λ).

    Args:
        o: token distribution and per-token reward.
        length: sequence length n ≥ 1.
        delta: per-token KL budget δ (any shape), 0 ≤ δ < :func:`max_kl` (o).

    Returns :class:`SequenceTilt` (each field with the shape of ``delta``).

    Example: Bernoulli(0.3), r = y, δ = 0.1: λ = 0.905831, token_reward = 0.514629.
    """
    o = check_outcomes(o)
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be an int >= 1, got {length!r}")
    lam = solve_lambda(o, delta)
    cum = tilt_cumulants(o, lam, 4)  # order 4: the compilation the other callers use
    delta = jnp.asarray(delta, o.logp.dtype)
    return SequenceTilt(
        lam, cum[..., 0], length * cum[..., 0], length * delta, length * cum[..., 1]
    )
