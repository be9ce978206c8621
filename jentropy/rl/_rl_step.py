"""The jitted RL step: rollout → rewards → [dynamic sampling / Recent Sample Recovery] →
advantages (GRPO, Dr.GRPO, RLOO, SEED-GRPO or PSHW) → ``num_iterations`` optimiser steps of
:func:`policy_loss` (clip, KL to the reference model, entropy terms), built from
``jentropy.train``'s ``make_step``. The whole step is one compiled function (cached across calls
with equal configuration); the fields that only change numbers are traced inputs (``_Knobs``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, PRNGKeyArray

from jentropy import parallel, train

from ._addition import AdditionPools, AdditionTask
from ._advantages import dr_grpo_advantages, grpo_advantages, rloo_advantages
from ._aggregation import aggregate_loss
from ._answers import cluster_token_answers
from ._confucius import hardness_weighted_advantages, targeted_entropy_regularization
from ._dynamic_sampling import group_has_signal
from ._entropy import adaptive_entropy_coef, adaptive_entropy_update
from ._loss import PolicyLossConfig, policy_loss
from ._rl_config import _ADVANTAGES, RLConfig, RLState, _optimizer
from ._rollout import rollout_groups, sample_problems
from ._rsr import fill_group_buffer, group_buffer_clear, group_buffer_pop
from ._sampling import sequence_logprobs
from ._semantic_entropy import seed_advantage_scale, semantic_entropy

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
