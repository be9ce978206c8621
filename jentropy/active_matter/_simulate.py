"""Simulation: Euler–Maruyama for positions, exact updates for the self-propulsion, lax.scan.

One step of size dt (the paper's scheme):

    x' = wrap(x + b_x(x, g) dt + √(2ε dt) ξ),
    g' = e^{−γ dt} g + √(1 − e^{−2γ dt}) η                      (AOUP: exact OU transition)
    g' = R(√(2γ dt) η₁) g                                       (ABP: exact rotational diffusion)

with ξ, η standard normal. The noise of step s comes from ``fold_in(key, s)``, so a trajectory
depends only on the key (not on how it is saved). Replicas are vmapped and sharded over the
devices with :func:`jentropy.parallel.map_over_devices`.
"""

from __future__ import annotations

import functools
import math
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from jentropy import parallel

from ._cells import NeighborList
from ._forces import Method, drift, neighbor_list
from ._system import ActiveSystem, minimum_image, wrap


class ParticleState(NamedTuple):
    """Positions ``x`` (N, d) and self-propulsions ``g`` (N, d) of one configuration (or a
    batch: leading axes in front)."""

    x: Float[Array, "*batch n d"]
    g: Float[Array, "*batch n d"]


class Trajectory(NamedTuple):
    """Saved snapshots of a run.

    Attributes:
        x, g: (S, N, d) snapshots (S = n_steps // save_every, the first after ``save_every``
            steps past thermalisation).
        final: the state after the last step (continue a run from it).
        overflow: True if a cell list overflowed at any step (forces were then wrong).
    """

    x: Float[Array, "*batch s n d"]
    g: Float[Array, "*batch s n d"]
    final: ParticleState
    overflow: Bool[Array, "*batch"]


def _check_key(key: object) -> None:
    if not isinstance(key, jax.Array):
        raise TypeError(f"key must be a JAX PRNG key (jax.random.key), got {type(key).__name__}")


def init_particles(
    key: PRNGKeyArray,
    system: ActiveSystem,
    *,
    dtype: object = None,
    layout: Literal["uniform", "cluster", "lattice"] = "uniform",
    spread: float | None = None,
) -> ParticleState:
    """A random initial state, and g ~ N(0, I) (AOUP: its stationary law) or uniform unit
    vectors (ABP).

    Positions: ``layout="uniform"`` — uniform in the periodic box; ``"cluster"`` —
    N(0, spread² I) wrapped into the box, default spread L/2 (a dense central blob: the authors'
    start for MIPS at φ ≥ 0.25, which thermalises into a cluster in coexistence with a gas far
    sooner than a uniform start coarsens); ``"lattice"`` — N sites drawn at random from the
    smallest square lattice with ≥ N sites filling the box, jittered by 5% of its spacing (no
    overlaps below φ ≈ 0.7, so stepping is steady from the first step: benchmarks). In free
    space positions are N(0, spread² I) (default spread 1).

    Example::

        state = init_particles(jax.random.key(0), mips_system(1024, 0.5), layout="cluster")
    """
    if layout not in ("uniform", "cluster", "lattice"):
        raise ValueError(f"layout must be 'uniform', 'cluster' or 'lattice', got {layout!r}")
    _check_key(key)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    kx, kg = jax.random.split(key)
    shape = (system.n_particles, system.dim)
    if system.periodic and layout == "uniform":
        lw = jnp.asarray(system.half_width, dtype)
        x = jax.random.uniform(kx, shape, dtype, minval=-lw, maxval=lw)
        x = wrap(x, system.half_width)
    elif system.periodic and layout == "lattice":
        side = math.ceil(system.n_particles ** (1 / system.dim))
        spacing = 2.0 * system.half_width / side
        grid = jnp.stack(
            jnp.meshgrid(*[jnp.arange(side, dtype=dtype)] * system.dim, indexing="ij"), -1
        ).reshape(-1, system.dim)
        k1, k2 = jax.random.split(kx)
        sites = jax.random.permutation(k1, grid.shape[0])[: system.n_particles]
        jitter = 0.05 * jax.random.normal(k2, shape, dtype)
        x = wrap((grid[sites] + 0.5 + jitter) * spacing - system.half_width, system.half_width)
    else:
        default = 1.0 if system.half_width is None else system.half_width / 2
        scale = jnp.asarray(default if spread is None else spread, dtype)
        x = wrap(scale * jax.random.normal(kx, shape, dtype), system.half_width)
    if system.propulsion == "abp":
        theta = jax.random.uniform(kg, shape[:1], dtype, maxval=2 * jnp.pi)
        g = jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=-1)
    else:
        g = jax.random.normal(kg, shape, dtype)
    return ParticleState(x, g)


def step(
    state: ParticleState,
    noise: ParticleState,
    system: ActiveSystem,
    dt: float,
    *,
    method: Method = "auto",
    neighbors: NeighborList | None = None,
) -> tuple[ParticleState, Bool[Array, ""]]:
    """One step with given standard-normal ``noise`` (ξ for x, η for g; same shapes as the
    state; ABP uses ``noise.g[:, 0]`` as the angle increment's normal). ``neighbors``: a valid
    Verlet list for the forces (default: built from scratch by ``method``).

    Returns ``(new_state, overflow)``. Explicit noise makes the step a deterministic function,
    so relabelling particles (state and noise alike) relabels the result.

    Example::

        noise = ParticleState(jax.random.normal(k1, x.shape), jax.random.normal(k2, g.shape))
        new, overflow = step(ParticleState(x, g), noise, system, 0.1)
    """
    x, g = state
    dtype = x.dtype
    dt_ = jnp.asarray(dt, dtype)
    bx, _, overflow = drift(x, g, system, method=method, neighbors=neighbors)
    x = x + bx * dt_
    if system.epsilon > 0:
        x = x + jnp.sqrt(2 * jnp.asarray(system.epsilon, dtype) * dt_) * noise.x
    x = wrap(x, system.half_width)
    gamma = jnp.asarray(system.gamma, dtype)
    if system.propulsion == "abp":
        angle = jnp.sqrt(2 * gamma * dt_) * noise.g[:, 0]
        c, s = jnp.cos(angle), jnp.sin(angle)
        g = jnp.stack([c * g[:, 0] - s * g[:, 1], s * g[:, 0] + c * g[:, 1]], axis=-1)
    else:
        decay = jnp.exp(-gamma * dt_)
        g = decay * g + jnp.sqrt(-jnp.expm1(-2 * gamma * dt_)) * noise.g
    return ParticleState(x, g), overflow


def _noise(key: PRNGKeyArray, like: ParticleState) -> ParticleState:
    kx, kg = jax.random.split(key)
    return ParticleState(
        jax.random.normal(kx, like.x.shape, like.x.dtype),
        jax.random.normal(kg, like.g.shape, like.g.dtype),
    )


@functools.partial(
    jax.jit, static_argnames=("system", "dt", "n_steps", "save_every", "thermalize", "method")
)
def _simulate(state, key, system, dt, n_steps, save_every, thermalize, method):
    use_list = system.stiffness > 0 and method != "all_pairs"
    half_skin2 = jnp.asarray((system.skin / 2) ** 2, state.x.dtype)

    def refresh(x, nl):
        moved = minimum_image(x - nl.reference, system.half_width)
        stale = jnp.max(jnp.sum(moved * moved, axis=-1)) > half_skin2
        return jax.lax.cond(stale, lambda: neighbor_list(x, system), lambda: nl)

    def advance(carry, s):
        state, nl, overflow = carry
        if use_list:
            nl = refresh(state.x, nl)
        noise = _noise(jax.random.fold_in(key, s), state)
        new, flag = step(state, noise, system, dt, method=method, neighbors=nl)
        return (new, nl, overflow | flag), None

    nl = neighbor_list(state.x, system) if use_list else None
    carry = (state, nl, jnp.bool_(False))
    if thermalize:
        carry, _ = jax.lax.scan(advance, carry, jnp.arange(thermalize, dtype=jnp.int32))

    def save_block(carry, b):
        steps = thermalize + b * save_every + jnp.arange(save_every, dtype=jnp.int32)
        carry, _ = jax.lax.scan(advance, carry, steps)
        return carry, carry[0]

    n_saves = n_steps // save_every
    carry, saved = jax.lax.scan(save_block, carry, jnp.arange(n_saves, dtype=jnp.int32))
    final, _, overflow = carry
    return Trajectory(saved.x, saved.g, final, overflow)


def _raise_if_overflow(traj: Trajectory, system: ActiveSystem) -> None:
    flag = traj.overflow
    if isinstance(flag, jax.core.Tracer):
        return
    if bool(jnp.any(flag)):
        raise RuntimeError(
            "simulate: a cell list or neighbour list overflowed (more than "
            f"cell_capacity={system.cell_capacity} particles in a cell or max_neighbors="
            f"{system.max_neighbors} within cutoff + skin), so neighbours were missed; rerun "
            "with larger ActiveSystem.cell_capacity / max_neighbors (e.g. for the first steps "
            "from an overlapping start)"
        )


def simulate(
    system: ActiveSystem,
    state: ParticleState,
    *,
    key: PRNGKeyArray,
    dt: float,
    n_steps: int,
    save_every: int = 1,
    thermalize: int = 0,
    method: Method = "auto",
    check: bool = True,
) -> Trajectory:
    """Run ``thermalize`` unsaved steps, then ``n_steps`` steps saving every ``save_every``.

    Args:
        system: the :class:`ActiveSystem`.
        state: the initial :class:`ParticleState`.
        key: PRNG key (same key, same trajectory).
        dt: time step (the paper: 0.1 for MIPS, 1e-3 for the trapped systems).
        n_steps: saved-phase steps (a multiple of ``save_every``).
        save_every: steps between snapshots.
        thermalize: steps discarded first.
        method: force method (see :func:`pair_forces`).
        check: raise ``RuntimeError`` if a cell list overflowed (when not traced; under an
            outer ``jit``/``vmap`` read ``Trajectory.overflow`` instead).

    Returns:
        :class:`Trajectory` with (S, N, d) snapshots, S = n_steps // save_every.

    Example::

        system = mips_system(1024, 0.5)
        state = init_particles(jax.random.key(0), system)
        traj = simulate(system, state, key=jax.random.key(1), dt=0.1, n_steps=10_000,
                        save_every=1_000, thermalize=100_000)
        traj.x.shape                  # (10, 1024, 2)
    """
    _check_key(key)
    for name, value, low in (
        ("n_steps", n_steps, 1),
        ("save_every", save_every, 1),
        ("thermalize", thermalize, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if n_steps % save_every:
        raise ValueError(f"n_steps={n_steps} must be a multiple of save_every={save_every}")
    if not isinstance(dt, (int, float)) or not dt > 0:
        raise ValueError(f"dt must be a positive float, got {dt!r}")
    if not isinstance(state, ParticleState):
        state = ParticleState(*state)
    traj = _simulate(state, key, system, float(dt), n_steps, save_every, thermalize, method)
    if check:
        _raise_if_overflow(traj, system)
    return traj


def simulate_replicas(
    system: ActiveSystem,
    states: ParticleState,
    keys: PRNGKeyArray,
    *,
    dt: float,
    n_steps: int,
    save_every: int = 1,
    thermalize: int = 0,
    method: Method = "auto",
    mesh: object = None,
    check: bool = True,
) -> Trajectory:
    """Independent replicas, sharded over the devices (``parallel.map_over_devices``).

    Args:
        states: a :class:`ParticleState` with a leading replica axis R.
        keys: (R,) keys, e.g. ``jax.random.split(key, R)``: replica r depends only on its key.
        others: as :func:`simulate`.

    Returns:
        :class:`Trajectory` with a leading replica axis.

    Example::

        states = jax.vmap(lambda k: init_particles(k, system))(jax.random.split(k0, 8))
        traj = simulate_replicas(system, states, jax.random.split(k1, 8), dt=0.1,
                                 n_steps=1000, save_every=100)
        traj.x.shape                  # (8, 10, N, 2)
    """
    if not isinstance(states, ParticleState):
        states = ParticleState(*states)

    def one(state: ParticleState, key: PRNGKeyArray) -> Trajectory:
        return simulate(
            system,
            state,
            key=key,
            dt=dt,
            n_steps=n_steps,
            save_every=save_every,
            thermalize=thermalize,
            method=method,
            check=False,
        )

    traj = parallel.map_over_devices(one, states, keys, mesh=mesh)
    if check:
        _raise_if_overflow(traj, system)
    return traj
