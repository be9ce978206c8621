"""SEED-GRPO: semantic entropy of a prompt's G answers, and advantage modulation by it.

Semantic entropy (Kuhn et al. 2023; Farquhar et al. 2024) measures how many *meanings* the G
sampled answers spread over. With clusters C_1..C_K of equivalent answers (:mod:`._answers`):

- ``"likelihood"`` (default): p_k = Σ_{i∈C_k} e^{ℓ_i} / Σ_j e^{ℓ_j} with ℓ_i the (length-
  normalised) log-likelihood of answer i under π_old, computed with log-sum-exp;
  SE = −Σ_k p_k log p_k (``jentropy.info.entropy``).
- ``"count"``: p_k = |C_k| / G (discrete semantic entropy).
- ``"monte_carlo"``: SE ≈ −(1/K) Σ_k log p_k with the likelihood p_k, the estimator as SEED-GRPO's
  section 3 writes it (it is not bounded by log G).

SE_max = log G (every answer different, equal mass). SEED-GRPO (Chen et al. 2025, arXiv 2505.12346)
scales each advantage by f(α · SE / SE_max): confident prompts keep their signal, uncertain ones get
more conservative updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax.numpy as jnp
from jax.scipy.special import logsumexp
from jaxtyping import Array, ArrayLike, Float, Int

from jentropy import info

from ._advantages import dr_grpo_advantages, grpo_advantages
from ._groups import float_array, mask_like

__all__ = [
    "SEED_MODULATIONS",
    "seed_advantage_scale",
    "seed_grpo_advantages",
    "semantic_entropy",
    "semantic_entropy_max",
    "sequence_log_likelihood",
]

_ESTIMATORS = ("likelihood", "count", "monte_carlo")

#: Modulation functions f(x), x = α · SE / SE_max ∈ [0, α]:
#: "inverse" f = 1 / (1 + x), i.e. Â = A / (1 + (α / ln G) SE), the form of the third-party
#: reimplementation cited in the spec, with α = 0.0417 (the default here, so that default numbers
#: have a stated source); "linear" f = 1 − x and "exp" f = e^{−x} are two of the families the paper
#: names (linear, exponential, focal). The paper's own default f and α are not verified.
SEED_MODULATIONS: dict[str, Callable[[Array], Array]] = {
    "inverse": lambda x: 1 / (1 + x),
    "linear": lambda x: 1 - x,
    "exp": lambda x: jnp.exp(-x),
}


def sequence_log_likelihood(
    logp: Float[ArrayLike, "... T"], mask: ArrayLike | None = None, *, normalize: bool = True
) -> Float[Array, "..."]:
    """ℓ = Σ_t m_t logπ(o_t) (/ Σ_t m_t when ``normalize``, the mean token log-prob SEED-GRPO uses).

    Masked positions are ignored even if they hold -inf; an empty mask gives 0.

    Example: ``sequence_log_likelihood(jnp.array([[-1.0, -3.0]]))  # [-2.0]``.
    """
    lp = float_array(logp, "logp")
    m = mask_like(mask, lp)
    s = jnp.sum(jnp.where(m > 0, lp, 0) * m, axis=-1)
    if not normalize:
        return s
    n = jnp.sum(m, axis=-1)
    return s / jnp.where(n > 0, n, 1)


def semantic_entropy(
    seq_log_likelihood: Float[ArrayLike, "... G"] | None,
    cluster_ids: Int[ArrayLike, "... G"],
    *,
    estimator: str = "likelihood",
) -> Float[Array, "..."]:
    """Semantic entropy of each group of G answers (module docstring for the estimators).

    Args:
        seq_log_likelihood: (..., G) ℓ_i under π_old (unused, may be None, for ``"count"``).
        cluster_ids: (..., G) ints in [0, G) (from :func:`cluster_answers` or
            :func:`cluster_token_answers`).
        estimator: "likelihood", "count" or "monte_carlo".

    Returns (...,) in nats; a group whose ℓ are all −∞ is weighed as ``"count"`` would. Example:
    two clusters of equal mass give log 2; one cluster gives 0.
    """
    if estimator not in _ESTIMATORS:
        raise ValueError(f"estimator must be one of {_ESTIMATORS}, got {estimator!r}")
    ids = jnp.asarray(cluster_ids)
    if not jnp.issubdtype(ids.dtype, jnp.integer) or ids.ndim < 1:
        raise TypeError(
            f"cluster_ids must be an integer array (..., G), got {ids.dtype} {ids.shape}"
        )
    g = ids.shape[-1]
    onehot = ids[..., :, None] == jnp.arange(g)  # (..., G samples, G cluster slots)
    if estimator == "count":
        dtype = (
            jnp.result_type(float)
            if seq_log_likelihood is None
            else float_array(seq_log_likelihood, "seq_log_likelihood").dtype
        )
        return info.entropy_from_counts(jnp.sum(onehot, axis=-2).astype(dtype))
    if seq_log_likelihood is None:
        raise ValueError(f"estimator {estimator!r} needs seq_log_likelihood")
    ll = float_array(seq_log_likelihood, "seq_log_likelihood")
    if ll.shape != ids.shape:
        raise ValueError(f"seq_log_likelihood must have shape {ids.shape}, got {ll.shape}")
    # shift by the group's max first: f32 log-likelihoods of long answers reach -1e3 and more,
    # where one ulp already exceeds 1e-4. A group whose answers all have zero likelihood
    # (ℓ = −∞, e.g. tokens a filtered sampler kept) has no weights to compare: weigh its answers
    # equally (the count estimator) rather than return −∞ − (−∞) = NaN.
    top = jnp.max(ll, axis=-1, keepdims=True)
    ll = jnp.where(jnp.isneginf(top), 0, ll - top)
    log_mass = logsumexp(jnp.where(onehot, ll[..., :, None], -jnp.inf), axis=-2)
    log_p = log_mass - logsumexp(ll, axis=-1, keepdims=True)  # -inf for empty cluster slots
    if estimator == "likelihood":
        return info.entropy(jnp.exp(log_p))
    present = jnp.isfinite(log_p)
    k = jnp.sum(present, axis=-1).astype(ll.dtype)
    return -jnp.sum(jnp.where(present, log_p, 0), axis=-1) / jnp.maximum(k, 1)


def semantic_entropy_max(group_size: int) -> float:
    """SE_max = log G, the entropy of G answers that all differ (equal mass).

    Example: ``semantic_entropy_max(8)  # log 8 = 2.079``.
    """
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    return math.log(group_size)


def seed_advantage_scale(
    entropy: Float[ArrayLike, "..."],
    group_size: int,
    *,
    alpha: float = 0.0417,
    modulation: str | Callable[[Array], Array] = "inverse",
) -> Float[Array, "..."]:
    """SEED-GRPO's factor f(α · SE / SE_max) (see :data:`SEED_MODULATIONS`; or pass a callable f).

    G = 1 (SE_max = 0) gives f(0). Example: SE = log G, α = 1, "linear" → 0 (no update).
    """
    f = SEED_MODULATIONS.get(modulation) if isinstance(modulation, str) else modulation
    if f is None:
        raise ValueError(f"modulation must be one of {tuple(SEED_MODULATIONS)} or a callable")
    se = float_array(entropy, "entropy")
    se_max = semantic_entropy_max(group_size)
    x = alpha * se / se_max if se_max > 0 else jnp.zeros_like(se)
    return f(x).astype(se.dtype)


def seed_grpo_advantages(
    rewards: Float[ArrayLike, "P G"],
    seq_log_likelihood: Float[ArrayLike, "P G"] | None,
    cluster_ids: Int[ArrayLike, "P G"],
    *,
    alpha: float = 0.0417,
    modulation: str | Callable[[Array], Array] = "inverse",
    estimator: str = "likelihood",
    base: str = "dr_grpo",
) -> tuple[Float[Array, "P G"], Float[Array, " P"]]:
    """SEED-GRPO advantages Â_i = A_i · f(α · SE(q) / SE_max) for a (P, G) grid of groups.

    ``base`` is the underlying estimator: "dr_grpo" (r_i − mean, the paper's recipe) or "grpo"
    (std-normalised). Returns ``(advantages (P, G), semantic_entropy (P,))``.

    Example: ``adv, se = seed_grpo_advantages(rewards, seq_ll, cluster_token_answers(tokens))``.
    """
    if base not in ("dr_grpo", "grpo"):
        raise ValueError(f"base must be 'dr_grpo' or 'grpo', got {base!r}")
    r = float_array(rewards, "rewards")
    if r.ndim != 2:
        raise ValueError(f"rewards must be a (num_prompts, group_size) grid, got shape {r.shape}")
    a = dr_grpo_advantages(r) if base == "dr_grpo" else grpo_advantages(r)
    se = semantic_entropy(seq_log_likelihood, cluster_ids, estimator=estimator).astype(r.dtype)
    scale = seed_advantage_scale(se, r.shape[-1], alpha=alpha, modulation=modulation)
    return a * scale[:, None], se
