"""Rollouts for the addition task: G completions per prompt, sharded over devices, scored."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh
from jaxtyping import Array, PRNGKeyArray

from jentropy import parallel

from ._addition import AdditionPools, AdditionTask
from ._sampling import generate
from ._semantic_entropy import sequence_log_likelihood

__all__ = ["rollout_groups"]


def rollout_groups(
    model: Any,
    task: AdditionTask,
    a: Array,
    b: Array,
    key: PRNGKeyArray,
    *,
    group_size: int,
    temperature: float = 1.0,
    mesh: Mesh | None = None,
) -> dict[str, Array]:
    """Sample ``group_size`` completions for each problem ``a[i] + b[i]`` and score them.

    The prompts are split over the devices of ``mesh`` (``jentropy.parallel.map_over_devices``,
    default: all devices); each device samples its prompts' groups with the KV-cache sampler. Every
    prompt gets its own key, so the samples do not depend on the number of devices. When this runs
    inside ``jit`` with the model as an argument, place the model replicated on the mesh first
    (``jax.device_put(model, NamedSharding(mesh, PartitionSpec()))``): jit refuses arguments
    committed to a single device next to a computation sharded over several.

    Returns a dict of group-major arrays: ``a``, ``b`` (n,), ``tokens`` (n, G, N), ``mask``
    (n, G, N), ``seq_ll`` (n, G) mean token log-likelihood under the sampling policy, ``rewards``
    (n, G) exact-match rewards and ``parseable`` (n, G).

    Example: ``groups = rollout_groups(model, task, a, b, key, group_size=8)``.
    """
    n = a.shape[0]
    keys = jax.random.split(key, n)
    g = group_size

    def one_prompt(k: PRNGKeyArray, ai: Array, bi: Array) -> tuple[Array, Array, Array]:
        prompts = task.prompts(jnp.full((g,), ai), jnp.full((g,), bi))
        out = generate(
            model,
            prompts,
            key=k,
            max_new_tokens=task.completion_len,
            temperature=temperature,
            eos_id=task.eos_id,
            pad_id=task.pad_id,
        )
        return out.tokens, out.mask, out.logp

    tokens, mask, logp = parallel.map_over_devices(one_prompt, keys, a, b, mesh=mesh)
    flat = tokens.reshape(n * g, -1)
    rewards = task.rewards(flat, jnp.repeat(a, g), jnp.repeat(b, g)).reshape(n, g)
    return {
        "a": a,
        "b": b,
        "tokens": tokens,
        "mask": mask,
        "seq_ll": sequence_log_likelihood(logp, mask),
        "rewards": rewards.astype(mask.dtype),
        "parseable": task.parseable(flat).reshape(n, g),
    }


def sample_problems(
    task: AdditionTask, pools: AdditionPools, key: PRNGKeyArray, n: int
) -> tuple[Array, Array]:
    """n training problems drawn uniformly from the training pool (carry and no-carry alike)."""
    return task.sample(key, pools.train_a, pools.train_b, n)
