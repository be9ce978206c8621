"""End-to-end GRPO-family training on the addition task: the outer RL loop (:func:`train_rl`)
with checkpoint / resume, progress and history.

One RL step = sample prompts → G completions each (KV-cache sampler, sharded over devices) →
exact-match rewards → [dynamic sampling / Recent Sample Recovery] → advantages (GRPO, Dr.GRPO,
RLOO, SEED-GRPO or PSHW) → ``num_iterations`` optimiser steps of :func:`policy_loss` (clip, KL to
the reference model, entropy terms), built from ``jentropy.train``'s ``init_state`` /
``make_step``. The whole step is one compiled function (``_rl_step.py``, cached across calls with
equal configuration), so a run costs one compilation plus the steps. The configuration types live
in ``_rl_config.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import PRNGKeyArray

from jentropy import train

from ._addition import AdditionTask
from ._entropy import adaptive_entropy_init
from ._rl_config import RLConfig, RLResult, RLState, _optimizer
from ._rl_step import _example_group, _replicated, _rl_step, _spec_and_knobs
from ._rsr import group_buffer_init

__all__ = ["RLConfig", "RLResult", "RLState", "train_rl"]

CHECKPOINT_FILE = "rl_state.npz"


def _fingerprint(task: AdditionTask, cfg: RLConfig, state: RLState) -> str:
    cfg = dataclasses.replace(cfg, buffer_capacity=cfg.capacity)
    spec = [(str(np.shape(x)), str(jnp.result_type(x))) for x in jax.tree_util.tree_leaves(state)]
    blob = json.dumps([repr(task), repr(cfg), spec], sort_keys=True)
    key = (
        jax.random.key_data(state.train.key)
        if jax.dtypes.issubdtype(state.train.key.dtype, jax.dtypes.prng_key)
        else state.train.key
    )
    return hashlib.sha256(blob.encode() + np.asarray(key).tobytes()).hexdigest()[:16]


def train_rl(
    model: Any,
    task: AdditionTask,
    config: RLConfig = RLConfig(),  # noqa: B008 (frozen, hence immutable)
    *,
    key: PRNGKeyArray,
    steps: int,
    reference: Any | None = None,
    mesh: Mesh | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = True,
    progress: bool = True,
    callback: Callable[[int, dict[str, np.ndarray]], Any] | None = None,
    compile_with: tuple[RLConfig, ...] = (),
) -> RLResult:
    """Train ``model`` with RL on ``task`` for ``steps`` RL steps and return an :class:`RLResult`.

    Args:
        model: the policy (Flax NNX, policy interface of :class:`TinyLM`), e.g. after
            :func:`train_sft`.
        task: the :class:`AdditionTask`.
        config: :class:`RLConfig` (or a preset: ``RLConfig.confucius()``).
        key: the run's key (same key, same run).
        steps: total RL steps (counting those before a resume).
        reference: the reference policy for the KL term (default: ``model`` as given).
        mesh: device mesh for the rollouts (default: all devices, ``jentropy.parallel``).
        checkpoint_dir: folder for ``rl_state.npz``, written atomically every ``checkpoint_every``
            steps and at the end; with ``resume`` a run continues from it bit-identically (a
            checkpoint of another configuration is refused).
        progress: show a progress bar.
        callback: ``callback(step, metrics)`` after each step; returning True stops.
        compile_with: other configurations to share one compiled step with. The advantage
            estimator, SEED α, dynamic sampling, RSR, the entropy bonus and TER are inputs of the
            compiled step, and losses that differ otherwise are all evaluated and one selected,
            so runs of several variants compile once (all other fields must agree).

    Raises FloatingPointError (after checkpointing) when a step's loss or gradient is not finite.

    Example::

        sft = train_sft(TinyLM(...), task, key=k1, steps=300)
        out = train_rl(sft.model, task, RLConfig.seed_grpo(), key=k2, steps=100)
        out.history["reward"], out.model
    """
    if not isinstance(task, AdditionTask):
        raise TypeError(f"task must be an AdditionTask, got {type(task).__name__}")
    if not isinstance(config, RLConfig):
        raise TypeError(f"config must be an RLConfig, got {type(config).__name__}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ValueError("checkpoint_every needs checkpoint_dir")
    params, static = eqx.partition(model, eqx.is_inexact_array)
    ref_params = params if reference is None else eqx.partition(reference, eqx.is_inexact_array)[0]
    pools = task.pools()
    spec, knobs = _spec_and_knobs(config, tuple(compile_with))
    state = RLState(
        train.init_state(model, _optimizer(config), key=key),
        group_buffer_init(_example_group(task, config), config.capacity),
        adaptive_entropy_init(config.loss.entropy_coef),
        jnp.zeros((), jnp.int32),
    )
    fingerprint = _fingerprint(task, config, state)
    path = (
        None if checkpoint_dir is None else os.path.join(os.fspath(checkpoint_dir), CHECKPOINT_FILE)
    )
    history: dict[str, list[np.ndarray]] = {}
    if path is not None and resume and os.path.exists(path):
        state, meta, extra = train.load_pytree(path, state)
        if meta.get("fingerprint") != fingerprint:
            raise ValueError(
                f"checkpoint_dir: {path} was written by a different configuration, task, model or "
                "key; pass resume=False or another checkpoint_dir"
            )
        history = {k: list(v) for k, v in extra.items()}
    # everything the step reads goes in replicated over the rollout mesh (a model fresh from SFT
    # is committed to one device, which jit would refuse to mix with the sharded rollouts)
    state, ref_params, pools = jax.device_put((state, ref_params, pools), _replicated(mesh))

    def save() -> None:
        if path is not None:
            extra = {k: np.stack(v) for k, v in history.items()}
            train.save_pytree(
                path, state, {"fingerprint": fingerprint, "rl_step": int(state.rl_step)}, extra
            )

    from jentropy.reproduce import progress as progress_bar

    done = int(state.rl_step)
    bar = progress_bar(range(done, steps), desc="rl", total=steps - done, disable=not progress)
    seconds_compile, start = 0.0, time.perf_counter()
    t0 = start
    for i in bar:
        before = int(state.train.step)
        new_state, metrics, per_group = _rl_step(
            state, knobs, static, ref_params, pools, task=task, spec=spec, mesh=mesh
        )
        metrics, per_group = jax.device_get((metrics, per_group))
        if i == done:
            seconds_compile = time.perf_counter() - t0
            start = time.perf_counter()
        if int(new_state.train.step) != before + config.num_iterations:
            save()
            raise FloatingPointError(
                f"train_rl: non-finite loss or gradient at RL step {i} (loss {metrics['loss']})"
            )
        state = new_state
        for k, v in metrics.items():
            history.setdefault(k, []).append(np.asarray(v))
        for k, v in per_group.items():
            history.setdefault(f"group/{k}", []).append(np.asarray(v))
        if checkpoint_every is not None and (i + 1) % checkpoint_every == 0:
            save()
        if callback is not None and callback(i + 1, metrics) is True:
            break
    save()
    seconds_run = time.perf_counter() - start
    out_model = eqx.combine(state.train.params, static)
    return RLResult(
        out_model, {k: np.stack(v) for k, v in history.items()}, state, seconds_compile, seconds_run
    )
