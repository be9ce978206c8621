"""A small decoder-only transformer policy in Flax NNX, with a functional KV cache.

The trainer only needs three methods, so any Flax NNX model (a tunix or Gemma model behind a
thin adapter) can stand in for :class:`TinyLM`:

- ``model(tokens) -> logits``: (B, T) int → (B, T, V), causal (teacher forcing, for the loss);
- ``model.init_cache(batch_size, length) -> cache``: any pytree of arrays;
- ``model.decode(tokens, cache, position) -> (logits, cache)``: one step, tokens (B,) at the
  (traced int32) ``position``, logits (B, V) for the next token.

To plug in a tunix model, write an ``nnx.Module`` holding it whose ``__call__`` runs the model
on the full sequence (positions ``arange(T)``, causal attention mask) and whose ``init_cache`` /
``decode`` wrap the model's own cache (tunix's ``init_cache`` and a one-token forward with
``cache=...``); the losses never see the model, only log-probs (``jentropy.rl.sequence_logprobs``).
The model must be a pytree (the NNX default since Flax 0.11), so ``jax.jit``, ``jentropy.train``
and ``eqx.partition`` can take it apart.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float, Int

__all__ = ["TinyLM"]


class _Block(nnx.Module):
    """Pre-LayerNorm block: causal multi-head self-attention, then a GELU MLP."""

    def __init__(self, width: int, heads: int, mlp_width: int, *, rngs: nnx.Rngs):
        self.heads = heads
        self.norm1 = nnx.LayerNorm(width, rngs=rngs)
        self.qkv = nnx.Linear(width, 3 * width, rngs=rngs)
        self.out = nnx.Linear(width, width, rngs=rngs)
        self.norm2 = nnx.LayerNorm(width, rngs=rngs)
        self.fc1 = nnx.Linear(width, mlp_width, rngs=rngs)
        self.fc2 = nnx.Linear(mlp_width, width, rngs=rngs)

    def _split(self, x: Array) -> tuple[Array, Array, Array]:
        b, t, w = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, w // self.heads)
        q, k, v = (jnp.moveaxis(qkv[:, :, i], 1, 2) for i in range(3))  # (B, H, T, D)
        return q, k, v

    def _attend(self, q: Array, k: Array, v: Array, allowed: Array) -> Array:
        scale = 1 / jnp.sqrt(jnp.asarray(q.shape[-1], q.dtype))
        scores = jnp.einsum("bhqd,bhkd->bhqk", q, k) * scale
        scores = jnp.where(allowed, scores, jnp.finfo(scores.dtype).min)
        att = jax.nn.softmax(scores, axis=-1)
        o = jnp.einsum("bhqk,bhkd->bhqd", att, v)
        b, h, t, d = o.shape
        return self.out(jnp.moveaxis(o, 1, 2).reshape(b, t, h * d))

    def _mlp(self, x: Array) -> Array:
        return x + self.fc2(jax.nn.gelu(self.fc1(self.norm2(x))))

    def __call__(self, x: Array) -> Array:
        q, k, v = self._split(x)
        t = x.shape[1]
        causal = jnp.tril(jnp.ones((t, t), bool))
        return self._mlp(x + self._attend(q, k, v, causal))

    def decode(self, x: Array, k_cache: Array, v_cache: Array, position: Array):
        q, k, v = self._split(x)  # (B, H, 1, D)
        k_cache = jax.lax.dynamic_update_slice_in_dim(k_cache, k, position, axis=2)
        v_cache = jax.lax.dynamic_update_slice_in_dim(v_cache, v, position, axis=2)
        allowed = jnp.arange(k_cache.shape[2]) <= position
        return self._mlp(x + self._attend(q, k_cache, v_cache, allowed)), k_cache, v_cache


class TinyLM(nnx.Module):
    """Decoder-only transformer LM with learned positions and a functional KV cache.

    Args:
        vocab_size: number of token ids.
        max_len: longest sequence (prompt + completion) it will see.
        width, depth, heads: model width, number of blocks, attention heads.
        mlp_width: hidden width of the MLPs (default 4 × width).
        rngs: ``nnx.Rngs`` for the initialisation.

    Example::

        model = TinyLM(14, 16, rngs=nnx.Rngs(0))         # ~100k parameters
        logits = model(tokens)                           # (B, T, 14)
        cache = model.init_cache(B, 16)
        logits_t, cache = model.decode(tokens[:, 0], cache, jnp.int32(0))
    """

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        *,
        width: int = 64,
        depth: int = 2,
        heads: int = 4,
        mlp_width: int | None = None,
        rngs: nnx.Rngs,
    ):
        if width % heads:
            raise ValueError(f"width ({width}) must be divisible by heads ({heads})")
        for name, v in (("vocab_size", vocab_size), ("max_len", max_len), ("depth", depth)):
            if v < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        self.vocab_size = vocab_size
        self.max_len = max_len
        self.width = width
        self.heads = heads
        self.tok = nnx.Embed(vocab_size, width, rngs=rngs)
        self.pos = nnx.Embed(max_len, width, rngs=rngs)
        self.blocks = nnx.List(
            [_Block(width, heads, mlp_width or 4 * width, rngs=rngs) for _ in range(depth)]
        )
        self.norm = nnx.LayerNorm(width, rngs=rngs)
        self.head = nnx.Linear(width, vocab_size, rngs=rngs)

    def __call__(self, tokens: Int[Array, "B T"]) -> Float[Array, "B T V"]:
        t = tokens.shape[1]
        if t > self.max_len:
            raise ValueError(f"sequence length {t} exceeds max_len {self.max_len}")
        x = self.tok(tokens) + self.pos(jnp.arange(t))[None]
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def init_cache(self, batch_size: int, length: int | None = None) -> dict[str, Array]:
        """Zeroed keys and values, (depth, B, H, length, D) each (length default ``max_len``)."""
        length = self.max_len if length is None else length
        d = self.width // self.heads
        shape = (len(self.blocks), batch_size, self.heads, length, d)
        dtype = self.tok.embedding[...].dtype
        return {"k": jnp.zeros(shape, dtype), "v": jnp.zeros(shape, dtype)}

    def decode(
        self, tokens: Int[Array, " B"], cache: dict[str, Array], position: Any
    ) -> tuple[Float[Array, "B V"], dict[str, Array]]:
        """Logits for the token after ``tokens`` (at ``position``), and the updated cache."""
        position = jnp.asarray(position, jnp.int32)
        x = (self.tok(tokens) + self.pos(position))[:, None]
        ks, vs = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block.decode(x, cache["k"][i], cache["v"][i], position)
            ks.append(k)
            vs.append(v)
        logits = self.head(self.norm(x))[:, 0]
        return logits, {"k": jnp.stack(ks), "v": jnp.stack(vs)}
