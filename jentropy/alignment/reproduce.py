"""Reproductions for Yang et al., "Asymptotics of Language Model Alignment" (``jentropy reproduce
alignment``).

The paper has no code and its figures are schematic; these reproduce its results numerically in
the memoryless-LM / linear-reward setting (Bernoulli(0.3) tokens, reward = number of ones, unless
noted), and the exact best-of-N facts of Beirami et al.:

* ``reward_vs_kl`` — per-token reward against per-token KL for best-of-N (N = e^{nδ}) and for the
  KL-RL optimum (the tilt), as the length n grows: best-of-N approaches the optimal frontier.
* ``per_token_gaps`` — the gaps x* − E_bon R/n, KL(bon‖φ)/n and δ − KL(bon‖p)/n shrinking with n;
  the metrics hold the spec's table (n = 100, 1000, 5000 at δ = 0.1).
* ``rate_function`` — I(x) (Legendre transform, exact) against −(1/n) log P̂(R_n ≥ n x) from
  sampled sums and the exact finite-n tails, for Bernoulli and for a 4-level categorical token.
* ``cumulants_renyi`` — for r = log q, Λ(λ) = −λ H_{1+λ}(p; q), and the scaled cumulants
  κ_k/n = Λ^{(k)}(λ) against sample cumulants of sampled sequences.
* ``monte_carlo`` — Monte-Carlo best-of-N on sequences (sharded over devices) against the exact
  curves, and exact best-of-N on large vocabularies against the log N − (N−1)/N bound.

All run in float64 (a scoped ``jax.enable_x64``): the exact sums reach tails like e^{−2000}.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jentropy import plotting
from jentropy.reproduce import Result, pick, register

from ._sequence_bon import sequence_best_of_n
from ._spec_example import DELTA, SPEC_TABLE, Q, as_float, bernoulli_example
from ._tilt import solve_lambda, tilt_reward


@register("alignment", description="reward vs KL: best-of-N (N = e^{nδ}) and the tilt as n grows")
def reward_vs_kl(*, scale: str, key: jax.Array) -> Result:
    """Per-token reward against per-token KL for best-of-N and the KL-RL optimum."""
    del key
    lengths = pick(scale, smoke=[10, 50], quick=[10, 100, 1000], full=[10, 100, 1000, 10_000])
    num = pick(scale, smoke=8, quick=24, full=60)
    with jax.enable_x64(True):
        o = bernoulli_example()
        deltas_np = np.unique(np.append(np.linspace(0.01, 0.6, num - 1), DELTA))
        at = int(np.flatnonzero(deltas_np == DELTA)[0])
        deltas = jnp.asarray(deltas_np)
        tilt_kl_grid = np.linspace(0.0, 0.6, 200)
        tilt_x = np.asarray(tilt_reward(o, solve_lambda(o, jnp.asarray(tilt_kl_grid))))
        curves = {n: sequence_best_of_n(o, n, deltas) for n in lengths}
        metrics: dict[str, Any] = {}
        for n, s in curves.items():
            metrics[f"n{n}_reward_per_token_at_delta_0.1"] = as_float(s.reward[at])
            metrics[f"n{n}_kl_per_token_at_delta_0.1"] = as_float(s.kl_base[at])
        metrics["tilt_reward_per_token_at_delta_0.1"] = as_float(curves[lengths[0]].tilt_reward[at])

    fig, ax = plotting.subplots(1, 1, width=5.6, height=4.2)
    ax.plot(tilt_kl_grid, tilt_x, color="black", lw=2.2, label="KL-RL optimum (tilt), any n")
    for color, (n, s) in zip(plotting.colors(len(curves)), curves.items()):
        ax.plot(
            np.asarray(s.kl_base),
            np.asarray(s.reward),
            "o-",
            ms=3,
            color=color,
            label=f"best-of-N, n = {n}",
        )
    ax.axhline(Q, color="grey", lw=0.8, ls=":", label="base model p")
    plotting.label(
        ax,
        "KL per token, D(·‖p)/n  [nats]",
        "expected reward per token",
        "Best-of-N with N = e^{nδ} approaches the optimal trade-off",
        legend=True,
    )
    notes = (
        "Bernoulli(0.3) tokens, reward = number of ones, N = e^{nδ} for δ ∈ [0.01, 0.6]. Exact "
        "(no sampling): the law of R_n by tilted FFTs, best-of-N in log space. The paper proves "
        "the per-token curves converge; shown here for finite n."
    )
    return Result(figures={"reward_vs_kl": fig}, metrics=metrics, notes=notes)


@register("alignment", description="per-token gaps between best-of-N and the tilt shrink with n")
def per_token_gaps(*, scale: str, key: jax.Array) -> Result:
    """x* − E_bon/n, KL(bon‖φ)/n and δ − KL(bon‖p)/n against n, with the spec's table."""
    del key
    lengths = pick(
        scale,
        smoke=[10, 30, 100],
        quick=[10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
        full=[10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000],
    )
    with jax.enable_x64(True):
        o = bernoulli_example()
        rows = {n: sequence_best_of_n(o, n, DELTA) for n in lengths}
        x_star = as_float(rows[lengths[0]].tilt_reward)
        lam = as_float(rows[lengths[0]].lam)
    ns = np.array(lengths, dtype=float)
    reward_gap = np.array([x_star - as_float(s.reward) for s in rows.values()])
    kl_tilt = np.array([as_float(s.kl_tilt) for s in rows.values()])
    kl_gap = np.array([DELTA - as_float(s.kl_base) for s in rows.values()])

    metrics: dict[str, Any] = {"lambda": lam, "x_star": x_star}
    worst = 0.0
    for n, (reward, kl_base, kl_tilt_spec) in SPEC_TABLE.items():
        if n not in rows:
            continue
        s = rows[n]
        got = (as_float(s.reward), as_float(s.kl_base), as_float(s.kl_tilt))
        metrics[f"n{n}"] = {"reward": got[0], "kl_base": got[1], "kl_tilt": got[2]}
        worst = max(
            worst,
            abs(got[0] - reward) / 5e-5,
            abs(got[1] - kl_base) / 5e-5,
            abs(got[2] - kl_tilt_spec) / (0.05 * kl_tilt_spec),
        )
    if any(n in rows for n in SPEC_TABLE):
        # ≤ 1 means every entry matches the spec to the digits shown
        metrics["spec_table_worst_error_in_last_digit_units"] = worst

    fig, ax = plotting.subplots(1, 1, width=5.6, height=4.2)
    c = plotting.colors(3, "categorical")
    ax.loglog(ns, reward_gap, "o-", color=c[0], label="x* − E_bon[R]/n  (reward gap)")
    ax.loglog(ns, kl_tilt, "s-", color=c[1], label="D(bon ‖ φ)/n")
    ax.loglog(ns, kl_gap, "^-", color=c[2], label="δ − D(bon ‖ p)/n")
    ax.loglog(ns, np.log(ns) / ns, "k--", lw=0.8, label="log n / n (reference)")
    plotting.label(
        ax,
        "sequence length n",
        "per-token gap",
        f"Best-of-N (N = e^{{nδ}}, δ = {DELTA}) vs the tilt: gaps → 0",
        legend=True,
    )
    notes = (
        "Spec table (E_bon/n, KL(bon‖p)/n, KL(bon‖φ)/n at n = 100, 1000, 5000) reproduced in the "
        "metrics; 'spec_table_worst_error_in_last_digit_units' ≤ 1 means all digits shown agree."
    )
    return Result(figures={"per_token_gaps": fig}, metrics=metrics, notes=notes)


# The reproductions checked against sampled sequences (rate function, cumulants, Monte Carlo)
# live in _reproduce_sampled.py and register after the two above when it is imported here.
from ._reproduce_sampled import cumulants_renyi, monte_carlo, rate_function_figure  # noqa: E402

__all__ = [
    "cumulants_renyi",
    "monte_carlo",
    "per_token_gaps",
    "rate_function_figure",
    "reward_vs_kl",
]
