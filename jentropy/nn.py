"""Equinox building blocks shared by the paper modules.

:class:`MLP` (with optional LayerNorm), :class:`MultiHeadAttention` (self or cross attention with
a boolean mask, no positional encoding, so permutation-equivariant), a pre-LayerNorm
:class:`TransformerBlock`, and :class:`SinusoidalEmbedding` for diffusion-time / noise-level
conditioning. Every module acts on one instance (a vector, or a ``(tokens, dim)`` sequence);
batch with ``jax.vmap``.

Example::

    import jax
    from jentropy import nn

    k1, k2 = jax.random.split(jax.random.key(0))
    block = nn.TransformerBlock(64, num_heads=4, key=k1)
    x = jax.random.normal(k2, (10, 64))             # 10 tokens
    y = block(x)                                    # (10, 64)
    ys = jax.vmap(block)(x[None].repeat(8, 0))      # a batch of 8 sequences
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

__all__ = ["MLP", "MultiHeadAttention", "SinusoidalEmbedding", "TransformerBlock"]


def _identity(x: Any) -> Any:
    return x


def _check_size(value: Any, name: str, *, scalar_ok: bool = False, minimum: int = 1) -> None:
    if scalar_ok and value == "scalar":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        allowed = ' or "scalar"' if scalar_ok else ""
        raise ValueError(f"{name} must be an int >= {minimum}{allowed}, got {value!r}")


class MLP(eqx.Module):
    """Multi-layer perceptron: ``depth`` hidden layers of ``width`` units, then a linear output.

    Each hidden layer is ``activation(LayerNorm(W x + b))`` (LayerNorm only with
    ``use_layernorm=True``); the output is ``final_activation(W x + b)``. ``depth=0`` is a single
    affine map. ``in_size``/``out_size`` may be ``"scalar"`` for inputs/outputs of shape ``()``.

    Example::

        mlp = MLP(3, "scalar", width=64, depth=2, key=jax.random.key(0))
        mlp(jnp.ones(3)).shape                   # ()
        jax.vmap(mlp)(jnp.ones((16, 3))).shape   # (16,)
    """

    layers: tuple[eqx.nn.Linear, ...]
    norms: tuple[eqx.nn.LayerNorm, ...]
    activation: Callable[[Array], Array]
    final_activation: Callable[[Array], Array]
    in_size: int | Literal["scalar"] = eqx.field(static=True)
    out_size: int | Literal["scalar"] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)

    def __init__(
        self,
        in_size: int | Literal["scalar"],
        out_size: int | Literal["scalar"],
        width: int,
        depth: int,
        *,
        activation: Callable[[Array], Array] = jax.nn.gelu,
        final_activation: Callable[[Array], Array] = _identity,
        use_layernorm: bool = False,
        use_bias: bool = True,
        dtype: Any = None,
        key: PRNGKeyArray,
    ):
        """Args: sizes as above; ``dtype`` of the weights (default float32/float64 by x64)."""
        _check_size(in_size, "in_size", scalar_ok=True)
        _check_size(out_size, "out_size", scalar_ok=True)
        _check_size(width, "width")
        _check_size(depth, "depth", minimum=0)
        sizes = [in_size, *([width] * depth), out_size]
        keys = jax.random.split(key, depth + 1)
        self.layers = tuple(
            eqx.nn.Linear(a, b, use_bias=use_bias, dtype=dtype, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys)
        )
        self.norms = tuple(
            eqx.nn.LayerNorm(width, dtype=dtype) for _ in range(depth if use_layernorm else 0)
        )
        self.activation = activation
        self.final_activation = final_activation
        self.in_size, self.out_size, self.width, self.depth = in_size, out_size, width, depth

    def __call__(
        self, x: Float[Array, "..."], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "..."]:
        """``x``: shape ``(in_size,)`` (``()`` for ``"scalar"``); returns ``(out_size,)`` or ``()``.
        ``key`` is ignored (it is there so the MLP fits wherever an Equinox layer does)."""
        expected = () if self.in_size == "scalar" else (self.in_size,)
        if jnp.shape(x) != expected:
            raise ValueError(
                f"MLP: x must have shape {expected} (one instance; vmap for batches), got {jnp.shape(x)}"
            )
        for i, layer in enumerate(self.layers[:-1]):
            x = layer(x)
            if self.norms:
                x = self.norms[i](x)
            x = self.activation(x)
        return self.final_activation(self.layers[-1](x))


def _masked_softmax(
    logits: Float[Array, "... s"], mask: Bool[Array, "... s"] | None
) -> Float[Array, "... s"]:
    """Softmax over the last axis after subtracting the row maximum (no overflow); masked entries
    get weight exactly 0 and a fully masked row gets all-zero weights rather than NaN."""
    if mask is not None:
        logits = jnp.where(mask, logits, -jnp.inf)
    top = jnp.max(logits, axis=-1, keepdims=True)
    top = jnp.where(jnp.isfinite(top), top, jnp.zeros_like(top))
    unnormalised = jnp.exp(logits - jax.lax.stop_gradient(top))
    total = jnp.sum(unnormalised, axis=-1, keepdims=True)
    return unnormalised / jnp.where(total > 0, total, jnp.ones_like(total))


class MultiHeadAttention(eqx.Module):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1), self or cross.

    With ``Q = x W_q``, ``K = c W_k``, ``V = c W_v`` split into ``num_heads`` heads of size
    ``d = dim / num_heads``, each head computes ``softmax(Q K^T / sqrt(d)) V`` (rows of the
    softmax over the context tokens allowed by ``mask``); heads are concatenated and projected by
    ``W_o``. No positional information is added, so permuting the tokens of ``x`` (and of
    ``context``, with the mask permuted alike) permutes the output the same way. Logits are
    computed in at least float32.

    Example::

        attn = MultiHeadAttention(32, num_heads=4, key=jax.random.key(0))
        x = jnp.ones((5, 32))
        attn(x).shape                                      # (5, 32): self attention
        causal = jnp.tril(jnp.ones((5, 5), dtype=bool))
        attn(x, mask=causal).shape                         # (5, 32)
        attn(x, context=jnp.ones((7, 32))).shape           # (5, 32): cross attention
    """

    query_proj: eqx.nn.Linear
    key_proj: eqx.nn.Linear
    value_proj: eqx.nn.Linear
    output_proj: eqx.nn.Linear
    dim: int = eqx.field(static=True)
    num_heads: int = eqx.field(static=True)
    context_dim: int = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        num_heads: int,
        *,
        key: PRNGKeyArray,
        context_dim: int | None = None,
        qkv_bias: bool = True,
        out_bias: bool = True,
        dtype: Any = None,
    ):
        """Args: ``dim`` (divisible by ``num_heads``), ``context_dim`` (default ``dim``) of the
        context tokens, whether the q/k/v and output projections have biases, weight dtype."""
        _check_size(dim, "dim")
        _check_size(num_heads, "num_heads")
        if dim % num_heads:
            raise ValueError(
                f"dim must be divisible by num_heads, got dim={dim}, num_heads={num_heads}"
            )
        context_dim = dim if context_dim is None else context_dim
        _check_size(context_dim, "context_dim")
        kq, kk, kv, ko = jax.random.split(key, 4)
        self.query_proj = eqx.nn.Linear(dim, dim, use_bias=qkv_bias, dtype=dtype, key=kq)
        self.key_proj = eqx.nn.Linear(context_dim, dim, use_bias=qkv_bias, dtype=dtype, key=kk)
        self.value_proj = eqx.nn.Linear(context_dim, dim, use_bias=qkv_bias, dtype=dtype, key=kv)
        self.output_proj = eqx.nn.Linear(dim, dim, use_bias=out_bias, dtype=dtype, key=ko)
        self.dim, self.num_heads, self.context_dim = dim, num_heads, context_dim

    def __call__(
        self,
        x: Float[Array, "tokens dim"],
        context: Float[Array, "context context_dim"] | None = None,
        mask: Bool[Array, "tokens context"] | None = None,
    ) -> Float[Array, "tokens dim"]:
        """``x`` (T, dim) attends to ``context`` (S, context_dim; default ``x``). ``mask`` (T, S):
        True where query t may attend to context token s; a query with no allowed token outputs
        the output bias. Returns (T, dim)."""
        if context is None:
            context = x
        if jnp.ndim(x) != 2 or jnp.shape(x)[1] != self.dim:
            raise ValueError(f"x must have shape (tokens, {self.dim}), got {jnp.shape(x)}")
        if jnp.ndim(context) != 2 or jnp.shape(context)[1] != self.context_dim:
            raise ValueError(
                f"context must have shape (tokens, {self.context_dim}), got {jnp.shape(context)}"
            )
        (t, _), (s, _) = jnp.shape(x), jnp.shape(context)
        if mask is not None:
            if jnp.shape(mask) != (t, s):
                raise ValueError(f"mask must have shape (T, S) = {(t, s)}, got {jnp.shape(mask)}")
            if jnp.result_type(mask) != jnp.bool_:
                raise TypeError(f"mask must be boolean, got dtype {jnp.result_type(mask)}")
        head = self.dim // self.num_heads
        q = jax.vmap(self.query_proj)(x).reshape(t, self.num_heads, head)
        k = jax.vmap(self.key_proj)(context).reshape(s, self.num_heads, head)
        v = jax.vmap(self.value_proj)(context).reshape(s, self.num_heads, head)
        logits = jnp.einsum("thd,shd->hts", q, k)
        if jnp.finfo(logits.dtype).bits < 32:
            logits = logits.astype(jnp.float32)
        logits = logits / math.sqrt(head)
        weights = _masked_softmax(logits, None if mask is None else mask[None]).astype(v.dtype)
        out = jnp.einsum("hts,shd->thd", weights, v).reshape(t, self.dim)
        return jax.vmap(self.output_proj)(out)


class TransformerBlock(eqx.Module):
    """Pre-LayerNorm transformer block (Xiong et al. 2020):
    ``x <- x + Dropout(Attention(LN(x)))`` then ``x <- x + Dropout(MLP(LN(x)))``.

    The MLP has one hidden layer of ``int(mlp_ratio * dim)`` units (``activation``, default GELU),
    applied token by token. Dropout acts only when a ``key`` is given (training); ``key=None``
    is deterministic. Permutation-equivariant like :class:`MultiHeadAttention`.

    Example::

        block = TransformerBlock(64, num_heads=8, dropout=0.1, key=jax.random.key(0))
        y = block(x, key=jax.random.key(1))     # training
        y = block(x)                            # evaluation
    """

    norm1: eqx.nn.LayerNorm
    attention: MultiHeadAttention
    norm2: eqx.nn.LayerNorm
    mlp: MLP
    dropout: eqx.nn.Dropout

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4,
        *,
        key: PRNGKeyArray,
        dropout: float = 0.0,
        activation: Callable[[Array], Array] = jax.nn.gelu,
        dtype: Any = None,
    ):
        """Args: ``dim``, ``num_heads`` as for :class:`MultiHeadAttention`; ``mlp_ratio`` sets
        the MLP width; ``dropout`` probability in [0, 1)."""
        if isinstance(mlp_ratio, bool) or not isinstance(mlp_ratio, (int, float)) or mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be a positive number, got {mlp_ratio!r}")
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        ka, km = jax.random.split(key)
        self.norm1 = eqx.nn.LayerNorm(dim, dtype=dtype)
        self.attention = MultiHeadAttention(dim, num_heads, key=ka, dtype=dtype)
        self.norm2 = eqx.nn.LayerNorm(dim, dtype=dtype)
        width = max(1, int(mlp_ratio * dim))
        self.mlp = MLP(dim, dim, width, 1, activation=activation, dtype=dtype, key=km)
        self.dropout = eqx.nn.Dropout(dropout)

    def __call__(
        self,
        x: Float[Array, "tokens dim"],
        mask: Bool[Array, "tokens tokens"] | None = None,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "tokens dim"]:
        """``x`` (T, dim), optional boolean ``mask`` (T, T) for the self attention; returns (T, dim)."""
        k1, k2 = (None, None) if key is None else jax.random.split(key)
        x = x + self._drop(self.attention(jax.vmap(self.norm1)(x), mask=mask), k1)
        return x + self._drop(jax.vmap(self.mlp)(jax.vmap(self.norm2)(x)), k2)

    def _drop(self, y: Array, key: PRNGKeyArray | None) -> Array:
        # key=None means evaluation; otherwise defer to the module's own inference flag
        return self.dropout(y, key=key, inference=True if key is None else None)


class SinusoidalEmbedding(eqx.Module):
    """Sinusoidal embedding of a scalar (time, noise level), as in Vaswani et al. 2017 / DDPM.

    ``e(t) = [sin(t w_0), …, sin(t w_{h-1}), cos(t w_0), …, cos(t w_{h-1})]`` with ``h = dim/2``
    and frequencies ``w_k = max_period^(-k/h)``, so ``|e(t)|^2 = h`` for every ``t``. No
    parameters; follow it with an :class:`MLP` for a learned conditioning vector. Integer ``t``
    is converted to the default float dtype; float ``t`` keeps its dtype.

    Example::

        embed = SinusoidalEmbedding(128)
        embed(jnp.float32(0.5)).shape              # (128,)
        jax.vmap(embed)(jnp.linspace(0.0, 1.0, 8)).shape   # (8, 128)
    """

    dim: int = eqx.field(static=True)
    max_period: float = eqx.field(static=True)

    def __init__(self, dim: int, *, max_period: float = 10_000.0):
        """Args: ``dim`` (even), ``max_period`` (> 1) sets the lowest frequency ``1/max_period``."""
        _check_size(dim, "dim", minimum=2)
        if dim % 2:
            raise ValueError(f"dim must be even, got {dim}")
        if not max_period > 1:
            raise ValueError(f"max_period must be > 1, got {max_period!r}")
        self.dim, self.max_period = dim, float(max_period)

    def __call__(self, t: ArrayLike) -> Float[Array, "dim"]:
        """``t``: a scalar; returns the ``(dim,)`` embedding."""
        t = jnp.asarray(t)
        if t.shape != ():
            raise ValueError(f"t must be a scalar (vmap for batches), got shape {t.shape}")
        dtype = t.dtype if jnp.issubdtype(t.dtype, jnp.floating) else jnp.result_type(float)
        half = self.dim // 2
        freqs = jnp.exp(jnp.arange(half, dtype=dtype) * (-math.log(self.max_period) / half))
        angles = t.astype(dtype) * freqs
        return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)])
