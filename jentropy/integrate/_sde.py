"""SDE solves on diffrax: :func:`solve_sde` on a ``VirtualBrownianTree``, diagonal or general
noise, and the diagonal Itô–Milstein solver.

Reference: P. E. Kloeden and E. Platen, "Numerical Solution of Stochastic Differential
Equations", Springer (1992).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike, Float, PRNGKeyArray, PyTree

from ._common import (
    VectorField,
    _as_state,
    _batched_inputs,
    _check_key,
    _check_output,
    _concrete,
    _resolve_solver,
    _times,
)
from ._ode import ODESolution, _maybe_raise, _package, _PerMember


class _DiagonalItoMilstein(dfx.AbstractItoSolver):
    r"""Itô–Milstein for diagonal noise whose component ``g_i`` depends on ``y`` through ``y_i``.

    ``y1 = y0 + f Δt + g ΔW + ½ g ∂g/∂y (ΔW² − Δt)`` elementwise (Kloeden & Platen 1992, eq.
    10.3.3). Under that assumption the noise is commutative (no Lévy areas needed) and the
    diagonal of the Jacobian is one JVP with a tangent of ones, so the cost stays O(d).
    """

    term_structure: ClassVar = dfx.MultiTerm[tuple[dfx.AbstractTerm, dfx.AbstractTerm]]
    interpolation_cls: ClassVar = dfx.LocalLinearInterpolation

    def order(self, terms):
        return 1

    def strong_order(self, terms):
        return 1

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        drift, noise = terms.terms
        dt = drift.contr(t0, t1)
        dw = noise.contr(t0, t1)
        f = drift.vf_prod(t0, y0, args, dt)
        ones = jax.tree_util.tree_map(jnp.ones_like, y0)
        g, dg = jax.jvp(lambda y: noise.vf(t0, y, args), (y0,), (ones,))

        def update(y, fi, gi, dgi, dwi):
            return y + fi + gi * dwi + 0.5 * gi * dgi * (dwi * dwi - dt.astype(dwi.dtype))

        y1 = jax.tree_util.tree_map(update, y0, f, g, dg, dw)
        return y1, None, dict(y0=y0, y1=y1), None, dfx.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


#: Solver names accepted by :func:`solve_sde`: ``euler`` and ``milstein`` converge to the Itô
#: solution, ``heun`` and ``euler_heun`` to the Stratonovich one (identical for additive noise).
SDE_SOLVERS: dict[str, type[dfx.AbstractSolver]] = {
    "euler": dfx.Euler,
    "milstein": _DiagonalItoMilstein,
    "heun": dfx.Heun,
    "euler_heun": dfx.EulerHeun,
}


class _NoiseTerm(dfx.AbstractTerm):
    """``g(t, y, args) dW``: elementwise product (diagonal) or ``g @ dW`` (general)."""

    diffusion: Callable
    path: dfx.AbstractPath
    general: bool = eqx.field(static=True)
    batched: bool = eqx.field(static=True)

    def vf(self, t, y, args):
        return self.diffusion(t, y, args)

    def contr(self, t0, t1, **kwargs):
        return self.path.evaluate(t0, t1, **kwargs)

    def prod(self, vf, control):
        if not self.general:
            return jax.tree_util.tree_map(jnp.multiply, vf, control)

        def apply(g, w):
            return jax.tree_util.tree_map(lambda gl: jnp.tensordot(gl, w, axes=w.ndim), g)

        return jax.vmap(apply)(vf, control) if self.batched else apply(vf, control)


@eqx.filter_jit
def _solve_sde(fields, y0, ts, t0, args, key, dt, tol, solver, opts):
    drift, diffusion = fields
    noise_shape, batched, batched_args, max_steps = opts
    if noise_shape is None:
        shape = jax.tree_util.tree_map(lambda v: jax.ShapeDtypeStruct(v.shape, v.dtype), y0)
    else:
        lead = (jax.tree_util.tree_leaves(y0)[0].shape[0],) if batched else ()
        shape = jax.ShapeDtypeStruct(lead + noise_shape, ts.dtype)
    path = dfx.VirtualBrownianTree(t0, ts[-1], tol, shape, key)
    if batched:
        drift, diffusion = _PerMember(drift, batched_args), _PerMember(diffusion, batched_args)
    terms = dfx.MultiTerm(
        dfx.ODETerm(drift), _NoiseTerm(diffusion, path, noise_shape is not None, batched)
    )
    sol = dfx.diffeqsolve(
        terms,
        solver,
        t0,
        ts[-1],
        dt,
        y0,
        args=args,
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=dfx.ConstantStepSize(),
        max_steps=max_steps,
        throw=False,
    )
    return _package(sol, ts, batched)


def solve_sde(
    drift: VectorField,
    diffusion: VectorField,
    y0: PyTree,
    ts: Float[ArrayLike, " time"],
    *,
    key: PRNGKeyArray,
    dt: float,
    args: Any = None,
    t0: ArrayLike | None = None,
    solver: str | dfx.AbstractSolver = "euler",
    noise: str = "diagonal",
    noise_shape: tuple[int, ...] | None = None,
    brownian_tol: float | None = None,
    batched: bool = False,
    batched_args: bool = False,
    max_steps: int | None = None,
    throw: bool = False,
) -> ODESolution:
    r"""Solve ``dy = f(t, y, args) dt + g(t, y, args) dW`` with constant steps ``dt``.

    The Brownian motion ``W`` is a diffrax ``VirtualBrownianTree``: the same ``key`` gives the
    same path whatever ``dt`` is (up to ``brownian_tol``), so runs at different step sizes
    can be compared path by path (strong convergence). For long fixed-step ensembles where
    that is not needed, :func:`euler_maruyama` draws plain increments and is cheaper.

    Args:
        drift: ``f(t, y, args)`` for ONE instance, shaped like ``y``.
        diffusion: ``g(t, y, args)`` for ONE instance. ``noise="diagonal"``: shaped like ``y``,
            the elementwise noise scale (one independent Brownian motion per element).
            ``noise="general"``: each leaf shaped ``leaf.shape + noise_shape``, contracted
            with ``dW`` of shape ``noise_shape`` (``g @ dW`` for a vector state).
        y0, ts, args, t0, batched, batched_args, throw: as in :func:`solve_ode`. Batched
            members get independent noise (one Brownian tree over the ``(B, ...)`` state).
        key: PRNG key for the Brownian path (``jax.random.key``).
        dt: constant step; saves between steps are linearly interpolated, so choose ``dt``
            dividing the spacing of ``ts``.
        solver: a name from :data:`SDE_SOLVERS` or a diffrax solver instance.
            ``"euler"`` (Euler–Maruyama, Itô, strong order 0.5, weak order 1),
            ``"milstein"`` (Itô, strong order 1; diagonal noise with ``g_i`` depending on ``y``
            only through ``y_i``), ``"heun"`` / ``"euler_heun"`` (Stratonovich).
        noise: ``"diagonal"`` (default) or ``"general"`` (needs ``noise_shape``).
        brownian_tol: time resolution of the Brownian tree (default ``dt / 2``); keep it fixed
            across runs that must share a path.
        max_steps: step cap; default ``ceil((ts[-1] - t0) / dt) + 16`` (required under jit).

    Returns:
        :class:`ODESolution` (``ys``: ``(T, ...)`` or ``(B, T, ...)``; ``success`` flags
        non-finite members).

    Example::

        # Ornstein–Uhlenbeck dy = -θ y dt + σ dW for 1000 independent members
        ou = solve_sde(lambda t, y, a: -2.0 * y, lambda t, y, a: jnp.full_like(y, 0.5),
                       jnp.zeros((1000, 1)), jnp.linspace(0.0, 1.0, 11), key=key, dt=0.01,
                       batched=True)
        ou.ys[:, -1].var()          # ≈ σ²/(2θ) (1 - exp(-2θ)) = 0.0614
    """
    fn = "solve_sde"
    if noise not in ("diagonal", "general"):
        raise ValueError(f"{fn}: noise must be 'diagonal' or 'general', got {noise!r}")
    solver = _resolve_solver(solver, SDE_SOLVERS, fn)
    if noise == "general":
        if not (isinstance(noise_shape, tuple) and all(isinstance(n, int) for n in noise_shape)):
            raise ValueError(f"{fn}: noise='general' needs noise_shape, a tuple of ints")
        if isinstance(solver, _DiagonalItoMilstein):
            raise ValueError(f"{fn}: 'milstein' needs diagonal noise; use 'euler' or 'heun'")
    elif noise_shape is not None:
        raise ValueError(f"{fn}: noise_shape is only used with noise='general'")
    key = _check_key(key, fn)
    y0, dtype = _as_state(y0)
    ts, t0 = _times(ts, t0, dtype, fn)
    dt = jnp.asarray(dt).astype(dtype)
    dt_c = _concrete(dt)
    if dt_c is not None and not (dt_c.ndim == 0 and dt_c > 0):
        raise ValueError(f"{fn}: dt must be a positive scalar, got {dt_c}")
    tol = dt / 2 if brownian_tol is None else jnp.asarray(brownian_tol).astype(dtype)
    if max_steps is None:
        span = _concrete(ts[-1] - t0)
        if span is None or dt_c is None:
            raise ValueError(f"{fn}: pass max_steps explicitly when ts, t0 or dt are traced")
        max_steps = math.ceil(float(span) / float(dt_c)) + 16
    args, member_y, member_args = _batched_inputs(y0, args, batched, batched_args, fn)
    _check_output(drift, "drift", t0, member_y, member_args, member_y)
    expected = member_y
    if noise == "general":
        expected = jax.tree_util.tree_map(
            lambda v: jax.ShapeDtypeStruct(v.shape + noise_shape, v.dtype), member_y
        )
    _check_output(diffusion, "diffusion", t0, member_y, member_args, expected)
    opts = (noise_shape, batched, batched_args, max_steps)
    sol = _solve_sde((drift, diffusion), y0, ts, t0, args, key, dt, tol, solver, opts)
    return _maybe_raise(sol, fn) if throw else sol
