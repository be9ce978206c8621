"""RL configuration types: :class:`RLConfig` (with its presets), :class:`RLState` and
:class:`RLResult`, and the optimiser an RLConfig describes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np
import optax
from jaxtyping import Array

from jentropy import train

from ._entropy import AdaptiveEntropyState
from ._loss import PolicyLossConfig
from ._rsr import GroupBuffer

__all__ = ["RLConfig", "RLResult", "RLState"]

_ADVANTAGES = ("grpo", "dr_grpo", "rloo", "seed_grpo", "pshw")


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
