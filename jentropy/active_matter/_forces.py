"""Pair repulsion (cell list or all pairs), trap and springs: the conservative part of b_x.

``pair_forces`` sums F_i = Σ_j softplus_β(2r − |d_ij|) d_ij / |d_ij| over the minimum-image
displacements d_ij = x_i − x_j with |d_ij| below the cutoff. In a 2-D periodic box it uses a
cell list (O(N), :mod:`._cells`); elsewhere, or with ``method="all_pairs"``, all N² pairs.
Both visit the same pairs, so they agree to rounding (tested to 1e-12 in float64).
"""

from __future__ import annotations

import functools
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ._cells import (
    NeighborList,
    all_candidates,
    build_neighbor_list,
    cell_candidates,
    gather_displacements,
)
from ._system import ActiveSystem, repulsion_magnitude

Method = Literal["auto", "cells", "all_pairs"]


class Forces(NamedTuple):
    """Forces with the cell list's status.

    Attributes:
        force: (N, d) force on each particle.
        overflow: True when a cell held more than ``system.cell_capacity`` particles, i.e. some
            pairs were missed and ``force`` is wrong; raise ``cell_capacity``.
        max_occupancy: the fullest cell's count (N for all pairs).
    """

    force: Float[Array, "n d"]
    overflow: Bool[Array, ""]
    max_occupancy: Int[Array, ""]


def neighbor_list(x: Float[Array, "n d"], system: ActiveSystem) -> NeighborList:
    """The Verlet list of ``system`` (pairs within cutoff + skin; cells in a 2-D periodic box).

    Example::

        nl = neighbor_list(x, system)
        f = pair_forces(x_later, system, neighbors=nl)    # valid while moves < skin / 2
    """
    _check_positions(x, system)
    return _neighbor_list(x, system)


@functools.partial(jax.jit, static_argnames=("system",))
def _neighbor_list(x: Array, system: ActiveSystem) -> NeighborList:
    return build_neighbor_list(
        x,
        system.half_width,
        system.interaction_range + system.skin,
        system.max_neighbors,
        cell_capacity=system.cell_capacity,
        use_cells=_uses_cells(system, "auto"),
    )


def _uses_cells(system: ActiveSystem, method: Method) -> bool:
    if method not in ("auto", "cells", "all_pairs"):
        raise ValueError(f"method must be 'auto', 'cells' or 'all_pairs', got {method!r}")
    can = system.periodic and system.dim == 2
    if method == "cells" and not can:
        raise ValueError("method='cells' needs a 2-D periodic box (half_width set, dim=2)")
    return can and method != "all_pairs"


def _check_positions(x: Array, system: ActiveSystem, name: str = "x") -> None:
    expected = (system.n_particles, system.dim)
    if jnp.shape(x) != expected:
        raise ValueError(f"{name} must have shape (N, d) = {expected}, got {jnp.shape(x)}")
    if not jnp.issubdtype(jnp.result_type(x), jnp.floating):
        raise TypeError(f"{name} must be floating, got dtype {jnp.result_type(x)}")


def pair_forces(
    x: Float[Array, "n d"],
    system: ActiveSystem,
    *,
    method: Method = "auto",
    neighbors: NeighborList | None = None,
) -> Forces:
    """Repulsive pair forces F_i = Σ_j softplus_β(2r − |d_ij|) d_ij/|d_ij| (without the factor k).

    Args:
        x: (N, d) positions (inside the box when periodic).
        system: the :class:`ActiveSystem` (radius, β, cutoff, box, cell capacity).
        method: ``"cells"`` (O(N), 2-D periodic box), ``"all_pairs"`` (O(N²)) or ``"auto"``
            (cells when possible).
        neighbors: a Verlet list (:func:`build_neighbor_list` with radius ≥ the cutoff, built
            at positions within skin/2 of ``x``); overrides ``method``.

    Returns:
        :class:`Forces`; check ``overflow`` (cells only).

    Example::

        system = mips_system(1024, 0.5)
        f = pair_forces(x, system)              # f.force (1024, 2), f.overflow False
    """
    _check_positions(x, system)
    _uses_cells(system, method)  # validates method
    return _pair_forces(x, system, method, neighbors)


@functools.partial(jax.jit, static_argnames=("system", "method"))
def _pair_forces(
    x: Array, system: ActiveSystem, method: Method, neighbors: NeighborList | None
) -> Forces:
    n = system.n_particles
    if neighbors is not None:
        index, overflow, occupancy = neighbors.index, neighbors.overflow, neighbors.max_count
    else:
        if _uses_cells(system, method):
            cand = cell_candidates(
                x, system.half_width, system.interaction_range, system.cell_capacity
            )
        else:
            cand = all_candidates(n)
        index, overflow, occupancy = cand
    d, valid = gather_displacements(x, index, system.half_width)
    r2 = jnp.sum(d * d, axis=-1)
    valid = valid & (r2 > 0)  # coincident particles exert no force (direction undefined)
    r = jnp.sqrt(jnp.where(valid, r2, jnp.ones_like(r2)))
    mag = jnp.where(valid, repulsion_magnitude(r, system), jnp.zeros_like(r))
    force = jnp.sum((mag / r)[..., None] * d, axis=1)
    return Forces(force, overflow, occupancy)


def conservative_forces(
    x: Float[Array, "n d"],
    system: ActiveSystem,
    *,
    method: Method = "auto",
    neighbors: NeighborList | None = None,
) -> Forces:
    """k Σ_j F(x_i − x_j) − A x_i − κ Σ_j (x_i − x_j): every position-dependent term of b_x.

    The springs are all-to-all with one constant κ (permutation-symmetric and linear):
    −κ (N x_i − Σ_j x_j), computed in O(N).

    Example::

        f = conservative_forces(x, system).force      # (N, d)
    """
    dtype = x.dtype
    if system.stiffness > 0:
        rep = pair_forces(x, system, method=method, neighbors=neighbors)
        total = jnp.asarray(system.stiffness, dtype) * rep.force
        overflow, occupancy = rep.overflow, rep.max_occupancy
    else:
        _check_positions(x, system)
        total = jnp.zeros_like(x)
        overflow, occupancy = jnp.bool_(False), jnp.int32(0)
    if system.trap > 0:
        total = total - jnp.asarray(system.trap, dtype) * x
    if system.spring > 0:
        n = jnp.asarray(system.n_particles, dtype)
        total = total - jnp.asarray(system.spring, dtype) * (n * x - jnp.sum(x, axis=0))
    return Forces(total, overflow, occupancy)


def drift(
    x: Float[Array, "n d"],
    g: Float[Array, "n d"],
    system: ActiveSystem,
    *,
    method: Method = "auto",
    neighbors: NeighborList | None = None,
) -> tuple[Float[Array, "n d"], Float[Array, "n d"], Bool[Array, ""]]:
    """The AOUP drift b = (b_x, b_g) = (v0 g + forces, −γ g) and the cell-list overflow flag.

    Example::

        bx, bg, overflow = drift(x, g, system)
    """
    _check_positions(g, system, "g")
    forces = conservative_forces(x, system, method=method, neighbors=neighbors)
    bx = jnp.asarray(system.v0, x.dtype) * g + forces.force
    bg = -jnp.asarray(system.gamma, g.dtype) * g
    return bx, bg, forces.overflow
