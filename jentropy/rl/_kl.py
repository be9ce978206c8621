"""Per-token KL estimators to a reference policy (Schulman's k1/k2/k3 and straight-through variants).

With Δ = logπ_ref − logπ_θ on tokens sampled from π_θ (J. Schulman, "Approximating KL
divergence", 2020):

==========================  ===============================  =====================================
name (aliases)              value                            notes
==========================  ===============================  =====================================
``k1`` (``kl``)             logπ − logπ_ref = −Δ             unbiased value, can be negative
``abs``                     |logπ − logπ_ref|                verl
``k2`` (``mse``)            ½ (logπ − logπ_ref)²             its gradient is the KL's gradient
``k3`` (``low_var_kl``)     e^Δ − Δ − 1 ≥ 0                  TRL's only estimator; verl clamps Δ
                                                             to ±20 and the value to ±10
``k1+``, ``k3+``, …         value of k1/k3/…, gradient of k2  verl's straight-through variants
==========================  ===============================  =====================================

TRL's ``use_bias_correction_kl`` multiplies k3 by the importance ratio ρ = π_θ/π_old (pass
``ratio=``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._groups import float_array, mask_like

__all__ = ["KL_ESTIMATORS", "kl_penalty"]

_CANONICAL = {"k1": "k1", "kl": "k1", "abs": "abs", "k2": "k2", "mse": "k2", "k3": "k3"}
_CANONICAL["low_var_kl"] = "k3"

#: Accepted estimator names; a trailing "+" selects the straight-through variant (k2's gradient).
KL_ESTIMATORS = (*_CANONICAL, *(f"{k}+" for k in _CANONICAL if _CANONICAL[k] != "k2"))


def kl_penalty(
    logp: Float[ArrayLike, "batch tokens"],
    ref_logp: Float[ArrayLike, "batch tokens"],
    estimator: str = "k3",
    *,
    mask: ArrayLike | None = None,
    clamp: bool = True,
    ratio: Float[ArrayLike, "batch tokens"] | None = None,
) -> Float[Array, "batch tokens"]:
    """Per-token KL(π_θ ‖ π_ref) estimate by ``estimator`` (table above).

    Args:
        logp, ref_logp: (B, T) log-probabilities of the sampled tokens under π_θ and π_ref.
        estimator: one of :data:`KL_ESTIMATORS`.
        mask: (B, T); masked positions return 0 (even if the log-probs there are -inf).
        clamp: for k3, clamp Δ to ±20 and the value to ±10 as verl does (False: TRL, unclamped).
        ratio: optional (B, T) importance ratio multiplying the value (TRL
            ``use_bias_correction_kl``).

    Returns (B, T). Example: logπ = log 0.5, logπ_ref = log 0.25 gives k1 = log 2, k2 = ½ log² 2,
    k3 = 0.5 − 1 + log 2.
    """
    if estimator not in KL_ESTIMATORS:
        raise ValueError(f"estimator must be one of {KL_ESTIMATORS}, got {estimator!r}")
    lp = float_array(logp, "logp")
    ref = float_array(ref_logp, "ref_logp").astype(lp.dtype)
    if ref.shape != lp.shape:
        raise ValueError(f"ref_logp must have shape {lp.shape}, got {ref.shape}")
    m = mask_like(mask, lp)
    valid = m > 0
    diff = jnp.where(valid, lp, 0) - jnp.where(valid, ref, 0)  # logπ − logπ_ref
    straight_through = estimator.endswith("+")
    kind = _CANONICAL[estimator.rstrip("+")]
    if kind == "k1":
        value = diff
    elif kind == "abs":
        value = jnp.abs(diff)
    elif kind == "k2":
        value = 0.5 * diff**2
    else:
        d = -diff
        if clamp:
            d = jnp.clip(d, -20.0, 20.0)
        value = jnp.expm1(d) - d  # e^Δ − 1 − Δ without cancellation near Δ = 0
        if clamp:
            value = jnp.clip(value, -10.0, 10.0)
    if straight_through:
        surrogate = 0.5 * diff**2
        value = surrogate - jax.lax.stop_gradient(surrogate) + jax.lax.stop_gradient(value)
    if ratio is not None:
        value = value * float_array(ratio, "ratio").astype(lp.dtype)
    return jnp.where(valid, value, 0)
