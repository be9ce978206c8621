"""Alignment reproductions checked against sampled sequences (registered by ``reproduce.py``):
the rate function against tails of sampled sums, the scaled cumulants and the Rényi
cross-entropy against sample cumulants, and Monte-Carlo best-of-N against the exact curves."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jentropy import plotting
from jentropy.reproduce import Result, pick, register

from ._best_of_n import best_of_n_kl_bound, best_of_n_stats, reward_levels
from ._memoryless import bernoulli_rate_function, rate_function, renyi_cumulant_generating_function
from ._outcomes import outcomes
from ._sampling import sample_best_of_n_sequences, sample_sequence_rewards
from ._sequence_bon import sequence_best_of_n
from ._spec_example import DELTA, Q, as_float, bernoulli_example
from ._sums import sum_reward_log_pmf
from ._tilt import (
    cumulant_generating_function,
    max_kl,
    solve_lambda,
    tilt_cumulants,
)


def _log_tail(log_pmf: np.ndarray) -> np.ndarray:
    """log P(R ≥ s) from log P(R = s), in NumPy (reverse cumulative log-sum-exp)."""
    return np.logaddexp.accumulate(log_pmf[::-1])[::-1]


@register("alignment", "rate_function", description="rate function I(x) vs tails of sampled sums")
def rate_function_figure(*, scale: str, key: jax.Array) -> Result:
    """I(x) (exact) against −log P̂(R_n ≥ n x)/n from sampled sequences and the exact tails."""
    num = pick(scale, smoke=20_000, quick=200_000, full=4_000_000)
    lengths = pick(scale, smoke=[20, 60], quick=[20, 60, 200], full=[20, 60, 200, 600])
    tokens = {
        "bernoulli": ([0.0, 1.0], [1 - Q, Q]),
        "categorical": ([0.0, 1.0, 2.0, 3.0], [0.4, 0.3, 0.2, 0.1]),
    }
    panels = []
    metrics: dict[str, Any] = {}
    with jax.enable_x64(True):
        for t, (name, (rewards, probs)) in enumerate(tokens.items()):
            o = outcomes(jnp.asarray(rewards), probs=jnp.asarray(probs))
            lo, hi = rewards[0], rewards[-1]
            mean = float(np.dot(rewards, probs))
            xs = np.linspace(mean, hi, 122)[1:-1]
            exact_rate = np.asarray(rate_function(o, jnp.asarray(xs)))
            # one batch of sequences of the largest length; shorter lengths are its prefixes
            sums = np.asarray(sample_sequence_rewards(jax.random.fold_in(key, t), o, lengths, num))
            curves = []
            for i, n in enumerate(lengths):
                log_tail = _log_tail(np.asarray(sum_reward_log_pmf(o, n)[1]))
                exact_finite = -log_tail[np.ceil(n * (xs - lo) - 1e-9).astype(int)] / n
                grid = xs[:: max(1, len(xs) // 25)]
                thresholds = np.ceil(n * grid - 1e-9)
                tail = np.mean(sums[:, i][:, None] >= thresholds[None, :], axis=0)
                with np.errstate(divide="ignore"):
                    emp = np.where(tail > 0, -np.log(tail) / n, np.nan)
                curves.append((n, grid, emp, exact_finite))
                ok = tail * num >= 30  # where the empirical tail has at least 30 events
                if np.any(ok):
                    exact_at = -log_tail[np.ceil(n * (grid - lo) - 1e-9).astype(int)] / n
                    metrics[f"{name}_n{n}_max_abs_gap_sampled_vs_exact_tail_rate"] = float(
                        np.max(np.abs(emp[ok] - exact_at[ok]))
                    )
            if name == "bernoulli":
                closed = np.asarray(bernoulli_rate_function(Q, jnp.asarray(xs)))
                metrics["bernoulli_rate_max_abs_error_vs_closed_form"] = float(
                    np.max(np.abs(exact_rate - closed))
                )
                # under the tilt φ_λ (δ = 0.1) the rate vanishes at its mean x* only
                lam = solve_lambda(o, DELTA)
                tilted = np.asarray(rate_function(o, jnp.asarray(xs), lam))
                metrics["bernoulli_tilted_rate_min"] = float(np.min(tilted))
                metrics["bernoulli_tilted_rate_argmin"] = float(xs[np.argmin(tilted)])
            panels.append((name, xs, exact_rate, curves))

    fig, axes = plotting.subplots(1, 2, width=10.5, height=4.0)
    for ax, (name, xs, exact_rate, curves) in zip(axes, panels):
        ax.plot(xs, exact_rate, color="black", lw=2.2, label="I(x), Legendre transform (exact)")
        for color, (n, grid, emp, exact_finite) in zip(plotting.colors(len(curves)), curves):
            ax.plot(xs, exact_finite, color=color, lw=1, label=f"exact −log P(R≥nx)/n, n = {n}")
            ax.plot(grid, emp, "o", ms=3.5, color=color, mfc="none", label=f"sampled, n = {n}")
        title = (
            "Bernoulli(0.3) tokens"
            if name == "bernoulli"
            else "categorical token, r ∈ {0,1,2,3}, p = (.4,.3,.2,.1)"
        )
        plotting.label(ax, "x (reward per token)", "decay rate of P(R_n ≥ n x)", title)
        ax.legend(fontsize="x-small", frameon=False)
    notes = (
        f"{num} sampled sequences (sharded over devices; shorter lengths are prefixes of the "
        "same sequences). −log P(R_n ≥ n x)/n → I(x) from above with an O(log n / n) gap (the "
        "Bahadur–Rao prefactor), visible at small n; sampled points stop where the tail has no "
        "events."
    )
    return Result(figures={"rate_function": fig}, metrics=metrics, notes=notes)


def _k_statistics(x: np.ndarray) -> np.ndarray:
    """Unbiased sample cumulants k_1..k_4 (Fisher's k-statistics)."""
    n = x.shape[0]
    m = x.mean()
    d = x - m
    s2, s3, s4 = (np.mean(d**k) for k in (2, 3, 4))
    k2 = n / (n - 1) * s2
    k3 = n**2 / ((n - 1) * (n - 2)) * s3
    k4 = n**2 * ((n + 1) * s4 - 3 * (n - 1) * s2**2) / ((n - 1) * (n - 2) * (n - 3))
    return np.array([m, k2, k3, k4])


@register("alignment", description="scaled cumulants and the Rényi cross-entropy (r = log q)")
def cumulants_renyi(*, scale: str, key: jax.Array) -> Result:
    """Λ(λ) = −λ H_{1+λ}(p; q) and κ_k(R_n)/n = Λ^{(k)}(λ), against sampled sequences."""
    num = pick(scale, smoke=4_000, quick=50_000, full=1_000_000)
    length = pick(scale, smoke=16, quick=64, full=256)
    lam_points = pick(
        scale,
        smoke=[0.0, 1.0],
        quick=[-0.5, 0.0, 0.5, 1.0, 2.0],
        full=[-0.75, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    )
    tokens = pick(scale, smoke=12, quick=50, full=50)
    rng = np.random.default_rng(0)
    p_np = rng.dirichlet(np.full(tokens, 0.5))
    q_np = rng.dirichlet(np.ones(tokens))
    with jax.enable_x64(True):
        p, q = jnp.asarray(p_np), jnp.asarray(q_np)
        o = outcomes(jnp.log(q), probs=p)
        lams = np.linspace(-0.9, 3.0, 200)
        cgf = np.asarray(cumulant_generating_function(o, jnp.asarray(lams)))
        renyi = np.asarray(renyi_cumulant_generating_function(p, q, jnp.asarray(lams)))
        both = np.asarray(tilt_cumulants(o, jnp.asarray(np.append(lams, lam_points)), 4))
        kappa, exact_at = both[: len(lams)], both[len(lams) :]
        sampled, errors = [], []
        for i, lam in enumerate(lam_points):
            r = np.asarray(
                sample_sequence_rewards(jax.random.fold_in(key, i), o, length, num, lam=lam)
            )
            sampled.append(_k_statistics(r) / length)
            # standard errors from 20 independent batches (k4 is noisy: Var ∝ σ⁸)
            batches = np.array([_k_statistics(b) for b in np.array_split(r, 20)]) / length
            errors.append(batches.std(axis=0, ddof=1) / np.sqrt(20))
        sampled, errors = np.array(sampled), np.array(errors)
    z = np.abs(sampled - exact_at) / errors
    metrics = {
        "max_abs_cgf_minus_renyi_form": float(np.max(np.abs(cgf - renyi))),
        "max_z_sampled_vs_exact_scaled_cumulants": float(np.max(z)),
        "sampled_vs_exact_scaled_cumulants": {
            f"lambda={lam}": {
                f"k{k + 1}": {
                    "sampled": float(sampled[i, k]),
                    "se": float(errors[i, k]),
                    "exact": float(exact_at[i, k]),
                }
                for k in range(4)
            }
            for i, lam in enumerate(lam_points)
        },
    }
    fig, axes = plotting.subplots(1, 2, width=10.5, height=4.0)
    axes[0].plot(lams, cgf, color="black", lw=2.5, label="Λ(λ) = log E_p q^λ")
    axes[0].plot(
        lams, renyi, "--", color="tab:orange", lw=1.5, label="−λ H_{1+λ}(p; q) (jentropy.info)"
    )
    plotting.label(axes[0], "λ", "scaled CGF", "Rényi cross-entropy characterisation", legend=True)
    colors = plotting.colors(4, "categorical")
    for k in range(4):
        axes[1].plot(lams, kappa[:, k], color=colors[k], label=f"κ_{k + 1}/n = Λ^({k + 1})(λ)")
        axes[1].errorbar(
            lam_points,
            sampled[:, k],
            yerr=2 * errors[:, k],
            fmt="o",
            ms=5,
            color=colors[k],
            mfc="none",
            capsize=2,
        )
    axes[1].plot([], [], "ko", mfc="none", label=f"sampled ± 2 SE (n = {length}, {num} seqs)")
    span = kappa.max() - kappa.min()
    axes[1].set_ylim(kappa.min() - 0.15 * span, kappa.max() + 0.15 * span)  # error bars may clip
    plotting.label(
        axes[1],
        "λ (tilt of the tokens)",
        "scaled cumulant",
        "Scaled cumulants of R_n under φ_λ",
        legend=True,
    )
    notes = (
        f"p ~ Dirichlet(0.5) over {tokens} tokens, r = log q with q ~ Dirichlet(1). Sample "
        "cumulants are k-statistics of sampled sequence rewards divided by n, with standard errors "
        "from 20 batches; 'max_z_…' is the largest deviation from the exact value in SE."
    )
    return Result(figures={"cumulants_renyi": fig}, metrics=metrics, notes=notes)


@register("alignment", description="Monte-Carlo best-of-N vs exact; exact best-of-N vs the bound")
def monte_carlo(*, scale: str, key: jax.Array) -> Result:
    """Sampled best-of-N sequences against the exact law, and exact KL(π_N‖p) on big vocabularies."""
    length = 32
    ns = pick(
        scale,
        smoke=[1, 4, 16],
        quick=[1, 2, 4, 8, 16, 32, 64, 128, 256],
        full=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    )
    num = pick(scale, smoke=500, quick=4_000, full=50_000)
    # (smoke: 16 outcomes, the size of the other toy problems, so it shares their compilations)
    vocab = pick(scale, smoke=16, quick=100_000, full=1_000_000)
    with jax.enable_x64(True):
        o = bernoulli_example()
        log_ns = jnp.asarray(np.log(np.array(ns, dtype=float)))
        exact = sequence_best_of_n(o, length, jnp.full(len(ns), 0.05), log_n=log_ns)
        _, log_pmf = sum_reward_log_pmf(o, length)
        log_pmf = np.asarray(log_pmf)
        cdf = np.cumsum(np.exp(log_pmf))
        mc_mean, mc_se, mc_kl, mc_kl_se = [], [], [], []
        # one batch of draws serves every N (the best of the first N of max(N) sequences)
        best = np.asarray(sample_best_of_n_sequences(key, o, length, ns, num))
        for i, n in enumerate(ns):
            r = best[:, i]
            mc_mean.append(r.mean() / length)
            mc_se.append(r.std(ddof=1) / length / math.sqrt(num))
            # KL(π_N‖p) = E_π log(π/P) at the sampled reward levels (exact ratio, sampled levels)
            law = cdf**n - np.concatenate([[0.0], cdf[:-1]]) ** n
            ratio = np.log(law[r.astype(int)]) - log_pmf[r.astype(int)]
            mc_kl.append(ratio.mean() / length)
            mc_kl_se.append(ratio.std(ddof=1) / length / math.sqrt(num))
        mc_mean, mc_se, mc_kl, mc_kl_se = map(np.array, (mc_mean, mc_se, mc_kl, mc_kl_se))
        z_reward = np.abs(mc_mean - np.asarray(exact.reward)) / np.where(mc_se > 0, mc_se, np.inf)
        z_kl = np.abs(mc_kl - np.asarray(exact.kl_base)) / np.where(mc_kl_se > 0, mc_kl_se, np.inf)

        # exact best-of-N on vocabularies: uniform M = 10 (the spec's oracle) and a Zipf-law
        # vocabulary with Gaussian rewards (independent of the rank, as for an LM and a reward
        # model that disagree), whose KL follows the bound until N ~ 1/p(top)
        grid = np.unique(np.concatenate([np.geomspace(1, 1e6, 49), [2.0, 16.0, 256.0]]))
        uni = outcomes(jnp.arange(10.0), probs=jnp.full(10, 0.1))
        ranks = np.arange(1, vocab + 1, dtype=float)
        zipf_rewards = np.random.default_rng(1).standard_normal(vocab)
        zipf = outcomes(jnp.asarray(zipf_rewards), probs=jnp.asarray(1 / ranks / np.sum(1 / ranks)))
        bound = np.asarray(best_of_n_kl_bound(jnp.asarray(grid)))
        uni_stats = best_of_n_stats(uni, jnp.asarray(grid))
        zipf_stats = best_of_n_stats(reward_levels(zipf), jnp.asarray(grid))
        zipf_max = as_float(max_kl(zipf))
        spec16 = float(np.asarray(uni_stats.kl)[np.flatnonzero(grid == 16.0)[0]])

    metrics = {
        "max_z_reward_mc_vs_exact": float(np.max(z_reward[1:])),
        "max_z_kl_mc_vs_exact": float(np.max(z_kl[1:])),
        "uniform_M10_N16_exact_kl": spec16,
        "bound_N2_N16_N256": [
            float(x) for x in np.asarray(best_of_n_kl_bound(jnp.array([2.0, 16.0, 256.0])))
        ],
        f"zipf_K{vocab}_kl_at_N1e6": float(np.asarray(zipf_stats.kl)[-1]),
        f"zipf_K{vocab}_max_kl": zipf_max,
    }
    fig, axes = plotting.subplots(1, 3, width=15.0, height=4.2)
    ax = axes[0]
    ax.plot(ns, np.asarray(exact.reward), "-", color="black", label="exact E[R]/n")
    ax.errorbar(
        ns,
        mc_mean,
        yerr=4 * mc_se,
        fmt="o",
        ms=4,
        color="tab:blue",
        capsize=2,
        label=f"Monte Carlo ± 4 SE ({num} per N)",
    )
    ax.set_xscale("log", base=2)
    plotting.label(
        ax, "N", "reward per token", f"Best-of-N on sequences (n = {length})", legend=True
    )
    ax = axes[1]
    ax.plot(ns, np.asarray(exact.kl_base), "-", color="black", label="exact D(π_N‖p)/n")
    ax.errorbar(
        ns,
        mc_kl,
        yerr=4 * mc_kl_se,
        fmt="s",
        ms=4,
        color="tab:orange",
        capsize=2,
        label="Monte Carlo ± 4 SE",
    )
    ax.plot(
        ns,
        np.asarray(best_of_n_kl_bound(jnp.asarray(np.array(ns, float)))) / length,
        ":",
        color="grey",
        label="(log N − (N−1)/N)/n",
    )
    ax.set_xscale("log", base=2)
    plotting.label(ax, "N", "KL per token [nats]", "KL of best-of-N on sequences", legend=True)
    ax = axes[2]
    ax.semilogx(grid, bound, "k--", label="bound log N − (N−1)/N")
    ax.semilogx(grid, np.asarray(uni_stats.kl), "-", color="tab:green", label="uniform, M = 10")
    ax.semilogx(
        grid,
        np.asarray(zipf_stats.kl),
        "-",
        color="tab:purple",
        label=f"Zipf p, Gaussian r, K = {vocab:,}",
    )
    ax.axhline(zipf_max, color="tab:purple", lw=0.7, ls=":", label="−log p(top), Zipf")
    ax.axhline(np.log(10), color="tab:green", lw=0.7, ls=":")
    plotting.label(
        ax, "N (continuous)", "D(π_N ‖ p) [nats]", "Exact best-of-N vs the bound", legend=True
    )
    notes = (
        f"Bernoulli(0.3) tokens, n = {length}; Monte Carlo samples N whole sequences per draw "
        "(sharded with jentropy.parallel). 'max_z_*' are the largest deviations in standard "
        "errors. Exact KL computed in log space for every real N ≥ 1."
    )
    return Result(figures={"monte_carlo": fig}, metrics=metrics, notes=notes)
