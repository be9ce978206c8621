"""The permutation-equivariant local transformer that represents the per-particle score.

For particle i the network sees a :class:`Patch`: its own (x_i, g_i) and its k nearest
neighbours (x_j, g_j) (minimum image, x_j unwrapped around x_i). Token 0 is
[emb_g(g_i), emb_x(0)] (or [emb_g(g_i), emb_abs(x_i)] with ``absolute_position=True``, for
trapped systems that are not translation invariant); neighbour tokens are
[emb_g(g_j), emb_x((x_j − x_i)/ℓ)]. Post-LayerNorm transformer blocks without positional
encodings mix the tokens, and an MLP decodes token 0 into s_{g_i} (or (s_{x_i}, s_{g_i})).
The output is therefore invariant to the order of the neighbours, and applying the network to
every particle is equivariant to relabelling the particles. Cost O(N k).
"""

from __future__ import annotations

import functools
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from jentropy import nn

from ._cells import nearest_neighbors


class Patch(NamedTuple):
    """One particle's neighbourhood (leading axes in front for batches).

    Attributes:
        x_self, g_self: (d,) position and self-propulsion of the particle.
        x_nbr: (k, d) neighbour positions x_i + minimum_image(x_j − x_i).
        g_nbr: (k, d) neighbour self-propulsions.
    """

    x_self: Float[Array, "*batch d"]
    g_self: Float[Array, "*batch d"]
    x_nbr: Float[Array, "*batch k d"]
    g_nbr: Float[Array, "*batch k d"]


def particle_patches(
    x: Float[Array, "n d"],
    g: Float[Array, "n d"],
    k: int,
    half_width: float | None,
    *,
    search_radius: float | None = None,
) -> Patch:
    """The :class:`Patch` of every particle (leading axis N), from exact k nearest neighbours.

    Args:
        x, g: (N, d) configuration.
        k: neighbours per particle.
        half_width: periodic box half-width L, or None.
        search_radius: enables the O(N) cell search (see :func:`nearest_neighbors`).

    Example::

        patches = particle_patches(x, g, 16, system.half_width)
        patches.x_nbr.shape           # (N, 16, 2)
    """
    if jnp.shape(x) != jnp.shape(g) or jnp.ndim(x) != 2:
        raise ValueError(f"x and g must both have shape (N, d), got {jnp.shape(x)}, {jnp.shape(g)}")
    return _patches(x, g, k, half_width, search_radius)


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _patches(
    x: Array, g: Array, k: int, half_width: float | None, search_radius: float | None
) -> Patch:
    nb = nearest_neighbors(x, k, half_width, search_radius=search_radius)
    return Patch(x, g, x[:, None, :] + nb.displacement, g[nb.index])


class _PostLNBlock(eqx.Module):
    """x ← LN(x + Attn(x)); x ← LN(x + MLP(x)) (the original, post-LN transformer block,
    as the paper uses; :class:`jentropy.nn.TransformerBlock` is the pre-LN variant)."""

    attention: nn.MultiHeadAttention
    mlp: nn.MLP
    norm1: eqx.nn.LayerNorm
    norm2: eqx.nn.LayerNorm

    def __init__(self, width: int, num_heads: int, mlp_ratio: float, *, key: PRNGKeyArray):
        ka, km = jax.random.split(key)
        self.attention = nn.MultiHeadAttention(width, num_heads, key=ka)
        self.mlp = nn.MLP(width, width, int(mlp_ratio * width), 1, key=km)
        self.norm1 = eqx.nn.LayerNorm(width)
        self.norm2 = eqx.nn.LayerNorm(width)

    def __call__(self, x: Float[Array, "t w"]) -> Float[Array, "t w"]:
        x = jax.vmap(self.norm1)(x + self.attention(x))
        return jax.vmap(self.norm2)(x + jax.vmap(self.mlp)(x))


class LocalTransformer(eqx.Module):
    """Per-particle score network (the paper's spatially local transformer).

    ``model(patch)`` returns s_{g_i} (shape (d,)) for ``targets="g"``, or the concatenation
    (s_{x_i}, s_{g_i}) (shape (2d,)) for ``targets="xg"``. With ``shift=True`` the g-part is
    −g_i + network (the "shift" by the equilibrium score of the N(0, I) g-marginal).

    Args:
        dim: spatial dimension d.
        n_neighbors: k (the paper: 64).
        width: token width (the paper: 2 × 128); half for emb_g, half for emb_x.
        depth: transformer blocks (the paper: 4).
        num_heads: attention heads.
        mlp_ratio: hidden width of each block's MLP, in units of ``width``.
        targets: ``"g"`` or ``"xg"``.
        absolute_position: token 0 embeds x_i (trapped, non-periodic systems).
        length_scale: ℓ, positions are divided by it before embedding (≈ particle diameter).
        shift: add the equilibrium score −g_i to the g-output.
        post_norm: post-LN blocks (the paper); False uses :class:`jentropy.nn.TransformerBlock`
            (pre-LN) followed by a final LayerNorm.
        key: initialisation key.

    Example::

        model = LocalTransformer(n_neighbors=16, width=64, depth=2, key=jax.random.key(0))
        patches = particle_patches(x, g, 16, system.half_width)
        s_g = jax.vmap(model)(patches)                   # (N, 2)
        s_g = particle_scores(model, x, g, system.half_width)   # the same, in one call
    """

    embed_g: nn.MLP
    embed_x: nn.MLP
    embed_abs: nn.MLP | None
    blocks: tuple[eqx.Module, ...]
    final_norm: eqx.nn.LayerNorm | None
    decoder: nn.MLP
    dim: int = eqx.field(static=True)
    n_neighbors: int = eqx.field(static=True)
    targets: str = eqx.field(static=True)
    absolute_position: bool = eqx.field(static=True)
    length_scale: float = eqx.field(static=True)
    shift: bool = eqx.field(static=True)

    def __init__(
        self,
        *,
        dim: int = 2,
        n_neighbors: int = 64,
        width: int = 256,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 2.0,
        targets: Literal["g", "xg"] = "g",
        absolute_position: bool = False,
        length_scale: float = 2.0,
        shift: bool = False,
        post_norm: bool = True,
        key: PRNGKeyArray,
    ):
        if targets not in ("g", "xg"):
            raise ValueError(f"targets must be 'g' or 'xg', got {targets!r}")
        for name, value in (("dim", dim), ("n_neighbors", n_neighbors), ("depth", depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 2 or width % 2:
            raise ValueError(f"width must be an even int >= 2, got {width!r}")
        if not length_scale > 0:
            raise ValueError(f"length_scale must be > 0, got {length_scale!r}")
        keys = jax.random.split(key, depth + 4)
        half = width // 2
        self.embed_g = nn.MLP(dim, half, half, 1, key=keys[0])
        self.embed_x = nn.MLP(dim, half, half, 1, key=keys[1])
        self.embed_abs = nn.MLP(dim, half, half, 1, key=keys[2]) if absolute_position else None
        if post_norm:
            self.blocks = tuple(_PostLNBlock(width, num_heads, mlp_ratio, key=k) for k in keys[4:])
            self.final_norm = None
        else:
            self.blocks = tuple(
                nn.TransformerBlock(width, num_heads, mlp_ratio, key=k) for k in keys[4:]
            )
            self.final_norm = eqx.nn.LayerNorm(width)
        out = dim if targets == "g" else 2 * dim
        self.decoder = nn.MLP(width, out, width, 1, key=keys[3])
        self.dim, self.n_neighbors, self.targets = dim, n_neighbors, targets
        self.absolute_position, self.length_scale, self.shift = (
            absolute_position,
            float(length_scale),
            shift,
        )

    def __call__(self, patch: Patch) -> Float[Array, " out"]:
        """The score of one particle from its :class:`Patch`."""
        d, k = self.dim, self.n_neighbors
        if jnp.shape(patch.x_nbr) != (k, d) or jnp.shape(patch.g_nbr) != (k, d):
            raise ValueError(
                f"patch neighbours must have shape (k, d) = {(k, d)}, got "
                f"{jnp.shape(patch.x_nbr)}, {jnp.shape(patch.g_nbr)}"
            )
        scale = jnp.asarray(self.length_scale, patch.x_self.dtype)
        rel = (patch.x_nbr - patch.x_self) / scale
        if self.embed_abs is None:
            self_pos = self.embed_x(jnp.zeros_like(patch.x_self))
        else:
            self_pos = self.embed_abs(patch.x_self / scale)
        token0 = jnp.concatenate([self.embed_g(patch.g_self), self_pos])
        others = jnp.concatenate(
            [jax.vmap(self.embed_g)(patch.g_nbr), jax.vmap(self.embed_x)(rel)], 1
        )
        h = jnp.concatenate([token0[None], others], axis=0)
        for block in self.blocks:
            h = block(h)
        if self.final_norm is not None:
            h = jax.vmap(self.final_norm)(h)
        out = self.decoder(h[0])
        if self.shift:
            out = out - jnp.concatenate([jnp.zeros_like(out[:-d]), patch.g_self])
        return out

    def scored(self, patch: Patch) -> Float[Array, " out"]:
        """The coordinates y the output is the score of: g_i, or (x_i, g_i)."""
        if self.targets == "g":
            return patch.g_self
        return jnp.concatenate([patch.x_self, patch.g_self])

    def with_scored(self, patch: Patch, y: Float[Array, " out"]) -> Patch:
        """``patch`` with its scored coordinates replaced by ``y`` (for derivatives in y)."""
        if self.targets == "g":
            return patch._replace(g_self=y)
        return patch._replace(x_self=y[: self.dim], g_self=y[self.dim :])

    def score_fn(self, y: Float[Array, " out"], patch: Patch) -> Float[Array, " out"]:
        """s(y; context) with y the scored coordinates — the form the losses differentiate."""
        return self(self.with_scored(patch, y))


def particle_scores(
    model: LocalTransformer,
    x: Float[Array, "n d"],
    g: Float[Array, "n d"],
    half_width: float | None,
    *,
    search_radius: float | None = None,
) -> Float[Array, "n out"]:
    """The network's score for every particle of one configuration: (N, d) or (N, 2d).

    Example::

        s_g = particle_scores(model, x, g, system.half_width)
    """
    patches = particle_patches(x, g, model.n_neighbors, half_width, search_radius=search_radius)
    return _apply(model, patches)


@eqx.filter_jit
def _apply(model: LocalTransformer, patches: Patch) -> Array:
    return jax.vmap(model)(patches)


def score_and_divergence(model: LocalTransformer, patch: Patch) -> tuple[Array, Array]:
    """s_i and the diagonal of ∂s_i/∂y_i (y_i = g_i, or (x_i, g_i)) for one patch, by jacfwd
    (d or 2d tangents: the paper's 2 × 2 Jacobian). Sum the diagonal for the divergence.

    Example::

        s, diag = jax.vmap(lambda p: score_and_divergence(model, p))(patches)
        div_g = diag.sum(-1)                   # ∇_{g_i}·s_{g_i}, (N,)
    """
    y = model.scored(patch)

    def f(y: Array) -> tuple[Array, Array]:
        s = model.score_fn(y, patch)
        return s, s

    jac, s = jax.jacfwd(f, has_aux=True)(y)
    return s, jnp.diagonal(jac)
