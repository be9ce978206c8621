"""Reproductions for ``jentropy reproduce rl``: the mechanisms of SEED-GRPO and Confucius3-Math at
CPU scale, on multi-digit addition with a ~100k-parameter Flax NNX policy, over 3 seeds.

* ``addition_rl`` — supervised fine-tuning on (mostly) no-carry sums, then RL with GRPO,
  SEED-GRPO and Confucius3-Math (PSHW + dynamic sampling + RSR + TER) from the same SFT policy,
  plus entropy-control variants. Figures: held-out accuracy after SFT and after RL, carry and
  no-carry problems apart (``accuracy``), pass@k (``pass_at_k``), token entropy under plain GRPO, a
  fixed entropy bonus and TER (``entropy``), |Â| against the group failure rate (``pshw``), useful
  groups per generated group with and without Recent Sample Recovery (``rsr``) and SEED-GRPO's
  modulated update sizes (``seed_updates``).
* ``semantic_entropy`` — semantic entropy of G sampled answers against correctness (AUROC), the
  signal SEED-GRPO scales its advantages by.

Papers: SEED-GRPO (Chen et al. 2025, arXiv 2505.12346) and Confucius3-Math (Wu et al. 2025, arXiv
2506.18330). Their results (AIME/MATH scores of 7B/14B models) are not reproducible on a CPU; what
is reproduced is each mechanism doing what the paper claims, measured honestly.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from jentropy import parallel, plotting
from jentropy.reproduce import Result, pick, progress, register

from . import _experiments as ex
from ._addition import AdditionTask
from ._answers import cluster_token_answers
from ._confucius import hardness_weight
from ._semantic_entropy import SEED_MODULATIONS, semantic_entropy

GROUPS = ("GRPO", "SEED-GRPO", "Confucius3-Math")


def _mean_sd(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values, float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


@register("rl", description="SFT then GRPO / SEED-GRPO / Confucius3-Math on addition (3 seeds)")
def addition_rl(*, scale: str, key: jax.Array) -> Result:
    """Addition: accuracy, pass@k, entropy control, PSHW, RSR and SEED update sizes."""
    s = ex.sizes(scale)
    keys = jax.random.split(key, s.seeds)
    seeds = [ex.run_seed(s, k) for k in progress(keys, desc="rl seeds", total=s.seeds)]
    names = list(seeds[0]["runs"])
    figures = {
        "accuracy": _fig_accuracy(seeds),
        "pass_at_k": _fig_pass_at_k(seeds),
        "entropy": _fig_entropy(seeds),
        "pshw": _fig_pshw(seeds, s.group_size),
        "rsr": _fig_rsr(seeds),
        "seed_updates": _fig_seed_updates(seeds, s.group_size),
    }
    metrics: dict[str, Any] = {"n_digits": s.n_digits, "seeds": s.seeds, "rl_steps": s.rl_steps}
    for part in ("accuracy", "accuracy_carry", "accuracy_no_carry"):
        vals = [float(r["sft"][part]) for r in seeds]
        metrics[f"sft_{part}"], metrics[f"sft_{part}_sd"] = _mean_sd(vals)
        metrics[f"sft_{part}_per_seed"] = vals
        for name in names:
            vals = [float(r["runs"][name]["eval"][part]) for r in seeds]
            tag = _slug(name)
            metrics[f"{tag}_{part}"], metrics[f"{tag}_{part}_sd"] = _mean_sd(vals)
            metrics[f"{tag}_{part}_per_seed"] = vals
            if part == "accuracy":
                metrics[f"{tag}_gain_all_seeds"] = all(
                    r["runs"][name]["eval"]["accuracy"] > r["sft"]["accuracy"] for r in seeds
                )
    for name in names:
        h = [r["runs"][name]["history"] for r in seeds]
        tag = _slug(name)
        metrics[f"{tag}_final_entropy"] = float(np.mean([x["entropy"][-3:].mean() for x in h]))
        metrics[f"{tag}_useful_per_generated"] = float(
            np.mean([x["valid_groups"].sum() / max(x["generated_groups"].sum(), 1) for x in h])
        )
    grpo_gain = metrics["grpo_accuracy"] - metrics["sft_accuracy"]
    draws = float(
        np.mean([r["runs"]["Confucius3-Math"]["history"]["generated_groups"].mean() for r in seeds])
        / np.mean([r["runs"]["GRPO"]["history"]["generated_groups"].mean() for r in seeds])
    )
    metrics["confucius3_math_rollouts_vs_grpo"] = draws
    notes = (
        f"{s.n_digits}-digit addition, SFT on no-carry sums plus {s.carry_fraction:.0%} carry sums, "
        f"then {s.rl_steps} RL steps of {s.num_prompts} prompts × G = {s.group_size} (3 seeds, "
        f"mean ± sd). Held-out greedy accuracy SFT {metrics['sft_accuracy']:.3f} → GRPO "
        f"{metrics['grpo_accuracy']:.3f} ({grpo_gain:+.3f}), SEED-GRPO "
        f"{metrics['seed_grpo_accuracy']:.3f}, Confucius3-Math "
        f"{metrics['confucius3_math_accuracy']:.3f} (with {draws:.1f}× GRPO's rollouts per step: "
        "dynamic sampling discards zero-variance groups, so part of its edge is compute); the gain "
        "is on carry problems (carry accuracy "
        f"{metrics['sft_accuracy_carry']:.3f} → {metrics['grpo_accuracy_carry']:.3f} under GRPO) while "
        f"no-carry accuracy slips ({metrics['sft_accuracy_no_carry']:.3f} → "
        f"{metrics['grpo_accuracy_no_carry']:.3f}). Entropy: GRPO ends at "
        f"{metrics['grpo_final_entropy']:.2f} nats, a fixed bonus explodes it to "
        f"{metrics['grpo_entropy_bonus_final_entropy']:.2f}, TER holds "
        f"{metrics['grpo_ter_final_entropy']:.2f} (target {ex.TER_TARGET}). SEED-GRPO with "
        f"the default α = 0.0417 scales advantages by at most {1 - 1 / (1 + 0.0417):.1%}, so it "
        "behaves like Dr.GRPO here. TER/bonus use c = "
        f"{ex.ENTROPY_COEF} and H_target = {ex.TER_TARGET} (the paper's 0.001 / 0.55 are for a 14B "
        "model and do nothing measurable at this scale). Not reproduced: the papers' benchmark "
        "scores (AIME, MATH500), which need 7B–14B models."
    )
    return Result(figures=figures, metrics=metrics, notes=notes)


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() else "_" for ch in name.lower())
    return "_".join(p for p in keep.split("_") if p)


def _fig_accuracy(seeds: list[dict[str, Any]]) -> Any:
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
            m, sd = _mean_sd(vals)
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


def _fig_pass_at_k(seeds: list[dict[str, Any]]) -> Any:
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


def _fig_entropy(seeds: list[dict[str, Any]]) -> Any:
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


def _fig_pshw(seeds: list[dict[str, Any]], g: int) -> Any:
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


def _fig_rsr(seeds: list[dict[str, Any]]) -> Any:
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


def _fig_seed_updates(seeds: list[dict[str, Any]], g: int) -> Any:
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


@register("rl", description="Semantic entropy of G answers vs correctness (AUROC, 3 seeds)")
def semantic_entropy_auroc(*, scale: str, key: jax.Array) -> Result:
    """AUROC of −SE (likelihood and count estimators) for predicting a correct greedy answer."""
    from ._rollout import rollout_groups
    from ._sft import evaluate_addition, make_policy, train_sft

    s = ex.sizes(scale)
    task = AdditionTask(n_digits=s.n_digits)
    steps = pick(scale, smoke=s.sft_steps, quick=150, full=600)
    n_problems = s.eval_problems or 1000
    g = 8
    pools = task.pools()
    a, b = pools.test_a[:n_problems], pools.test_b[:n_problems]
    rows: dict[str, list[Any]] = {"lik": [], "count": [], "nll": [], "correct": [], "se": []}
    aucs: dict[str, list[float]] = {"lik": [], "count": [], "nll": []}
    rollout = jax.jit(lambda m, a, b, k: rollout_groups(m, task, a, b, k, group_size=g))
    for k in progress(jax.random.split(key, 3), desc="seeds", total=3):
        k_init, k_sft, k_roll = jax.random.split(k, 3)
        model = make_policy(
            task,
            key=k_init,
            width=pick(scale, smoke=32, quick=64, full=64),
            depth=pick(scale, smoke=1, quick=2, full=2),
        )
        sft = train_sft(
            model, task, key=k_sft, steps=steps, batch_size=64, carry_fraction=0.1, progress=False
        )
        replicated = NamedSharding(parallel.device_mesh(), PartitionSpec())
        groups = rollout(jax.device_put(sft.model, replicated), a, b, k_roll)
        ids = cluster_token_answers(groups["tokens"], groups["parseable"])
        se_l = np.asarray(semantic_entropy(groups["seq_ll"], ids))
        se_c = np.asarray(semantic_entropy(None, ids, estimator="count"))
        nll = -np.asarray(groups["seq_ll"]).mean(1)
        correct = evaluate_addition(sft.model, task, a, b, key=k_roll, num_samples=s.eval_samples)[
            "correct"
        ]
        for name, score in (("lik", se_l), ("count", se_c), ("nll", nll)):
            aucs[name].append(ex.auroc(-score, correct))
        rows["se"].append(se_l)
        rows["correct"].append(correct)
    se = np.concatenate(rows["se"])
    correct = np.concatenate(rows["correct"])
    fig, axes = plotting.subplots(1, 2, width=11, height=3.8)
    bins = np.linspace(0, np.log(g), 21)
    axes[0].hist(
        se[correct], bins=bins, alpha=0.6, color="C2", label="greedy answer correct", density=True
    )
    axes[0].hist(
        se[~correct], bins=bins, alpha=0.6, color="C3", label="greedy answer wrong", density=True
    )
    plotting.label(
        axes[0],
        "semantic entropy of 8 samples (nats)",
        "density",
        "Uncertainty separates right from wrong",
        legend=True,
    )
    labels = ["SE (likelihood)", "SE (count)", "mean token NLL"]
    for i, name in enumerate(("lik", "count", "nll")):
        axes[1].bar(
            i,
            np.mean(aucs[name]),
            yerr=np.std(aucs[name], ddof=1),
            color=f"C{i}",
            alpha=0.75,
            capsize=4,
        )
        axes[1].scatter(np.full(3, i), aucs[name], color="k", s=12, zorder=3)
    axes[1].axhline(0.5, color="gray", ls="--", lw=1)
    axes[1].set_xticks(range(3), labels)
    axes[1].set_ylim(0.4, 1.0)
    plotting.label(axes[1], "", "AUROC for a correct answer", "Score = −uncertainty (3 seeds)")
    metrics = {f"auroc_{k}": float(np.mean(v)) for k, v in aucs.items()}
    metrics.update({f"auroc_{k}_sd": float(np.std(v, ddof=1)) for k, v in aucs.items()})
    metrics["accuracy"] = float(correct.mean())
    notes = (
        f"SFT policies ({steps} steps, 3 seeds) on {n_problems} held-out problems, G = {g} samples at "
        f"temperature 1. AUROC of −SE for a correct greedy answer: likelihood-weighted "
        f"{metrics['auroc_lik']:.3f}, count-based {metrics['auroc_count']:.3f}, vs the mean token NLL "
        f"{metrics['auroc_nll']:.3f}. SEED-GRPO's premise (high SE marks prompts the model is unsure "
        "about) holds on this task, but clustering by meaning adds nothing over the token NLL here: "
        "answers are a few digits, so a meaning and its token sequence nearly coincide (AUROC is "
        "undefined, NaN, when every greedy answer is right or every one is wrong, as with the "
        "20-step policies of the smoke scale)."
    )
    return Result(figures={"semantic_entropy_auroc": fig}, metrics=metrics, notes=notes)
