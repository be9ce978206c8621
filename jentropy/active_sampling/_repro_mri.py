"""Experiment (c): MRI-like k-space line selection at 4× on synthetic phantoms.

Phantoms (:func:`random_phantoms`: head, lesions, image-specific texture) are real images, so
their k-space is Hermitian and acquiring a line also gives its conjugate line; a design picks
``W / 4`` lines (conjugate pairs count once), the centre line first. The prior is a Gaussian
mixture fitted to training phantoms (k-means clusters, probabilistic-PCA covariances), whose
exact score drives DPS-guided DDIM for every design; a trained UNet would replace it at scale.
Reconstructions: particle mean after hard data consistency. Metrics: SSIM (fastMRI convention,
data range = the reference's maximum) and PSNR.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from jentropy import diffusion

from ._ads import active_diffusion_subsampling
from ._data import random_phantoms
from ._masks import random_mask, variance_mask
from ._metrics import psnr, ssim

SCHEDULE = diffusion.AngularSchedule()
SIGMA = 1.0
OMEGA = 3.0
PHANTOM = {"blur": 0.6, "texture": 0.2}
METHODS = {
    "ads": "ADS",
    "central_random": "central + random (fixed-mask DPS)",
    "data_variance": "data-variance lines",
    "random": "random lines",
    "central": "central lines only (low-pass)",
}


def line_classes(width: int) -> np.ndarray:
    """One column per conjugate class: frequencies 0, 1, …, then −W/2 (even W), centre first."""
    reps = list(range(width // 2, width))
    if width % 2 == 0:
        reps.append(0)
    return np.asarray(reps)


def _expand(class_mask: Any, reps: np.ndarray, link: Any, width: int) -> Any:
    full = jnp.zeros((width,), bool).at[reps].set(class_mask)
    return full | full[link]


@eqx.filter_jit
def _ads(
    model: Any,
    op: Any,
    test: Any,
    keys: Any,
    initial: Any,
    link: Any,
    *,
    budget: int,
    num_steps: int,
    window: tuple[int, int],
) -> tuple[Any, Any, Any]:
    def one(x: Any, k: Any) -> Any:
        res = active_diffusion_subsampling(
            model,
            SCHEDULE,
            op,
            x,
            key=k,
            budget=budget,
            num_steps=num_steps,
            window=window,
            sigma=SIGMA,
            omega=OMEGA,
            initial_mask=initial,
            linked=link,
            hard_consistency=True,
        )
        return res.reconstruction, res.mask, res.order

    return jax.vmap(one)(test, keys)


@eqx.filter_jit
def _fixed(model: Any, op: Any, test: Any, masks: Any, keys: Any, *, num_steps: int) -> Any:
    def one(x: Any, m: Any, k: Any) -> Any:
        init = jax.random.normal(k, (16, *op.image_shape), x.dtype)
        xs = diffusion.dps_sample(
            model,
            SCHEDULE,
            op,
            op.forward(x, m),
            m,
            init,
            key=k,
            num_steps=num_steps,
            omega=OMEGA,
            hard_consistency=True,
        )
        return jnp.mean(xs, 0)

    return jax.vmap(one)(test, masks, keys)


@eqx.filter_jit
def _designs(
    op: Any, train: Any, mask_keys: Any, link: Any, *, budget: int, n_central: int
) -> dict[str, Any]:
    """The fixed line masks (one per test phantom) in one compilation."""
    size = op.image_shape[-1]
    reps = line_classes(size)
    n_classes = len(reps)
    line_var = jnp.sum(jnp.var(jax.vmap(op.measure)(train), 0), -1)[reps]
    centre_only = np.arange(n_classes) == 0  # numpy: concrete inside jit (budget checks)
    central = np.arange(n_classes) < n_central

    def classes(fn: Any) -> Any:
        return jax.vmap(lambda k: _expand(fn(k), reps, link, size))(mask_keys)

    return {
        "central_random": classes(lambda k: random_mask(k, n_classes, budget - n_central, central)),
        "data_variance": classes(lambda k: variance_mask(k, line_var, budget - 1, centre_only)),
        "random": classes(lambda k: random_mask(k, n_classes, budget - 1, centre_only)),
        "central": classes(lambda k: jnp.arange(n_classes) < budget),
    }


@eqx.filter_jit
def _evaluate(op: Any, recons: dict[str, Any], test: Any, ads_mask: Any) -> tuple[Any, Any]:
    """SSIM and PSNR of every design (data range = each reference's maximum), and the
    zero-filled images of the ADS masks, in one compilation."""
    ranges = jnp.max(test, axis=(1, 2))
    scores = {
        name: {
            "ssim": jax.vmap(ssim)(r, test, ranges),
            "psnr": jax.vmap(psnr)(r, test, ranges),
        }
        for name, r in recons.items()
    }
    zero_filled = jax.vmap(lambda x, m: op.adjoint(op.forward(x, m)))(test, ads_mask)
    return scores, zero_filled


def run(
    key: jax.Array,
    *,
    size: int,
    n_train: int,
    n_test: int,
    components: int,
    rank: int,
    num_steps: int,
) -> dict[str, Any]:
    """Fit the prior, then ADS and every fixed design on the same test phantoms."""
    k_data, k_fit, k_masks, k_sample = jax.random.split(key, 4)
    phantoms = random_phantoms(k_data, n_train + n_test, size, **PHANTOM)  # one compilation
    train, test = phantoms[:n_train], phantoms[n_train:]
    prior = diffusion.mixture_from_kmeans(
        k_fit, train.reshape(n_train, -1), components, rank=rank, ridge=1e-4
    )
    model = diffusion.ExactDenoiser(prior, SCHEDULE, (size, size))
    op = diffusion.KSpaceLineSampling((size, size))
    link = op.conjugate_lines()
    reps = line_classes(size)
    budget = size // 4  # 4×: W/4 acquired lines
    n_central = max(1, round(budget * 10 / 32))  # ADS's baseline: 10 central of 32 lines
    mask_keys = jax.random.split(k_masks, n_test)
    fixed = _designs(op, train, mask_keys, link, budget=budget, n_central=n_central)
    keys = jax.random.split(k_sample, n_test)
    window = (num_steps // 10, (3 * num_steps) // 5)
    initial = _expand(np.arange(len(reps)) == 0, reps, link, size)
    recon, ads_mask, order = _ads(
        model, op, test, keys, initial, link, budget=budget - 1, num_steps=num_steps, window=window
    )
    recons = {"ads": recon}
    masks = {"ads": np.asarray(ads_mask)}
    for name, m in fixed.items():
        recons[name] = _fixed(model, op, test, m, keys, num_steps=num_steps)
        masks[name] = np.asarray(m)
    scores, zero_filled = _evaluate(op, recons, test, ads_mask)
    return {
        "scores": jax.tree.map(np.asarray, scores),
        "recons": {name: np.asarray(r) for name, r in recons.items()},
        "masks": masks,
        "order": np.asarray(order),
        "test": np.asarray(test),
        "zero_filled": np.asarray(zero_filled),
        "budget": budget,
        "n_central": n_central,
        "window": window,
        "train": np.asarray(train[:1]),
    }


def summarise(out: dict[str, Any]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    beats = True
    for name in METHODS:
        for metric in ("ssim", "psnr"):
            v = out["scores"][name][metric]
            metrics[f"{metric}_{name}"] = float(v.mean())
            metrics[f"{metric}_{name}_sem"] = float(v.std(ddof=1) / np.sqrt(len(v)))
        if name != "ads":
            ads_ssim = out["scores"]["ads"]["ssim"]
            metrics[f"ads_ssim_wins_vs_{name}"] = float(
                np.mean(ads_ssim > out["scores"][name]["ssim"])
            )
            if name != "central":
                beats &= bool(ads_ssim.mean() > out["scores"][name]["ssim"].mean())
    metrics["ads_beats_spec_fixed_baselines_ssim"] = bool(beats)
    metrics["lines_acquired"] = int(out["budget"])
    metrics["lines_known_with_conjugates_mean"] = float(out["masks"]["ads"].sum(1).mean())
    return metrics


def figures(out: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    from jentropy import plotting

    names = list(METHODS)
    fig, axes = plotting.subplots(1, 2, width=10.5, height=3.8)
    colors = plotting.colors(len(names), "categorical")
    for ax, metric, label in zip(axes, ("ssim", "psnr"), ("SSIM", "PSNR (dB)")):
        means = [metrics[f"{metric}_{n}"] for n in names]
        sems = [metrics[f"{metric}_{n}_sem"] for n in names]
        ax.bar(range(len(names)), means, yerr=sems, capsize=3, color=colors)
        ax.set_xticks(
            range(len(names)),
            [METHODS[n].split(" (")[0] for n in names],
            rotation=25,
            ha="right",
            fontsize="small",
        )
        lo = min(m - s for m, s in zip(means, sems))
        hi = max(m + s for m, s in zip(means, sems))
        ax.set_ylim(lo - 0.3 * (hi - lo), hi + 0.2 * (hi - lo))
        plotting.label(ax, "", label, f"{label} at 4× ({len(out['test'])} phantoms, ± s.e.)")

    # masks over time: which line each acquisition took, for a few phantoms
    n_show = min(3, len(out["test"]))
    size = out["test"].shape[-1]
    fig2, axes2 = plotting.subplots(2, n_show, width=3.4 * n_show, height=6.2, squeeze=False)
    for i in range(n_show):
        order = out["order"][i]
        grid = np.full((len(order) + 1, size), np.nan)
        grid[0, size // 2] = 0
        for j, col in enumerate(order):
            grid[j + 1 :, col] = j + 1
            grid[j + 1 :, (2 * (size // 2) - col) % size] = j + 1
        grid[1:, size // 2] = 0
        ax = axes2[0, i]
        ax.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
        plotting.label(
            ax, "k-space column", "acquisition", f"phantom {i}: lines over time", grid=False
        )
        axes2[1, i].imshow(out["recons"]["ads"][i], cmap="gray", vmin=0, vmax=1)
        axes2[1, i].set_title(
            f"ADS reconstruction, SSIM {out['scores']['ads']['ssim'][i]:.3f}", fontsize="small"
        )
        axes2[1, i].axis("off")

    cols = ["truth", "zero-filled", *names]
    fig3, axes3 = plotting.subplots(2, len(cols), width=1.9 * len(cols), height=4.2, squeeze=False)
    i = 0
    for j, col in enumerate(cols):
        if col == "truth":
            image, mask, title = out["test"][i], None, "truth"
        elif col == "zero-filled":
            image, mask, title = out["zero_filled"][i], out["masks"]["ads"][i], "zero-filled (ADS)"
        else:
            image, mask = out["recons"][col][i], out["masks"][col][i]
            title = f"{METHODS[col].split(' (')[0]}\nSSIM {out['scores'][col]['ssim'][i]:.3f}"
        axes3[0, j].imshow(image, cmap="gray", vmin=0, vmax=1)
        axes3[0, j].set_title(title, fontsize="small")
        axes3[0, j].axis("off")
        if mask is not None:
            axes3[1, j].imshow(
                np.broadcast_to(mask[None, :], (size, size)), cmap="gray", vmin=0, vmax=1
            )
        axes3[1, j].axis("off")
    fig3.suptitle("reconstructions (top) and k-space line masks (bottom)", fontsize="medium")
    return {"mri_scores": fig, "mri_masks_over_time": fig2, "mri_reconstructions": fig3}
