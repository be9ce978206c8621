"""Exact distribution of the sequence reward R = Σ r(y_i) for i.i.d. tokens with lattice rewards.

The n-fold convolution is evaluated with FFTs of exponentially tilted copies of the token law
(saddle-point style): each tilt θ moves the bulk of the sum to a chosen place, where the FFT's
absolute round-off is tiny relative to the tilted probabilities, and the untilted log-probability
follows exactly as log P(R = s) = log P_θ(R = s) − θ s + n Λ(θ). Every s takes the tilt under
which it is most probable, so log P(R = s) keeps relative accuracy out to tails like e^{−2000}
that no plain FFT (or float) can hold.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._outcomes import Outcomes, _is_concrete, bucket, check_outcomes, host, pad_outcomes
from ._tilt import _stats


def lattice_levels(o: Outcomes) -> tuple[Array, int]:
    """Token law on its reward lattice: log P(r = r_min + k), k = 0..L, and r_min.

    Requires integer rewards on the support of p (the lattice of a linear reward). The rewards
    must be concrete (their range sets the array sizes); the probabilities may be traced.

    Raises:
        ValueError: non-integer rewards, rewards under tracing, or a span L above 10⁶.

    Example: rewards (−1, 1, 1) with p = (.5, .2, .3) give log-probabilities
    (log .5, −inf, log .5) on the lattice −1, 0, 1 and r_min = −1.
    """
    o = pad_outcomes(check_outcomes(o))[0]
    if not _is_concrete(o.reward):
        raise ValueError("the exact sum distribution needs concrete (not traced) rewards")
    r = np.asarray(o.reward, dtype=np.float64)
    logp = host(o.logp)
    support = logp > -np.inf if logp is not None else np.ones(r.shape, bool)
    rs = r[support]
    if not np.all(np.abs(rs - np.round(rs)) <= 1e-9 * np.maximum(1.0, np.abs(rs))):
        raise ValueError(
            "the exact sum distribution needs integer rewards on the support of p "
            "(rescale a lattice reward a + h·k to k)"
        )
    rmin, rmax = int(np.round(rs.min())), int(np.round(rs.max()))
    span = rmax - rmin
    if span > 1_000_000:
        raise ValueError(f"reward span r_max − r_min = {span} is too large (at most 10^6)")
    index = jnp.asarray(np.clip(np.round(r).astype(np.int64) - rmin, 0, span).astype(np.int32))
    m = jax.ops.segment_max(o.logp, index, num_segments=span + 1)
    m_safe = jnp.where(jnp.isfinite(m), m, 0)
    live = o.logp > -jnp.inf
    total = jax.ops.segment_sum(
        jnp.where(live, jnp.exp(o.logp - m_safe[index]), 0), index, num_segments=span + 1
    )
    level_logp = jnp.where(total > 0, jnp.log(jnp.where(total > 0, total, 1)) + m_safe, -jnp.inf)
    return level_logp, rmin


def _tilt_targets(length: int, span: int) -> np.ndarray:
    """Means of the tilted sums: uniform over (0, nL), plus geometric ones near both edges.

    Padded (by repeating the last target) to a power-of-two count so that lengths share a trace.
    """
    total = length * span
    uniform = max(8, min(4096, math.ceil(math.sqrt(length) * span)))
    spacing = total / uniform
    mid = (np.arange(uniform) + 0.5) * spacing
    edge = np.asarray([0.5 * 2.0**j for j in range(64) if 0.5 * 2.0**j < spacing])
    targets = np.concatenate([edge, mid, total - edge])
    targets = np.unique(targets[(targets > 0) & (targets < total)])
    count = _bucket(targets.shape[0])
    return np.concatenate([targets, np.full(count - targets.shape[0], targets[-1])])


def _bucket(size: int, smallest: int = 64) -> int:
    return bucket(size, smallest)


def _int_power(z: Array, n: Array) -> Array:
    """z**n for a traced integer n ≥ 0 by binary exponentiation (exact phases, no complex log)."""

    def body(_: int, state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        result, base, k = state
        result = jnp.where(k % 2 == 1, result * base, result)
        return result, base * base, k // 2

    init = (jnp.ones_like(z), z, n)
    result, _, _ = jax.lax.fori_loop(0, 31, body, init)
    return result


def _tilts_for_means(lattice: Outcomes, means: Array, steps: int = 64) -> Array:
    """Tilts θ with E_θ k ≈ mean by plain bisection (no gradient: any θ gives the same answer).

    The bracket |θ| ≤ log(L/(min(P_0, P_L)·m_min)) + 1 holds every mean ≥ m_min from the edges.
    """
    lattice = jax.lax.stop_gradient(lattice)
    means = jax.lax.stop_gradient(means)
    span = lattice.logp.shape[0] - 1
    edge = jnp.maximum(jnp.minimum(lattice.logp[0], lattice.logp[-1]), -600.0)
    closest = jnp.min(jnp.minimum(means, span - means))
    bound = jnp.log(span / jnp.maximum(closest, 1e-300)) - edge + 1.0

    def body(_: int, state: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = state
        mid = 0.5 * (lo + hi)
        below = jax.vmap(lambda t: _stats(lattice, t).mean)(mid) < means
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(
        0, steps, body, (-bound * jnp.ones_like(means), bound * jnp.ones_like(means))
    )
    return 0.5 * (lo + hi)


@partial(jax.jit, static_argnames=("size",))
def _sum_log_pmf(level_logp: Array, targets: Array, length: Array, *, size: int) -> Array:
    """log P(R = s), s = 0..size−1 (−inf past nL), with n = ``length`` traced and ``size`` static."""
    span = level_logp.shape[0] - 1
    k = jnp.arange(span + 1, dtype=level_logp.dtype)
    s = jnp.arange(size, dtype=level_logp.dtype)
    n = length.astype(level_logp.dtype)
    lattice = Outcomes(level_logp, k)
    thetas = _tilts_for_means(lattice, targets / n)
    floor = 30 * jnp.finfo(level_logp.dtype).eps * math.sqrt(size)  # above the FFT round-off

    def step(carry: tuple[Array, Array], theta: Array) -> tuple[tuple[Array, Array], None]:
        best, out = carry
        st = _stats(lattice, theta)
        q = jnp.exp(st.logphi)
        pmf = jnp.fft.irfft(_int_power(jnp.fft.rfft(q, size), length), size)
        tilted = jnp.log(jnp.where(pmf > floor, pmf, 1)) + jnp.where(pmf > floor, 0, -jnp.inf)
        better = tilted > best
        value = tilted - theta * s + n * st.cgf
        return (jnp.where(better, tilted, best), jnp.where(better, value, out)), None

    init = (jnp.full((size,), -jnp.inf, level_logp.dtype), jnp.full((size,), -jnp.inf, s.dtype))
    (_, out), _ = jax.lax.scan(step, init, thetas)
    top = length * span
    out = jnp.where(s > top, -jnp.inf, out)
    # the two ends are exact products; setting them also covers one-point lattices
    return out.at[0].set(n * level_logp[0]).at[top].set(n * level_logp[-1])


def padded_sum_log_pmf(o: Outcomes, length: int) -> tuple[Array, Array, int]:
    """(values, log_pmf, count): padded to a power-of-two size with −inf masses past ``count``.

    Internal; the padding lets sequence lengths share compilations.
    """
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be an int >= 1, got {length!r}")
    level_logp, rmin = lattice_levels(o)
    span = level_logp.shape[0] - 1
    dtype = level_logp.dtype
    size = _bucket(length * span + 1, 1024)
    values = jnp.arange(size, dtype=dtype) + length * rmin
    count = length * span + 1
    if span == 0:
        return values, jnp.where(jnp.arange(size) == 0, 0.0, -jnp.inf).astype(dtype), count
    targets = jnp.asarray(_tilt_targets(length, span), dtype)
    return values, _sum_log_pmf(level_logp, targets, jnp.asarray(length), size=size), count


def sum_reward_log_pmf(o: Outcomes, length: int) -> tuple[Array, Float[Array, " s"]]:
    """Exact log P(R_n = s) of the reward of n i.i.d. tokens, for every reachable s.

    Args:
        o: token distribution with integer per-token rewards (see :func:`lattice_levels`).
        length: sequence length n ≥ 1 (the output has n·L + 1 entries; lengths in the same
            power-of-two bucket of n·L share one compilation).

    Returns:
        ``(values, log_pmf)``: the sums s = n·r_min + j, j = 0..nL, and log P(R_n = s) (−inf for
        unreachable s). Measured against scipy's binomial: absolute error of log P ≤ 2e-11 in
        float64 up to n = 5000, tails like e^{−1800} included; float32 gives ≤ 4e-3 there
        (log P itself to ~1e-7 relative), so use float64 for precise KLs of long sequences.

    Example: Bernoulli(0.3) tokens, r = y: ``log_pmf`` equals scipy's ``binom.logpmf(s, n, 0.3)``.
    """
    values, log_pmf, count = padded_sum_log_pmf(o, length)
    return values[:count], log_pmf[:count]
