"""A discrete base distribution p over an enumerated outcome set, with a reward on each outcome."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


class Outcomes(NamedTuple):
    """Base model p and reward r on K enumerated outcomes (tokens, answers, whole sequences).

    A pytree, so it passes through ``jit``/``vmap``/``grad``. Build it with :func:`outcomes`, which
    validates the input and normalises ``logp``.

    Attributes:
        logp: (K,) normalised log-probabilities log p(y) (−inf for impossible outcomes).
        reward: (K,) rewards r(y), same dtype as ``logp``.
    """

    logp: Float[Array, " k"]
    reward: Float[Array, " k"]


def _is_concrete(*xs: Array) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


def host(x: Array) -> np.ndarray | None:
    """The value of ``x`` as NumPy when it is concrete (validation runs on the host, so it
    compiles nothing), else None (under jit/vmap/grad tracing)."""
    return None if isinstance(x, jax.core.Tracer) else np.asarray(x)


def _as_float(x: ArrayLike, name: str) -> Array:
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {x.dtype}")
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        if not (jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_):
            raise TypeError(f"{name} must be a real array, got dtype {x.dtype}")
        x = x.astype(jnp.result_type(float))
    return x


def outcomes(
    reward: ArrayLike,
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    atol: float | None = None,
) -> Outcomes:
    """Validate and package a base distribution and a reward (give exactly one of probs / logits).

    Args:
        reward: (K,) finite rewards r(y).
        probs: (K,) probabilities p(y) ≥ 0 summing to one (checked to ``atol``; rounding within
            it is removed by renormalising, anything larger is an error).
        logits: (K,) unnormalised log-probabilities (−inf allowed); normalised with log-softmax.
        atol: tolerance on |Σ p − 1| for ``probs``; default min(1e-3, max(1e-6, 1e3·eps·√K)),
            loose enough for float32 probabilities cast to float64, tight enough to catch
            counts or unnormalised weights.

    Returns:
        :class:`Outcomes` with ``logp`` (normalised log-probabilities) and ``reward`` in a common
        float dtype (the inputs' promoted dtype).

    Raises:
        ValueError: wrong shapes, negative or non-normalised ``probs``, NaN or +inf ``logits``,
            non-finite ``reward`` (value checks run when the inputs are concrete, not under jit).
        TypeError: complex or non-numeric inputs.

    Example::

        o = outcomes(jnp.arange(4.0), probs=jnp.full(4, 0.25))
        o = outcomes(reward, logits=lm_logits)      # a vocabulary of LM logits
    """
    if (probs is None) == (logits is None):
        raise ValueError("give exactly one of probs= or logits= for the base distribution")
    r = _as_float(reward, "reward")
    base_name = "probs" if probs is not None else "logits"
    base = _as_float(probs if probs is not None else logits, base_name)
    dtype = jnp.promote_types(r.dtype, base.dtype)
    r, base = r.astype(dtype), base.astype(dtype)
    if base.ndim != 1:
        raise ValueError(f"{base_name} must be a 1-D array over K outcomes, got shape {base.shape}")
    if base.shape[0] == 0:
        raise ValueError(f"{base_name} must have at least one outcome")
    if r.shape != base.shape:
        raise ValueError(
            f"reward must have the same shape as {base_name}, got {r.shape} and {base.shape}"
        )
    r_host, base_host = host(r), host(base)
    if r_host is not None and not np.all(np.isfinite(r_host)):
        raise ValueError("reward must be finite")
    if probs is not None:
        if base_host is not None:
            if np.any(np.isnan(base_host)) or np.any(base_host < 0):
                raise ValueError("probs must be non-negative")
            tol = atol if atol is not None else _default_atol(base.shape[0], dtype)
            total = float(np.sum(base_host, dtype=np.float64))
            if abs(total - 1.0) > tol:
                raise ValueError(
                    f"probs must sum to one (within atol={tol:.3g}), got sum {total!r}; "
                    "pass logits= for unnormalised weights"
                )
        return Outcomes(_log_normalised(base), r)
    if base_host is not None:
        if np.any(np.isnan(base_host)) or np.any(np.isposinf(base_host)):
            raise ValueError("logits must not contain NaN or +inf")
        if not np.any(np.isfinite(base_host)):
            raise ValueError("logits must give at least one outcome positive probability")
    return Outcomes(jax.nn.log_softmax(base), r)


@jax.jit
def _log_normalised(p: Array) -> Array:
    positive = p > 0
    logp = jnp.where(positive, jnp.log(jnp.where(positive, p, 1)), -jnp.inf)
    # within-tolerance rounding of Σp is removed so every formula can assume Σp = 1
    return jax.nn.log_softmax(logp)


def _default_atol(k: int, dtype: jnp.dtype) -> float:
    return min(1e-3, max(1e-6, 1e3 * float(jnp.finfo(dtype).eps) * float(np.sqrt(k))))


def check_outcomes(o: Outcomes, name: str = "outcomes") -> Outcomes:
    """Type check at public entry points (the values were validated by :func:`outcomes`)."""
    if not isinstance(o, Outcomes):
        raise TypeError(
            f"{name} must be an Outcomes (build it with alignment.outcomes(reward, probs=...)), "
            f"got {type(o).__name__}"
        )
    if o.logp.ndim != 1 or o.logp.shape != o.reward.shape:
        raise ValueError(
            f"{name}.logp and {name}.reward must be 1-D of equal length, "
            f"got {o.logp.shape} and {o.reward.shape}"
        )
    return o


def support_range(o: Outcomes) -> tuple[Array, Array]:
    """(min, max) of the reward over the support of p."""
    support = o.logp > -jnp.inf
    return (
        jnp.min(jnp.where(support, o.reward, jnp.inf)),
        jnp.max(jnp.where(support, o.reward, -jnp.inf)),
    )


# --- shape buckets -------------------------------------------------------------------------
# Public functions pad the outcome axis (with zero-probability outcomes, which every formula
# ignores) and flattened batch arguments (repeating the last entry) to powers of two, so that
# problems of similar size share one compilation; the padding is removed from the results.


def bucket(size: int, smallest: int) -> int:
    """The smallest power of two ≥ max(size, smallest)."""
    return 1 << (max(size, smallest) - 1).bit_length()


def _pad(x: Array, size: int, value: float | None) -> Array:
    extra = size - x.shape[0]
    if extra == 0:
        return x
    x_host = host(x)
    if x_host is not None:  # on the host: no compilation for a concatenate
        fill = x_host[-1:] if value is None else np.full((1,), value, x_host.dtype)
        return jnp.asarray(np.concatenate([x_host, np.repeat(fill, extra, axis=0)]), x.dtype)
    fill = x[-1:] if value is None else jnp.full((1,), value, x.dtype)
    return jnp.concatenate([x, jnp.repeat(fill, extra, axis=0)])


def pad_outcomes(o: Outcomes) -> tuple[Outcomes, int]:
    """``o`` with K padded to a power of two (≥ 16) by zero-probability outcomes, and K."""
    k = o.logp.shape[0]
    size = bucket(k, 16)
    return Outcomes(_pad(o.logp, size, -np.inf), _pad(o.reward, size, 0.0)), k


def pad_batch(x: Array, k: int) -> tuple[Array, tuple[int, ...], int]:
    """Flatten ``x`` and pad it to a power of two (≥ 8 for small K); returns (flat, shape, count)."""
    flat = x.reshape(-1)
    count = flat.shape[0]
    return _pad(flat, bucket(count, 8 if k <= 4096 else 1), None), x.shape, count


def unpad(y: Array, shape: tuple[int, ...], count: int, k: int | None = None) -> Array:
    """Undo :func:`pad_batch` on the leading axis (and the outcome padding on the last, if k)."""
    if y.shape[0] != count:
        y = y[:count]
    if k is not None and y.shape[-1] != k:
        y = y[..., :k]
    return y.reshape(shape + y.shape[1:])
