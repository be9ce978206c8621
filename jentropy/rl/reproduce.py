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
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from jentropy import parallel, plotting
from jentropy.reproduce import Result, pick, progress, register

from . import _experiments as ex
from ._addition import AdditionTask
from ._addition_figures import (
    fig_accuracy,
    fig_entropy,
    fig_pass_at_k,
    fig_pshw,
    fig_rsr,
    fig_seed_updates,
    mean_sd,
    slug,
)
from ._answers import cluster_token_answers
from ._semantic_entropy import semantic_entropy


@register("rl", description="SFT then GRPO / SEED-GRPO / Confucius3-Math on addition (3 seeds)")
def addition_rl(*, scale: str, key: jax.Array) -> Result:
    """Addition: accuracy, pass@k, entropy control, PSHW, RSR and SEED update sizes."""
    s = ex.sizes(scale)
    keys = jax.random.split(key, s.seeds)
    seeds = [ex.run_seed(s, k) for k in progress(keys, desc="rl seeds", total=s.seeds)]
    names = list(seeds[0]["runs"])
    figures = {
        "accuracy": fig_accuracy(seeds),
        "pass_at_k": fig_pass_at_k(seeds),
        "entropy": fig_entropy(seeds),
        "pshw": fig_pshw(seeds, s.group_size),
        "rsr": fig_rsr(seeds),
        "seed_updates": fig_seed_updates(seeds, s.group_size),
    }
    metrics: dict[str, Any] = {"n_digits": s.n_digits, "seeds": s.seeds, "rl_steps": s.rl_steps}
    for part in ("accuracy", "accuracy_carry", "accuracy_no_carry"):
        vals = [float(r["sft"][part]) for r in seeds]
        metrics[f"sft_{part}"], metrics[f"sft_{part}_sd"] = mean_sd(vals)
        metrics[f"sft_{part}_per_seed"] = vals
        for name in names:
            vals = [float(r["runs"][name]["eval"][part]) for r in seeds]
            tag = slug(name)
            metrics[f"{tag}_{part}"], metrics[f"{tag}_{part}_sd"] = mean_sd(vals)
            metrics[f"{tag}_{part}_per_seed"] = vals
            if part == "accuracy":
                metrics[f"{tag}_gain_all_seeds"] = all(
                    r["runs"][name]["eval"]["accuracy"] > r["sft"]["accuracy"] for r in seeds
                )
    for name in names:
        h = [r["runs"][name]["history"] for r in seeds]
        tag = slug(name)
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
