"""Jit-compiled autoregressive sampling with a KV cache, temperature and EOS handling."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ._entropy import token_entropy

__all__ = ["Completions", "generate", "sequence_logprobs"]


class Completions(NamedTuple):
    """Sampled completions: ``tokens`` (B, N) (``pad_id`` after EOS), ``logp`` (B, N) log-probs of
    the sampled tokens under the sampling distribution (0 where masked), ``mask`` (B, N) (1 up to
    and including EOS) and ``finished`` (B,) (EOS was emitted).

    Example: ``out = generate(...); out.tokens[out.mask > 0]``.
    """

    tokens: Int[Array, "B N"]
    logp: Float[Array, "B N"]
    mask: Float[Array, "B N"]
    finished: Bool[Array, " B"]


def generate(
    model: Any,
    prompts: Int[Array, "B P"],
    *,
    key: PRNGKeyArray,
    max_new_tokens: int,
    temperature: float = 1.0,
    eos_id: int | None = None,
    pad_id: int = 0,
) -> Completions:
    """Sample ``max_new_tokens`` tokens after each prompt (one ``lax.scan``, KV cache).

    The prompt is fed through ``model.decode`` position by position (prefill) and the completion
    sampled from softmax(logits / temperature); ``temperature=0`` is greedy decoding. After EOS a
    sequence emits ``pad_id`` with mask 0. The model follows the policy interface of
    :class:`TinyLM` (``init_cache``, ``decode``). Same key, same completions; jit-able (wrap it in
    ``jax.jit`` with the sizes static).

    Example::

        out = generate(model, prompts, key=key, max_new_tokens=4, eos_id=12, pad_id=13)
        out.tokens, out.logp, out.mask
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    prompts = jnp.asarray(prompts)
    b, p = prompts.shape
    total = p + max_new_tokens
    cache = model.init_cache(b, total)
    keys = jax.random.split(key, total - 1)

    def step(carry, xs):
        cache, token, done = carry
        t, k = xs
        logits, cache = model.decode(token, cache, t)
        if temperature == 0:
            scaled = logits
            sampled = jnp.argmax(logits, axis=-1).astype(prompts.dtype)
        else:
            scaled = logits / temperature
            sampled = jax.random.categorical(k, scaled, axis=-1).astype(prompts.dtype)
        in_prompt = t + 1 < p
        nxt = jnp.where(in_prompt, prompts[:, jnp.minimum(t + 1, p - 1)], sampled)
        active = ~done & ~in_prompt
        nxt = jnp.where(done, pad_id, nxt)
        logp = jnp.take_along_axis(jax.nn.log_softmax(scaled, -1), nxt[:, None], -1)[:, 0]
        logp = jnp.where(active, logp, 0)
        if eos_id is not None:
            done = done | (active & (nxt == eos_id))
        return (cache, nxt, done), (nxt, logp, active)

    # Derive the initial carry from the prompts: under jax.shard_map (rollouts sharded over
    # devices) a carry built from constants is device-invariant while the loop makes it vary.
    zero = (prompts[0, 0] * 0).astype(jnp.int32)
    cache = jax.tree_util.tree_map(lambda c: c + zero.astype(c.dtype), cache)
    init = (cache, prompts[:, 0], prompts[:, 0] < 0)
    steps = (jnp.arange(total - 1, dtype=jnp.int32), keys)
    (_, _, done), (toks, logp, active) = jax.lax.scan(step, init, steps)
    sl = slice(p - 1, None)
    mask = active[sl].T.astype(jnp.result_type(float))
    return Completions(toks[sl].T, logp[sl].T.astype(mask.dtype), mask, done)


def sequence_logprobs(
    model: Any,
    prompts: Int[Array, "B P"],
    completions: Int[Array, "B N"],
    *,
    temperature: float = 1.0,
    with_entropy: bool = False,
) -> Float[Array, "B N"] | tuple[Float[Array, "B N"], Float[Array, "B N"]]:
    """log π(o_t | q, o_<t) of each completion token (teacher forcing, one causal forward).

    Logits are divided by ``temperature`` (as TRL and verl do) so that the log-probs match the
    sampling distribution. With ``with_entropy`` also returns the token entropies H_t of that
    distribution (``jentropy.info``). Shapes: prompts (B, P), completions (B, N) → (B, N).

    Example: ``logp, h = sequence_logprobs(model, prompts, completions, with_entropy=True)``.
    """
    p = prompts.shape[1]
    tokens = jnp.concatenate([prompts, completions], axis=1)
    logits = model(tokens[:, :-1])[:, p - 1 :] / temperature
    logp_all = jax.nn.log_softmax(logits, axis=-1)
    logp = jnp.take_along_axis(logp_all, completions[..., None], axis=-1)[..., 0]
    if not with_entropy:
        return logp
    return logp, token_entropy(logits)
