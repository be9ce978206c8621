"""Trajectories of registered systems with dysts's semantics (flows, delay equations, maps).

A flow is integrated by :func:`jentropy.integrate.solve_ode`; a ``(B, dim)`` batch of initial
conditions is solved *jointly* as one state whose adaptive step is controlled by the worst
member's error (a max norm across members, so every member meets the tolerance on its own).
Delay equations go through the method-of-steps solver in ``_delay_solver.py``; maps are iterated
with ``lax.scan``. Failures are reported per member in :attr:`Trajectory.success` (and by a
warning, or an exception with ``throw=True``), never dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

from ._flow_solvers import solve_flow, solve_noisy, solve_rk4
from ._system import System, get

TIMESCALES = ("Fourier", "Lyapunov")


class Trajectory(NamedTuple):
    """What :func:`make_trajectory` returns.

    Attributes:
        ts: output times, shape ``(n,)`` (for maps the iteration index 1…n; for delay
            equations the time of the un-lagged first column).
        ys: the trajectory, shape ``(n, d)`` for one initial condition or ``(B, n, d)`` for a
            batch (``d`` is the system dimension, or the embedding dimension for delay
            equations).
        success: ``True`` where the member was integrated to the end with finite output; a
            scalar, or shape ``(B,)`` for a batch.
    """

    ts: Float[Array, " n"]
    ys: Float[Array, "*batch n d"]
    success: Bool[Array, "*batch"]


def as_system(system: System | str) -> System:
    """``system`` itself, or the registered system of that name."""
    if isinstance(system, str):
        return get(system)
    if not isinstance(system, System):
        raise TypeError(f"system must be a chaos.System or a system name, got {type(system)}")
    return system


def float_dtype(x: Any = None) -> np.dtype:
    """The floating dtype to compute in: ``x``'s if it is a floating array, else JAX's default."""
    if x is not None:
        dt = getattr(x, "dtype", None)
        if dt is not None and jnp.issubdtype(dt, jnp.floating):
            return jnp.dtype(dt)
    return jnp.zeros(()).dtype  # float64 when x64 is enabled, else float32


def params_as(system: System, dtype: Any, params: Mapping[str, Any] | None = None) -> dict:
    """The parameter dict as arrays of ``dtype`` (``params`` overrides the stored values)."""
    p = dict(system.params) if params is None else {**system.params, **dict(params)}
    return {k: jnp.asarray(v, dtype=dtype) for k, v in p.items()}


def default_tolerances(dtype: Any, rtol: float | None, atol: float | None) -> tuple[float, float]:
    """dysts's 1e-12 in float64; 1e-6 in float32 (tighter is round-off bound there)."""
    tight = jnp.dtype(dtype) == jnp.float64
    default = 1e-12 if tight else 1e-6
    return (default if rtol is None else rtol), (default if atol is None else atol)


def time_span(
    system: System, n: int, *, resample: bool, pts_per_period: int, timescale: str
) -> float:
    """Length of the integration window as dysts defines it.

    ``resample=False``: ``(n − 1)·dt``; ``"Fourier"``: ``period · n / pts_per_period``;
    ``"Lyapunov"``: ``(1/λ_max) · n / pts_per_period``.
    """
    if not resample:
        return (n - 1) * system.dt
    if pts_per_period is None or pts_per_period <= 0:
        raise ValueError(f"pts_per_period must be a positive number, got {pts_per_period!r}")
    if timescale == "Fourier":
        return system.period * n / pts_per_period
    if timescale == "Lyapunov":
        lam = system.metadata.get("maximum_lyapunov_estimated")
        if not lam or lam <= 0:
            raise ValueError(
                f"timescale='Lyapunov' needs a positive stored maximum Lyapunov exponent; "
                f"{system.name} has {lam!r}"
            )
        return n / pts_per_period / float(lam)
    raise ValueError(f"timescale must be one of {TIMESCALES}, got {timescale!r}")


def _check_n(n: Any) -> int:
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 2:
        raise ValueError(f"n must be an int >= 2 (number of output points), got {n!r}")
    return int(n)


def _initial_conditions(
    system: System, init_cond: ArrayLike | None, key: PRNGKeyArray | None, n_ics: int | None
) -> tuple[Array | np.ndarray, bool]:
    """Initial condition(s) and whether they form a batch."""
    if init_cond is not None:
        if n_ics is not None:
            raise ValueError("pass either init_cond or n_ics (random ICs from key), not both")
        x0 = init_cond if isinstance(init_cond, jax.Array) else np.asarray(init_cond)
        if x0.ndim not in (1, 2):
            raise ValueError(f"init_cond must have shape (d,) or (B, d), got {x0.shape}")
        want = system.ic.shape[-1] if system.kind == "delay" else system.dim
        if system.kind != "delay" and x0.shape[-1] != want:
            raise ValueError(
                f"init_cond must have trailing dimension {want} for {system.name}, got {x0.shape}"
            )
        return x0, x0.ndim == 2
    if key is None:
        if n_ics is not None:
            raise ValueError("n_ics (random initial conditions) needs a key")
        return system.ic, False
    from ._ensemble import random_initial_conditions

    batch = n_ics is not None
    x0 = random_initial_conditions(system, 1 if n_ics is None else n_ics, key=key)
    return (x0 if batch else x0[0]), batch


def _report(system: System, success: Array, throw: bool) -> None:
    try:
        ok = np.asarray(success)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return
    if ok.all():
        return
    which = np.flatnonzero(~ok.reshape(-1)).tolist()
    msg = (
        f"{system.name}: integration failed for member(s) {which} of {ok.size} (reached "
        "max_steps, or the state became non-finite); their rows are not valid data"
    )
    if throw:
        raise RuntimeError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


def postprocess_states(system: System, ys: Array, p: dict) -> Array:
    """Map unbounded coordinates (angles, phases) to bounded ones, if the system defines how."""
    post = system.postprocess
    if post is None:
        return ys
    flat = ys.reshape(-1, ys.shape[-1])
    return jax.vmap(lambda x: post(x, p))(flat).reshape(ys.shape)


def iterate_map(
    system: System, x0: Array, n: int, p: dict, *, batched: bool, inverse: bool = False
) -> Trajectory:
    """``n`` iterations of a map (or its inverse) from ``x0`` (``(d,)`` or ``(B, d)``) with
    ``lax.scan``."""
    fn = system.inverse if inverse else system.fn
    ys = _iterate(fn, x0 if batched else x0[None], p, n)
    ys = ys if batched else ys[0]
    success = jnp.all(jnp.isfinite(ys), axis=(-2, -1))
    return Trajectory(jnp.arange(1, n + 1).astype(x0.dtype), ys, success)


@eqx.filter_jit
def _iterate(fn: Callable, x0: Array, p: dict, n: int) -> Array:
    def one(x):
        def body(x, _):
            nxt = fn(x, p)
            return nxt, nxt

        return jax.lax.scan(body, x, None, length=n)[1]

    return jax.vmap(one)(x0)


def _standardize_time(ys: Array) -> Array:
    """z-score along time (axis −2), dividing by 1 where a coordinate is constant."""
    mu = jnp.mean(ys, axis=-2, keepdims=True)
    sd = jnp.std(ys, axis=-2, keepdims=True)
    return (ys - mu) / jnp.where(sd > 0, sd, jnp.ones_like(sd))


def make_trajectory(
    system: System | str,
    n: int,
    *,
    resample: bool = True,
    pts_per_period: int = 100,
    timescale: str = "Fourier",
    standardize: bool = False,
    postprocess: bool = True,
    noise: float = 0.0,
    init_cond: ArrayLike | None = None,
    key: PRNGKeyArray | None = None,
    n_ics: int | None = None,
    params: Mapping[str, ArrayLike] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    solver: str = "dopri8",
    dt: float | None = None,
    max_steps: int = 1_000_000,
    steps_per_delay: int | None = None,
    embedding_dim: int | None = None,
    inverse: bool = False,
    shard: bool | None = None,
    throw: bool = False,
) -> Trajectory:
    r"""A trajectory of ``system`` with dysts's semantics, for one or a batch of initial conditions.

    Flows (``dx/dt = f(x, t)``) are output at ``linspace(0, T, n)`` where ``T`` is
    ``period · n / pts_per_period`` (``timescale="Fourier"``), ``(1/λ_max) · n / pts_per_period``
    (``"Lyapunov"``) or, with ``resample=False``, ``(n − 1)·dt`` (stored ``period``, ``λ_max``,
    ``dt``). No transient is discarded (the stored initial conditions lie on the attractor).
    ``standardize=True`` integrates ``g(z) = f(z·σ + μ)/σ`` with the stored mean ``μ`` and std
    ``σ`` from ``z0 = (x0 − μ)/σ``. ``postprocess`` maps unbounded coordinates (angles) to bounded
    ones as dysts does. ``noise > 0`` integrates the SDE ``dx_i = f_i dt + noise·σ_i dW_i``
    (``σ_i``: the stored attractor std, so ``noise`` is relative to the attractor's size; Heun
    with constant step ``dt``, then interpolated to the output times) — dysts scales the noise
    by ``|x0_i|`` instead, which ties it to the starting point.

    Delay equations are solved by the method of steps with a dense Hermite history (constant
    history ``x0[0]``), over ``[0, T + τ]``, and returned delay-embedded as dysts does:
    ``embedding_dim`` (default: the stored one, 10) columns ``x(s − ℓ)`` for lags ``ℓ`` evenly
    spaced over ``[0, τ]`` at ``s ∈ linspace(τ, T + τ, n)``. Maps are iterated ``n`` times (the
    output starts after the first iteration, as in dysts; ``standardize`` z-scores over time).

    A batch ``init_cond`` of shape ``(B, d)`` is solved *jointly* (one adaptive step for all,
    controlled by the worst member so every member meets ``rtol``/``atol`` itself) and, with
    several devices, sharded over them through :mod:`jentropy.parallel`.

    Args:
        system: a :class:`~jentropy.chaos.System` or a name (``"Lorenz"``).
        n: number of output points.
        resample, pts_per_period, timescale, standardize, postprocess, noise: as in dysts.
        init_cond: ``(d,)`` or ``(B, d)``; for delay equations ``(k,)``/``(B, k)`` whose first
            column is the constant history. Default: the stored IC, or random ICs on the
            attractor when ``key`` is given (see ``n_ics``). Its dtype sets the dtype.
        key: PRNG key: random initial conditions on the attractor (when ``init_cond`` is None)
            and the Brownian path when ``noise > 0``. Same key, same trajectory.
        n_ics: with ``key``: the number ``B`` of random initial conditions (batch output).
        params: parameter overrides (may be traced arrays).
        rtol, atol: tolerances; default 1e-12 (dysts's) in float64, 1e-6 in float32.
        solver: diffrax solver name for flows (``"dopri8"`` ≈ scipy's DOP853, adaptive), or
            ``"rk4"``: fixed-step RK4 on ``lax.scan`` with step ``≤ dt`` (no error control,
            compiles ~20× faster: for quick looks at many systems).
        dt: the ``"rk4"`` step (default: the stored ``dt``) and the SDE step for ``noise``.
        max_steps: solver step cap (a member that needs more is reported failed).
        steps_per_delay: delay equations: fixed RK4 steps per delay ``τ`` (default: enough for
            ≥ 200 steps per period and ≥ 100 per delay).
        embedding_dim: delay equations: number of lagged output columns.
        inverse: maps: iterate the inverse map (invertible maps only, as dysts's ``inverse``).
        shard: split a batch over devices (default: when there are several devices and the
            batch has at least 8 members per device).
        throw: raise ``RuntimeError`` naming failed members instead of warning.

    Returns:
        :class:`Trajectory` ``(ts, ys, success)``: ``ys`` of shape ``(n, d)`` or ``(B, n, d)``.

    Example::

        from jentropy import chaos
        with jax.enable_x64(True):
            ts, ys, ok = chaos.make_trajectory("Lorenz", 1000)            # (1000, 3)
            batch = chaos.make_trajectory("Lorenz", 1000, key=jax.random.key(0), n_ics=64)
            batch.ys.shape, batch.success.all()                          # (64, 1000, 3), True
    """
    system = as_system(system)
    n = _check_n(n)
    if not isinstance(noise, int | float) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    if noise > 0 and key is None:
        raise ValueError("noise > 0 needs a key for the Brownian path")
    if timescale not in TIMESCALES:
        raise ValueError(f"timescale must be one of {TIMESCALES}, got {timescale!r}")
    if key is not None and noise > 0 and init_cond is None:
        ic_key, noise_key = jax.random.split(key)
    else:
        ic_key = noise_key = key
    x0, batched = _initial_conditions(system, init_cond, ic_key, n_ics)
    dtype = float_dtype(x0 if init_cond is not None else None)
    x0 = jnp.asarray(x0, dtype=dtype)
    p = params_as(system, dtype, params)
    if inverse and (system.kind != "map" or system.inverse is None):
        raise ValueError(f"inverse=True needs an invertible map; {system.name} has no inverse")
    if system.kind == "map":
        traj = iterate_map(system, x0, n, p, batched=batched, inverse=inverse)
        if standardize:
            traj = traj._replace(ys=_standardize_time(traj.ys))
        _report(system, traj.success, throw)
        return traj
    span = time_span(
        system, n, resample=resample, pts_per_period=pts_per_period, timescale=timescale
    )
    if system.kind == "delay":
        if noise > 0:
            raise NotImplementedError("noise is not supported for delay equations (nor in dysts)")
        from ._delay_solver import delay_trajectory

        traj = delay_trajectory(
            system, x0, n, span, p, batched=batched, steps_per_delay=steps_per_delay,
            embedding_dim=embedding_dim,
        )  # fmt: skip
        if standardize:
            traj = traj._replace(ys=_standardize_time(traj.ys))
        _report(system, traj.success, throw)
        return traj
    rtol, atol = default_tolerances(dtype, rtol, atol)
    if standardize:
        mean, std = system.metadata.get("mean"), system.metadata.get("std")
        if mean is None or std is None:
            raise ValueError(f"standardize=True needs stored mean/std; {system.name} has none")
        mean, std = jnp.asarray(mean, dtype=dtype), jnp.asarray(std, dtype=dtype)
    else:
        mean, std = jnp.zeros((system.dim,), dtype), jnp.ones((system.dim,), dtype)
    z0 = (x0 - mean) / std
    ts = jnp.linspace(0.0, span, n, dtype=dtype)
    args = (p, mean, std)
    if noise > 0:
        ys, success = solve_noisy(system, z0, ts, span, args, noise, noise_key, batched, dt)
    elif solver == "rk4":
        step = system.dt if dt is None else dt
        ys, success = solve_rk4(system, z0, ts, span, args, step, batched, shard)
    else:
        ys, success = solve_flow(
            system, z0, ts, args, rtol, atol, solver, max_steps, batched, shard
        )
    if postprocess:
        ys = postprocess_states(system, ys, p)
    _report(system, success, throw)
    return Trajectory(ts, ys, success)
