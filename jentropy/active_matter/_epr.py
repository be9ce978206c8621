"""Entropy production rates, probability-flow velocities and score identities.

With D = diag(ε on x, γ on g) and a score s of the stationary density ρ, the probability-flow
velocity is v = b − D s, the current j = v ρ, and stationarity reads ∇·v + v·s = 0. Over any
set S of noisy coordinates

    EPR_S = ⟨v_S · D_S⁻¹ v_S⟩                              (quadratic form, the paper's eq. 9)
          = ⟨v_S · D_S⁻¹ b_S⟩ + ⟨∇_S · v_S⟩                (divergence form: integrate
                                                           ⟨v_S·s_S⟩ = −⟨∇_S·v_S⟩ by parts)

For AOUPs with ε = 0, v_g = −γ(g + s_g) and the first term of the divergence form vanishes for
the exact score (⟨g·s_g⟩ = −N d), leaving the paper's local EPR σ_i = ∇_{g_i}·v_{g_i} =
−γ d − γ ∇_{g_i}·s_{g_i}; summed, EPR = γ(⟨|s_g|²⟩ − N d).

Flat functions (:func:`entropy_production_rate`, ...) take a score of the whole state z (small
systems, exact models); the ``particle_*`` functions take the local transformer's per-particle
g-scores and their 2 × 2 divergences.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ._system import ActiveSystem


class Estimate(NamedTuple):
    """A Monte-Carlo mean over samples and its standard error (std / √samples)."""

    value: Float[Array, ""]
    stderr: Float[Array, ""]


def _estimate(per_sample: Array) -> Estimate:
    n = per_sample.shape[0]
    mean = jnp.mean(per_sample)
    std = jnp.std(per_sample, ddof=1) if n > 1 else jnp.zeros_like(mean)
    return Estimate(mean, std / jnp.sqrt(jnp.asarray(n, per_sample.dtype)))


def _inverse_diffusion(diffusion: Array, mask: Array | None) -> Array:
    keep = diffusion > 0
    if mask is not None:
        keep = keep & mask
    safe = jnp.where(diffusion > 0, diffusion, jnp.ones_like(diffusion))
    return jnp.where(keep, 1.0 / safe, jnp.zeros_like(diffusion))


def _check_samples(zs: Array, diffusion: Array) -> None:
    if zs.ndim != 2 or zs.shape[1] != diffusion.shape[0]:
        raise ValueError(
            f"zs must have shape (samples, n) with n = len(diffusion) = {diffusion.shape[0]}, "
            f"got {zs.shape}"
        )


def probability_flow_velocity(
    drift_fn: Callable[[Array], Array],
    score_fn: Callable[[Array], Array],
    diffusion: Float[ArrayLike, " n"],
    z: Float[Array, " n"],
) -> Float[Array, " n"]:
    """v(z) = b(z) − D s(z) for one state (vmap for samples); j = v ρ is the current.

    Example::

        v = probability_flow_velocity(lambda z: A @ z, lambda z: -P @ z, D, z)
    """
    return drift_fn(z) - jnp.asarray(diffusion, z.dtype) * score_fn(z)


def entropy_production_rate(
    drift_fn: Callable[[Array], Array],
    score_fn: Callable[[Array], Array],
    diffusion: Float[ArrayLike, " n"],
    zs: Float[Array, "samples n"],
    *,
    form: Literal["quadratic", "divergence"] = "quadratic",
    mask: Bool[ArrayLike, " n"] | None = None,
) -> Estimate:
    """EPR over the noisy coordinates (∩ ``mask``), estimated from stationary samples.

    ``form="quadratic"``: ⟨v_S·D_S⁻¹v_S⟩; ``form="divergence"``: ⟨v_S·D_S⁻¹b_S⟩ + ⟨∇_S·v_S⟩
    (exact Jacobian diagonal by ``jax.jacfwd``: n tangents per sample, small systems). The two
    agree for the exact score; their gap measures a learned score's error.

    Args:
        drift_fn: b(z) for one state (n,) → (n,).
        score_fn: s(z) for one state.
        diffusion: the diagonal of D, (n,).
        zs: (samples, n) stationary samples.
        form: see above.
        mask: (n,) booleans: restrict to a subset (e.g. the g-part).

    Returns:
        :class:`Estimate` (mean and standard error over samples).

    Example::

        epr = entropy_production_rate(lambda z: A @ z, model, D, zs)
        epr.value, epr.stderr
    """
    d = jnp.asarray(diffusion, zs.dtype)
    _check_samples(zs, d)
    if form not in ("quadratic", "divergence"):
        raise ValueError(f"form must be 'quadratic' or 'divergence', got {form!r}")
    m = None if mask is None else jnp.asarray(mask)
    if m is not None and (m.shape != d.shape or m.dtype != jnp.bool_):
        raise ValueError(f"mask must be a boolean array of shape {d.shape}, got {m.shape}")
    inv_d = _inverse_diffusion(d, m)
    keep = inv_d > 0

    def one(z: Array) -> Array:
        if form == "quadratic":
            v = probability_flow_velocity(drift_fn, score_fn, d, z)
            return jnp.sum(inv_d * v * v)

        def velocity(u: Array) -> tuple[Array, Array]:
            v = probability_flow_velocity(drift_fn, score_fn, d, u)
            return v, v

        jac, v = jax.jacfwd(velocity, has_aux=True)(z)
        div = jnp.sum(jnp.where(keep, jnp.diagonal(jac), jnp.zeros_like(z)))
        return jnp.sum(inv_d * v * drift_fn(z)) + div

    # one compiled program per call: far cheaper than dispatching the vmapped jacfwd eagerly
    return _estimate(jax.jit(jax.vmap(one))(zs))


def score_identities(
    score_fn: Callable[[Array], Array],
    zs: Float[Array, "samples n"],
    *,
    mask: Bool[ArrayLike, " n"] | None = None,
) -> dict[str, Estimate]:
    """Identities every score of a density obeys, as Monte-Carlo estimates:

    * ``"z_dot_s"``: ⟨z_S·s_S⟩, which is −|S| (integration by parts);
    * ``"stein"``: ⟨|s_S|²⟩ + ⟨∇_S·s_S⟩, which is 0.

    Example::

        ids = score_identities(model, zs, mask=g_mask)
        ids["z_dot_s"].value            # ≈ −(number of g coordinates)
    """
    keep = jnp.ones(zs.shape[1], bool) if mask is None else jnp.asarray(mask)

    def one(z: Array) -> tuple[Array, Array]:
        jac, s = jax.jacfwd(lambda u: (score_fn(u),) * 2, has_aux=True)(z)
        zero = jnp.zeros_like(z)
        s_s = jnp.where(keep, s, zero)
        stein = jnp.sum(s_s * s_s) + jnp.sum(jnp.where(keep, jnp.diagonal(jac), zero))
        return jnp.sum(jnp.where(keep, z, zero) * s_s), stein

    zdots, steins = jax.jit(jax.vmap(one))(zs)
    return {"z_dot_s": _estimate(zdots), "stein": _estimate(steins)}


def stationarity_residual(
    drift_fn: Callable[[Array], Array],
    score_fn: Callable[[Array], Array],
    diffusion: Float[ArrayLike, " n"],
    zs: Float[Array, "samples n"],
) -> Estimate:
    """⟨∇·v + v·s⟩ and its standard error; ≈ 0 pointwise for the stationary score.

    Example::

        stationarity_residual(drift, model, D, zs).value       # ≈ 0
    """
    d = jnp.asarray(diffusion, zs.dtype)
    _check_samples(zs, d)

    def one(z: Array) -> Array:
        def velocity(u: Array) -> tuple[Array, Array]:
            v = probability_flow_velocity(drift_fn, score_fn, d, u)
            return v, v

        jac, v = jax.jacfwd(velocity, has_aux=True)(z)
        return jnp.trace(jac) + jnp.sum(v * score_fn(z))

    return _estimate(jax.jit(jax.vmap(one))(zs))


# ---------------------------------------------------------------------------------------------
# per-particle quantities (AOUP, g-scores from the local transformer)


def particle_velocity_g(
    system: ActiveSystem, g: Float[Array, "*batch n d"], s_g: Float[Array, "*batch n d"]
) -> Float[Array, "*batch n d"]:
    """v_{g_i} = −γ (g_i + s_{g_i}): the g-part of the probability-flow velocity.

    (The x-part is v_x = b_x − ε s_x; with ε = 0 it is the drift b_x itself.)

    Example::

        v_g = particle_velocity_g(system, g, field.score)       # (S, N, 2)
    """
    return -jnp.asarray(system.gamma, g.dtype) * (g + s_g)


def local_entropy_production(
    system: ActiveSystem,
    g: Float[Array, "*batch n d"],
    s_g: Float[Array, "*batch n d"],
    div_g: Float[Array, "*batch n"] | None = None,
    *,
    form: Literal["divergence", "quadratic"] = "divergence",
) -> Float[Array, "*batch n"]:
    """Per-particle entropy production of the g-degrees of freedom.

    ``form="divergence"`` (the paper's local EPR): σ_i = ∇_{g_i}·v_{g_i} = −γ d − γ ∇_{g_i}·s_{g_i}
    (needs ``div_g``); ``form="quadratic"``: |v_{g_i}|²/γ = γ |g_i + s_{g_i}|². Both sum, in
    expectation, to the g-part EPR (the total EPR when ε = 0).

    Example::

        s, diag = jax.vmap(lambda p: score_and_divergence(model, p))(patches)
        sigma = local_entropy_production(system, g, s, diag.sum(-1))      # (N,)
    """
    gamma = jnp.asarray(system.gamma, g.dtype)
    if form == "quadratic":
        return gamma * jnp.sum((g + s_g) ** 2, axis=-1)
    if form != "divergence":
        raise ValueError(f"form must be 'divergence' or 'quadratic', got {form!r}")
    if div_g is None:
        raise ValueError("form='divergence' needs div_g (∇_{g_i}·s_{g_i})")
    return -gamma * (jnp.asarray(g.shape[-1], g.dtype) + div_g)


def particle_score_identities(
    g: Float[Array, "*batch n d"],
    s_g: Float[Array, "*batch n d"],
    div_g: Float[Array, "*batch n"],
) -> dict[str, Estimate]:
    """The identities ⟨g·s_g⟩ = −N d and ⟨|s_g|²⟩ = −⟨∇_g·s_g⟩, per snapshot then averaged,
    returned normalised per coordinate: ``"g_dot_s"`` ≈ −1 and ``"stein"`` ≈ 0.

    Example::

        ids = particle_score_identities(g, s, div)     # g, s: (S, N, 2); div: (S, N)
    """
    coords = g.shape[-1] * g.shape[-2]
    g_dot_s = jnp.sum(g * s_g, axis=(-1, -2)).reshape(-1) / coords
    stein = (jnp.sum(s_g * s_g, axis=(-1, -2)) + jnp.sum(div_g, axis=-1)).reshape(-1) / coords
    return {"g_dot_s": _estimate(g_dot_s), "stein": _estimate(stein)}


def binned_map(
    x: Float[Array, "*batch n 2"],
    values: Float[Array, "*batch n"],
    half_width: float,
    bins: int,
) -> tuple[Float[Array, "bins bins"], Float[Array, "bins bins"]]:
    """Spatial map of a per-particle quantity: the mean of ``values`` over the particles in
    each of bins × bins square regions of the box (over every snapshot given), and the counts.

    Regions without particles hold 0 (check ``counts``). Entry [a, b] is the region
    x ∈ [−L + a h, −L + (a+1) h), y ∈ [−L + b h, ...), h = 2L/bins.

    Example::

        mean, counts = binned_map(x, sigma, system.half_width, 32)
        plt.imshow(mean.T, origin="lower", extent=(-L, L, -L, L))
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be an int >= 1, got {bins!r}")
    if x.shape[-1] != 2 or x.shape[:-1] != values.shape:
        raise ValueError(
            f"x must be (..., N, 2) and values (..., N), got {x.shape} and {values.shape}"
        )
    return _binned_map(x, values, float(half_width), bins)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _binned_map(x: Array, values: Array, half_width: float, bins: int) -> tuple[Array, Array]:
    width = jnp.asarray(2.0 * half_width, x.dtype)
    cell = jnp.clip(jnp.floor((x + width / 2) / width * bins).astype(jnp.int32), 0, bins - 1)
    flat = (cell[..., 0] * bins + cell[..., 1]).reshape(-1)
    total = jax.ops.segment_sum(values.reshape(-1), flat, num_segments=bins * bins)
    counts = jax.ops.segment_sum(jnp.ones_like(values).reshape(-1), flat, num_segments=bins * bins)
    mean = total / jnp.where(counts > 0, counts, jnp.ones_like(counts))
    return mean.reshape(bins, bins), counts.reshape(bins, bins)
