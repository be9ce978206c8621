"""Monte-Carlo best-of-N and sequence rewards, sharded over devices with jentropy.parallel.

Every draw uses a per-example key (``jax.random.split(key, num_samples)``), so results depend on
the key only, not on the number of devices. Tokens are drawn by inverse CDF (O(log K) per token),
so vocabularies of 10⁶ outcomes cost no more than small ones.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.sharding import Mesh
from jaxtyping import Array, ArrayLike, Float, Int

from jentropy import parallel

from ._outcomes import Outcomes, check_outcomes, pad_outcomes
from ._tilt import tilt_log_probs


def _cdf(logp: Array) -> Array:
    return jnp.cumsum(jnp.exp(logp))


def _draw(cdf: Array, key: Array, shape: tuple[int, ...]) -> Array:
    u = jax.random.uniform(key, shape, cdf.dtype) * cdf[-1]
    # side="right" skips zero-probability outcomes (flat stretches of the CDF)
    return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)


def _best_outcome(cdf: Array, reward: Array, n: int, key: Array) -> Array:
    draws = _draw(cdf, key, (n,))
    # argmax takes the first of tied draws: given the winning level, that splits it ∝ p
    return draws[jnp.argmax(reward[draws])]


def _sequence_reward(cdf: Array, reward: Array, length: int, key: Array) -> Array:
    return jnp.sum(reward[_draw(cdf, key, (length,))])


def _best_sequence_reward(cdf: Array, reward: Array, n: int, length: int, key: Array) -> Array:
    return jnp.max(jnp.sum(reward[_draw(cdf, key, (n, length))], axis=-1))


def _check_count(value: int, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def sample_best_of_n(
    key: Array, o: Outcomes, n: int, num_samples: int, *, mesh: Mesh | None = None
) -> Int[Array, " s"]:
    """Monte-Carlo best-of-N over outcomes: draw n from p, keep the highest reward; repeat.

    Args:
        key: PRNG key (same key, same draws, whatever the device count).
        o: base distribution and reward.
        n: N, the number of draws per sample (int ≥ 1).
        num_samples: number of independent best-of-N selections.
        mesh: device mesh to shard the samples over (default: all devices).

    Returns:
        (num_samples,) indices of the selected outcomes. Ties among the draws go to the first
        drawn, which splits a reward level in proportion to p, as in the exact policy.

    Example: ``jnp.bincount(sample_best_of_n(key, o, 16, 10_000), length=K) / 10_000`` ≈
    ``jnp.exp(best_of_n_log_probs(o, 16))``.
    """
    o = pad_outcomes(check_outcomes(o))[0]
    _check_count(n, "n")
    _check_count(num_samples, "num_samples")
    f = jax.tree_util.Partial(_best_outcome, _cdf(o.logp), o.reward, n)
    return parallel.map_over_devices(f, jax.random.split(key, num_samples), mesh=mesh)


def sample_sequence_rewards(
    key: Array,
    o: Outcomes,
    length: int,
    num_samples: int,
    *,
    lam: ArrayLike = 0.0,
    mesh: Mesh | None = None,
) -> Float[Array, " s"]:
    """Rewards R = Σ r(y_i) of sampled sequences of i.i.d. tokens from the tilt φ_λ (λ = 0: p).

    Args:
        key: PRNG key.
        o: token distribution and per-token reward.
        length: tokens per sequence n.
        num_samples: number of sequences.
        lam: scalar tilt λ of the token law (the KL-RL optimum's tokens).
        mesh: device mesh to shard the sequences over (default: all devices).

    Returns (num_samples,) sequence rewards; their empirical tail is governed by
    :func:`rate_function`, their cumulants by :func:`tilt_cumulants` (× n).
    """
    o = pad_outcomes(check_outcomes(o))[0]
    _check_count(length, "length")
    _check_count(num_samples, "num_samples")
    lam = jnp.asarray(lam, o.logp.dtype)
    if lam.ndim != 0:
        raise ValueError(f"lam must be a scalar, got shape {lam.shape}")
    logphi = tilt_log_probs(o, lam)
    f = jax.tree_util.Partial(_sequence_reward, _cdf(logphi), o.reward, length)
    return parallel.map_over_devices(f, jax.random.split(key, num_samples), mesh=mesh)


def sample_best_of_n_sequences(
    key: Array,
    o: Outcomes,
    length: int,
    n: int,
    num_samples: int,
    *,
    mesh: Mesh | None = None,
) -> Float[Array, " s"]:
    """Monte-Carlo best-of-N on sequences: n sequences of ``length`` tokens, keep the best reward.

    Each sample draws an (n, length) block of tokens from p, so memory per device is
    (num_samples / devices) · n · length token ids.

    Args:
        key: PRNG key.
        o: token distribution and per-token reward.
        length: tokens per sequence.
        n: N, sequences per best-of-N selection.
        num_samples: number of selections.
        mesh: device mesh to shard the samples over (default: all devices).

    Returns (num_samples,) rewards R of the selected sequences; compare with
    ``sequence_best_of_n(o, length, delta, log_n=log(n))`` (mean of R/length → ``.reward``).
    """
    o = pad_outcomes(check_outcomes(o))[0]
    _check_count(length, "length")
    _check_count(n, "n")
    _check_count(num_samples, "num_samples")
    f = jax.tree_util.Partial(_best_sequence_reward, _cdf(o.logp), o.reward, n, length)
    return parallel.map_over_devices(f, jax.random.split(key, num_samples), mesh=mesh)
