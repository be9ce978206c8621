"""Learned score fields over whole configurations: per-particle scores, divergences, local EPR.

:func:`particle_score_fields` evaluates the local transformer on every particle of a batch of
snapshots (k nearest neighbours found per snapshot), with the 2 × 2 (or 4 × 4) Jacobian diagonal
of each particle's output with respect to its own coordinates. :func:`particle_entropy_production`
turns those into the paper's local EPR map and the global EPR with its standard error.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._epr import Estimate, local_entropy_production
from ._network import LocalTransformer, particle_patches, score_and_divergence
from ._system import ActiveSystem


class ScoreField(NamedTuple):
    """Per-particle network outputs for S snapshots.

    Attributes:
        score: (S, N, out): s_{g_i} (out = d) or (s_{x_i}, s_{g_i}) (out = 2d).
        jacobian_diagonal: (S, N, out): ∂s_{i,a}/∂y_{i,a} (sum the g-entries for ∇_{g_i}·s_{g_i}).
    """

    score: Float[Array, "s n out"]
    jacobian_diagonal: Float[Array, "s n out"]


@eqx.filter_jit
def _fields(model, xs, gs, half_width, search_radius):
    def one(xg):
        patches = particle_patches(
            xg[0], xg[1], model.n_neighbors, half_width, search_radius=search_radius
        )
        return jax.vmap(lambda p: score_and_divergence(model, p))(patches)

    s, diag = jax.lax.map(one, (xs, gs))
    return ScoreField(s, diag)


def particle_score_fields(
    model: LocalTransformer,
    xs: Float[Array, "s n d"],
    gs: Float[Array, "s n d"],
    half_width: float | None,
    *,
    search_radius: float | None = None,
) -> ScoreField:
    """The network's per-particle scores and self-Jacobian diagonals on S snapshots.

    Snapshots are processed one at a time (``lax.map``: memory of one configuration);
    particles are vmapped. Cost O(S N k) with ``search_radius`` (cell search), plus O(S N²)
    for the exact all-pairs neighbour search otherwise.

    Example::

        field = particle_score_fields(model, traj.x, traj.g, system.half_width)
        div_g = field.jacobian_diagonal[..., -2:].sum(-1)        # (S, N)
    """
    xs, gs = jnp.asarray(xs), jnp.asarray(gs)
    if xs.ndim != 3 or xs.shape != gs.shape:
        raise ValueError(f"xs and gs must both be (S, N, d), got {xs.shape} and {gs.shape}")
    return _fields(model, xs, gs, half_width, search_radius)


class ParticleEPR(NamedTuple):
    """Entropy production of S snapshots from a learned g-score.

    Attributes:
        local: (S, N) per-particle entropy production σ_i.
        per_snapshot: (S,) Σ_i σ_i.
        total: :class:`Estimate` of the global EPR (mean over snapshots, standard error).
        field: the :class:`ScoreField` it came from.
    """

    local: Float[Array, "s n"]
    per_snapshot: Float[Array, " s"]
    total: Estimate
    field: ScoreField


def particle_entropy_production(
    model: LocalTransformer,
    system: ActiveSystem,
    xs: Float[Array, "s n d"],
    gs: Float[Array, "s n d"],
    *,
    form: Literal["divergence", "quadratic"] = "divergence",
    search_radius: float | None = None,
) -> ParticleEPR:
    """Local and global entropy production of the g-degrees of freedom (all of it when ε = 0).

    σ_i = −γ d − γ ∇_{g_i}·s_{g_i} (``"divergence"``, the paper's local EPR) or γ|g_i + s_{g_i}|²
    (``"quadratic"``); the global EPR is ⟨Σ_i σ_i⟩ over the snapshots.

    Example::

        epr = particle_entropy_production(model, system, traj.x, traj.g)
        epr.total.value, epr.total.stderr
        mean_map, counts = binned_map(traj.x, epr.local, system.half_width, 24)
    """
    if system.n_particles != xs.shape[-2] or system.dim != xs.shape[-1]:
        raise ValueError(
            f"xs must be (S, {system.n_particles}, {system.dim}) for this system, got {xs.shape}"
        )
    field = particle_score_fields(model, xs, gs, system.half_width, search_radius=search_radius)
    d = system.dim
    s_g = field.score[..., -d:]
    div_g = jnp.sum(field.jacobian_diagonal[..., -d:], axis=-1)
    local = local_entropy_production(system, jnp.asarray(gs), s_g, div_g, form=form)
    per = jnp.sum(local, axis=-1)
    n = per.shape[0]
    std = jnp.std(per, ddof=1) if n > 1 else jnp.zeros_like(per[0])
    total = Estimate(jnp.mean(per), std / jnp.sqrt(jnp.asarray(n, per.dtype)))
    return ParticleEPR(local, per, total, field)
