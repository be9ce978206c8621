"""Entropy and divergence estimators: every jentropy module takes its entropies from here.

Discrete distributions are arrays whose ``axis`` (default last) runs over outcomes; all other axes
are batch axes. Each quantity comes from probabilities, and the ones that are evaluated at scale
also from logits (stable, log-sum-exp) or counts:

=====================  ===================================================  =========================
quantity               definition (natural log; ``base=2`` gives bits)      variants
=====================  ===================================================  =========================
Shannon entropy        H(p) = −Σ p log p, with 0·log 0 = 0                   ``_from_logits/_counts``
cross-entropy          H(p, q) = −Σ p log q  (+inf if q = 0 where p > 0)     ``_from_logits``
KL divergence          D(p‖q) = Σ p log(p/q)                                 ``_from_logits``
Jensen–Shannon         JS(p, q) = H(m) − (H(p) + H(q))/2, m = (p + q)/2
Rényi entropy          H_α(p) = log(Σ p^α)/(1 − α); α→1 Shannon, α=0 log     ``_from_logits``
                       |supp p|, α=∞ −log max p
Rényi divergence       D_α(p‖q) = log(Σ p^α q^{1−α})/(α − 1); α→1 KL,
                       α=0 −log Q(supp p), α=∞ log max p/q
Rényi cross-entropy    H_α(p; q) = log(Σ p q^{α−1})/(1 − α); α→1 H(p, q)
Tsallis entropy        S_q(p) = (1 − Σ p^q)/(q − 1); q→1 Shannon
Gaussian               entropy ½ log det(2πe Σ); KL of two Gaussians
=====================  ===================================================  =========================

The orders α may be traced arrays (e.g. inside ``vmap`` over α); the α = 1, 0 and ∞ limits are
handled exactly with ``jnp.where`` rather than Python branching, so the functions stay jit-able.

Example::

    from jentropy import info
    p = jnp.array([0.5, 0.25, 0.25])
    info.entropy(p, base=2)                        # 1.5 bits
    info.kl_divergence(p, jnp.ones(3) / 3)        # log 3 − 1.5 log 2
    info.renyi_entropy(p, jnp.array([0.0, 1.0, 2.0, jnp.inf]))  # broadcast over orders
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import entr, logsumexp, xlogy
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "cross_entropy",
    "cross_entropy_from_logits",
    "entropy",
    "entropy_from_counts",
    "entropy_from_logits",
    "gaussian_entropy",
    "gaussian_kl",
    "js_divergence",
    "kl_divergence",
    "kl_divergence_from_logits",
    "normalize_counts",
    "renyi_cross_entropy",
    "renyi_divergence",
    "renyi_entropy",
    "renyi_entropy_from_logits",
    "tsallis_entropy",
]


def _float(x: ArrayLike, name: str) -> Array:
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {x.dtype}")
    return x


def _check_axis(x: Array, axis: int, name: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one axis of outcomes, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis} is out of range for {name} with shape {x.shape}")
    return axis


def _pair(p: ArrayLike, q: ArrayLike, axis: int) -> tuple[Array, Array]:
    p, q = _float(p, "p"), _float(q, "q")
    dtype = jnp.promote_types(p.dtype, q.dtype)
    p, q = p.astype(dtype), q.astype(dtype)
    _check_axis(p, axis, "p")
    _check_axis(q, axis, "q")
    if p.shape[axis] != q.shape[axis]:
        raise ValueError(
            f"p and q must have the same number of outcomes along axis {axis}, "
            f"got {p.shape[axis]} and {q.shape[axis]}"
        )
    return p, q


def _in_base(x: Array, base: float | None) -> Array:
    if base is None:
        return x
    if base <= 0 or base == 1:
        raise ValueError(f"base must be positive and not 1 (or None for nats), got {base}")
    return x / jnp.log(jnp.asarray(base, x.dtype))


def _order(alpha: ArrayLike, dtype: jnp.dtype, name: str = "alpha") -> Array:
    alpha = jnp.asarray(alpha, dtype)
    if not isinstance(alpha, jax.core.Tracer) and bool(jnp.any(alpha < 0)):
        raise ValueError(f"{name} must be >= 0, got {alpha}")
    return alpha


def normalize_counts(counts: ArrayLike, axis: int = -1) -> Array:
    """Empirical probabilities ``counts / counts.sum(axis)`` (all-zero rows give all zeros).

    Integer counts become the default float dtype. Negative counts raise ``ValueError`` (outside jit).
    """
    c = _float(counts, "counts")
    _check_axis(c, axis, "counts")
    if not isinstance(c, jax.core.Tracer) and bool(jnp.any(c < 0)):
        raise ValueError("counts must be non-negative")
    total = jnp.sum(c, axis=axis, keepdims=True)
    return c / jnp.where(total > 0, total, 1)


def entropy(p: ArrayLike, axis: int = -1, base: float | None = None) -> Float[Array, "..."]:
    """Shannon entropy H(p) = −Σ_i p_i log p_i along ``axis``, with 0·log 0 = 0.

    Args:
        p: probabilities (non-negative, summing to one along ``axis``; not renormalised).
        axis: axis of outcomes; the others are batch axes.
        base: logarithm base (None: nats, 2: bits).

    Returns the entropy with ``axis`` removed. Example: ``entropy(jnp.array([.5, .5]), base=2) == 1``.
    """
    p = _float(p, "p")
    _check_axis(p, axis, "p")
    return _in_base(jnp.sum(entr(p), axis=axis), base)


def entropy_from_counts(counts: ArrayLike, axis: int = -1, base: float | None = None) -> Array:
    """Plug-in Shannon entropy of the empirical distribution ``counts / Σ counts``."""
    return entropy(normalize_counts(counts, axis), axis, base)


def entropy_from_logits(
    logits: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Shannon entropy of ``softmax(logits)`` computed stably: H = logsumexp(l) − Σ softmax(l)·l.

    ``-inf`` logits (impossible outcomes) are allowed and contribute 0.
    """
    logits = _float(logits, "logits")
    _check_axis(logits, axis, "logits")
    logz = logsumexp(logits, axis=axis, keepdims=True)
    logp = logits - logz
    p = jnp.exp(logp)
    h = -jnp.sum(jnp.where(p > 0, p * logp, 0), axis=axis)
    return _in_base(h, base)


def cross_entropy(
    p: ArrayLike, q: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Cross-entropy H(p, q) = −Σ p log q; +inf where q = 0 and p > 0; 0·log 0 = 0."""
    p, q = _pair(p, q, axis)
    return _in_base(-jnp.sum(xlogy(p, q), axis=axis), base)


def cross_entropy_from_logits(
    p: ArrayLike, logits_q: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Cross-entropy H(p, softmax(logits_q)) = −Σ p · log_softmax(logits_q), stably."""
    p, logits_q = _pair(p, logits_q, axis)
    logq = jax.nn.log_softmax(logits_q, axis=axis)
    return _in_base(-jnp.sum(jnp.where(p > 0, p * logq, 0), axis=axis), base)


def kl_divergence(
    p: ArrayLike, q: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Kullback–Leibler divergence D(p‖q) = Σ p log(p/q); +inf if p ≪ q fails; 0 when p = q."""
    p, q = _pair(p, q, axis)
    terms = xlogy(p, p) - xlogy(p, q)
    return _in_base(jnp.sum(terms, axis=axis), base)


def kl_divergence_from_logits(
    logits_p: ArrayLike, logits_q: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """D(softmax(logits_p) ‖ softmax(logits_q)) computed in log space.

    ``-inf`` logits in ``logits_p`` are impossible outcomes and contribute 0 (gradients stay finite
    even where both sides are ``-inf``, e.g. padded outcome slots).
    """
    lp, lq = _pair(logits_p, logits_q, axis)
    logp = jax.nn.log_softmax(lp, axis=axis)
    logq = jax.nn.log_softmax(lq, axis=axis)
    live = jnp.isfinite(logp)
    # double where: the masked branch must not see -inf - -inf, or its gradient is NaN
    diff = jnp.where(live, logp - jnp.where(live, logq, 0), 0)
    p = jnp.exp(logp)
    return _in_base(jnp.sum(jnp.where(live, p * diff, 0), axis=axis), base)


def js_divergence(
    p: ArrayLike, q: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Jensen–Shannon divergence JS(p, q) = H((p+q)/2) − H(p)/2 − H(q)/2 (≤ log 2, symmetric)."""
    p, q = _pair(p, q, axis)
    js = entropy(0.5 * (p + q), axis) - 0.5 * entropy(p, axis) - 0.5 * entropy(q, axis)
    return _in_base(jnp.maximum(js, 0), base)


def _safe_log(x: Array) -> Array:
    return jnp.log(jnp.where(x > 0, x, 1)) + jnp.where(x > 0, 0, -jnp.inf)


def renyi_entropy(
    p: ArrayLike, alpha: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Rényi entropy H_α(p) = log(Σ p^α) / (1 − α) for α ≥ 0.

    Limits: α = 0 gives log |supp p| (Hartley), α → 1 Shannon, α = ∞ −log max p (min-entropy).
    ``alpha`` broadcasts against the batch shape (``p`` with ``axis`` removed), so an array of
    orders gives one entropy per order (``p`` of shape (n,) with ``alphas`` (k,) gives (k,); for a
    batch (B, n) use ``alphas[:, None]`` to get (k, B)). The special
    orders are selected with ``jnp.where``, so ``alpha`` may be traced.
    """
    p = _float(p, "p")
    axis = _check_axis(p, axis, "p")
    alpha = _order(alpha, p.dtype)
    pm = jnp.moveaxis(p, axis, -1)
    a = alpha[..., None]
    is_one, is_inf, is_zero = a == 1, jnp.isinf(a), a == 0
    a_safe = jnp.where(is_one | is_inf | is_zero, 2.0, a)
    power = jnp.where(pm > 0, jnp.exp(a_safe * _safe_log(pm)), 0)
    generic = jnp.log(jnp.sum(power, -1)) / (1 - a_safe[..., 0])
    shannon = jnp.sum(entr(pm), -1)
    hartley = jnp.log(jnp.sum((pm > 0).astype(pm.dtype), -1))
    min_ent = -jnp.log(jnp.max(pm, -1))
    out = jnp.where(
        is_one[..., 0],
        shannon,
        jnp.where(is_inf[..., 0], min_ent, jnp.where(is_zero[..., 0], hartley, generic)),
    )
    return _in_base(out, base)


def renyi_entropy_from_logits(
    logits: ArrayLike, alpha: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Rényi entropy of softmax(logits): H_α = [logsumexp(α l) − α logsumexp(l)] / (1 − α).

    Stable for peaked distributions where Σ p^α underflows in probability space. Same α limits as
    :func:`renyi_entropy`.
    """
    logits = _float(logits, "logits")
    axis = _check_axis(logits, axis, "logits")
    alpha = _order(alpha, logits.dtype)
    lm = jnp.moveaxis(logits, axis, -1)
    logp = jax.nn.log_softmax(lm, axis=-1)
    a = alpha[..., None]
    is_one, is_inf, is_zero = a[..., 0] == 1, jnp.isinf(a[..., 0]), a[..., 0] == 0
    a_safe = jnp.where((a == 1) | jnp.isinf(a) | (a == 0), 2.0, a)
    generic = logsumexp(jnp.where(jnp.isfinite(logp), a_safe * logp, -jnp.inf), axis=-1) / (
        1 - a_safe[..., 0]
    )
    p = jnp.exp(logp)
    shannon = -jnp.sum(jnp.where(p > 0, p * logp, 0), -1)
    hartley = jnp.log(jnp.sum(jnp.isfinite(logp).astype(lm.dtype), -1))
    min_ent = -jnp.max(logp, -1)
    out = jnp.where(
        is_one, shannon, jnp.where(is_inf, min_ent, jnp.where(is_zero, hartley, generic))
    )
    return _in_base(out, base)


def renyi_divergence(
    p: ArrayLike, q: ArrayLike, alpha: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Rényi divergence D_α(p‖q) = log(Σ p^α q^{1−α}) / (α − 1), α ≥ 0.

    Limits: α = 0 gives −log Q(supp p), α → 1 the KL divergence, α = ∞ log max_i p_i/q_i. Terms
    with p_i = 0 contribute nothing (for α > 0); q_i = 0 < p_i gives +inf for α ≥ 1.
    """
    p, q = _pair(p, q, axis)
    alpha = _order(alpha, p.dtype)
    pm, qm = jnp.moveaxis(p, axis, -1), jnp.moveaxis(q, axis, -1)
    a = alpha[..., None]
    special = (a == 1) | jnp.isinf(a) | (a == 0)
    a_safe = jnp.where(special, 2.0, a)
    log_terms = jnp.where(pm > 0, a_safe * _safe_log(pm) + (1 - a_safe) * _safe_log(qm), -jnp.inf)
    generic = logsumexp(log_terms, axis=-1) / (a_safe[..., 0] - 1)
    kl = jnp.sum(xlogy(pm, pm) - xlogy(pm, qm), -1)
    ratio = jnp.where(pm > 0, _safe_log(pm) - _safe_log(qm), -jnp.inf)
    max_ratio = jnp.max(ratio, -1)
    zero_order = -jnp.log(jnp.sum(jnp.where(pm > 0, qm, 0), -1))
    a0 = a[..., 0]
    out = jnp.where(
        a0 == 1, kl, jnp.where(jnp.isinf(a0), max_ratio, jnp.where(a0 == 0, zero_order, generic))
    )
    return _in_base(out, base)


def renyi_cross_entropy(
    p: ArrayLike, q: ArrayLike, alpha: ArrayLike, axis: int = -1, base: float | None = None
) -> Float[Array, "..."]:
    """Rényi cross-entropy H_α(p; q) = log(Σ p q^{α−1}) / (1 − α), α ≥ 0.

    This is the form in Yang et al. (ISIT 2024): for r = log q, the tilt's cumulant generating
    function is Λ(λ) = −λ H_{1+λ}(p; q). α → 1 gives the cross-entropy H(p, q); α = ∞ gives
    −log max_{i: p_i>0} q_i; H_α(p; p) is the Rényi entropy.
    """
    p, q = _pair(p, q, axis)
    alpha = _order(alpha, p.dtype)
    pm, qm = jnp.moveaxis(p, axis, -1), jnp.moveaxis(q, axis, -1)
    a = alpha[..., None]
    a_safe = jnp.where((a == 1) | jnp.isinf(a), 2.0, a)
    log_terms = jnp.where(pm > 0, _safe_log(pm) + (a_safe - 1) * _safe_log(qm), -jnp.inf)
    generic = logsumexp(log_terms, axis=-1) / (1 - a_safe[..., 0])
    ce = -jnp.sum(xlogy(pm, qm), -1)
    max_q = -jnp.max(jnp.where(pm > 0, _safe_log(qm), -jnp.inf), -1)
    a0 = a[..., 0]
    out = jnp.where(a0 == 1, ce, jnp.where(jnp.isinf(a0), max_q, generic))
    return _in_base(out, base)


def tsallis_entropy(p: ArrayLike, q: ArrayLike, axis: int = -1) -> Float[Array, "..."]:
    """Tsallis entropy S_q(p) = (1 − Σ p^q) / (q − 1), q > 0 (q → 1: Shannon, in nats).

    ``q`` broadcasts against the batch shape like ``alpha`` in :func:`renyi_entropy`.
    """
    p = _float(p, "p")
    axis = _check_axis(p, axis, "p")
    q = _order(q, p.dtype, "q")
    pm = jnp.moveaxis(p, axis, -1)
    qq = q[..., None]
    q_safe = jnp.where(qq == 1, 2.0, qq)
    power = jnp.where(pm > 0, jnp.exp(q_safe * _safe_log(pm)), 0)
    generic = (1 - jnp.sum(power, -1)) / (q_safe[..., 0] - 1)
    return jnp.where(q == 1, jnp.sum(entr(pm), -1), generic)


def _cov_factor(cov: Array, name: str) -> Array:
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"{name} must be (..., d, d) covariance matrices, got shape {cov.shape}")
    return jnp.linalg.cholesky(cov)


def gaussian_entropy(
    cov: ArrayLike | None = None, *, var: ArrayLike | None = None, base: float | None = None
) -> Float[Array, "..."]:
    """Differential entropy of N(μ, Σ): ½ log det(2πe Σ) = ½ d log(2πe) + ½ log det Σ.

    Give either a full covariance ``cov`` (..., d, d) (via Cholesky; non-positive-definite gives
    NaN, which callers should check) or the diagonal ``var`` (..., d).
    """
    if (cov is None) == (var is None):
        raise ValueError("give exactly one of cov (full covariance) or var (diagonal variances)")
    if var is not None:
        v = _float(var, "var")
        _check_axis(v, -1, "var")
        d = v.shape[-1]
        logdet = jnp.sum(jnp.log(v), -1)
    else:
        c = _float(cov, "cov")
        chol = _cov_factor(c, "cov")
        d = c.shape[-1]
        logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), -1)
    dtype = logdet.dtype
    h = 0.5 * d * jnp.log(jnp.asarray(2 * jnp.pi * jnp.e, dtype)) + 0.5 * logdet
    return _in_base(h, base)


def gaussian_kl(
    mean0: ArrayLike,
    cov0: ArrayLike,
    mean1: ArrayLike,
    cov1: ArrayLike,
    *,
    diagonal: bool = False,
    base: float | None = None,
) -> Float[Array, "..."]:
    """KL(N(μ0, Σ0) ‖ N(μ1, Σ1)) = ½[tr(Σ1⁻¹Σ0) + (μ1−μ0)ᵀΣ1⁻¹(μ1−μ0) − d + log det Σ1/det Σ0].

    With ``diagonal=True`` the covariances are given as variances of shape (..., d).
    """
    m0, m1 = _float(mean0, "mean0"), _float(mean1, "mean1")
    s0, s1 = _float(cov0, "cov0"), _float(cov1, "cov1")
    if m0.shape[-1:] != m1.shape[-1:]:
        raise ValueError(
            f"mean0 and mean1 must have the same dimension, got {m0.shape}, {m1.shape}"
        )
    d = m0.shape[-1]
    diff = m1 - m0
    if diagonal:
        if s0.shape[-1] != d or s1.shape[-1] != d:
            raise ValueError(f"with diagonal=True, cov0/cov1 must be (..., {d}) variances")
        trace = jnp.sum(s0 / s1, -1)
        maha = jnp.sum(diff**2 / s1, -1)
        logdet = jnp.sum(jnp.log(s1), -1) - jnp.sum(jnp.log(s0), -1)
    else:
        if s0.shape[-2:] != (d, d) or s1.shape[-2:] != (d, d):
            raise ValueError(f"cov0/cov1 must be (..., {d}, {d}), got {s0.shape}, {s1.shape}")
        l0, l1 = _cov_factor(s0, "cov0"), _cov_factor(s1, "cov1")
        solve = jax.scipy.linalg.solve_triangular
        a = solve(l1, l0, lower=True)
        trace = jnp.sum(a**2, axis=(-2, -1))
        b = solve(l1, diff[..., None], lower=True)[..., 0]
        maha = jnp.sum(b**2, -1)
        logdet = 2 * (
            jnp.sum(jnp.log(jnp.diagonal(l1, axis1=-2, axis2=-1)), -1)
            - jnp.sum(jnp.log(jnp.diagonal(l0, axis1=-2, axis2=-1)), -1)
        )
    return _in_base(0.5 * (trace + maha - d + logdet), base)
