"""Loss aggregation over (sequences × tokens) under both TRL ``loss_type`` and verl ``loss_agg_mode``.

With per-token losses ℓ (B, T) and response mask m:

==============================  =============================  ===================================
meaning                         TRL ``loss_type``              verl ``loss_agg_mode``
==============================  =============================  ===================================
mean_i Σ_t mℓ / Σ_t m           ``grpo`` (÷ B)                 ``seq-mean-token-mean`` (÷ #non-empty)
Σ mℓ / Σ m                      ``bnpo`` (local),              ``token-mean`` (``num_tokens`` =
                                ``dapo`` (``num_tokens`` =     global token count)
                                global token count)
Σ mℓ / (B · L_max)              ``dr_grpo``                    —
Σ mℓ / L_max                    —                              ``seq-mean-token-sum-norm``
mean_i Σ_t mℓ                   ``luspo`` (÷ B)                ``seq-mean-token-sum`` (÷ #non-empty)
==============================  =============================  ===================================

The pairs agree exactly when no sequence is fully masked; with empty rows TRL still divides by B
while verl divides by the number of non-empty sequences (both behaviours are kept). Note that verl's
``seq-mean-token-sum-norm`` is not TRL's ``dr_grpo``: it does not divide by B.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._groups import check_2d, float_array, mask_like

__all__ = ["LOSS_AGG_MODES", "aggregate_loss"]

#: Every accepted mode (TRL and verl names).
LOSS_AGG_MODES = (
    "grpo",
    "bnpo",
    "dapo",
    "dr_grpo",
    "luspo",
    "seq-mean-token-mean",
    "token-mean",
    "seq-mean-token-sum-norm",
    "seq-mean-token-sum",
)


def _safe(x: Array) -> Array:
    return jnp.where(x > 0, x, 1)


def aggregate_loss(
    loss: Float[ArrayLike, "batch tokens"],
    mask: ArrayLike | None = None,
    mode: str = "token-mean",
    *,
    max_length: int | None = None,
    num_tokens: ArrayLike | None = None,
    num_sequences: ArrayLike | None = None,
) -> Float[Array, ""]:
    """Reduce per-token losses (B, T) to a scalar by ``mode`` (TRL or verl name, table above).

    Args:
        loss: (B, T) per-token losses; masked entries may hold anything, even NaN or inf.
        mask: (B, T) response mask (1 = counted); None counts every token.
        mode: one of :data:`LOSS_AGG_MODES`.
        max_length: L_max for ``dr_grpo`` / ``seq-mean-token-sum-norm`` (TRL's
            ``max_completion_length``, verl's ``loss_scale_factor``); default T.
        num_tokens: the token normaliser for ``dapo`` / ``token-mean`` (the global number of valid
            tokens when the batch is split over devices or micro-batches); default Σ m.
        num_sequences: the sequence normaliser for verl's ``seq-mean-*`` modes (global batch size);
            default the number of non-empty sequences.

    Returns a scalar; an empty mask gives 0, never NaN. Example: ``aggregate_loss(l, m, "grpo")``.
    """
    if mode not in LOSS_AGG_MODES:
        raise ValueError(f"mode must be one of {LOSS_AGG_MODES}, got {mode!r}")
    x = float_array(loss, "loss")
    check_2d(x, "loss")
    m = mask_like(mask, x)
    b, t = x.shape
    # Zero masked entries with where(), not a product, so NaN/inf padding cannot leak (0·inf = NaN).
    xm = jnp.where(m > 0, x, 0) * m
    per_seq_sum = jnp.sum(xm, axis=-1)
    per_seq_n = jnp.sum(m, axis=-1)
    non_empty = jnp.sum((per_seq_n > 0).astype(x.dtype))
    n_seq = non_empty if num_sequences is None else jnp.asarray(num_sequences, x.dtype)
    if mode in ("grpo", "seq-mean-token-mean"):
        per_seq = per_seq_sum / _safe(per_seq_n)
        return jnp.sum(per_seq) / (b if mode == "grpo" else _safe(n_seq))
    if mode in ("bnpo", "dapo", "token-mean"):
        total = jnp.sum(m) if (num_tokens is None or mode == "bnpo") else num_tokens
        return jnp.sum(per_seq_sum) / _safe(jnp.asarray(total, x.dtype))
    length = t if max_length is None else max_length
    if length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    if mode == "dr_grpo":
        return jnp.sum(per_seq_sum) / (b * length)
    if mode == "seq-mean-token-sum-norm":
        return jnp.sum(per_seq_sum) / length
    if mode == "luspo":
        return jnp.sum(per_seq_sum) / b
    return jnp.sum(per_seq_sum) / _safe(n_seq)  # seq-mean-token-sum
