r"""Method of steps for scalar delay equations ``x'(t) = f(x(t), x(t − τ), t)`` (diffrax has none).

The step ``h = τ/m`` divides the delay, so every delayed time ``t_k − τ`` is a past grid point and
every RK4 half-step ``t_k + h/2 − τ`` is the midpoint of a past step. The history is kept dense as
a cubic Hermite interpolant through the stored values and slopes ``(x_j, f_j)``: at a midpoint
it is ``(x_j + x_{j+1})/2 + h (f_j − f_{j+1})/8``, accurate to ``O(h⁴)`` — the order of RK4, so
the scheme is fourth-order convergent (the derivative jumps at ``0, τ, 2τ …`` fall on grid
points, where no stage straddles them). The last ``m + 1`` values and slopes live in a ring
buffer carried through ``lax.scan``; the state of the discretised system is that buffer, which
is also what the Lyapunov code linearises. The history before ``t = 0`` is constant (dysts's
convention).

Reference for the method of steps with Hermite interpolation: A. Bellen & M. Zennaro, *Numerical
Methods for Delay Differential Equations*, Oxford (2003), ch. 3–4.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ._system import System


class Ring(NamedTuple):
    """The discretised state: values ``x`` and slopes ``f`` at the last ``m + 1`` grid points
    (slot ``k mod (m+1)`` holds grid point ``k``) and the constant pre-history value."""

    x: Array
    f: Array
    history: Array


def scalar_rhs(fn: Callable, p: dict) -> Callable[[Array, Array, Array], Array]:
    """``(x, x_delayed, t) -> x'`` on scalars, from a registry right-hand side on shape (1,)."""

    def f(x, xd, t):
        return jnp.reshape(fn(jnp.reshape(x, (1,)), jnp.reshape(xd, (1,)), t, p), ())

    return f


def init_ring(f: Callable, history: Array, m: int) -> Ring:
    """The ring at ``t = 0``: ``x = history`` everywhere, slope 0 before 0 and ``f`` at 0."""
    x = jnp.full((m + 1,), history)
    slope0 = f(history, history, jnp.zeros((), history.dtype))
    fs = jnp.zeros((m + 1,), history.dtype).at[0].set(slope0)
    return Ring(x, fs, history)


def rk4_step(f: Callable, ring: Ring, k: Array, h: Array, m: int) -> tuple[Ring, Array, Array]:
    """Advance from grid point ``k`` to ``k + 1``; returns the ring and the new ``(x, f)``."""
    size = m + 1
    t = k.astype(h.dtype) * h
    xk = ring.x[k % size]
    old, nxt = (k + 1) % size, (k + 2) % size  # grid points k − m and k − m + 1
    xa, fa, xb, fb = ring.x[old], ring.f[old], ring.x[nxt], ring.f[nxt]
    # the half-step lies in the constant pre-history while k < m
    mid = jnp.where(k < m, ring.history, 0.5 * (xa + xb) + h * (fa - fb) / 8)
    k1 = f(xk, xa, t)
    k2 = f(xk + 0.5 * h * k1, mid, t + 0.5 * h)
    k3 = f(xk + 0.5 * h * k2, mid, t + 0.5 * h)
    k4 = f(xk + h * k3, xb, t + h)
    x_new = xk + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    f_new = f(x_new, xb, t + h)
    ring = Ring(ring.x.at[old].set(x_new), ring.f.at[old].set(f_new), ring.history)
    return ring, x_new, f_new


@eqx.filter_jit
def _solve_grid(fn: Callable, history: Array, p: dict, h: Array, m: int, n_steps: int):
    f = scalar_rhs(fn, p)

    def one(hist):
        ring0 = init_ring(f, hist, m)

        def body(ring, k):
            ring, x, s = rk4_step(f, ring, k, h, m)
            return ring, (x, s)

        _, (xs, fs) = jax.lax.scan(body, ring0, jnp.arange(n_steps))
        return jnp.concatenate([hist[None], xs]), jnp.concatenate([ring0.f[:1], fs])

    return jax.vmap(one)(history)


def hermite(xs: Array, fs: Array, h: Array, history: Array, s: Array) -> Array:
    """Dense output: the cubic Hermite interpolant of grid values/slopes at times ``s``
    (``history`` before 0)."""
    n = xs.shape[0] - 1
    u = s / h
    j = jnp.clip(jnp.floor(u), 0, n - 1).astype(jnp.int32)
    th = u - j.astype(u.dtype)
    xa, xb, fa, fb = xs[j], xs[j + 1], fs[j], fs[j + 1]
    th2, th3 = th * th, th * th * th
    val = (
        (2 * th3 - 3 * th2 + 1) * xa
        + (th3 - 2 * th2 + th) * h * fa
        + (3 * th2 - 2 * th3) * xb
        + (th3 - th2) * h * fb
    )
    return jnp.where(s < 0, history, val)


@functools.partial(jax.jit, static_argnums=(6, 7))
def _embed(xs, fs, h, history, tau, span, n, emb):
    """Columns ``x(s − ℓ)``, lags ``ℓ`` in ``linspace(0, τ, emb)``, ``s`` in
    ``linspace(τ, span + τ, n)``; and per-member success."""
    s = jnp.linspace(tau, span + tau, n, dtype=xs.dtype)
    lags = jnp.linspace(0.0, tau, emb, dtype=xs.dtype)
    times = s[:, None] - lags[None, :]  # (n, emb)
    ys = jax.vmap(lambda x, f, hist: hermite(x, f, h, hist, times))(xs, fs, history)
    success = jnp.all(jnp.isfinite(xs), axis=-1) & jnp.all(jnp.isfinite(ys), axis=(-2, -1))
    return s, ys, success


def delay_of(system: System, p: dict) -> float:
    """The delay ``τ`` (parameter ``tau``) as a Python float (it sets array sizes)."""
    if "tau" not in p:
        raise ValueError(f"{system.name}: a delay equation needs a 'tau' parameter")
    try:
        return float(np.asarray(p["tau"]))
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError) as e:
        raise ValueError("the delay tau sets the grid and cannot be traced") from e


def default_steps_per_delay(system: System, tau: float) -> int:
    """At least 100 steps per delay and 200 per stored period."""
    return max(100, math.ceil(tau / (system.period / 200)))


def solve_delay(
    system: System,
    history: Array,
    t_end: float,
    p: dict,
    *,
    steps_per_delay: int | None = None,
) -> tuple[Array, Array, Array]:
    """Grid solution ``(h, xs, fs)`` on ``[0, ≥ t_end]`` for a ``(B,)`` batch of constant histories.

    ``xs``, ``fs``: ``(B, N + 1)`` values and slopes at ``t_k = k h``.
    """
    tau = delay_of(system, p)
    m = default_steps_per_delay(system, tau) if steps_per_delay is None else steps_per_delay
    if not isinstance(m, int | np.integer) or m < 1:
        raise ValueError(f"steps_per_delay must be a positive int, got {m!r}")
    h = jnp.asarray(tau / m, history.dtype)
    n_steps = max(1, math.ceil(t_end / (tau / m) - 1e-9))
    xs, fs = _solve_grid(system.fn, history, p, h, int(m), int(n_steps))
    return h, xs, fs


def delay_trajectory(
    system: System,
    x0: Array,
    n: int,
    span: float,
    p: dict,
    *,
    batched: bool,
    steps_per_delay: int | None = None,
    embedding_dim: int | None = None,
) -> Any:
    """Delay-embedded trajectory as dysts returns it (see :func:`make_trajectory`)."""
    from ._trajectory import Trajectory

    emb = (
        int(system.metadata.get("embedding_dimension", 10))
        if embedding_dim is None
        else embedding_dim
    )
    if not isinstance(emb, int) or emb < 1:
        raise ValueError(f"embedding_dim must be a positive int, got {embedding_dim!r}")
    history = x0[..., 0] if batched else x0[:1]
    tau = delay_of(system, p)
    h, xs, fs = solve_delay(system, history, span + tau, p, steps_per_delay=steps_per_delay)
    s, ys, success = _embed(
        xs, fs, h, history, jnp.asarray(tau, x0.dtype), jnp.asarray(span, x0.dtype), n, emb
    )
    if not batched:
        ys, success = ys[0], success[0]
    return Trajectory(s, ys, success)
