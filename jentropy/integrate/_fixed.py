"""Fixed-step ``lax.scan`` integrators: :func:`rk4`, :func:`heun`, :func:`euler` for ODEs and
:func:`euler_maruyama` for diagonal-noise Itô SDEs.

An ODE method is its step function ``step(f, t, y, dt, args) -> y_next`` plus the public wrapper
that :func:`_fixed_step_integrator` builds around it (checks, the scan, the docstring), so the
three ODE integrators share one signature and one set of argument checks.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from ..tree import random_normal_like
from ._common import VectorField, _as_state, _check_key, _check_output, _check_steps


def _scan(advance, y0, n_steps, save_every):
    """Apply ``advance(k, y)`` for k = 0..n_steps-1, keeping y0 and every save_every-th state."""

    def inner(carry, _):
        k, y = carry
        return (k + 1, advance(k, y)), None

    def outer(carry, _):
        carry, _ = jax.lax.scan(inner, carry, None, length=save_every)
        return carry, carry[1]

    _, ys = jax.lax.scan(outer, (jnp.zeros((), jnp.int32), y0), None, length=n_steps // save_every)
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), y0, ys)


def _save_times(t0, dt, n_steps, save_every):
    return t0 + jnp.arange(0, n_steps + 1, save_every).astype(dt.dtype) * dt


@eqx.filter_jit
def _fixed_ode(step, f, y0, dt, t0, args, n_steps, save_every):
    def advance(k, y):
        return step(f, t0 + k.astype(dt.dtype) * dt, y, dt, args)

    return _save_times(t0, dt, n_steps, save_every), _scan(advance, y0, n_steps, save_every)


_FIXED_DOC = """Fixed-step {name} for ``dy/dt = f(t, y, args)`` as one ``lax.scan`` ({order}).

    ``{update}``, with ``t_k = t0 + k dt`` computed from the step index (no drift in ``t``).

    Args:
        f: ``f(t, y, args)`` for one instance; ``y`` any pytree of floating arrays.
        y0: initial state (its dtype is kept; ``dt`` and ``t0`` are cast to it).
        dt: step; negative integrates backwards in time. May be traced.
        n_steps: number of steps (a Python int; a multiple of ``save_every``).
        args: passed to ``f``.
        t0: initial time.
        save_every: keep every ``save_every``-th state.

    Returns:
        ``(ts, ys)``: ``ts`` shape ``(n_steps // save_every + 1,)`` and ``ys`` leaves
        ``(n_steps // save_every + 1, ...)``, both starting with ``t0`` and ``y0``.

    Example::

        ts, ys = {name}(lambda t, y, a: -y, jnp.ones(2), 0.01, 100, save_every=10)
        ys.shape        # (11, 2); ys[-1] ≈ exp(-1)
    """


def _fixed_step_integrator(step, name: str, *, order: str, update: str):
    """The public integrator ``name`` that advances with ``step`` (``update`` and ``order`` go
    into its docstring)."""

    def integrator(
        f: VectorField,
        y0: PyTree,
        dt: float,
        n_steps: int,
        *,
        args: Any = None,
        t0: float = 0.0,
        save_every: int = 1,
    ) -> tuple[Float[Array, " save"], PyTree]:
        y0, dtype = _as_state(y0)
        dt = jnp.asarray(dt).astype(dtype)
        t0 = jnp.asarray(t0).astype(dtype)
        _check_steps(dt, n_steps, save_every, name, signed=True)
        _check_output(f, "f", t0, y0, args, y0)
        return _fixed_ode(step, f, y0, dt, t0, args, int(n_steps), int(save_every))

    integrator.__name__ = integrator.__qualname__ = name
    integrator.__doc__ = _FIXED_DOC.format(name=name, order=order, update=update)
    return integrator


def _euler_step(f, t, y, dt, args):
    return jax.tree_util.tree_map(lambda v, k: v + dt * k, y, f(t, y, args))


def _heun_step(f, t, y, dt, args):
    k1 = f(t, y, args)
    k2 = f(t + dt, jax.tree_util.tree_map(lambda v, a: v + dt * a, y, k1), args)
    return jax.tree_util.tree_map(lambda v, a, b: v + dt / 2 * (a + b), y, k1, k2)


def _rk4_step(f, t, y, dt, args):
    half = dt / 2
    k1 = f(t, y, args)
    k2 = f(t + half, jax.tree_util.tree_map(lambda v, a: v + half * a, y, k1), args)
    k3 = f(t + half, jax.tree_util.tree_map(lambda v, a: v + half * a, y, k2), args)
    k4 = f(t + dt, jax.tree_util.tree_map(lambda v, a: v + dt * a, y, k3), args)
    return jax.tree_util.tree_map(
        lambda v, a, b, c, d: v + dt / 6 * (a + 2 * b + 2 * c + d), y, k1, k2, k3, k4
    )


rk4 = _fixed_step_integrator(
    _rk4_step,
    "rk4",
    order="classical Runge–Kutta, global error O(dt⁴)",
    update="y_{k+1} = y_k + dt/6 (k1 + 2 k2 + 2 k3 + k4)",
)
heun = _fixed_step_integrator(
    _heun_step,
    "heun",
    order="explicit trapezoidal rule, global error O(dt²)",
    update="y_{k+1} = y_k + dt/2 (f(t_k, y_k) + f(t_k + dt, y_k + dt f(t_k, y_k)))",
)
euler = _fixed_step_integrator(
    _euler_step,
    "euler",
    order="forward Euler, global error O(dt)",
    update="y_{k+1} = y_k + dt f(t_k, y_k)",
)


@eqx.filter_jit
def _fixed_sde(drift, diffusion, y0, dt, t0, args, key, n_steps, save_every):
    sqrt_dt = jnp.sqrt(dt)

    def advance(k, y):
        t = t0 + k.astype(dt.dtype) * dt
        z = random_normal_like(jax.random.fold_in(key, k), y)
        f, g = drift(t, y, args), diffusion(t, y, args)
        return jax.tree_util.tree_map(lambda v, a, b, e: v + dt * a + sqrt_dt * b * e, y, f, g, z)

    return _save_times(t0, dt, n_steps, save_every), _scan(advance, y0, n_steps, save_every)


def euler_maruyama(
    drift: VectorField,
    diffusion: VectorField,
    y0: PyTree,
    dt: float,
    n_steps: int,
    *,
    key: PRNGKeyArray,
    args: Any = None,
    t0: float = 0.0,
    save_every: int = 1,
) -> tuple[Float[Array, " save"], PyTree]:
    r"""Fixed-step Euler–Maruyama for the Itô SDE ``dy = f dt + g dW`` with diagonal noise.

    ``y_{k+1} = y_k + f(t_k, y_k) dt + g(t_k, y_k) ⊙ sqrt(dt) ξ_k``, ``ξ_k ~ N(0, I)`` drawn
    from ``fold_in(key, k)`` (per leaf), so the path depends only on ``key`` and ``dt``, not
    on ``save_every``. Strong order 0.5, weak order 1. For batches, ``jax.vmap`` over
    ``(y0, key)`` with keys from ``jax.random.split`` (fixed steps vectorise at no extra cost).

    Args:
        drift: ``f(t, y, args)`` for one instance, shaped like ``y``.
        diffusion: ``g(t, y, args)``, the elementwise noise scale, shaped like ``y``.
        y0: initial state, any pytree of floating arrays.
        dt: positive step; ``n_steps``, ``save_every``, ``t0``, ``args`` as in :func:`rk4`.
        key: PRNG key.

    Returns:
        ``(ts, ys)`` with the initial state first, as in :func:`rk4`.

    Example::

        ts, ys = euler_maruyama(lambda t, y, a: -y, lambda t, y, a: jnp.ones_like(y),
                                jnp.zeros(2), 0.01, 1000, key=key, save_every=100)
    """
    fn = "euler_maruyama"
    key = _check_key(key, fn)
    y0, dtype = _as_state(y0)
    dt = jnp.asarray(dt).astype(dtype)
    t0 = jnp.asarray(t0).astype(dtype)
    _check_steps(dt, n_steps, save_every, fn)
    _check_output(drift, "drift", t0, y0, args, y0)
    _check_output(diffusion, "diffusion", t0, y0, args, y0)
    return _fixed_sde(drift, diffusion, y0, dt, t0, args, key, int(n_steps), int(save_every))
