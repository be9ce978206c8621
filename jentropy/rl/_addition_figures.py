"""Figures of the ``addition_rl`` reproduction (``reproduce.py``): accuracy after SFT and RL,
pass@k, token entropy, PSHW's |Â| against the failure rate, Recent Sample Recovery's useful groups
and SEED-GRPO's modulated update sizes, each over the seeds' per-run records."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from jentropy import plotting

from . import _experiments as ex
from ._confucius import hardness_weight
from ._semantic_entropy import SEED_MODULATIONS

GROUPS = ("GRPO", "SEED-GRPO", "Confucius3-Math")


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) over seeds."""
    v = np.asarray(values, float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def slug(name: str) -> str:
    """A metric-key form of a run name ("SEED-GRPO" → "seed_grpo")."""
    keep = "".join(ch if ch.isalnum() else "_" for ch in name.lower())
    return "_".join(p for p in keep.split("_") if p)


def fig_accuracy(seeds: list[dict[str, Any]]) -> Any:
    fig, axes = plotting.subplots(1, 3, width=13.5, height=3.8)
    labels = ["SFT", *GROUPS]
    colors = plotting.colors(len(labels), "categorical")
    for ax, part, title in zip(
        axes,
        ("accuracy", "accuracy_no_carry", "accuracy_carry"),
        ("all held-out problems", "no-carry problems", "carry problems"),
    ):
        for i, lab in enumerate(labels):
            vals = [r["sft"][part] if lab == "SFT" else r["runs"][lab]["eval"][part] for r in seeds]
            m, sd = mean_sd(vals)
            ax.bar(i, m, yerr=sd, color=colors[i], alpha=0.75, capsize=4)
            ax.scatter(
                np.full(len(vals), i) + np.linspace(-0.15, 0.15, len(vals)),
                vals,
                color="k",
                s=12,
                zorder=3,
            )
        ax.set_xticks(range(len(labels)), labels, rotation=15, fontsize="small")
        plotting.label(ax, "", "greedy accuracy", title)
        ax.set_ylim(0, 1.05)
    fig.suptitle(
        "Held-out accuracy after SFT and after RL (bars: mean ± sd over 3 seeds; dots: seeds)"
    )
    return fig


def fig_pass_at_k(seeds: list[dict[str, Any]]) -> Any:
    from ._sft import pass_at_k

    fig, axes = plotting.subplots(1, 2, width=10, height=3.8)
    labels = ["SFT", *GROUPS]
    colors = plotting.colors(len(labels), "categorical")
    n = seeds[0]["sft"]["samples_correct"].shape[1]
    ks = [k for k in (1, 2, 4, 8, 16, 32) if k <= n]
    for ax, carry, title in zip(axes, (False, True), ("no-carry problems", "carry problems")):
        for lab, c in zip(labels, colors):
            curves = []
            for r in seeds:
                ev = r["sft"] if lab == "SFT" else r["runs"][lab]["eval"]
                sel = ev["carry"] if carry else ~ev["carry"]
                curves.append([pass_at_k(ev["samples_correct"][sel], k) for k in ks])
            cv = np.asarray(curves)
            ax.plot(ks, cv.mean(0), "o-", color=c, label=lab)
            ax.fill_between(ks, cv.min(0), cv.max(0), color=c, alpha=0.15)
        ax.set_xscale("log", base=2)
        plotting.label(ax, "k (samples at temperature 1)", "pass@k", title, legend=True)
    fig.suptitle("pass@k on held-out problems (line: mean of 3 seeds, band: min–max)")
    return fig


def _smooth(x: np.ndarray, w: int = 5) -> np.ndarray:
    """Trailing moving average over the last axis (window ``w``, shorter at the start)."""
    c = np.cumsum(np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 0)]), axis=-1)
    n = np.minimum(np.arange(1, x.shape[-1] + 1), w)
    return (c[..., 1:] - c[..., np.maximum(np.arange(1, x.shape[-1] + 1) - w, 0)]) / n


def fig_entropy(seeds: list[dict[str, Any]]) -> Any:
    fig, ax = plotting.subplots(1, 1, width=6.8, height=4.2)
    names = ["GRPO", "GRPO + entropy bonus", "GRPO + TER"]
    for name, c in zip(names, plotting.colors(3, "categorical")):
        h = _smooth(np.stack([r["runs"][name]["history"]["entropy"] for r in seeds]))
        x = np.arange(1, h.shape[1] + 1)
        label = name + (f" (c = {ex.ENTROPY_COEF})" if name != "GRPO" else "")
        ax.plot(x, h.mean(0), color=c, label=label)
        ax.fill_between(x, h.min(0), h.max(0), color=c, alpha=0.15)
    ax.axhline(ex.TER_TARGET, color="gray", ls="--", lw=1, label=f"TER target {ex.TER_TARGET} nats")
    ax.set_yscale("log")
    plotting.label(
        ax,
        "RL step",
        "mean token entropy (nats, 5-step average)",
        "Entropy: collapse (GRPO), explosion (bonus), held (TER)",
        legend=True,
    )
    return fig


def fig_pshw(seeds: list[dict[str, Any]], g: int) -> Any:
    fig, axes = plotting.subplots(1, 2, width=12, height=4.2)
    p = np.arange(1, g) / g
    fail = 1 - p
    unweighted = 4 * p * (1 - p)  # mean |R − μ| for R = ±1
    grpo = 2 * p * (1 - p) / np.sqrt(g / (g - 1) * p * (1 - p))
    d = np.asarray(hardness_weight(2 * p - 1))
    ax = axes[0]
    ax.plot(fail, grpo, "-", color="C0", label="GRPO (r − μ)/σ, theory")
    ax.plot(fail, unweighted, ":", color="C7", label="R = ±1, R − μ unweighted, theory")
    ax.plot(fail, unweighted * d, "-", color="C3", label="PSHW (R − μ)·D(q), theory")
    for name, c, off in (("GRPO", "C0", -0.01), ("Confucius3-Math", "C3", 0.01)):
        f_all = np.concatenate(
            [
                1
                - r["runs"][name]["history"]["group/reward"][
                    r["runs"][name]["history"]["group/signal"]
                ]
                for r in seeds
            ]
        )
        a_all = np.concatenate(
            [
                r["runs"][name]["history"]["group/adv_abs"][
                    r["runs"][name]["history"]["group/signal"]
                ]
                for r in seeds
            ]
        )
        for fr in fail:
            sel = np.isclose(f_all, fr)
            if sel.any():
                ax.errorbar(
                    fr + off,
                    a_all[sel].mean(),
                    yerr=a_all[sel].std(),
                    fmt="o",
                    color=c,
                    ms=4,
                    capsize=2,
                )
        ax.plot([], [], "o", color=c, ms=4, label=f"{name}: training groups (mean ± sd)")
    plotting.label(
        ax,
        "group failure rate 1 − #correct/G",
        "mean |Â| over the group",
        f"|Â| vs group failure rate (G = {g})",
        legend=True,
    )
    ax = axes[1]
    ax.plot(fail, d, "-", color="C3", label="D(q) = −0.256 μ + 1.256")
    h = [r["runs"]["Confucius3-Math"]["history"] for r in seeds]
    f_all = np.concatenate([1 - x["group/reward"][x["group/signal"]] for x in h])
    a_all = np.concatenate([x["group/adv_abs"][x["group/signal"]] for x in h])
    pr = 1 - f_all
    ax.scatter(
        f_all,
        a_all / (4 * pr * (1 - pr)),
        s=10,
        color="C3",
        alpha=0.4,
        label="training groups: |Â| / |R − μ|",
    )
    ax.axhline(1.0, color="gray", lw=1, ls="--")
    plotting.label(
        ax,
        "group failure rate",
        "weight on the update",
        f"PSHW: D(q) from {d[-1]:.2f}× ({g - 1}/{g} right) to {d[0]:.2f}× (1/{g} right)",
        legend=True,
    )
    return fig


def fig_rsr(seeds: list[dict[str, Any]]) -> Any:
    fig, ax = plotting.subplots(1, 1, width=6.5, height=4.0)
    for name, c in (("Confucius3-Math", "C3"), ("Confucius3-Math, no RSR", "C7")):
        ratios = []
        for r in seeds:
            h = r["runs"][name]["history"]
            ratios.append(
                np.cumsum(h["valid_groups"]) / np.maximum(np.cumsum(h["generated_groups"]), 1)
            )
        n = min(len(x) for x in ratios)
        v = np.stack([x[:n] for x in ratios])
        x = np.arange(1, n + 1)
        ax.plot(
            x,
            v.mean(0),
            color=c,
            label=name.replace("Confucius3-Math", "dynamic sampling")
            + ("" if "no" in name else " + RSR"),
        )
        ax.fill_between(x, v.min(0), v.max(0), color=c, alpha=0.2)
    plotting.label(
        ax,
        "RL step",
        "useful groups trained / groups generated",
        "Recent Sample Recovery: rollouts per useful group",
        legend=True,
    )
    ax.set_ylim(0, 1.05)
    return fig


def fig_seed_updates(seeds: list[dict[str, Any]], g: int) -> Any:
    fig, axes = plotting.subplots(1, 2, width=11, height=3.8)
    se = np.concatenate(
        [
            r["runs"]["SEED-GRPO"]["history"]["group/semantic_entropy"][
                r["runs"]["SEED-GRPO"]["history"]["group/signal"]
            ]
            for r in seeds
        ]
    )
    axes[0].hist(se / np.log(g), bins=20, color="C1", alpha=0.8)
    plotting.label(
        axes[0], "SE / SE_max of training groups", "groups", "Semantic entropy during SEED-GRPO"
    )
    x = np.linspace(0, 1, 101)
    for (lab, f, alpha), c in zip(
        (
            ("1/(1+αx), α = 0.0417 (default)", "inverse", 0.0417),
            ("1 − αx, α = 1", "linear", 1.0),
            ("e^{−αx}, α = 1", "exp", 1.0),
        ),
        plotting.colors(3, "categorical"),
    ):
        axes[1].plot(x, np.asarray(SEED_MODULATIONS[f](jnp.asarray(alpha * x))), color=c, label=lab)
    axes[1].hist(
        se / np.log(g),
        bins=20,
        weights=np.full(se.shape, 1 / max(len(se), 1)),
        color="C1",
        alpha=0.3,
        label="observed SE/SE_max (share)",
    )
    plotting.label(
        axes[1],
        "x = SE / SE_max",
        "advantage scale f(αx)",
        "SEED-GRPO update size vs uncertainty",
        legend=True,
    )
    return fig
