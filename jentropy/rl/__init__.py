"""GRPO-family RL for language models, with SEED-GRPO and Confucius3-Math.

Papers: M. Chen, G. Chen, W. Wang, Y. Yang, "SEED-GRPO: Semantic Entropy Enhanced GRPO for
Uncertainty-Aware Policy Optimization", arXiv 2505.12346 (2025); L. Wu et al., "Confucius3-Math: A
Lightweight High-Performance Reasoning LLM for Chinese K-12 Mathematics Learning", arXiv 2506.18330
(2025).

The losses are model-agnostic pure functions over arrays (log-probs, masks, rewards, group ids):
advantage estimators, importance ratios, clipping, loss aggregation under TRL's and verl's option
names, KL estimators, entropy terms, dynamic sampling and diagnostics; then SEED-GRPO's semantic
entropy and Confucius3-Math's targeted entropy regularisation, hardness weighting and recent sample
recovery. An addition task (``AdditionTask``), a KV-cache sampler (``generate``), a small Flax NNX
policy (``TinyLM``) and an end-to-end trainer (``train_sft``, ``RLConfig``, ``train_rl``,
``evaluate_addition``) complete it; the policy and trainer load lazily, so ``import jentropy.rl``
imports neither flax nor optax.

Any Flax NNX model with ``__call__(tokens) -> logits``, ``init_cache(batch, length)`` and
``decode(tokens, cache, position) -> (logits, cache)`` can replace ``TinyLM`` (e.g. a tunix or
Gemma model behind a thin adapter; see ``jentropy.rl._policy``).

Example::

    from jentropy import rl
    adv = rl.grpo_advantages(rewards.reshape(P, G)).reshape(-1)
    loss, metrics = rl.policy_loss(logp, mask, adv, old_logp=old_logp,
                                   config=rl.PolicyLossConfig(loss_type="dr_grpo"))
"""

import importlib
from typing import Any

from ._addition import AdditionPools as AdditionPools
from ._addition import AdditionTask as AdditionTask
from ._advantages import ADVANTAGE_ESTIMATORS as ADVANTAGE_ESTIMATORS
from ._advantages import broadcast_to_tokens as broadcast_to_tokens
from ._advantages import dr_grpo_advantages as dr_grpo_advantages
from ._advantages import grpo_advantages as grpo_advantages
from ._advantages import opo_advantages as opo_advantages
from ._advantages import reinforce_plus_plus_advantages as reinforce_plus_plus_advantages
from ._advantages import (
    reinforce_plus_plus_baseline_advantages as reinforce_plus_plus_baseline_advantages,
)
from ._advantages import remax_advantages as remax_advantages
from ._advantages import rloo_advantages as rloo_advantages
from ._aggregation import LOSS_AGG_MODES as LOSS_AGG_MODES
from ._aggregation import aggregate_loss as aggregate_loss
from ._answers import cluster_answers as cluster_answers
from ._answers import cluster_token_answers as cluster_token_answers
from ._answers import exact_match as exact_match
from ._answers import extract_final_answer as extract_final_answer
from ._clipping import clip_masks as clip_masks
from ._clipping import clipped_surrogate as clipped_surrogate
from ._confucius import hardness_weight as hardness_weight
from ._confucius import hardness_weighted_advantages as hardness_weighted_advantages
from ._confucius import targeted_entropy_regularization as targeted_entropy_regularization
from ._diagnostics import policy_diagnostics as policy_diagnostics
from ._dynamic_sampling import group_has_signal as group_has_signal
from ._dynamic_sampling import zero_std_group_fraction as zero_std_group_fraction
from ._entropy import AdaptiveEntropyState as AdaptiveEntropyState
from ._entropy import adaptive_entropy_coef as adaptive_entropy_coef
from ._entropy import adaptive_entropy_init as adaptive_entropy_init
from ._entropy import adaptive_entropy_update as adaptive_entropy_update
from ._entropy import entropy_bonus as entropy_bonus
from ._entropy import token_entropy as token_entropy
from ._entropy import top_entropy_mask as top_entropy_mask
from ._groups import group_ids_from_size as group_ids_from_size
from ._groups import masked_mean as masked_mean
from ._groups import masked_whiten as masked_whiten
from ._kl import KL_ESTIMATORS as KL_ESTIMATORS
from ._kl import kl_penalty as kl_penalty
from ._loss import PolicyLossConfig as PolicyLossConfig
from ._loss import policy_loss as policy_loss
from ._ratios import IMPORTANCE_LEVELS as IMPORTANCE_LEVELS
from ._ratios import importance_ratio as importance_ratio
from ._ratios import log_importance_weights as log_importance_weights
from ._rsr import GroupBuffer as GroupBuffer
from ._rsr import fill_group_buffer as fill_group_buffer
from ._rsr import group_buffer_clear as group_buffer_clear
from ._rsr import group_buffer_init as group_buffer_init
from ._rsr import group_buffer_pop as group_buffer_pop
from ._rsr import group_buffer_push as group_buffer_push
from ._sampling import Completions as Completions
from ._sampling import generate as generate
from ._sampling import sequence_logprobs as sequence_logprobs
from ._semantic_entropy import SEED_MODULATIONS as SEED_MODULATIONS
from ._semantic_entropy import seed_advantage_scale as seed_advantage_scale
from ._semantic_entropy import seed_grpo_advantages as seed_grpo_advantages
from ._semantic_entropy import semantic_entropy as semantic_entropy
from ._semantic_entropy import semantic_entropy_max as semantic_entropy_max
from ._semantic_entropy import sequence_log_likelihood as sequence_log_likelihood

# The policy, the trainer and what they pull in (flax, optax, jentropy.train, jentropy.parallel)
# load on first access (module __getattr__), so ``import jentropy.rl`` stays light.
_LAZY: dict[str, str] = {
    "TinyLM": "_policy",
    "make_policy": "_sft",
    "train_sft": "_sft",
    "evaluate_addition": "_sft",
    "pass_at_k": "_sft",
    "rollout_groups": "_rollout",
    "RLConfig": "_rl_config",
    "RLResult": "_rl_config",
    "RLState": "_rl_config",
    "train_rl": "_trainer",
}

__all__ = [
    "ADVANTAGE_ESTIMATORS",
    "AdditionPools",
    "AdditionTask",
    "Completions",
    "generate",
    "sequence_logprobs",
    "IMPORTANCE_LEVELS",
    "KL_ESTIMATORS",
    "LOSS_AGG_MODES",
    "SEED_MODULATIONS",
    "AdaptiveEntropyState",
    "GroupBuffer",
    "PolicyLossConfig",
    "adaptive_entropy_coef",
    "adaptive_entropy_init",
    "adaptive_entropy_update",
    "aggregate_loss",
    "broadcast_to_tokens",
    "clip_masks",
    "clipped_surrogate",
    "cluster_answers",
    "cluster_token_answers",
    "dr_grpo_advantages",
    "entropy_bonus",
    "exact_match",
    "extract_final_answer",
    "fill_group_buffer",
    "group_buffer_clear",
    "group_buffer_init",
    "group_buffer_pop",
    "group_buffer_push",
    "group_has_signal",
    "group_ids_from_size",
    "grpo_advantages",
    "hardness_weight",
    "hardness_weighted_advantages",
    "importance_ratio",
    "kl_penalty",
    "log_importance_weights",
    "masked_mean",
    "masked_whiten",
    "opo_advantages",
    "policy_diagnostics",
    "policy_loss",
    "reinforce_plus_plus_advantages",
    "reinforce_plus_plus_baseline_advantages",
    "remax_advantages",
    "rloo_advantages",
    "seed_advantage_scale",
    "seed_grpo_advantages",
    "semantic_entropy",
    "semantic_entropy_max",
    "sequence_log_likelihood",
    "targeted_entropy_regularization",
    "token_entropy",
    "top_entropy_mask",
    "zero_std_group_fraction",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
