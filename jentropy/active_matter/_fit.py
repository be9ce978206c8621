"""Training a score model through :func:`jentropy.train.fit` with the paper's optimiser.

RAdam, gradient clipping at global norm 1, a warmup-cosine learning-rate schedule and an EMA of
the parameters (the paper: 0.9999; shorter CPU runs use a shorter EMA). Data is either a batch
of :class:`Patch` es (per-particle training of the local transformer: each particle's loss only
needs its neighbourhood, so patches from many snapshots are shuffled together) or an
(M, n) array of whole states for a flat score model ``model(z) -> s``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, PRNGKeyArray

from jentropy import train

from ._losses import denoising_score_matching, fokker_planck_residual, hyvarinen_score_matching
from ._network import LocalTransformer, Patch


def score_optimizer(
    learning_rate: float = 1e-3,
    *,
    steps: int,
    warmup: int | None = None,
    clip: float = 1.0,
    final_fraction: float = 0.01,
) -> optax.GradientTransformation:
    """clip_by_global_norm(clip) then RAdam on a warmup-cosine schedule (0 → lr over ``warmup``
    steps, cosine down to ``final_fraction · lr`` at ``steps``).

    Example::

        opt = score_optimizer(1e-3, steps=10_000)
    """
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    warmup = max(1, steps // 20) if warmup is None else warmup
    if not 0 <= warmup < steps:
        raise ValueError(f"warmup must lie in [0, steps), got {warmup!r}")
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, learning_rate, max(warmup, 1), steps, end_value=learning_rate * final_fraction
    )
    return optax.chain(optax.clip_by_global_norm(clip), optax.radam(schedule))


def make_score_loss(
    model: object,
    *,
    loss: Literal["dsm", "hyvarinen"] = "dsm",
    sigmas: Sequence[float] = (1e-2, 1e-3),
    antithetic: bool = True,
    perturb_context: bool = True,
    fokker_planck_weight: float = 0.0,
    drift_fn: Callable[[Array], Array] | None = None,
    diffusion: Array | None = None,
) -> Callable[[object, object, PRNGKeyArray], Array]:
    """The batch loss ``loss_fn(model, batch, key)`` that :func:`fit_score` trains with.

    ``batch`` is a :class:`Patch` batch for a :class:`LocalTransformer`, else an (B, n) array of
    states for a flat model ``model(z) -> s(z)``. ``fokker_planck_weight > 0`` (flat models)
    adds that multiple of the mean squared stationarity residual (needs ``drift_fn`` and
    ``diffusion``).

    ``perturb_context`` (DSM with a :class:`LocalTransformer`): True noises the whole patch, as
    the paper noises the whole state; False noises only the scored g_i. Both target the same
    score as σ → 0, but the context noise adds a term ζ·(∂s_i/∂context) ξ to the loss whose
    variance grows with the coupling of s_i to its neighbours: on 8 coupled AOUPs it left the
    EPR 9% low after 1,500 CPU steps, against 3% with False (tests/active_matter/test_fit.py).

    Example::

        loss_fn = make_score_loss(model, loss="hyvarinen")
        loss_fn(model, zs[:128], jax.random.key(0))
    """
    if loss not in ("dsm", "hyvarinen"):
        raise ValueError(f"loss must be 'dsm' or 'hyvarinen', got {loss!r}")
    particle = isinstance(model, LocalTransformer)
    if fokker_planck_weight:
        if particle:
            raise ValueError("the Fokker-Planck residual needs a score of the whole state")
        if drift_fn is None or diffusion is None:
            raise ValueError("fokker_planck_weight > 0 needs drift_fn and diffusion")

    def per_example(m: object, item: object, key: PRNGKeyArray) -> Array:
        if particle:
            y, ctx, score_fn = m.scored(item), item, m.score_fn  # type: ignore[attr-defined]
        else:
            y, ctx = item, None
            score_fn = lambda v, _: m(v)  # noqa: E731
        if loss == "dsm":
            value = denoising_score_matching(
                score_fn,
                y,
                ctx,
                key,
                sigmas=sigmas,
                antithetic=antithetic,
                perturb_context=perturb_context,
            )
        else:
            value = hyvarinen_score_matching(score_fn, y, ctx)
        if fokker_planck_weight:
            residual = fokker_planck_residual(score_fn, drift_fn, diffusion, y)  # type: ignore[arg-type]
            value = value + jnp.asarray(fokker_planck_weight, value.dtype) * residual
        return value

    def loss_fn(m: object, batch: object, key: PRNGKeyArray) -> Array:
        size = jax.tree_util.tree_leaves(batch)[0].shape[0]
        keys = jax.random.split(key, size)
        return jnp.mean(jax.vmap(lambda item, k: per_example(m, item, k))(batch, keys))

    return loss_fn


def fit_score(
    model: object,
    data: Patch | Array,
    *,
    key: PRNGKeyArray,
    steps: int,
    batch_size: int,
    loss: Literal["dsm", "hyvarinen"] = "dsm",
    sigmas: Sequence[float] = (1e-2, 1e-3),
    antithetic: bool = True,
    perturb_context: bool = True,
    learning_rate: float = 1e-3,
    warmup: int | None = None,
    ema_decay: float | None = 0.999,
    fokker_planck_weight: float = 0.0,
    drift_fn: Callable[[Array], Array] | None = None,
    diffusion: Array | None = None,
    chunk: int = 100,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = True,
    progress: bool = True,
    callback: Callable[..., object] | None = None,
) -> train.FitResult:
    """Fit a score model to stationary samples with :func:`jentropy.train.fit`.

    Args:
        model: a :class:`LocalTransformer` (then ``data`` is a batch of patches, e.g. from
            ``jax.vmap(particle_patches, ...)`` over snapshots, flattened) or a flat model.
        data: the training set (leading axis = examples), shuffled into batches each epoch.
        key: the run's key (same key, same result; resume is bit-identical).
        steps, batch_size: optimiser steps and examples per step.
        loss, sigmas, antithetic, perturb_context, fokker_planck_weight, drift_fn,
            diffusion: see :func:`make_score_loss`.
        learning_rate, warmup: see :func:`score_optimizer`.
        ema_decay: EMA of the parameters (None: off); use ``result.ema_model``. The EMA starts
            at the initial parameters, which keep weight ``ema_decay**steps`` (0.999 over 1,500
            steps: 22%), so short runs need a smaller decay (the reproductions use 0.99; the
            paper's 0.9999 suits its 10⁵ steps). ``train.fit`` also takes a schedule
            ``step -> decay``.
        chunk, checkpoint_dir, checkpoint_every, resume, progress, callback: as
            :func:`jentropy.train.fit` (``callback`` returning True stops and checkpoints; a
            later call with the same arguments resumes bit-identically).

    Returns:
        :class:`jentropy.train.FitResult` (``.model``, ``.ema_model``, ``.history["loss"]``).

    Example::

        result = fit_score(model, patches, key=jax.random.key(0), steps=2_000, batch_size=256)
        trained = result.ema_model
    """
    loss_fn = make_score_loss(
        model,
        loss=loss,
        sigmas=sigmas,
        antithetic=antithetic,
        perturb_context=perturb_context,
        fokker_planck_weight=fokker_planck_weight,
        drift_fn=drift_fn,
        diffusion=diffusion,
    )
    optimizer = score_optimizer(learning_rate, steps=steps, warmup=warmup)
    return train.fit(
        loss_fn,
        model,
        optimizer,
        data,
        key=key,
        steps=steps,
        batch_size=batch_size,
        ema_decay=ema_decay,
        chunk=chunk,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=checkpoint_every,
        resume=resume,
        progress=progress,
        callback=callback,
    )
