"""Supervised fine-tuning on the addition task (through ``jentropy.train.fit``), evaluation, pass@k."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from jentropy import train

from ._addition import AdditionTask
from ._sampling import generate, sequence_logprobs

__all__ = ["SFTResult", "evaluate_addition", "make_policy", "pass_at_k", "train_sft"]

SFT_CHECKPOINT = "sft_state.npz"


def make_policy(
    task: AdditionTask, *, key: PRNGKeyArray, width: int = 64, depth: int = 2, heads: int = 4
) -> Any:
    """A :class:`TinyLM` sized for ``task`` (vocabulary, prompt + completion length).

    Example: ``model = make_policy(AdditionTask(), key=jax.random.key(0))``.
    """
    from flax import nnx

    from ._policy import TinyLM

    seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
    return TinyLM(
        task.vocab_size, task.seq_len, width=width, depth=depth, heads=heads, rngs=nnx.Rngs(seed)
    )


@dataclasses.dataclass(frozen=True)
class SFTResult:
    """What :func:`train_sft` returns: the fine-tuned ``model``, the loss per step
    (``history["loss"]``), the final ``jentropy.train.TrainState`` and the wall seconds."""

    model: Any
    history: dict[str, np.ndarray]
    state: train.TrainState
    seconds: float


def _sft_loss(task: AdditionTask) -> Any:
    def loss_fn(m: Any, batch: dict[str, Array], _key: PRNGKeyArray) -> Array:
        logp = sequence_logprobs(
            m, task.prompts(batch["a"], batch["b"]), task.answers(batch["a"], batch["b"])
        )
        return -jnp.mean(logp)

    return loss_fn


@functools.partial(jax.jit, static_argnames=("task", "batch_size", "learning_rate", "chunk"))
def _sft_chunk(state, static, a, b, stop, *, task, batch_size, learning_rate, chunk):
    model = eqx.combine(state.params, static)
    step = train.make_step(_sft_loss(task), optax.flatten(optax.adam(learning_rate)), model)

    def body(st, _):
        data_key, _ = train.step_keys(st)
        idx = jax.random.randint(data_key, (batch_size,), 0, a.shape[0])
        new, metrics = step(st, {"a": a[idx], "b": b[idx]})
        active = st.step < stop
        new = jax.tree_util.tree_map(lambda n_, o_: jnp.where(active, n_, o_), new, st)
        return new, metrics["loss"]

    return jax.lax.scan(body, state, length=chunk)


def train_sft(
    model: Any,
    task: AdditionTask,
    *,
    key: PRNGKeyArray,
    steps: int,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    carry_fraction: float = 0.0,
    chunk: int = 100,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = True,
    progress: bool = True,
) -> SFTResult:
    """Teacher-forced next-token training on correct answers: loss = −mean log π(answer | prompt).

    The data are the training problems without a carry, plus carry problems making up
    ``carry_fraction`` of the data (:meth:`AdditionTask.sft_pool`), batches drawn uniformly with the
    step's data key. Built from ``jentropy.train``'s ``init_state`` / ``make_step`` / ``step_keys``
    (Adam; non-finite steps are skipped and reported) inside one compiled ``lax.scan`` per ``chunk``
    steps that is cached across calls, so training several seeds compiles once (``train.fit``
    compiles its loop anew on every call). With ``checkpoint_dir`` the state is saved after every
    chunk and a later call resumes from it bit-identically (the result never depends on
    ``chunk``).

    Example::

        task = AdditionTask(n_digits=2)
        sft = train_sft(make_policy(task, key=k1), task, key=k2, steps=300, carry_fraction=0.1)
        sft.model, sft.history["loss"]
    """
    if steps < 1 or chunk < 1:
        raise ValueError(f"steps and chunk must be >= 1, got {steps} and {chunk}")
    a, b = task.sft_pool(carry_fraction)
    if not 1 <= batch_size <= a.shape[0]:
        raise ValueError(
            f"batch_size must be in [1, {a.shape[0]}] (SFT problems), got {batch_size}"
        )
    _, static = eqx.partition(model, eqx.is_inexact_array)
    state = train.init_state(model, optax.flatten(optax.adam(learning_rate)), key=key)
    path = (
        None if checkpoint_dir is None else os.path.join(os.fspath(checkpoint_dir), SFT_CHECKPOINT)
    )
    losses: list[np.ndarray] = []
    meta = {
        "task": repr(task),
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "carry_fraction": carry_fraction,
    }
    if path is not None and resume and os.path.exists(path):
        state, saved, extra = train.load_pytree(path, state)
        if saved.get("config") != meta:
            raise ValueError(
                f"checkpoint_dir: {path} holds another SFT configuration; pass resume=False"
            )
        losses = [extra["loss"]]
    from jentropy.reproduce import progress as progress_bar

    # committed like the chunk's outputs, so the second chunk does not compile again
    state = jax.device_put(state, jax.devices()[0])
    start = time.perf_counter()
    chunk = min(steps, chunk)
    stop = jnp.asarray(steps, jnp.int32)
    done = int(state.step)
    bar = progress_bar(range(done, steps, chunk), desc="sft", disable=not progress)
    for _ in bar:
        before = int(state.step)
        state, loss = _sft_chunk(
            state,
            static,
            a,
            b,
            stop,
            task=task,
            batch_size=batch_size,
            learning_rate=learning_rate,
            chunk=chunk,
        )
        taken = int(state.step) - before
        losses.append(np.asarray(loss)[:taken])
        if taken < min(chunk, steps - before):
            raise FloatingPointError(
                f"train_sft: non-finite loss or gradient at step {int(state.step)}"
            )
        if path is not None:
            train.save_pytree(path, state, {"config": meta}, {"loss": np.concatenate(losses)})
    history = {"loss": np.concatenate(losses) if losses else np.zeros(0, np.float32)}
    return SFTResult(eqx.combine(state.params, static), history, state, time.perf_counter() - start)


@functools.partial(jax.jit, static_argnames=("task", "num_samples", "temperature"))
def _evaluate(model, a, b, key, *, task, num_samples, temperature):
    greedy = generate(
        model,
        task.prompts(a, b),
        key=key,
        max_new_tokens=task.completion_len,
        temperature=0.0,
        eos_id=task.eos_id,
        pad_id=task.pad_id,
    )
    out = {"correct": task.rewards(greedy.tokens, a, b) > 0.5, "carry": task.has_carry(a, b)}
    if num_samples:
        ar, br = jnp.repeat(a, num_samples), jnp.repeat(b, num_samples)
        s = generate(
            model,
            task.prompts(ar, br),
            key=key,
            max_new_tokens=task.completion_len,
            temperature=temperature,
            eos_id=task.eos_id,
            pad_id=task.pad_id,
        )
        out["samples_correct"] = (task.rewards(s.tokens, ar, br) > 0.5).reshape(-1, num_samples)
    return out


def evaluate_addition(
    model: Any,
    task: AdditionTask,
    a: ArrayLike | None = None,
    b: ArrayLike | None = None,
    *,
    key: PRNGKeyArray | None = None,
    num_samples: int = 0,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """Accuracy of ``model`` on problems ``a + b`` (default: the held-out pool).

    Greedy decoding gives ``correct`` (n,); with ``num_samples`` = k > 0 also k samples per
    problem at ``temperature`` (``samples_correct`` (n, k)), for pass@k. Returns numpy arrays plus
    ``accuracy``, ``accuracy_carry``, ``accuracy_no_carry`` (greedy) and ``carry_fraction``.

    Example: ``ev = evaluate_addition(model, task, num_samples=16); ev["accuracy_carry"]``.
    """
    if (a is None) != (b is None):
        raise ValueError("give both a and b, or neither (held-out pool)")
    if a is None:
        pools = task.pools()
        a, b = pools.test_a, pools.test_b
    key = jax.random.key(0) if key is None else key
    # one device and one layout whatever produced the model (SFT or a sharded RL step), so every
    # evaluation of the same shapes reuses one compilation
    model = jax.device_put(model, jax.devices()[0])
    out = jax.device_get(
        _evaluate(
            model,
            jnp.asarray(a, jnp.int32),
            jnp.asarray(b, jnp.int32),
            key,
            task=task,
            num_samples=num_samples,
            temperature=float(temperature),
        )
    )
    correct, carry = out["correct"], out["carry"]
    out["accuracy"] = float(correct.mean())
    out["accuracy_carry"] = float(correct[carry].mean()) if carry.any() else float("nan")
    out["accuracy_no_carry"] = float(correct[~carry].mean()) if (~carry).any() else float("nan")
    out["carry_fraction"] = float(carry.mean())
    return out


def pass_at_k(correct: ArrayLike, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): mean over problems of 1 − C(n − c, k) / C(n, k).

    ``correct`` (problems, n) booleans from n samples each; needs 1 ≤ k ≤ n.

    Example: ``pass_at_k(ev["samples_correct"], 8)``.
    """
    c = np.asarray(correct, bool)
    if c.ndim != 2:
        raise ValueError(f"correct must be (problems, samples), got shape {c.shape}")
    n = c.shape[1]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}], got {k}")
    right = c.sum(axis=1)
    # C(n - c, k) / C(n, k) = prod_{i=0}^{k-1} (n - c - i) / (n - i), 0 once n - c < k
    fail = np.array(
        [0.0 if n - r < k else math.prod((n - r - i) / (n - i) for i in range(k)) for r in right]
    )
    return float(np.mean(1 - fail))
