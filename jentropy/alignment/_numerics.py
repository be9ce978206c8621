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
    zero = x >= 0
    x_near = jnp.where(near & ~zero, x, _LOG_HALF)
    x_far = jnp.where(near, _LOG_HALF, x)
    out = jnp.where(near, jnp.log(-jnp.expm1(x_near)), jnp.log1p(-jnp.exp(x_far)))
    return jnp.where(zero, -jnp.inf, out)


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


def increasing_root(
    f: Callable[[Array], Array],
    f_and_slope: Callable[[Array], tuple[Array, Array]],
    x0: Array,
    *,
    lower_bounded: bool,
    scale: Array,
    max_iter: int = 200,
) -> Array:
    """Root of an increasing scalar function f, differentiable by the implicit function theorem.

    One loop, one evaluation of (f, f') per step: Newton steps kept inside the current bracket
    [lo, hi], bisection when a step leaves it, and bracket growth (steps of at most 4× the
    current magnitude) while one end is still unbounded. With ``lower_bounded`` the root is
    sought in [0, ∞) and f(0) ≤ 0 is assumed. Gradients with respect to anything ``f`` closes
    over come from ``lax.custom_root`` (dx = −∂f / f'(x)); ``f_and_slope`` (the value and the
    derivative in x, e.g. in closed form) drives the iteration only.

    Returns NaN when the iteration did not bracket and converge within ``max_iter`` steps
    (callers turn that into an error with ``eqx.error_if``; it only happens for targets at the
    edge of the range that the dtype cannot resolve).
    """
    dtype = x0.dtype
    eps = jnp.finfo(dtype).eps
    tiny = jnp.finfo(dtype).tiny
    inf = jnp.asarray(jnp.inf, dtype)

    def solve(_: Callable[[Array], Array], guess: Array) -> Array:
        # state: the point x to evaluate next, the bracket, and the last point's (x, f)
        def cond(state: tuple) -> Array:
            i, _, _, _, done = state
            return (i < max_iter) & ~done

        def body(state: tuple) -> tuple:
            i, x, lo, hi, _ = state
            fx, dfx = f_and_slope(x)
            lo = jnp.where(fx < 0, x, lo)
            hi = jnp.where(fx > 0, x, hi)
            slope_ok = jnp.isfinite(dfx) & (dfx > 0)
            newton = x - fx / jnp.where(slope_ok, dfx, 1)
            reach = 4 * jnp.maximum(jnp.abs(x), scale)  # growth cap while an end is open
            newton = jnp.clip(newton, x - reach, x + reach)
            inside = slope_ok & (newton > lo) & (newton < hi)
            bounded = jnp.isfinite(lo) & jnp.isfinite(hi)
            # no sign change yet: step towards the open end (all f < 0: right; all f > 0: left)
            grow = jnp.where(jnp.isfinite(hi), x - reach, x + reach)
            x_new = jnp.where(inside, newton, jnp.where(bounded, 0.5 * (lo + hi), grow))
            tol = 4 * eps * jnp.maximum(jnp.abs(x), tiny)
            done = (fx == 0) | ((hi - lo) <= tol) | (jnp.abs(x_new - x) <= tol)
            return i + 1, jnp.where(done, x, x_new), lo, hi, done | ~jnp.isfinite(x_new)

        x0 = jnp.maximum(guess, 0) if lower_bounded else guess
        lo0 = jnp.zeros_like(x0) if lower_bounded else -inf
        init = (jnp.asarray(0), x0, lo0, inf, jnp.asarray(False))
        _, x, _, _, done = jax.lax.while_loop(cond, body, init)
        return jnp.where(done & jnp.isfinite(x), x, jnp.nan)

    def tangent_solve(g: Callable[[Array], Array], y: Array) -> Array:
        return y / g(jnp.ones_like(y))

    return jax.lax.custom_root(f, x0, solve, tangent_solve)
