"""A compact Equinox UNet ε-model for small images (residual blocks, time conditioning)."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from jentropy import nn


def _groups(channels: int) -> int:
    """Up to 8 groups of at least 2 channels (one channel per group would normalise away the
    per-channel structure)."""
    for g in (8, 4, 2):
        if channels % g == 0 and channels // g >= 2:
            return g
    return 1


class _ResBlock(eqx.Module):
    norm1: eqx.nn.GroupNorm
    conv1: eqx.nn.Conv2d
    time: eqx.nn.Linear
    norm2: eqx.nn.GroupNorm
    conv2: eqx.nn.Conv2d
    skip: eqx.nn.Conv2d | None

    def __init__(self, c_in: int, c_out: int, emb_dim: int, *, key: PRNGKeyArray):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.norm1 = eqx.nn.GroupNorm(_groups(c_in), c_in)
        self.conv1 = eqx.nn.Conv2d(c_in, c_out, 3, padding=1, key=k1)
        self.time = eqx.nn.Linear(emb_dim, 2 * c_out, key=k2)
        self.norm2 = eqx.nn.GroupNorm(_groups(c_out), c_out)
        self.conv2 = eqx.nn.Conv2d(c_out, c_out, 3, padding=1, key=k3)
        self.skip = None if c_in == c_out else eqx.nn.Conv2d(c_in, c_out, 1, key=k4)

    def __call__(self, x: Array, emb: Array) -> Array:
        h = self.conv1(jax.nn.silu(self.norm1(x)))
        # FiLM after the normalisation, so the time conditioning cannot be normalised away
        scale, shift = jnp.split(self.time(emb), 2)
        h = self.norm2(h) * (1.0 + scale[:, None, None]) + shift[:, None, None]
        h = self.conv2(jax.nn.silu(h))
        return h + (x if self.skip is None else self.skip(x))


def _is_layer(x: Any) -> bool:
    return isinstance(x, (eqx.nn.Linear, eqx.nn.Conv, eqx.nn.GroupNorm))


def _initialise(skeleton: Any, key: PRNGKeyArray) -> Any:
    """Fill a shape-only module (``eqx.filter_eval_shape``) with Equinox's default
    initialisation — weights and biases ``U(−1/√fan_in, 1/√fan_in)`` for linear and convolution
    layers, GroupNorm scale 1 and shift 0 — drawing all numbers in one call."""
    layers = [x for x in jax.tree_util.tree_leaves(skeleton, is_leaf=_is_layer) if _is_layer(x)]
    arrays = [(x.weight, x.bias) for x in layers]
    total = sum(
        w.size + (0 if b is None else b.size)
        for (w, b), x in zip(arrays, layers)
        if not isinstance(x, eqx.nn.GroupNorm)
    )
    dtype = arrays[0][0].dtype
    # sliced on the host: eager slicing of a device array compiles one kernel per slice shape
    draws = np.asarray(jax.random.uniform(key, (total,), dtype, -1.0, 1.0))
    offset, filled = 0, []
    for layer, (w, b) in zip(layers, arrays):
        if isinstance(layer, eqx.nn.GroupNorm):
            filled.append((np.ones(w.shape, w.dtype), np.zeros(b.shape, b.dtype)))
            continue
        limit = 1.0 / math.sqrt(math.prod(w.shape[1:]))
        new = []
        for a in (w, b):
            if a is None:
                new.append(None)
                continue
            values = limit * draws[offset : offset + a.size]
            new.append(values.reshape(a.shape).astype(a.dtype))
            offset += a.size
        filled.append(tuple(new))

    def where(m: Any) -> list[Any]:
        nodes = [x for x in jax.tree_util.tree_leaves(m, is_leaf=_is_layer) if _is_layer(x)]
        return [leaf for x in nodes for leaf in (x.weight, x.bias) if leaf is not None]

    values = [jnp.asarray(leaf) for pair in filled for leaf in pair if leaf is not None]
    return eqx.tree_at(where, skeleton, values, is_leaf=lambda x: x is None)


class UNet(eqx.Module):
    """An ε-prediction UNet: ``model(x, t) -> ε̂`` for one image ``x`` and a time ``t ∈ [0, 1]``.

    Levels of ``widths`` channels (one residual block each on the way down and up, skip
    connections between them), stride-2 convolutions down, nearest-neighbour up-sampling (the
    next block's convolutions smooth it), a middle
    residual block, and a sinusoidal embedding of ``1000 t`` (:class:`jentropy.nn.SinusoidalEmbedding`)
    through an :class:`jentropy.nn.MLP`, applied in every block as a scale and shift after the
    second GroupNorm. ADS uses widths [32, 64, 128] on
    MNIST; the reproductions use smaller ones on 8×8 digits.

    Example::

        model = UNet((8, 8), widths=(32, 64), key=jax.random.key(0))
        eps_hat = model(jnp.zeros((8, 8)), 0.5)                # (8, 8)
    """

    image_shape: tuple[int, ...] = eqx.field(static=True)
    widths: tuple[int, ...] = eqx.field(static=True)
    embed: nn.SinusoidalEmbedding
    time_mlp: nn.MLP
    stem: eqx.nn.Conv2d
    down_blocks: list[_ResBlock]
    downsample: list[eqx.nn.Conv2d]
    middle: _ResBlock
    up_blocks: list[_ResBlock]
    head_norm: eqx.nn.GroupNorm
    head: eqx.nn.Conv2d

    def __init__(
        self,
        image_shape: tuple[int, ...],
        *,
        widths: tuple[int, ...] = (32, 64, 128),
        embedding_dim: int = 64,
        key: PRNGKeyArray,
    ):
        """Args:
        image_shape: (H, W) or (C, H, W); H and W divisible by ``2**(len(widths) − 1)``.
        widths: channels per level.
        embedding_dim: size of the time embedding.
        key: initialisation key.
        """
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3) or any(s < 1 for s in shape):
            raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}")
        widths = tuple(int(w) for w in widths)
        if not widths or any(w < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty tuple of positive ints, got {widths!r}")
        factor = 2 ** (len(widths) - 1)
        if shape[-1] % factor or shape[-2] % factor:
            raise ValueError(
                f"image height and width must be divisible by 2**(len(widths)-1) = {factor}, "
                f"got image_shape {shape}"
            )
        channels = shape[0] if len(shape) == 3 else 1

        def build(key: PRNGKeyArray) -> dict[str, Any]:
            keys = iter(jax.random.split(key, 3 * len(widths) + 3))
            parts: dict[str, Any] = {
                "time_mlp": nn.MLP(embedding_dim, embedding_dim, embedding_dim, 1, key=next(keys)),
                "stem": eqx.nn.Conv2d(channels, widths[0], 3, padding=1, key=next(keys)),
                "down_blocks": [],
                "downsample": [],
                "up_blocks": [],
            }
            for i, w in enumerate(widths):
                c_in = widths[max(i - 1, 0)]
                parts["down_blocks"].append(_ResBlock(c_in, w, embedding_dim, key=next(keys)))
                if i < len(widths) - 1:
                    conv = eqx.nn.Conv2d(w, w, 3, stride=2, padding=1, key=next(keys))
                    parts["downsample"].append(conv)
            parts["middle"] = _ResBlock(widths[-1], widths[-1], embedding_dim, key=next(keys))
            for i in reversed(range(len(widths))):
                c_in = (widths[-1] if i == len(widths) - 1 else widths[i + 1]) + widths[i]
                block = _ResBlock(c_in, widths[i], embedding_dim, key=next(keys))
                parts["up_blocks"].append(block)
            parts["head_norm"] = eqx.nn.GroupNorm(_groups(widths[0]), widths[0])
            parts["head"] = eqx.nn.Conv2d(widths[0], channels, 3, padding=1, key=next(keys))
            return parts

        # Built as shapes only, then filled from ONE uniform draw: initialising layer by layer
        # compiles a random kernel per weight shape, which takes seconds to minutes on CPU.
        parts = _initialise(eqx.filter_eval_shape(build, key), key)
        self.image_shape, self.widths = shape, widths
        self.embed = nn.SinusoidalEmbedding(embedding_dim)
        self.time_mlp, self.stem, self.middle = parts["time_mlp"], parts["stem"], parts["middle"]
        self.down_blocks, self.downsample = parts["down_blocks"], parts["downsample"]
        self.up_blocks = parts["up_blocks"]
        self.head_norm, self.head = parts["head_norm"], parts["head"]

    def __call__(self, x: Float[Array, "..."], t: ArrayLike) -> Float[Array, "..."]:
        """ε̂ for one image ``x`` of ``image_shape`` at scalar time ``t``."""
        if x.shape != self.image_shape:
            raise ValueError(
                f"x must have shape {self.image_shape} (vmap for batches), got {x.shape}"
            )
        t = jnp.asarray(t, x.dtype)
        emb = self.time_mlp(self.embed(1000.0 * t))
        h = self.stem(x if x.ndim == 3 else x[None])
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.middle(h, emb)
        for j, block in enumerate(self.up_blocks):
            h = block(jnp.concatenate([h, skips.pop()], axis=0), emb)
            if j < len(self.up_blocks) - 1:  # nearest-neighbour up; the next block convolves
                h = jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)
        out = self.head(jax.nn.silu(self.head_norm(h)))
        return out.reshape(x.shape)
