"""Cell lists with static shapes: O(N) neighbour candidates in a periodic 2-D box.

The box [−L, L)² is cut into m × m cells of side 2L/m ≥ the search radius, so every particle
within that radius of particle i sits in i's cell or one of its 8 neighbours (minimum image). A
cell holds at most ``capacity`` particle ids (fixed shapes, jit-able); the table is built by one
sort of the cell indices. A cell with more particles than ``capacity`` sets ``overflow``: its
extra particles would be missed, so every caller reports it (never silently drops neighbours).
With m < 3 the 3 × 3 stencil would visit a cell twice; then every particle is a candidate of
every other (all pairs).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int


class Candidates(NamedTuple):
    """Neighbour candidates of every particle.

    Attributes:
        index: (N, C) particle ids; ``N`` marks an empty slot. Particle i's own id may appear.
        overflow: True when some cell held more than its capacity (candidates were lost).
        max_occupancy: the largest number of particles found in one cell (N for all pairs).
    """

    index: Int[Array, "n c"]
    overflow: Bool[Array, ""]
    max_occupancy: Int[Array, ""]


def cells_per_side(half_width: float, min_cell_size: float) -> int:
    """m = ⌊2L / s⌋: the number of cells per side whose size is at least ``min_cell_size``."""
    if not min_cell_size > 0:
        raise ValueError(f"min_cell_size must be > 0, got {min_cell_size!r}")
    return max(1, int((2.0 * half_width) // min_cell_size))


def cell_candidates(
    x: Float[Array, "n 2"], half_width: float, min_cell_size: float, capacity: int
) -> Candidates:
    """Neighbour candidates of each particle from a cell list (all pairs when m < 3).

    Every particle j with minimum-image distance |x_i − x_j| ≤ ``min_cell_size`` is among the
    candidates of i unless ``overflow`` is set. Cost O(N · 9 · capacity) plus one sort.

    Args:
        x: (N, 2) positions inside the box [−L, L)² (wrapped).
        half_width: L.
        min_cell_size: the search radius (cells are at least this large).
        capacity: particle ids kept per cell.

    Returns:
        :class:`Candidates` with ``index`` of shape (N, 9 · capacity).

    Example::

        cand = cell_candidates(x, 80.0, 4.0, 16)
        cand.index.shape            # (N, 144)
    """
    n = x.shape[0]
    m = cells_per_side(half_width, min_cell_size)
    if m < 3:
        index = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32), (n, n))
        return Candidates(index, jnp.bool_(False), jnp.int32(n))
    width = jnp.asarray(2.0 * half_width, x.dtype)
    side = width / m
    coords = jnp.floor((x + width / 2) / side).astype(jnp.int32)
    coords = jnp.clip(coords, 0, m - 1)  # x == L after rounding lands in the last cell
    cell = coords[:, 0] * m + coords[:, 1]
    order = jnp.argsort(cell, stable=True).astype(jnp.int32)
    sorted_cells = cell[order]
    first = jnp.searchsorted(sorted_cells, jnp.arange(m * m, dtype=jnp.int32), side="left")
    last = jnp.searchsorted(sorted_cells, jnp.arange(m * m, dtype=jnp.int32), side="right")
    counts = (last - first).astype(jnp.int32)
    slot = jnp.arange(n, dtype=jnp.int32) - first[sorted_cells].astype(jnp.int32)
    table = jnp.full((m * m, capacity), n, dtype=jnp.int32)
    table = table.at[sorted_cells, slot].set(order, mode="drop")
    offsets = jnp.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)], dtype=jnp.int32)
    neighbour_coords = (coords[:, None, :] + offsets[None]) % m  # (N, 9, 2)
    neighbour_cells = neighbour_coords[..., 0] * m + neighbour_coords[..., 1]
    index = table[neighbour_cells].reshape(n, 9 * capacity)
    top = jnp.max(counts)
    return Candidates(index, top > capacity, top)


def all_candidates(n: int) -> Candidates:
    """Every particle is a candidate of every particle (the O(N²) reference)."""
    index = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32), (n, n))
    return Candidates(index, jnp.bool_(False), jnp.int32(n))


def gather_displacements(
    x: Float[Array, "n d"], index: Int[Array, "n c"], half_width: float | None
) -> tuple[Float[Array, "n c d"], Bool[Array, "n c"]]:
    """Minimum-image displacements x_i − x_j to the candidates and a mask of real neighbours
    (not empty slots, not i itself)."""
    n = x.shape[0]
    padded = jnp.concatenate([x, jnp.zeros_like(x[:1])], axis=0)
    d = x[:, None, :] - padded[index]
    if half_width is not None:
        width = jnp.asarray(2.0 * half_width, x.dtype)
        d = d - width * jnp.round(d / width)
    valid = (index != n) & (index != jnp.arange(n, dtype=index.dtype)[:, None])
    return d, valid


class NeighborList(NamedTuple):
    """Verlet neighbour list: for each particle the ids of the particles within ``radius``.

    Attributes:
        index: (N, M) ids, ``N`` marking empty slots (M = ``max_neighbors``).
        reference: (N, d) positions at which the list was built; it stays valid for pairs
            within ``radius − skin`` until some particle has moved more than skin/2.
        overflow: True when a cell or a particle's list overflowed (neighbours were lost).
        max_count: the largest number of neighbours any particle had.
    """

    index: Int[Array, "n m"]
    reference: Float[Array, "n d"]
    overflow: Bool[Array, ""]
    max_count: Int[Array, ""]


def build_neighbor_list(
    x: Float[Array, "n d"],
    half_width: float | None,
    radius: float,
    max_neighbors: int,
    *,
    cell_capacity: int = 16,
    use_cells: bool = True,
) -> NeighborList:
    """Neighbour list of all pairs closer than ``radius`` (minimum image), from a cell list in a
    2-D periodic box (O(N)) or from all pairs otherwise.

    Example::

        nl = build_neighbor_list(x, 40.0, 4.5, 32)
        nl.index.shape, bool(nl.overflow)           # (N, 32), False
    """
    n = x.shape[0]
    if use_cells and half_width is not None and x.shape[1] == 2:
        cand = cell_candidates(x, half_width, radius, cell_capacity)
    else:
        cand = all_candidates(n)
    d, valid = gather_displacements(x, cand.index, half_width)
    within = valid & (jnp.sum(d * d, axis=-1) < jnp.asarray(radius**2, x.dtype))
    count = jnp.sum(within, axis=1, dtype=jnp.int32)
    slot = jnp.cumsum(within, axis=1, dtype=jnp.int32) - 1
    slot = jnp.where(within, slot, max_neighbors)  # dropped below
    rows = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32)[:, None], slot.shape)
    index = jnp.full((n, max_neighbors), n, dtype=jnp.int32)
    index = index.at[rows, slot].set(cand.index, mode="drop")
    top = jnp.max(count)
    return NeighborList(index, x, cand.overflow | (top > max_neighbors), top)


class Neighbors(NamedTuple):
    """k nearest neighbours of every particle.

    Attributes:
        index: (N, k) neighbour ids, nearest first.
        displacement: (N, k, d) minimum-image x_j − x_i.
        exact: True when the result is guaranteed to be the exact k nearest (always for the
            all-pairs search; for the cell search when no cell overflowed and every k-th
            neighbour lies within the search radius).
    """

    index: Int[Array, "n k"]
    displacement: Float[Array, "n k d"]
    exact: Bool[Array, ""]


def _top_k(d: Array, valid: Array, index: Array, k: int) -> tuple[Array, Array, Array]:
    r2 = jnp.sum(d * d, axis=-1)
    big = jnp.asarray(jnp.finfo(r2.dtype).max, r2.dtype)
    r2 = jnp.where(valid, r2, big)
    neg, pos = jax.lax.top_k(-r2, k)
    nbr = jnp.take_along_axis(index, pos, axis=-1)
    disp = -jnp.take_along_axis(d, pos[..., None], axis=-2)  # x_j − x_i
    return nbr, disp, -neg


def nearest_neighbors_all_pairs(
    x: Float[Array, "n d"], k: int, half_width: float | None, *, block: int = 256
) -> Neighbors:
    """Exact k nearest neighbours (minimum image) by all pairwise distances, ``block`` rows at a
    time (memory O(block · N), time O(N²)).

    Example::

        nb = nearest_neighbors_all_pairs(x, 16, system.half_width)
        nb.index.shape, nb.displacement.shape        # (N, 16), (N, 16, 2)
    """
    n = x.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must lie in [1, N) = [1, {n}), got {k}")
    rows = jnp.arange(n, dtype=jnp.int32)
    index = jnp.broadcast_to(rows, (n,))

    def one_block(start: Array) -> tuple[Array, Array]:
        ids = jnp.minimum(start + jnp.arange(block, dtype=jnp.int32), n - 1)
        d = x[ids][:, None, :] - x[None, :, :]
        if half_width is not None:
            width = jnp.asarray(2.0 * half_width, x.dtype)
            d = d - width * jnp.round(d / width)
        valid = index[None, :] != ids[:, None]
        nbr, disp, _ = _top_k(d, valid, jnp.broadcast_to(index, (block, n)), k)
        return nbr, disp

    block = min(block, n)
    starts = jnp.arange(0, n, block, dtype=jnp.int32)
    nbr, disp = jax.lax.map(one_block, starts)
    nbr = nbr.reshape(-1, k)[:n]
    disp = disp.reshape(-1, k, x.shape[1])[:n]
    return Neighbors(nbr, disp, jnp.bool_(True))


def nearest_neighbors_cells(
    x: Float[Array, "n 2"], k: int, half_width: float, search_radius: float, capacity: int
) -> Neighbors:
    """k nearest neighbours among the cell-list candidates within ``search_radius``: O(N).

    The result is the exact k nearest when ``exact`` is True (no overflow and every particle has
    at least k candidates within ``search_radius``); :func:`nearest_neighbors` falls back to
    the all-pairs search otherwise.
    """
    cand = cell_candidates(x, half_width, search_radius, capacity)
    d, valid = gather_displacements(x, cand.index, half_width)
    if cand.index.shape[1] < k + 1:
        raise ValueError(
            f"k={k} neighbours need at least k + 1 candidate slots; raise capacity ({capacity})"
        )
    nbr, disp, r2 = _top_k(d, valid, cand.index, k)
    radius2 = jnp.asarray(search_radius**2, x.dtype)
    exact = ~cand.overflow & jnp.all(r2[:, -1] <= radius2)
    return Neighbors(nbr, disp, exact)


def nearest_neighbors(
    x: Float[Array, "n d"],
    k: int,
    half_width: float | None,
    *,
    search_radius: float | None = None,
    capacity: int = 32,
) -> Neighbors:
    """Exact k nearest neighbours of every particle (minimum image in a periodic box).

    With ``search_radius`` (2-D periodic box only) the O(N) cell search runs first and, only if
    it cannot guarantee exactness (a cell overflowed or a k-th neighbour lies beyond the
    radius), the O(N²) all-pairs search replaces it (``lax.cond``: one branch runs). Without
    ``search_radius`` the all-pairs search is used.

    Args:
        x: (N, d) positions.
        k: neighbours per particle (< N).
        half_width: box half-width L, or None for free space.
        search_radius: cell-search radius; choose it so that k neighbours fit inside it even
            in the most dilute region.
        capacity: ids per cell for the cell search.

    Returns:
        :class:`Neighbors` (``exact`` is True).

    Example::

        nb = nearest_neighbors(x, 16, 40.0, search_radius=8.0)
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < x.shape[0]:
        raise ValueError(f"k must be an int in [1, N) = [1, {x.shape[0]}), got {k!r}")
    return _nearest_neighbors(x, k, half_width, search_radius, capacity)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _nearest_neighbors(
    x: Array, k: int, half_width: float | None, search_radius: float | None, capacity: int
) -> Neighbors:
    if search_radius is None or half_width is None or x.shape[1] != 2:
        return nearest_neighbors_all_pairs(x, k, half_width)
    fast = nearest_neighbors_cells(x, k, half_width, search_radius, capacity)
    slow = lambda: nearest_neighbors_all_pairs(x, k, half_width)  # noqa: E731
    return jax.lax.cond(fast.exact, lambda: fast, slow)
