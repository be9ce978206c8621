"""Score-matching objectives for one example, written for a score s(y; context) of y.

* :func:`denoising_score_matching` — |s(y + σζ)|² + 2 s(y + σζ)·ζ_y/σ averaged over noise
  levels σ, with the antithetic partner −ζ (the paper's per-particle MIPS loss; its minimiser is
  the score of the density smoothed at scale σ). The context (neighbours) is perturbed too.
* :func:`hyvarinen_score_matching` — |s|² + 2 ∇_y·s (implicit score matching; exact, no noise).
* :func:`fokker_planck_residual` — (∇·v + v·s)² with v = b − D s, which vanishes for the
  stationary score (for full-state scores of small systems).

A flat score model ``f(z)`` is used as ``score_fn = lambda y, _: f(y)`` with context None; the
local transformer provides ``model.score_fn(y, patch)`` and ``model.scored(patch)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from jentropy.tree import random_normal_like

ScoreFn = Callable[[Array, Any], Array]


def _add(tree: Any, noise: Any, scale: Array) -> Any:
    return jax.tree_util.tree_map(lambda a, b: a + scale * b, tree, noise)


def denoising_score_matching(
    score_fn: ScoreFn,
    y: Float[Array, " m"],
    context: Any,
    key: PRNGKeyArray,
    *,
    sigmas: Sequence[float] = (1e-2, 1e-3),
    antithetic: bool = True,
    perturb_context: bool = True,
) -> Float[Array, ""]:
    """Denoising score-matching loss of one example (the paper's MIPS objective).

    For each σ: ζ ~ N(0, I) on y (and on the floating leaves of ``context`` when
    ``perturb_context``), ℓ(σ, ζ) = |s(y + σζ)|² + 2 s(y + σζ)·ζ_y/σ; antithetic pairs average
    ℓ(σ, ζ) and ℓ(σ, −ζ), which cancels the O(1/σ) variance of the cross term. Its expectation
    is E|s − ∇ log ρ_σ|² minus a constant.

    Args:
        score_fn: ``score_fn(y, context) -> s`` with s shaped like y.
        y: (m,) the scored coordinates (g_i, or a whole small state).
        context: anything else the score depends on (a :class:`Patch`, or None).
        key: PRNG key for ζ.
        sigmas: noise levels (the paper: 1e-2 and 1e-3); the loss is their mean.
        antithetic: use ±ζ pairs.
        perturb_context: perturb the context as well (the whole state is noised).

    Returns:
        The scalar loss.

    Example::

        loss = jnp.mean(jax.vmap(lambda z, k: denoising_score_matching(
            lambda y, _: model(y), z, None, k))(zs, jax.random.split(key, len(zs))))
    """
    if len(sigmas) == 0:
        raise ValueError("sigmas must hold at least one noise level")
    total = jnp.zeros((), y.dtype)
    for i, sigma in enumerate(sigmas):
        ky, kc = jax.random.split(jax.random.fold_in(key, i))
        zeta = jax.random.normal(ky, y.shape, y.dtype)
        ctx_noise = (
            random_normal_like(kc, context) if perturb_context and context is not None else None
        )
        signs = (1.0, -1.0) if antithetic else (1.0,)
        for sign in signs:
            scale = jnp.asarray(sign * sigma, y.dtype)
            ctx = context if ctx_noise is None else _add(context, ctx_noise, scale)
            s = score_fn(y + scale * zeta, ctx)
            total = total + (jnp.sum(s * s) + 2.0 * jnp.sum(s * zeta) / scale) / len(signs)
    return total / len(sigmas)


def divergence(score_fn: ScoreFn, y: Float[Array, " m"], context: Any) -> Float[Array, ""]:
    """∇_y · s(y; context) = tr ∂s/∂y by ``jax.jacfwd`` (m tangents).

    Example::

        divergence(lambda y, _: -y, jnp.ones(3), None)        # -3.0
    """
    return jnp.trace(jax.jacfwd(lambda v: score_fn(v, context))(y))


def hyvarinen_score_matching(
    score_fn: ScoreFn, y: Float[Array, " m"], context: Any = None
) -> Float[Array, ""]:
    """Implicit (Hyvärinen) score matching of one example: |s(y)|² + 2 ∇_y·s(y).

    Its expectation is E|s − ∇ log ρ|² minus a constant; no noise, exact divergence (m jvps).

    Example::

        loss = jnp.mean(jax.vmap(lambda z: hyvarinen_score_matching(lambda y, _: f(y), z))(zs))
    """
    jac, s = jax.jacfwd(lambda v: (score_fn(v, context),) * 2, has_aux=True)(y)
    return jnp.sum(s * s) + 2.0 * jnp.trace(jac)


def fokker_planck_residual(
    score_fn: ScoreFn,
    drift_fn: Callable[[Array], Array],
    diffusion: Float[Array, " n"],
    z: Float[Array, " n"],
    context: Any = None,
) -> Float[Array, ""]:
    """Squared stationary Fokker–Planck residual (∇·v + v·s)² at z, v = b − D s (the paper's
    PINN-style alternative; the exact score makes it vanish everywhere).

    Only sensible for scores of the whole state (small systems): ∇·v needs every coordinate.
    Combine it with a score-matching term, since (for instance) the residual alone does not
    pin down the normalisation-free parts of s.

    Example::

        loss = jnp.mean(jax.vmap(lambda z: fokker_planck_residual(f2, drift, D, z))(zs))
    """
    d = jnp.asarray(diffusion, z.dtype)

    def velocity(v: Array) -> Array:
        return drift_fn(v) - d * score_fn(v, context)

    jac, v = jax.jacfwd(lambda u: (velocity(u),) * 2, has_aux=True)(z)
    s = score_fn(z, context)
    return (jnp.trace(jac) + jnp.sum(v * s)) ** 2
