"""Integration backends for flows: one joint adaptive solve of a ``(B, d)`` batch, fixed-step
RK4, and the SDE for ``noise > 0`` (used by :func:`make_trajectory`).

Each backend is an ``eqx.Module`` mapping initial conditions ``(B, d)`` to ``(ys (B, n, d),
success (B,))``, so that :func:`jentropy.parallel.map_over_devices` can split a batch over devices
and repeated calls reuse the compiled program. The joint adaptive solve goes through
:func:`jentropy.integrate.solve_ode` with ``batched=True``, whose step-size controller takes the
*largest* per-member error norm: every member meets ``rtol``/``atol`` on its own, as if solved
alone (an RMS over the batch would let single members drift).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array


class _FlowField(eqx.Module):
    """``(t, y, (p, mean, std)) -> f(y·std + mean, t, p) / std`` (identity scaling when not
    standardizing); a module so that repeated calls hit the same compiled solve."""

    fn: Callable = eqx.field(static=True)

    def __call__(self, t, y, args):
        p, mean, std = args
        return self.fn(y * std + mean, t, p) / std


class _Diffusion(eqx.Module):
    """Additive noise ``noise · σ_i`` per coordinate (in the integration coordinates)."""

    def __call__(self, t, y, args):
        return jnp.broadcast_to(args[3], y.shape)


class _Drift(eqx.Module):
    fn: Callable = eqx.field(static=True)

    def __call__(self, t, y, args):
        return _FlowField(self.fn)(t, y, args[:3])


class _JointSolve(eqx.Module):
    """``y0 (B, d) -> (ys (B, n, d), success (B,))``: one joint solve (a module, so that the
    sharded path's compiled program is reused across calls)."""

    field: _FlowField
    ts: Array
    args: tuple
    solver: str = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __call__(self, y0):
        from jentropy import integrate

        sol = integrate.solve_ode(
            self.field, y0, self.ts, args=self.args, solver=self.solver, rtol=self.rtol,
            atol=self.atol, max_steps=self.max_steps, batched=True,
        )  # fmt: skip
        return sol.ys, sol.success


def solve_flow(system, z0, ts, args, rtol, atol, solver, max_steps, batched, shard):
    solve = _JointSolve(_FlowField(system.fn), ts, args, solver, rtol, atol, max_steps)
    if not batched:
        ys, ok = solve(z0[None])
        return ys[0], ok[0]
    from ._ensemble import maybe_sharded

    return maybe_sharded(solve, z0, shard)


class _Batched(eqx.Module):
    """A per-instance vector field applied to every row of a ``(B, d)`` state."""

    field: _FlowField

    def __call__(self, t, y, args):
        return jax.vmap(self.field, in_axes=(None, 0, None))(t, y, args)


class _RK4Solve(eqx.Module):
    """``y0 (B, d) -> (ys (B, n, d), success (B,))`` by fixed-step RK4 (``n_sub`` steps per
    output interval)."""

    field: _Batched
    step: Array
    args: tuple
    n_steps: int = eqx.field(static=True)
    n_sub: int = eqx.field(static=True)

    def __call__(self, y0):
        from jentropy import integrate

        _, ys = integrate.rk4(
            self.field, y0, self.step, self.n_steps, save_every=self.n_sub, args=self.args
        )
        ys = jnp.moveaxis(ys, 0, 1)
        return ys, jnp.all(jnp.isfinite(ys), axis=(-2, -1))


def solve_rk4(system, z0, ts, span, args, dt, batched, shard):
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt!r}")
    spacing = span / (ts.shape[0] - 1)  # a Python float, also under jit
    sub = max(1, math.ceil(spacing / dt - 1e-9))
    step = jnp.asarray(spacing / sub, z0.dtype)
    solve = _RK4Solve(_Batched(_FlowField(system.fn)), step, args, (ts.shape[0] - 1) * sub, sub)
    if not batched:
        ys, ok = solve(z0[None])
        return ys[0], ok[0]
    from ._ensemble import maybe_sharded

    return maybe_sharded(solve, z0, shard)


def solve_noisy(system, z0, ts, span, args, noise, key, batched, dt=None):
    from jentropy import integrate

    dtype = z0.dtype
    dt = min(system.dt if dt is None else dt, span / (ts.shape[0] - 1))
    n_steps = math.ceil(span / dt) + 16
    # noise·σ_i per physical coordinate (σ: the stored attractor std); the integration
    # coordinates are x/1 or (x − μ)/σ, so the amplitude there is noise·σ_i / std_i
    sigma = system.metadata.get("std")
    sigma = jnp.ones((system.dim,), dtype) if sigma is None else jnp.asarray(sigma, dtype)
    amp = noise * sigma / args[2]
    sol = integrate.solve_sde(
        _Drift(system.fn), _Diffusion(), z0 if batched else z0[None], ts, key=key,
        dt=jnp.asarray(dt, dtype), args=(*args, amp), solver="heun", batched=True,
        max_steps=n_steps,
    )  # fmt: skip
    return (sol.ys, sol.success) if batched else (sol.ys[0], sol.success[0])
