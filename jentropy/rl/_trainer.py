"""End-to-end GRPO-family training on the addition task: RL configs, the jitted RL step, the loop.

One RL step = sample prompts → G completions each (KV-cache sampler, sharded over devices) →
exact-match rewards → [dynamic sampling / Recent Sample Recovery] → advantages (GRPO, Dr.GRPO,
RLOO, SEED-GRPO or PSHW) → ``num_iterations`` optimiser steps of :func:`policy_loss` (clip, KL to
the reference model, entropy terms), built from ``jentropy.train``'s ``init_state`` /
``make_step``. The whole step is one compiled function (cached across calls with equal
configuration), so a run costs one compilation plus the steps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, PRNGKeyArray

from jentropy import parallel, train

from ._addition import AdditionPools, AdditionTask
from ._advantages import dr_grpo_advantages, grpo_advantages, rloo_advantages
from ._aggregation import aggregate_loss
from ._answers import cluster_token_answers
from ._confucius import hardness_weighted_advantages, targeted_entropy_regularization
from ._dynamic_sampling import group_has_signal
from ._entropy import (
    AdaptiveEntropyState,
    adaptive_entropy_coef,
    adaptive_entropy_init,
    adaptive_entropy_update,
)
from ._loss import PolicyLossConfig, policy_loss
from ._rollout import rollout_groups, sample_problems
from ._rsr import (
    GroupBuffer,
    fill_group_buffer,
    group_buffer_clear,
    group_buffer_init,
    group_buffer_pop,
)
from ._sampling import sequence_logprobs
from ._semantic_entropy import seed_advantage_scale, semantic_entropy

__all__ = ["RLConfig", "RLResult", "RLState", "train_rl"]

_ADVANTAGES = ("grpo", "dr_grpo", "rloo", "seed_grpo", "pshw")
CHECKPOINT_FILE = "rl_state.npz"


@dataclasses.dataclass(frozen=True)
class RLConfig:
    """Configuration of :func:`train_rl` (hashable: it is a static argument of the RL step).

    Attributes:
        advantage: "grpo", "dr_grpo", "rloo", "seed_grpo" (Dr.GRPO or GRPO advantages scaled by
            f(α SE / SE_max)) or "pshw" (Confucius3-Math hardness weighting).
        num_prompts, group_size: prompts per step and completions per prompt (G).
        temperature: sampling temperature (the loss uses the same tempered distribution).
        learning_rate, max_grad_norm: Adam step size and global-norm clip (None: off).
        num_iterations: optimiser steps per batch (μ; TRL ``num_iterations``, verl
            ``ppo_epochs``); > 1 computes π_old with a forward pass before the updates.
        loss: :class:`PolicyLossConfig` (aggregation, clipping, β and KL estimator, entropy terms).
        scale_rewards: for "grpo" (TRL's option).
        seed_alpha, seed_modulation, seed_estimator, seed_base: SEED-GRPO's α, f, SE estimator
            and base advantage.
        dynamic_sampling: keep only groups with 0 < #correct < G, sampling more prompts (up to
            ``max_sampling_rounds`` rounds of ``num_prompts``) until ``num_prompts`` are found.
        recent_sample_recovery: keep the surplus valid groups for the next step (Confucius3-Math
            RSR); needs ``dynamic_sampling``.
        buffer_capacity: group buffer size (default ``(max_sampling_rounds + 1) × num_prompts``).
        adaptive_entropy, entropy_target, entropy_coef_delta: TRL's adaptive entropy control
            (initial coefficient ``loss.entropy_coef``).

    Presets: :meth:`grpo`, :meth:`seed_grpo`, :meth:`confucius`.

    Example: ``RLConfig.confucius(num_prompts=16)``.
    """

    advantage: str = "grpo"
    num_prompts: int = 32
    group_size: int = 8
    temperature: float = 1.0
    learning_rate: float = 1e-3
    max_grad_norm: float | None = 1.0
    num_iterations: int = 1
    loss: PolicyLossConfig = PolicyLossConfig(loss_type="dapo")  # noqa: RUF009 (frozen)
    scale_rewards: str = "group"
    seed_alpha: float = 0.0417
    seed_modulation: str = "inverse"
    seed_estimator: str = "likelihood"
    seed_base: str = "dr_grpo"
    dynamic_sampling: bool = False
    recent_sample_recovery: bool = False
    max_sampling_rounds: int = 4
    buffer_capacity: int | None = None
    adaptive_entropy: bool = False
    entropy_target: float = 0.2
    entropy_coef_delta: float = 0.005

    def __post_init__(self) -> None:
        if self.advantage not in _ADVANTAGES:
            raise ValueError(f"advantage must be one of {_ADVANTAGES}, got {self.advantage!r}")
        for name in ("num_prompts", "group_size", "num_iterations", "max_sampling_rounds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.group_size < 2:
            raise ValueError(
                f"group_size must be >= 2 for group-relative advantages, got {self.group_size}"
            )
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 for RL sampling, got {self.temperature}")
        if self.recent_sample_recovery and not self.dynamic_sampling:
            raise ValueError("recent_sample_recovery needs dynamic_sampling=True")
        if self.buffer_capacity is not None and self.buffer_capacity < self.num_prompts:
            raise ValueError(f"buffer_capacity must be >= num_prompts ({self.num_prompts})")

    @property
    def capacity(self) -> int:
        return self.buffer_capacity or (self.max_sampling_rounds + 1) * self.num_prompts

    @classmethod
    def grpo(cls, **kw: Any) -> RLConfig:
        """Plain GRPO: std-normalised advantages, token-mean ("dapo") loss, ε = 0.2."""
        return cls(**kw)

    @classmethod
    def seed_grpo(cls, **kw: Any) -> RLConfig:
        """SEED-GRPO's recipe: Dr.GRPO advantages r − mean scaled by f(α SE/SE_max), β = 0,
        clip 0.2, temperature 1."""
        kw.setdefault("advantage", "seed_grpo")
        return cls(**kw)

    @classmethod
    def confucius(
        cls, *, target_entropy: float = 0.55, target_entropy_coef: float = 0.001, **kw: Any
    ) -> RLConfig:
        """Confucius3-Math: PSHW advantages, DAPO dynamic sampling with Recent Sample Recovery,
        clip 0.2 / 0.28, no length normalisation ("seq-mean-token-sum") and TER."""
        kw.setdefault("advantage", "pshw")
        kw.setdefault("dynamic_sampling", True)
        kw.setdefault("recent_sample_recovery", True)
        kw.setdefault(
            "loss",
            PolicyLossConfig(
                loss_type="seq-mean-token-sum",
                epsilon=0.2,
                epsilon_high=0.28,
                target_entropy=target_entropy,
                target_entropy_coef=target_entropy_coef,
            ),
        )
        return cls(**kw)


class RLState(NamedTuple):
    """Everything the RL loop carries: the optimiser state, the group buffer, the adaptive
    entropy state and the number of RL steps taken.

    Example: ``out = train_rl(...); int(out.state.rl_step)``.
    """

    train: train.TrainState
    buffer: GroupBuffer
    entropy: AdaptiveEntropyState
    rl_step: Array


@dataclasses.dataclass(frozen=True)
class RLResult:
    """What :func:`train_rl` returns: the trained ``model``, the per-step ``history`` (scalars
    (steps,), and per-group arrays ``group/*`` (steps, num_prompts)), the final ``state`` and
    the compile / run seconds of this call.

    Example: ``out.history["reward"], out.history["group/adv_abs"]``.
    """

    model: Any
    history: dict[str, np.ndarray]
    state: RLState
    seconds_compile: float
    seconds_run: float


def _optimizer(cfg: Any) -> optax.GradientTransformation:
    adam = optax.adam(cfg.learning_rate)
    if cfg.max_grad_norm is not None:
        adam = optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), adam)
    # one flat vector instead of a leaf per weight: same update, a third of the compile time
    return optax.flatten(adam)


# RLConfig fields that become traced inputs of the compiled step (so configurations that differ
# only in them share one compilation), and the losses' entropy fields handled by the trainer.
_KNOB_FIELDS = ("advantage", "seed_alpha", "dynamic_sampling", "recent_sample_recovery")


class _Knobs(NamedTuple):
    advantage: Array  # index into _ADVANTAGES
    seed_alpha: Array
    dynamic_sampling: Array
    recent_sample_recovery: Array
    entropy_coef: Array
    target_entropy: Array
    target_entropy_coef: Array
    loss_index: Array


@dataclasses.dataclass(frozen=True)
class _Spec:
    """The static part of an RLConfig (hashable), with the bank of loss configurations."""

    base: RLConfig
    losses: tuple[PolicyLossConfig, ...]


def _strip_loss(loss: PolicyLossConfig) -> PolicyLossConfig:
    return dataclasses.replace(loss, entropy_coef=0.0, target_entropy=None, target_entropy_coef=0.0)


def _static_base(cfg: RLConfig) -> RLConfig:
    defaults = RLConfig()
    kw = {f: getattr(defaults, f) for f in _KNOB_FIELDS}
    return dataclasses.replace(cfg, loss=PolicyLossConfig(), **kw)


def _spec_and_knobs(cfg: RLConfig, others: tuple[RLConfig, ...] = ()) -> tuple[_Spec, _Knobs]:
    base = _static_base(cfg)
    losses: list[PolicyLossConfig] = []
    for c in (cfg, *others):
        if _static_base(c) != base:
            diff = [
                f.name
                for f in dataclasses.fields(RLConfig)
                if getattr(_static_base(c), f.name) != getattr(base, f.name)
            ]
            raise ValueError(
                f"compile_with: configurations must agree on {diff} to share a compilation"
            )
        if _strip_loss(c.loss) not in losses:
            losses.append(_strip_loss(c.loss))
    losses.sort(key=repr)  # the same bank, hence the same compilation, whichever config runs
    if cfg.adaptive_entropy and any(c.loss.target_entropy is not None for c in (cfg, *others)):
        raise ValueError("adaptive_entropy and target_entropy (TER) are alternatives; use one")
    f = jnp.result_type(float)
    knobs = _Knobs(
        advantage=jnp.asarray(_ADVANTAGES.index(cfg.advantage), jnp.int32),
        seed_alpha=jnp.asarray(cfg.seed_alpha, f),
        dynamic_sampling=jnp.asarray(cfg.dynamic_sampling),
        recent_sample_recovery=jnp.asarray(cfg.recent_sample_recovery),
        entropy_coef=jnp.asarray(cfg.loss.entropy_coef, f),
        target_entropy=jnp.asarray(
            0.0 if cfg.loss.target_entropy is None else cfg.loss.target_entropy, f
        ),
        target_entropy_coef=jnp.asarray(
            cfg.loss.target_entropy_coef if cfg.loss.target_entropy is not None else 0.0, f
        ),
        loss_index=jnp.asarray(losses.index(_strip_loss(cfg.loss)), jnp.int32),
    )
    return _Spec(base, tuple(losses)), knobs


def _example_group(task: AdditionTask, cfg: RLConfig) -> dict[str, Array]:
    g, n = cfg.group_size, task.completion_len
    f = jnp.result_type(float)
    return {
        "a": jnp.zeros((), jnp.int32),
        "b": jnp.zeros((), jnp.int32),
        "tokens": jnp.zeros((g, n), jnp.int32),
        "mask": jnp.zeros((g, n), f),
        "seq_ll": jnp.zeros((g,), f),
        "rewards": jnp.zeros((g,), f),
        "parseable": jnp.zeros((g,), bool),
    }


def _advantages(batch: dict[str, Array], cfg: RLConfig, knobs: _Knobs) -> tuple[Array, Array]:
    r = batch["rewards"]
    ids = cluster_token_answers(batch["tokens"], batch["parseable"])
    se = semantic_entropy(batch["seq_ll"], ids, estimator=cfg.seed_estimator).astype(r.dtype)
    dr = dr_grpo_advantages(r)
    grpo = grpo_advantages(r, scale_rewards=cfg.scale_rewards)
    scale = seed_advantage_scale(
        se, cfg.group_size, alpha=knobs.seed_alpha, modulation=cfg.seed_modulation
    )
    seed = (dr if cfg.seed_base == "dr_grpo" else grpo) * scale[:, None]
    options = [grpo, dr, rloo_advantages(r), seed, hardness_weighted_advantages(r > 0.5)]
    adv = jnp.stack([x.astype(r.dtype) for x in options])[knobs.advantage]
    return adv, se


def _step_impl(
    state: RLState,
    knobs: _Knobs,
    static: Any,
    ref_params: Any,
    pools: AdditionPools,
    *,
    task: AdditionTask,
    spec: _Spec,
    mesh: Mesh | None,
) -> tuple[RLState, dict[str, Array], dict[str, Array]]:
    cfg = spec.base
    ts = state.train
    model = eqx.combine(ts.params, static)
    data_key, _ = train.step_keys(ts)
    n, g = cfg.num_prompts, cfg.group_size

    def sample(key: PRNGKeyArray) -> tuple[dict[str, Array], Array]:
        k_problems, k_rollout = jax.random.split(key)
        a, b = sample_problems(task, pools, k_problems, n)
        groups = rollout_groups(
            model, task, a, b, k_rollout, group_size=g, temperature=cfg.temperature, mesh=mesh
        )
        signal = group_has_signal(groups["rewards"], per_group=True)
        return groups, signal | ~knobs.dynamic_sampling

    # Without dynamic sampling every group is kept, so one round fills the buffer.
    buf, rounds = fill_group_buffer(
        state.buffer, sample, data_key, target=n, max_rounds=cfg.max_sampling_rounds
    )
    batch, valid, buf = group_buffer_pop(buf, n)
    buf = jax.lax.cond(knobs.recent_sample_recovery, lambda x: x, group_buffer_clear, buf)
    adv, se = _advantages(batch, cfg, knobs)
    adv = jnp.where(valid[:, None], adv, 0)

    a_rep, b_rep = jnp.repeat(batch["a"], g), jnp.repeat(batch["b"], g)
    prompts = task.prompts(a_rep, b_rep)
    completions = batch["tokens"].reshape(n * g, -1)
    mask = batch["mask"].reshape(n * g, -1) * jnp.repeat(valid, g)[:, None].astype(adv.dtype)
    train_batch: dict[str, Array] = {
        "prompts": prompts,
        "completions": completions,
        "mask": mask,
        "advantages": adv.reshape(-1),
        "entropy_coef": (
            adaptive_entropy_coef(state.entropy, target=cfg.entropy_target)
            if cfg.adaptive_entropy
            else knobs.entropy_coef
        ),
    }
    if any(c.beta > 0 for c in spec.losses):
        ref = eqx.combine(ref_params, static)
        train_batch["ref_logp"] = jax.lax.stop_gradient(
            sequence_logprobs(ref, prompts, completions, temperature=cfg.temperature)
        )
    if cfg.num_iterations > 1:
        train_batch["old_logp"] = jax.lax.stop_gradient(
            sequence_logprobs(model, prompts, completions, temperature=cfg.temperature)
        )

    def loss_fn(m: Any, b: dict[str, Array], key: PRNGKeyArray) -> tuple[Array, dict[str, Array]]:
        logp, ent = sequence_logprobs(
            m, b["prompts"], b["completions"], temperature=cfg.temperature, with_entropy=True
        )
        outs = [
            policy_loss(
                logp,
                b["mask"],
                b["advantages"],
                old_logp=b.get("old_logp"),
                ref_logp=b.get("ref_logp") if c.beta > 0 else None,
                entropies=ent,
                config=c,
                entropy_coef=b["entropy_coef"],
            )
            for c in spec.losses
        ]
        names = sorted({k for _, m_ in outs for k in m_})
        zero = jnp.zeros((), logp.dtype)
        losses = jnp.stack([l_ for l_, _ in outs])
        metrics = {
            k: jnp.stack([m_.get(k, zero).astype(logp.dtype) for _, m_ in outs])[knobs.loss_index]
            for k in names
        }
        loss = losses[knobs.loss_index]
        mean_h = aggregate_loss(ent, b["mask"], "token-mean")
        ter = targeted_entropy_regularization(
            mean_h, target=knobs.target_entropy, coef=knobs.target_entropy_coef
        )
        metrics["target_entropy_term"] = jax.lax.stop_gradient(ter)
        return loss + ter, metrics

    step = train.make_step(loss_fn, _optimizer(cfg), model, has_aux=True)
    metrics: dict[str, Array] = {}
    for _ in range(cfg.num_iterations):
        ts, metrics = step(ts, train_batch)
    ent_state = state.entropy
    if cfg.adaptive_entropy:
        ent_state = adaptive_entropy_update(
            ent_state, metrics["entropy"], target=cfg.entropy_target, delta=cfg.entropy_coef_delta
        )
    r = batch["rewards"]
    vf = valid.astype(r.dtype)
    n_valid = jnp.maximum(jnp.sum(vf), 1)
    signal = group_has_signal(r, per_group=True) & valid
    metrics = dict(metrics)
    metrics.update(
        {
            "reward": jnp.sum(r.mean(1) * vf) / n_valid,
            "frac_groups_with_signal": jnp.sum(signal.astype(r.dtype)) / n,
            "valid_groups": jnp.sum(valid.astype(jnp.int32)),
            "generated_groups": rounds * n,
            "semantic_entropy": jnp.sum(se * vf) / n_valid,
            "entropy_coef": train_batch["entropy_coef"],
            "buffer_count": buf.count,
        }
    )
    per_group = {
        "reward": r.mean(1),
        "adv_abs": jnp.abs(adv).mean(1),
        "semantic_entropy": se,
        "valid": valid,
        "signal": signal,
        "carry": task.has_carry(batch["a"], batch["b"]),
    }
    new_state = RLState(ts, buf, ent_state, state.rl_step + 1)
    # The rollouts come back sharded over the devices; pin the carried state to the replicated
    # layout it went in with, so the next call hits the same compilation.
    new_state = jax.lax.with_sharding_constraint(new_state, _replicated(mesh))
    return new_state, metrics, per_group


def _replicated(mesh: Mesh | None) -> NamedSharding:
    return NamedSharding(parallel.device_mesh() if mesh is None else mesh, PartitionSpec())


_rl_step = jax.jit(_step_impl, static_argnames=("task", "spec", "mesh"))


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
    config: RLConfig = RLConfig(),
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
