"""Best-of-N on whole sequences of a memoryless LM, exactly and by sampling.

Exactly: best-of-N only sees the sequence reward R, and both π_N and the tilt φ split each reward
level in proportion to p, so every KL between them is a KL between laws of R, computed from the
exact log P(R = s) (:func:`sum_reward_log_pmf`) with the log-space best-of-N formula. With
N = e^{nδ} and Δ = nδ, Yang et al. show E_{π_N} R/n → Λ'(λ_δ) and D(π_N‖φ)/n → 0.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ._best_of_n import level_log_probs, levels_from_sorted
from ._outcomes import Outcomes, check_outcomes, host, pad_batch, pad_outcomes, unpad
from ._sums import padded_sum_log_pmf
from ._tilt import _stats, solve_lambda


class SequenceBestOfN(NamedTuple):
    """Per-token summaries of best-of-N on sequences of length n, against the matched tilt."""

    reward: Array  #: E_{π_N} R / n
    kl_base: Array  #: D(π_N ‖ p^{(n)}) / n
    kl_tilt: Array  #: D(π_N ‖ φ^{(n)}) / n, φ the KL-RL optimum with Δ = nδ
    tilt_reward: Array  #: Λ'(λ_δ), the optimum's per-token reward
    lam: Array  #: λ_δ
    log_n: Array  #: log N used (nδ unless given)


@jax.jit
def _bon_vs_tilt_many(
    values: Array, log_pmf: Array, o: Outcomes, lam: Array, log_n: Array, length: Array
) -> tuple[Array, Array, Array, Array]:
    def one(la: Array, x: Array) -> tuple[Array, Array, Array, Array]:
        return _bon_vs_tilt(values, log_pmf, o, la, x, length.astype(values.dtype))

    return jax.vmap(one)(lam, log_n)


def _bon_vs_tilt(
    values: Array, log_pmf: Array, o: Outcomes, lam: Array, log_n: Array, length: Array
) -> tuple[Array, Array, Array, Array]:
    levels = levels_from_sorted(log_pmf, values)
    st = _stats(o, lam)
    lpi = level_log_probs(levels, log_n)
    live = lpi > -jnp.inf
    lpi = jnp.where(live, lpi, 0)
    pi = jnp.where(live, jnp.exp(lpi), 0)
    log_phi = log_pmf + lam * values - length * st.cgf
    kl_base = jnp.sum(jnp.where(live, pi * (lpi - jnp.where(live, log_pmf, 0)), 0))
    kl_tilt = jnp.sum(jnp.where(live, pi * (lpi - jnp.where(live, log_phi, 0)), 0))
    reward = jnp.sum(jnp.where(live, pi * values, 0))
    return reward / length, kl_base / length, kl_tilt / length, st.mean


def sequence_best_of_n(
    o: Outcomes, length: int, delta: ArrayLike, *, log_n: ArrayLike | None = None
) -> SequenceBestOfN:
    """Exact best-of-N on n-token sequences with N = e^{nδ}, compared with the tilt at Δ = nδ.

    Args:
        o: token distribution with integer per-token rewards (a lattice; e.g. the number of ones).
        length: sequence length n (static).
        delta: per-token KL budget δ ∈ [0, max_kl), any shape.
        log_n: log N (same shape as ``delta``); default n·δ, the matching of Yang et al.

    Returns:
        :class:`SequenceBestOfN` of per-token quantities, each with the shape of ``delta``.

    Example (the spec's table, Bernoulli(0.3), δ = 0.1)::

        o = outcomes(jnp.array([0.0, 1.0]), probs=jnp.array([0.7, 0.3]))
        s = sequence_best_of_n(o, 1000, 0.1)   # reward 0.5113, kl_base 0.0989, kl_tilt 2.0e-3
    """
    o = check_outcomes(o)
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be an int >= 1, got {length!r}")
    delta = jnp.asarray(delta, o.logp.dtype)
    lam = solve_lambda(o, delta)
    ln = (
        length * delta
        if log_n is None
        else jnp.broadcast_to(jnp.asarray(log_n, delta.dtype), delta.shape)
    )
    ln_host = host(ln)
    if ln_host is not None and not np.all(ln_host >= 0):
        raise ValueError(f"log_n must be >= 0 (N >= 1), got {ln}")
    values, log_pmf, _ = padded_sum_log_pmf(o, length)
    o_p, k = pad_outcomes(o)
    lam_flat, shape, count = pad_batch(lam, k)
    ln_flat, _, _ = pad_batch(ln, k)
    out = _bon_vs_tilt_many(values, log_pmf, o_p, lam_flat, ln_flat, jnp.asarray(length))
    reward, kl_base, kl_tilt, tilt_reward = (unpad(v, shape, count) for v in out)
    return SequenceBestOfN(reward, kl_base, kl_tilt, tilt_reward, lam, ln)
