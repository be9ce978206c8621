"""Random initial conditions on the attractor, device sharding of batches, all-system ensembles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._system import System, list_systems


def random_initial_conditions(
    system: System | str,
    n: int,
    *,
    key: PRNGKeyArray,
    spacing: float = 1.0,
    jitter: float = 1e-3,
    dtype: Any = None,
) -> Float[Array, "n d"]:
    """``n`` initial conditions drawn at random from the attractor.

    A reference trajectory is integrated from the stored initial condition (which dysts puts on
    the attractor) with at least ``2n`` points (a multiple of 256) ``spacing`` periods apart
    (maps: iterations); ``n`` of them are drawn without replacement and each is moved by
    Gaussian ``jitter`` times the per-coordinate spread of the reference points (1 for unbounded
    coordinates such as winding angles). The jitter makes members independent
    after ``≈ log(1/jitter)/λ_max`` (points of one orbit would otherwise repeat each other
    with a time shift); points off the attractor by ``jitter`` relax back at the rate of the
    contracting exponents. For delay equations the rows are delay-embedded states (first
    column: the value used as constant history).

    Args:
        system: a :class:`~jentropy.chaos.System` or its name.
        n: number of initial conditions.
        key: PRNG key; same key, same initial conditions.
        spacing: periods between candidate points.
        jitter: relative size of the random displacement (0: exact orbit points).
        dtype: floating dtype (default: JAX's default float).

    Returns:
        Array of shape ``(n, d)`` (``d``: dimension, or embedding dimension for delay systems).

    Example::

        x0 = chaos.random_initial_conditions("Lorenz", 128, key=jax.random.key(0))
    """
    from ._trajectory import as_system, float_dtype, make_trajectory

    system = as_system(system)
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not spacing > 0:
        raise ValueError(f"spacing must be positive, got {spacing!r}")
    if not jitter >= 0:
        raise ValueError(f"jitter must be non-negative, got {jitter!r}")
    dtype = float_dtype() if dtype is None else jnp.dtype(dtype)
    # candidates: at least 2n, rounded up to a multiple of 256 so that draws of different sizes
    # share one compiled reference solve
    n_points = 256 * -(-2 * int(n) // 256)
    ic = jnp.asarray(system.ic, dtype)
    if system.kind == "map":
        every = max(1, round(spacing))
        ref = make_trajectory(system, n_points * every, init_cond=ic)
        ref = ref._replace(ys=ref.ys[every - 1 :: every])
    else:
        # only needs points on the attractor: a cheaper solver and tolerance than the default
        tol = 1e-9 if dtype == jnp.float64 else 1e-6
        ref = make_trajectory(
            system, n_points, init_cond=ic, pts_per_period=1.0 / spacing, postprocess=False,
            solver="dopri5", rtol=tol, atol=tol,
        )  # fmt: skip
    if not bool(ref.success):
        raise RuntimeError(
            f"{system.name}: the reference trajectory for random initial conditions failed"
        )
    pick, move = jax.random.split(key)
    idx = jax.random.choice(pick, n_points, (int(n),), replace=False)
    x0 = ref.ys[idx]
    scale = jitter_scale(system, ref.ys)
    return x0 + jitter * scale * jax.random.normal(move, x0.shape, dtype)


def jitter_scale(system: System, ys: Array) -> Array:
    """Per-coordinate spread of a set of states: the std, except 1 for unbounded coordinates
    (winding angles and phases, whose std grows with the length of the run)."""
    scale = jnp.std(ys, axis=0)
    if system.kind == "flow" and system.unbounded_indices:
        idx = jnp.asarray(system.unbounded_indices)
        scale = scale.at[idx].set(1.0)
    return scale


def maybe_sharded(
    solve: Callable[[Array], tuple[Array, Array]], y0: Array, shard: bool | None
) -> tuple[Array, Array]:
    """``solve(y0)`` for a ``(B, d)`` batch, split over devices by
    :func:`jentropy.parallel.map_over_devices` when asked (by default: when there are several
    devices and at least 8 members per device). Each device solves its slice jointly (its own
    adaptive steps); ``solve`` should be an ``eqx.Module`` so repeated calls reuse the compiled
    program."""
    n_dev = len(jax.devices())
    if shard is None:
        shard = n_dev > 1 and y0.shape[0] >= 8 * n_dev
    if not shard or n_dev == 1:
        return solve(y0)
    from jentropy import parallel

    return parallel.map_over_devices(solve, y0, per_example=False)


def make_ensemble(
    n: int,
    names: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    show_progress: bool = True,
    **kwargs: Any,
) -> dict[str, Any]:
    """Trajectories of many systems (default: every registered system of ``kind``).

    Each system is solved with :func:`make_trajectory` (``kwargs`` are passed on, e.g.
    ``pts_per_period``, ``key``/``n_ics``); failures are reported per system in each
    :class:`Trajectory`'s ``success`` and in a warning, never dropped.

    Args:
        n: output points per trajectory.
        names: system names (default: ``list_systems(kind)``).
        kind: ``"flow"``, ``"delay"``, ``"map"`` or None (all).
        show_progress: a progress bar on stderr.

    Returns:
        ``{name: Trajectory}`` in the order of ``names``.

    Example::

        flows = chaos.make_ensemble(500, kind="flow", pts_per_period=50)
    """
    from jentropy.reproduce import progress

    from ._trajectory import make_trajectory

    names = list_systems(kind) if names is None else list(names)
    out = {}
    for name in progress(names, desc="systems", total=len(names), disable=not show_progress):
        out[name] = make_trajectory(name, n, **kwargs)
    return out
