"""The interacting active-particle model: configuration, drift and noise strengths.

State: positions ``x`` (N, d) and self-propulsions ``g`` (N, d). For active Ornstein–Uhlenbeck
particles (AOUP, the paper's model, eq. 12)

    dx_i = [v0 g_i + k Σ_j F(x_i − x_j) − A x_i − κ Σ_j (x_i − x_j)] dt + √(2ε) dW_i,
    dg_i = −γ g_i dt + √(2γ) dB_i,

with F the softplus-smoothed (β finite) or hard (β = None) harmonic repulsion along the
minimum-image displacement, magnitude softplus_β(2r − |d|) = log(1 + e^{β(2r − |d|)})/β. Active
Brownian particles (ABP) keep |g_i| = 1 and rotate it by rotational diffusion with coefficient γ.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import jax.numpy as jnp
from jaxtyping import Array, Float

# exp(-15) / 7.5 ≈ 4e-8: the softplus repulsion beyond 2r + 15/β is dropped (see cutoff)
_SOFTPLUS_TAIL = 15.0


def _positive(value: float, name: str, *, allow_zero: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite float, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class ActiveSystem:
    """Configuration of N interacting active particles (hashable: pass it as a static argument).

    Attributes:
        n_particles: N.
        half_width: the periodic box is [−L, L]^d with L = ``half_width``; None = free space
            (no wrapping; needed for a trap or springs, which are not periodic).
        dim: spatial dimension d (cell lists and ABP need d = 2).
        v0: self-propulsion speed.
        gamma: γ, OU rate of g (AOUP) or rotational diffusion coefficient (ABP).
        epsilon: ε, translational diffusion coefficient (0: noise only on g, as in MIPS).
        stiffness: k, strength of the pair repulsion (0: no repulsion).
        radius: particle radius r (repulsion acts below 2r).
        beta: softplus sharpness β; None = hard repulsion (2r − |d|)_+.
        trap: A, harmonic trap −A x_i (free space only).
        spring: κ, all-to-all harmonic springs −κ Σ_j (x_i − x_j) (free space only).
        propulsion: ``"aoup"`` or ``"abp"``.
        cutoff: pair distance beyond which the repulsion is zero. Default 2r for hard
            repulsion and 2r + 15/β for softplus (the dropped tail is ≤ e^{−15}/β ≈ 4e-8 for
            β = 7.5); every force routine uses the same cutoff, so cell lists and all-pairs sums
            agree to rounding.
        cell_capacity: particles per cell the cell list holds; more is reported as overflow.
        skin: the simulation's Verlet neighbour lists hold pairs within cutoff + skin and are
            rebuilt (from a cell list) once some particle has moved skin/2.
        max_neighbors: slots per particle in a neighbour list; more is reported as overflow.

    Example::

        system = mips_system(1024, packing_fraction=0.5)     # the paper's MIPS parameters
        trapped = ActiveSystem(8, v0=1.0, gamma=1.0, epsilon=0.0, stiffness=0.0,
                               trap=1.0, spring=0.5)         # a linear (exact Gaussian) system
    """

    n_particles: int
    half_width: float | None = None
    dim: int = 2
    v0: float = 0.025
    gamma: float = 1e-4
    epsilon: float = 0.0
    stiffness: float = 1.0
    radius: float = 1.0
    beta: float | None = 7.5
    trap: float = 0.0
    spring: float = 0.0
    propulsion: Literal["aoup", "abp"] = "aoup"
    cutoff: float | None = None
    cell_capacity: int = 16
    skin: float = 0.5
    max_neighbors: int = 32

    def __post_init__(self) -> None:
        n = self.n_particles
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n_particles must be an int >= 1, got {n!r}")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim < 1:
            raise ValueError(f"dim must be an int >= 1, got {self.dim!r}")
        if self.half_width is not None:
            _positive(self.half_width, "half_width", allow_zero=False)
        for name in ("v0", "epsilon", "stiffness", "trap", "spring"):
            _positive(getattr(self, name), name)
        _positive(self.gamma, "gamma", allow_zero=False)
        _positive(self.radius, "radius", allow_zero=False)
        if self.beta is not None:
            _positive(self.beta, "beta", allow_zero=False)
        if self.cutoff is not None:
            _positive(self.cutoff, "cutoff", allow_zero=False)
        if self.propulsion not in ("aoup", "abp"):
            raise ValueError(f"propulsion must be 'aoup' or 'abp', got {self.propulsion!r}")
        if self.propulsion == "abp" and self.dim != 2:
            raise ValueError(f"propulsion='abp' needs dim=2, got dim={self.dim}")
        if self.half_width is not None and (self.trap > 0 or self.spring > 0):
            raise ValueError(
                "trap and spring are not periodic: use half_width=None (free space) with them"
            )
        for name in ("cell_capacity", "max_neighbors"):
            cap = getattr(self, name)
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise ValueError(f"{name} must be an int >= 1, got {cap!r}")
        _positive(self.skin, "skin")

    @property
    def interaction_range(self) -> float:
        """The repulsion cutoff actually used (see ``cutoff``)."""
        if self.cutoff is not None:
            return float(self.cutoff)
        if self.beta is None:
            return 2.0 * self.radius
        return 2.0 * self.radius + _SOFTPLUS_TAIL / self.beta

    @property
    def periodic(self) -> bool:
        """True for a periodic box."""
        return self.half_width is not None

    @property
    def packing_fraction(self) -> float | None:
        """φ = N π r² / (2L)² for a 2-D periodic box, else None."""
        if self.half_width is None or self.dim != 2:
            return None
        return self.n_particles * math.pi * self.radius**2 / (2.0 * self.half_width) ** 2

    def replace(self, **changes: object) -> ActiveSystem:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def box_half_width(n_particles: int, packing_fraction: float, radius: float = 1.0) -> float:
    """L = ½ √(N π r² / φ): the half-width of the 2-D box holding N discs at packing fraction φ.

    Example::

        box_half_width(4096, 0.5)     # ≈ 80.2
    """
    if not 0 < packing_fraction < 1:
        raise ValueError(f"packing_fraction must lie in (0, 1), got {packing_fraction!r}")
    _positive(radius, "radius", allow_zero=False)
    return 0.5 * math.sqrt(n_particles * math.pi * radius**2 / packing_fraction)


def mips_system(
    n_particles: int, packing_fraction: float = 0.5, **overrides: object
) -> ActiveSystem:
    """The paper's MIPS system: periodic 2-D box at packing fraction φ, softplus repulsion.

    Defaults (Boffi & Vanden-Eijnden 2024, MIPS runs): v0 = 0.025, γ = 1e-4, k = 1, A = 0,
    ε = 0, β = 7.5, r = 1; the paper steps with dt = 0.1. Above φ = 0.55 the cell capacity and
    neighbour-list size grow (24 and 48 instead of 16 and 32). Any field can be overridden.

    Example::

        system = mips_system(4096, 0.5)
        system.half_width                    # ≈ 80.2
        faster = mips_system(512, 0.5, gamma=1e-3)
    """
    radius = overrides.get("radius", 1.0)
    half_width = box_half_width(n_particles, packing_fraction, radius)  # type: ignore[arg-type]
    dense = packing_fraction > 0.55  # compressed clusters: more neighbours within reach
    fields = dict(
        n_particles=n_particles,
        half_width=half_width,
        v0=0.025,
        gamma=1e-4,
        epsilon=0.0,
        stiffness=1.0,
        beta=7.5,
        cell_capacity=24 if dense else 16,
        max_neighbors=48 if dense else 32,
    )
    fields.update(overrides)
    return ActiveSystem(**fields)  # type: ignore[arg-type]


def wrap(x: Float[Array, "... d"], half_width: float | None) -> Float[Array, "... d"]:
    """Map positions into the periodic box [−L, L) (identity in free space).

    Example::

        wrap(jnp.array([[10.5, -11.0]]), 10.0)        # [[-9.5, 9.0]]
    """
    if half_width is None:
        return x
    width = jnp.asarray(2.0 * half_width, x.dtype)
    return x - width * jnp.floor((x + width / 2) / width)


def minimum_image(d: Float[Array, "... d"], half_width: float | None) -> Float[Array, "... d"]:
    """The minimum-image displacement d − 2L round(d / 2L) (identity in free space).

    Example::

        minimum_image(jnp.array([[19.0, -11.0]]), 10.0)     # [[-1.0, 9.0]]
    """
    if half_width is None:
        return d
    width = jnp.asarray(2.0 * half_width, d.dtype)
    return d - width * jnp.round(d / width)


def repulsion_magnitude(distance: Float[Array, "..."], system: ActiveSystem) -> Float[Array, "..."]:
    """softplus_β(2r − |d|) (or the hard (2r − |d|)_+), zero beyond the cutoff.

    Example::

        repulsion_magnitude(jnp.array([1.5, 2.0, 5.0]), mips_system(64, 0.5))
        # [0.503, 0.092, 0.0]
    """
    overlap = jnp.asarray(2.0 * system.radius, distance.dtype) - distance
    if system.beta is None:
        mag = jnp.maximum(overlap, jnp.zeros_like(overlap))
    else:
        beta = jnp.asarray(system.beta, distance.dtype)
        mag = jax_softplus(beta * overlap) / beta
    inside = distance < jnp.asarray(system.interaction_range, distance.dtype)
    return jnp.where(inside, mag, jnp.zeros_like(mag))


def jax_softplus(u: Array) -> Array:
    """log(1 + e^u), overflow-free."""
    return jnp.logaddexp(u, jnp.zeros_like(u))


def diffusion_coefficients(system: ActiveSystem) -> tuple[float, float]:
    """(D_x, D_g) = (ε, γ): the diagonal diffusion matrix D of the AOUP state (x, g)."""
    return float(system.epsilon), float(system.gamma)
