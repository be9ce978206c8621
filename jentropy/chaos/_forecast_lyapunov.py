"""The paper's link between chaoticity and forecastability (``jentropy reproduce chaos``):

* ``forecast_vs_lyapunov`` — per-system forecast error against the stored maximum Lyapunov
  exponent, with Spearman's ρ per model and its bootstrap interval over systems.

It reuses the in-process benchmark run of :mod:`._forecast_reproduce` (same scales, same fixed
protocol); ``key`` drives the bootstrap.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jentropy import plotting
from jentropy.reproduce import Result, register

from ._forecast_reproduce import _resample, _settings, benchmark_results
from ._forecast_runner import ForecastResults
from ._metrics import spearman


def _spearman_with_interval(lyap: np.ndarray, vals: np.ndarray, key: jax.Array) -> list[tuple]:
    """ρ, its 95% bootstrap interval over systems and scipy's p-value, per column of ``vals``."""
    from scipy import stats

    out = []
    for j in range(vals.shape[1]):
        ok = np.isfinite(vals[:, j]) & np.isfinite(lyap)
        x, y = lyap[ok], vals[ok, j]
        if x.size < 3:
            out.append((np.nan, (np.nan, np.nan), np.nan))
            continue
        rho = float(spearman(x, y))
        idx = _resample(jax.random.fold_in(key, j), x.size)
        boot = np.asarray(spearman(jnp.asarray(x[idx])[..., None], jnp.asarray(y[idx])[..., None]))
        lo, hi = np.nanpercentile(boot, [2.5, 97.5])
        out.append((rho, (float(lo), float(hi)), float(stats.spearmanr(x, y).pvalue)))
    return out


@register("chaos")
def forecast_vs_lyapunov(*, scale: str, key: jax.Array) -> Result:
    """Forecast error vs the maximum Lyapunov exponent, with Spearman's ρ per model."""
    grans = [s[0] for s in _settings(scale) if not (s[1] or s[2])]
    runs = {g: benchmark_results(scale, g, False, 0.0) for g in grans}  # the same cache key
    metrics: dict[str, Any] = {"n_systems": len(runs[grans[0]].systems)}
    table = {}
    for i, (gran, res) in enumerate(runs.items()):
        vals = res.values("smape", failed_value=200.0)
        lyap = np.array([res.max_lyapunov[s] for s in res.systems])
        table[gran] = _spearman_with_interval(lyap, vals, jax.random.fold_in(key, i))
        for m, (rho, ci, p) in zip(res.models, table[gran]):
            metrics[f"spearman_{gran}_{m}"] = round(rho, 3)
            metrics[f"spearman_ci95_{gran}_{m}"] = [round(c, 3) for c in ci]
            metrics[f"spearman_p_{gran}_{m}"] = float(f"{p:.3g}")
    last = grans[-1]
    figures = {
        "forecast_vs_lyapunov": _scatter_figure(runs[last], table[last], last),
        "lyapunov_correlation": _correlation_figure(runs, table),
    }
    for gran in grans:
        metrics[f"positive_correlations_{gran}"] = (
            f"{sum(r > 0 for r, _, _ in table[gran])}/{len(table[gran])}"
        )
    order = sorted(
        metrics,
        key=lambda k: (
            not k.startswith(("spearman_", "positive")),
            "_p_" in k or "ci95" in k,
            "NBeats" not in k and "positive" not in k,
        ),
    )
    metrics = {k: metrics[k] for k in order}
    return Result(figures=figures, metrics=metrics, notes=_lyapunov_notes(scale, runs, table))


def _lyapunov_notes(scale: str, runs: dict, table: dict) -> str:
    lines = []
    for gran, res in runs.items():
        rows = [
            f"{m} {r:+.2f} [{lo:+.2f}, {hi:+.2f}]"
            for m, (r, (lo, hi), _) in zip(res.models, table[gran])
        ]
        pos = sum(r > 0 for r, _, _ in table[gran])
        lines.append(
            f"{gran}, {len(res.systems)} systems: Spearman ρ(λ_max, sMAPE) [95% bootstrap]: "
            + "; ".join(rows)
            + f". Positive for {pos}/{len(rows)} models."
        )
    lines.append(
        "The paper reports that forecast error grows with λ_max across its 131 systems: more "
        "chaotic systems are harder to forecast. λ_max here is the stored (dysts) estimate."
        + (
            " Quick scale: 24 systems, so |ρ| < 0.40 is not significant at p = 0.05."
            if scale == "quick"
            else ""
        )
    )
    return "\n".join(lines)


def _scatter_figure(res: ForecastResults, rows: list, gran: str) -> Any:
    vals = res.values("smape", failed_value=200.0)
    lyap = np.array([res.max_lyapunov[s] for s in res.systems])
    ncols = min(4, len(res.models))
    nrows = -(-len(res.models) // ncols)
    fig, axes = plotting.subplots(
        nrows, ncols, width=3.5 * ncols, height=3.0 * nrows, squeeze=False, sharey=True
    )
    positive = lyap[np.isfinite(lyap) & (lyap > 0)]
    floor = float(positive.min()) / 2 if positive.size else 1e-3
    x = np.where(np.isfinite(lyap) & (lyap > 0), lyap, floor)
    for j, (ax, m) in enumerate(zip(axes.ravel(), res.models)):
        ax.scatter(x, vals[:, j], s=12, alpha=0.7, color="C0")
        ax.set_xscale("log")
        ax.set_ylim(-5, 205)
        rho = rows[j][0]
        plotting.label(
            ax, "stored λ_max", "test sMAPE" if j % ncols == 0 else "", f"{m}: ρ = {rho:+.2f}"
        )
    for ax in axes.ravel()[len(res.models) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"Forecast error vs maximum Lyapunov exponent ({gran}, {len(res.systems)} systems; λ_max ≤ 0 drawn at {floor:.1g})"
    )
    return fig


def _correlation_figure(runs: dict, table: dict) -> Any:
    models = next(iter(runs.values())).models
    fig, ax = plotting.subplots(1, 1, width=7.5, height=3.4)
    width = 0.8 / len(runs)
    for g, (gran, rows) in enumerate(table.items()):
        pos = np.arange(len(models)) + (g - (len(runs) - 1) / 2) * width
        rho = np.array([r[0] for r in rows])
        lo = np.array([r[1][0] for r in rows])
        hi = np.array([r[1][1] for r in rows])
        ax.bar(pos, rho, width, label=f"{gran} ({len(runs[gran].systems)} systems)", color=f"C{g}")
        ax.errorbar(pos, rho, yerr=[rho - lo, hi - rho], fmt="none", ecolor="k", capsize=2, lw=0.8)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize="small")
    plotting.label(
        ax,
        "",
        "Spearman ρ(λ_max, sMAPE)",
        "Do more chaotic systems forecast worse? (95% bootstrap over systems)",
        legend=True,
    )
    return fig
