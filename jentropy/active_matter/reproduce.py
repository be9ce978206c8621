"""Reproductions of Boffi & Vanden-Eijnden (PNAS 2024) — ``jentropy reproduce active_matter``.

* ``exact_systems`` — learned vs analytic entropy production rates for the paper's exact test
  cases (a trapped AOUP: full and g-part; a rotational linear SDE; equilibrium; N coupled AOUPs
  with springs learned by the local transformer), every model trained on simulated samples.
* ``mips`` — motility-induced phase separation at CPU scale: snapshots coloured by the learned
  local entropy production, a regional map, production against local packing (interfaces),
  the EPR against the packing fraction, and the same network applied to 4N particles.

Reference: N. M. Boffi, E. Vanden-Eijnden, "Deep learning probability flows and entropy
production rates in active matter", PNAS 121 (2024), arXiv:2309.12991.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from jentropy import plotting
from jentropy.reproduce import Result, register

from . import _experiments as ex
from . import _experiments_mips as mx
from ._epr import binned_map

INTERFACE = (0.35, 0.65)  # local packing between gas (≲ 0.3) and cluster (≳ 0.7)


def _smooth(y: np.ndarray, width: int = 50) -> np.ndarray:
    width = max(1, min(width, len(y) // 5 or 1))
    return np.convolve(y, np.ones(width) / width, mode="valid")


@register("active_matter", description="Exact linear systems: learned vs analytic EPR")
def exact_systems(*, scale: str, key: jax.Array) -> Result:
    """Learned (DSM on simulated samples) vs Lyapunov EPR for spec cases 1-4."""
    s = ex.sizes(scale)
    cases = ex.exact_runs(s, key)
    fig, (ax, ax_loss) = plotting.subplots(
        1, 2, width=12, height=4.4, gridspec_kw={"width_ratios": [1.5, 1]}
    )
    active = [c for c in cases if c["exact"] > 0]
    pos = np.arange(len(active))
    ax.axhspan(0.95, 1.05, color="0.9", zorder=0, label="±5% (acceptance)")
    ax.axhline(1.0, color="0.5", lw=0.8)
    palette = plotting.colors(3, "categorical")
    for i, (form, label) in enumerate(
        (("quadratic", "learned, ⟨v·D⁻¹v⟩"), ("divergence", "learned, divergence form"))
    ):
        ratio = np.array([c[form][0] / c["exact"] for c in active])
        err = np.array([c[form][1] / c["exact"] for c in active])
        ax.errorbar(
            pos + (i - 0.5) * 0.18,
            ratio,
            yerr=err,
            fmt="o",
            color=palette[i],
            capsize=3,
            label=label,
        )
    on_samples = [c.get("analytic_score_on_samples") for c in active]
    ax.plot(
        [p for p, v in zip(pos, on_samples) if v],
        [v[0] / c["exact"] for c, v in zip(active, on_samples) if v],
        "kx",
        ms=7,
        label="exact score on the samples",
    )
    ax.set_xticks(pos, [c["name"] for c in active], fontsize="small")
    ax.set_ylim(0.85, 1.15)
    plotting.label(
        ax,
        "",
        "EPR / analytic (Lyapunov)",
        "Exact systems: learned vs analytic entropy production rate",
    )
    ax.legend(fontsize="small", frameon=False, loc="upper left", ncol=2)
    for c in cases:
        if c["exact"] == 0:
            ax.text(
                0.99,
                0.03,
                f"{c['name']}: learned EPR {c['quadratic'][0]:.3f} ± "
                f"{c['quadratic'][1]:.3f} (analytic 0)",
                transform=ax.transAxes,
                ha="right",
                fontsize="small",
            )
    seen = set()
    for c in cases:
        if id(c["loss"]) in seen:  # the full and g-part cases share one model
            continue
        seen.add(id(c["loss"]))
        label = c["name"].split(":")[0]
        ax_loss.plot(_smooth(np.asarray(c["loss"])), label=label, lw=1)
    plotting.label(
        ax_loss, "training step", "DSM loss (running mean)", "Score training", legend=True
    )
    metrics: dict[str, Any] = {}
    worst = 0.0
    for c in cases:
        tag = c["tag"]
        metrics[f"{tag}_analytic"] = c["exact"]
        for form in ("quadratic", "divergence"):
            metrics[f"{tag}_learned_{form}"] = c[form][0]
            metrics[f"{tag}_stderr_{form}"] = c[form][1]
            if c["exact"] > 0:
                rel = c[form][0] / c["exact"] - 1
                metrics[f"{tag}_relerr_{form}"] = rel
                worst = max(worst, abs(rel))
        if "analytic_score_on_samples" in c:
            metrics[f"{tag}_analytic_score_on_samples"] = c["analytic_score_on_samples"][0]
        for extra in ("g_dot_s_per_coordinate", "stein_per_coordinate"):
            if extra in c:
                metrics[f"{tag}_{extra}"] = c[extra]
    metrics["worst_relative_error"] = worst
    notes = (
        f"Largest relative gap learned vs analytic over the active cases: {100 * worst:.1f}% "
        "(acceptance: 5%). "
    )
    for c in cases:
        if c["name"].startswith("equilibrium"):
            notes += (
                f"Equilibrium (v0 = 0): learned EPR {c['quadratic'][0]:.2g} ± "
                f"{c['quadratic'][1]:.1g}, analytic 0. "
            )
    notes += (
        "'analytic score on samples' is the EPR of the exact score on the simulated data: it "
        "separates Monte-Carlo/Euler error from learning error."
    )
    return Result(figures={"exact_epr": fig}, metrics=metrics, notes=notes)


def _scatter_map(
    ax: Any,
    x: np.ndarray,
    values: np.ndarray,
    half_width: float,
    title: str,
    label: str,
    cmap: str = "magma",
) -> None:
    lo, hi = np.percentile(values, [2, 98])
    # discs of radius 1 drawn at about their true size (axes ≈ 3.6 in = 260 pt wide)
    size = (0.8 * 260.0 / half_width) ** 2
    sc = ax.scatter(
        x[:, 0],
        x[:, 1],
        c=values,
        s=size,
        cmap=cmap,
        vmin=lo,
        vmax=hi,
        linewidths=0,
    )
    ax.set_xlim(-half_width, half_width)
    ax.set_ylim(-half_width, half_width)
    ax.set_aspect("equal")
    ax.figure.colorbar(sc, ax=ax, shrink=0.8, label=label)
    plotting.label(ax, "x", "y", title, grid=False)


def _by_packing(ev: dict[str, Any], key: str, edges: np.ndarray) -> np.ndarray:
    packing, local = ev["packing"].ravel(), ev[key].ravel()
    idx = np.clip(np.digitize(packing, edges) - 1, 0, len(edges) - 2)
    return np.array(
        [local[idx == i].mean() if np.any(idx == i) else np.nan for i in range(len(edges) - 1)]
    )


@register("active_matter", description="MIPS: local EPR maps, EPR vs φ, one network at N and 4N")
def mips(*, scale: str, key: jax.Array) -> Result:
    """MIPS at CPU scale: where entropy is produced, and generalisation across N and φ."""
    s = ex.sizes(scale)
    run = mx.mips_runs(s, key)
    system, evals = run["system"], run["evals"]
    held = evals["train (held-out)"]
    L = system.half_width
    gamma = system.gamma

    fig1, axes = plotting.subplots(2, 2, width=11, height=9.5)
    x0 = held["x"][0]
    _scatter_map(
        axes[0, 0], x0, held["packing"][0], L, "Snapshot: local packing φᵢ", "φᵢ", cmap="viridis"
    )
    _scatter_map(
        axes[0, 1],
        x0,
        held["local_quadratic"][0] / gamma,
        L,
        "Local EPR density |v_gᵢ|²/γ (in units of γ)",
        "|v_gᵢ|² / γ²",
    )
    bins = max(4, round(L / 4))
    mean, counts = binned_map(held["x"], held["local_quadratic"] / gamma, L, bins)
    im = axes[1, 0].imshow(
        np.where(np.asarray(counts) > 0, np.asarray(mean), np.nan).T,
        origin="lower",
        extent=(-L, L, -L, L),
        cmap="magma",
    )
    fig1.colorbar(im, ax=axes[1, 0], shrink=0.8, label="mean |v_gᵢ|²/γ², per particle")
    plotting.label(
        axes[1, 0],
        "x",
        "y",
        f"Regional map ({bins}×{bins} bins, {len(held['x'])} held-out snapshots)",
        grid=False,
    )
    edges = np.linspace(0.0, 1.0, 11)
    mid = 0.5 * (edges[1:] + edges[:-1])
    ax = axes[1, 1]
    ax.plot(mid, _by_packing(held, "local", edges) / gamma, "o-", label="σᵢ = ∇_gᵢ·v_gᵢ")
    ax.plot(mid, _by_packing(held, "local_quadratic", edges) / gamma, "s--", label="|v_gᵢ|²/γ")
    ax.axvspan(*INTERFACE, color="0.85", zorder=0, label="interface band")
    plotting.label(
        ax, "local packing fraction φᵢ", "mean local EPR / γ", "Where entropy is produced"
    )
    ax.legend(fontsize="small", frameon=True, loc="best")

    phis = [p for p in s.phis]
    per_particle = {p: evals[f"phi={p}"] for p in phis}
    fig2, ax = plotting.subplots(1, 1, width=6.5, height=4.4)
    for form, key_, marker in (
        ("∇·v_g (divergence form)", "epr", "o-"),
        ("⟨|v_g|²⟩/γ (quadratic form)", "epr_quadratic", "s--"),
    ):
        vals = np.array([per_particle[p][key_][0] for p in phis]) / s.mips_n / gamma
        errs = np.array([per_particle[p][key_][1] for p in phis]) / s.mips_n / gamma
        ax.errorbar(phis, vals, yerr=errs, fmt=marker, capsize=3, label=f"N = {s.mips_n}, {form}")
    big = evals["4N"]
    ax.errorbar(
        [0.5],
        [big["epr"][0] / (4 * s.mips_n) / gamma],
        yerr=[big["epr"][1] / (4 * s.mips_n) / gamma],
        fmt="*",
        ms=12,
        color="C3",
        label=f"4N = {4 * s.mips_n} (same network)",
    )
    ax.axvline(0.5, color="0.7", lw=0.8, ls=":")
    plotting.label(
        ax,
        "packing fraction φ",
        "EPR per particle / γ",
        f"One network (trained at N = {s.mips_n}, φ = 0.5) across φ and N",
        legend=True,
    )

    fig3, axes3 = plotting.subplots(1, 3, width=15, height=4.6)
    shown = [("4N", f"4N = {4 * s.mips_n}, φ = 0.5")]
    shown += [(f"phi={p}", f"N = {s.mips_n}, φ = {p}") for p in (phis[0], phis[-1])]
    for ax, (tag, title) in zip(axes3, shown):
        ev = evals[tag]
        _scatter_map(
            ax,
            ev["x"][0],
            ev["local_quadratic"][0] / gamma,
            ev["system"].half_width,
            title,
            "|v_gᵢ|² / γ²",
        )

    metrics: dict[str, Any] = {
        "N": s.mips_n,
        "phi_train": 0.5,
        "gamma": gamma,
        "train_snapshots": run["train_snapshots"],
        "final_loss": float(np.mean(run["loss"][-50:])),
    }
    for tag, ev in evals.items():
        n = ev["x"].shape[1]
        name = tag.replace(" ", "_").replace("(", "").replace(")", "")
        metrics[f"epr_per_particle_{name}"] = ev["epr"][0] / n
        metrics[f"epr_quadratic_per_particle_{name}"] = ev["epr_quadratic"][0] / n
        metrics[f"g_dot_s_{name}"] = ev["g_dot_s"]
        metrics[f"stein_{name}"] = ev["stein"]
    regions = {
        "dilute": held["packing"] <= INTERFACE[0],
        "interface": (held["packing"] > INTERFACE[0]) & (held["packing"] < INTERFACE[1]),
        "dense": held["packing"] >= INTERFACE[1],
    }
    for region, where in regions.items():
        metrics[f"particles_{region}"] = float(where.mean())
        for key_, label in (("local", "divergence"), ("local_quadratic", "quadratic")):
            value = float(held[key_][where].mean() / gamma) if where.any() else float("nan")
            metrics[f"local_epr_over_gamma_{region}_{label}"] = value
    notes = (
        f"CPU scale: N = {s.mips_n} (paper: 4096), {s.k} neighbours, width {s.width}, depth "
        f"{s.depth} (paper: 64, 256, 4), {s.mips_steps} training steps on "
        f"{run['train_snapshots']} snapshots. The run starts from the authors' dense blob and is "
        f"thermalised for {s.thermalize} steps = {s.thermalize * 0.1 * gamma:.2g}/γ, far short "
        "of stationarity at γ = 1e-4: the snapshots are quasi-stationary (a cluster slowly "
        "dissolving into a dense fluid with voids). The two EPR forms agree only for a "
        "converged score; their gap measures the remaining training error: EPR/(Nγ) = "
    )
    for tag, label in (("train (held-out)", "training system"), ("4N", "4N")):
        ev = evals[tag]
        n = ev["x"].shape[1] * gamma
        notes += (
            f"{ev['epr'][0] / n:.3f} (divergence) vs {ev['epr_quadratic'][0] / n:.3f} "
            f"(quadratic) on the {label}; "
        )
    notes += (
        "the gap away from the training system (and ⟨g·s_g⟩/(Nd) drifting from −1) shows the "
        "limits of a CPU-sized network's generalisation; the paper's network, trained for far "
        "longer, generalised across N and φ."
    )
    return Result(
        figures={"mips_local_epr": fig1, "mips_epr_vs_phi": fig2, "mips_generalization": fig3},
        metrics=metrics,
        notes=notes,
    )
