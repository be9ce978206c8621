"""Numerical building blocks: log(1 − eˣ), guarded logs, and a safeguarded monotone root finder."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

_LOG_HALF = -0.6931471805599453


def log1mexp(x: Float[Array, "..."]) -> Float[Array, "..."]:
    """log(1 − eˣ) for x ≤ 0, accurate at both ends (Mächler's switch at x = −log 2).

    ``x = 0`` gives −inf, ``x = −inf`` gives 0; gradients stay finite away from x = 0.
    """
    near = x > _LOG_HALF
    x_near = jnp.where(near, x, _LOG_HALF)
    x_far = jnp.where(near, _LOG_HALF, x)
    return jnp.where(near, jnp.log(-jnp.expm1(x_near)), jnp.log1p(-jnp.exp(x_far)))


def neg_exp_of_log(log_scale: Array, value: Array) -> Array:
    """exp(log_scale) · value for value ≤ 0, evaluated as −exp(log_scale + log(−value)).

    This is how N·log F is formed when only log N is known (N = e^{nδ} overflows for long
    sequences). ``value = 0`` gives 0 and ``value = −inf`` gives −inf, with finite gradients.
    """
    zero = value == 0
    minus_inf = jnp.isneginf(value)
    safe = jnp.where(zero | minus_inf, -1.0, value)
    out = -jnp.exp(log_scale + jnp.log(-safe))
    return jnp.where(zero, jnp.zeros_like(out), jnp.where(minus_inf, -jnp.inf, out))


def masked_logsumexp(x: Array, mask: Array, axis: int = -1) -> Array:
    """logsumexp over the entries where ``mask`` holds (−inf when none do), gradient-safe."""
    x = jnp.where(mask, x, -jnp.inf)
    m = jnp.max(x, axis=axis, keepdims=True)
    m_safe = jnp.where(jnp.isfinite(m), m, 0)
    s = jnp.sum(jnp.where(mask, jnp.exp(x - m_safe), 0), axis=axis)
    s_safe = jnp.where(s > 0, s, 1)
    return jnp.where(s > 0, jnp.log(s_safe) + jnp.squeeze(m_safe, axis), -jnp.inf)


def _rtsafe(
    f: Callable[[Array], Array],
    x0: Array,
    lo: Array,
    hi: Array,
    max_iter: int,
) -> Array:
    """Newton steps kept inside the bracket [lo, hi] (f(lo) ≤ 0 ≤ f(hi), f increasing).

    Falls back to bisection whenever a Newton step leaves the bracket or the derivative vanishes,
    so it converges for any increasing f; stops when the bracket or the step is at machine
    precision, or f(x) = 0.
    """
    eps = jnp.finfo(x0.dtype).eps
    tol = lambda x: 4 * eps * jnp.maximum(jnp.abs(x), jnp.finfo(x0.dtype).tiny)  # noqa: E731

    def value_and_slope(x: Array) -> tuple[Array, Array]:
        return jax.jvp(f, (x,), (jnp.ones_like(x),))

    def cond(state: tuple) -> Array:
        i, x, lo, hi, fx, step = state
        open_bracket = (hi - lo) > tol(x)
        return (i < max_iter) & open_bracket & (fx != 0) & (jnp.abs(step) > tol(x))

    def body(state: tuple) -> tuple:
        i, x, lo, hi, fx, _ = state
        _, slope = value_and_slope(x)
        slope_ok = jnp.isfinite(slope) & (slope > 0)
        newton = x - fx / jnp.where(slope_ok, slope, 1)
        use_newton = slope_ok & (newton > lo) & (newton < hi) & jnp.isfinite(newton)
        x_new = jnp.where(use_newton, newton, 0.5 * (lo + hi))
        f_new = f(x_new)
        lo = jnp.where(f_new < 0, x_new, lo)
        hi = jnp.where(f_new > 0, x_new, hi)
        return i + 1, x_new, lo, hi, f_new, x_new - x

    x0 = jnp.clip(x0, lo, hi)
    init = (jnp.asarray(0), x0, lo, hi, f(x0), jnp.asarray(jnp.inf, x0.dtype))
    _, x, *_ = jax.lax.while_loop(cond, body, init)
    return x


def increasing_root(
    f: Callable[[Array], Array],
    x0: Array,
    *,
    lower_bounded: bool,
    scale: Array,
    max_doublings: int = 64,
    max_iter: int = 200,
) -> Array:
    """Root of an increasing scalar function f, differentiable by the implicit function theorem.

    The bracket starts at ±``scale`` (or [0, scale] when ``lower_bounded``, where f(0) ≤ 0 is
    assumed) and doubles until it holds the root; then :func:`_rtsafe` refines it. Gradients
    with respect to anything ``f`` closes over come from ``lax.custom_root`` (dx = −∂f / f'(x)).

    Returns NaN when no sign change was found within ``max_doublings`` (callers turn that into
    an error with ``eqx.error_if``; it only happens for targets at the edge of the range that
    the dtype cannot resolve).
    """

    def needs_growth(fn: Callable[[Array], Array], lo: Array, hi: Array) -> tuple[Array, Array]:
        grow_hi = fn(hi) < 0
        grow_lo = jnp.zeros_like(grow_hi) if lower_bounded else fn(lo) > 0
        return grow_lo, grow_hi

    def solve(fn: Callable[[Array], Array], guess: Array) -> Array:
        def cond(state: tuple) -> Array:
            k, lo, hi = state
            grow_lo, grow_hi = needs_growth(fn, lo, hi)
            return (k < max_doublings) & (grow_lo | grow_hi)

        def body(state: tuple) -> tuple:
            k, lo, hi = state
            grow_lo, grow_hi = needs_growth(fn, lo, hi)
            # an end that moves past the root leaves the other end as a valid bound
            new_hi = jnp.where(grow_hi, 2 * hi, jnp.where(grow_lo, lo, hi))
            new_lo = jnp.where(grow_lo, 2 * lo, jnp.where(grow_hi, hi, lo))
            return k + 1, new_lo, new_hi

        lo0 = jnp.zeros_like(scale) if lower_bounded else -scale
        _, lo, hi = jax.lax.while_loop(cond, body, (jnp.asarray(0), lo0, scale))
        grow_lo, grow_hi = needs_growth(fn, lo, hi)
        root = _rtsafe(fn, guess, lo, hi, max_iter)
        return jnp.where(grow_lo | grow_hi, jnp.nan, root)

    def tangent_solve(g: Callable[[Array], Array], y: Array) -> Array:
        return y / g(jnp.ones_like(y))

    return jax.lax.custom_root(f, x0, solve, tangent_solve)
