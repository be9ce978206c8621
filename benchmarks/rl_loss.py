"""jentropy.rl: the fused GRPO loss + gradient against a straightforward NumPy reference, and the
RL steps/s of the CPU trainer.

(a) Loss + gradient with respect to the logits for a batch of P prompts × G samples × T tokens over
    a small vocabulary V ("CPU-sized logits"): log-softmax and gather, token entropy, the clipped
    surrogate with clip-higher (ε = 0.2 / 0.28), the k3 KL to a reference (β = 0.04, verl's
    clamps), an entropy bonus (0.01), token-mean aggregation over a ragged response mask. jentropy:
    ``jax.jit(jax.value_and_grad(...))`` over ``rl.token_entropy`` + ``rl.policy_loss``. Reference:
    the same loss and its hand-derived gradient in NumPy (float32), checked against jentropy's.
    Gradients agree to float32 round-off except on the few tokens whose ratio lands exactly on a
    clip boundary (no unique derivative there; the script counts them). Timed twice: from the logits (log-softmax, gather and entropy included) and from the log-probs
    and entropies (the model-agnostic loss alone, what ``jentropy.rl`` itself computes).
    Default size 512 × 8 × 1024 (4.2M tokens, V = 16); ``--quick``: 64 × 8 × 256.
(b) RL steps/s of ``rl.train_rl`` on 2-digit addition (TinyLM, ~100k parameters; 16 prompts ×
    G = 8; GRPO, and the Confucius3-Math preset with dynamic sampling + RSR), compile apart.

Times: minimum over repeats with ``block_until_ready``; compile = first call − steady. The machine
may be shared: the script records ``os.getloadavg()`` at the start and the end.

Usage: python benchmarks/rl_loss.py [--quick]
Writes benchmarks/results/rl_loss.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from jentropy import rl
from jentropy.reproduce import write_json_atomic

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
EPS, EPS_HIGH, BETA, ENT = 0.2, 0.28, 0.04, 0.01
CFG = rl.PolicyLossConfig(
    loss_type="token-mean",
    epsilon=EPS,
    epsilon_high=EPS_HIGH,
    beta=BETA,
    kl_estimator="k3",
    entropy_coef=ENT,
)


def make_inputs(p: int, g: int, t: int, v: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = p * g
    logits = rng.normal(0, 2, (b, t, v)).astype(np.float32)
    tokens = rng.integers(0, v, (b, t)).astype(np.int32)
    lse = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    logp = np.take_along_axis(logits, tokens[..., None], -1)[..., 0] - lse
    old = (logp + rng.normal(0, 0.2, (b, t))).astype(np.float32)
    ref = (logp + rng.normal(0, 0.2, (b, t))).astype(np.float32)
    lengths = rng.integers(t // 4, t + 1, b)
    mask = (np.arange(t)[None] < lengths[:, None]).astype(np.float32)
    rewards = rng.integers(0, 2, (p, g)).astype(np.float32)
    adv = np.asarray(rl.grpo_advantages(rewards)).reshape(-1)
    return {"logits": logits, "tokens": tokens, "old": old, "ref": ref, "mask": mask, "adv": adv}


def jentropy_loss(logits, tokens, old, ref, mask, adv):
    logp = jnp.take_along_axis(jax.nn.log_softmax(logits), tokens[..., None], -1)[..., 0]
    h = rl.token_entropy(logits)
    return rl.policy_loss(logp, mask, adv, old_logp=old, ref_logp=ref, entropies=h, config=CFG)[0]


def jentropy_loss_from_logp(logp, h, old, ref, mask, adv):
    return rl.policy_loss(logp, mask, adv, old_logp=old, ref_logp=ref, entropies=h, config=CFG)[0]


def numpy_loss_from_logp(logp, h, old, ref, mask, adv):
    """The loss from log-probs and entropies, and its gradient w.r.t. both, plain NumPy."""
    a = adv[:, None]
    log_ratio = np.clip(logp - old, -20, 20)
    rho = np.exp(log_ratio)
    clipped = np.clip(rho, 1 - EPS, 1 + EPS_HIGH)
    unclipped_active = rho * a <= clipped * a
    d = np.clip(ref - logp, -20, 20)
    k3_raw = np.exp(d) - d - 1
    per_token = -np.minimum(rho * a, clipped * a) + BETA * np.clip(k3_raw, -10, 10)
    n = max(mask.sum(), 1.0)
    loss = (per_token * mask).sum() / n - ENT * (h * mask).sum() / n
    in_range = (np.abs(ref - logp) < 20) & (np.abs(k3_raw) < 10)
    dlogp = (
        (
            -rho * a * unclipped_active * (np.abs(logp - old) < 20)
            + BETA * (1 - np.exp(d)) * in_range
        )
        * mask
        / n
    )
    return np.float32(loss), (dlogp.astype(np.float32), (-ENT * mask / n).astype(np.float32))


def numpy_loss_and_grad(logits, tokens, old, ref, mask, adv):
    """Forward and hand-written backward of the same loss, plain NumPy."""
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    s = e.sum(-1, keepdims=True)
    p = e / s
    logp_all = z - np.log(s)
    logp = np.take_along_axis(logp_all, tokens[..., None], -1)[..., 0]
    h = -(p * logp_all).sum(-1)
    a = adv[:, None]
    log_ratio = np.clip(logp - old, -20, 20)
    rho = np.exp(log_ratio)
    clipped = np.clip(rho, 1 - EPS, 1 + EPS_HIGH)
    unclipped_active = rho * a <= clipped * a
    surrogate = -np.minimum(rho * a, clipped * a)
    d = np.clip(ref - logp, -20, 20)
    k3_raw = np.exp(d) - d - 1
    k3 = np.clip(k3_raw, -10, 10)
    per_token = surrogate + BETA * k3
    n = max(mask.sum(), 1.0)
    loss = (per_token * mask).sum() / n - ENT * (h * mask).sum() / n
    # backward: dℓ/dlogp, then through log-softmax; entropy through softmax
    in_range = (np.abs(ref - logp) < 20) & (np.abs(k3_raw) < 10)
    dlogp = (
        (
            -rho * a * unclipped_active * (np.abs(logp - old) < 20)
            + BETA * (1 - np.exp(d)) * in_range
        )
        * mask
        / n
    )
    onehot = np.zeros_like(logits)
    np.put_along_axis(onehot, tokens[..., None], 1.0, -1)
    grad = dlogp[..., None] * (onehot - p)
    dh = -ENT * mask / n  # dL/dH
    grad += dh[..., None] * (-p * (logp_all + h[..., None]))
    return np.float32(loss), grad.astype(np.float32)


def _timed(fn, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best, out


def _compare(jax_fn, np_fn, args, quick, tokens) -> dict:
    dev = [jnp.asarray(a) for a in args]
    f = jax.jit(jax_fn)
    first, _ = _timed(lambda: f(*dev), 1)
    steady, (loss_j, grad_j) = _timed(lambda: f(*dev), 3)
    np_time, (loss_n, grad_n) = _timed(lambda: np_fn(*args), 3 if quick else 1)
    gj, gn = jax.tree_util.tree_leaves(grad_j), jax.tree_util.tree_leaves(grad_n)
    rel = max(float(np.abs(np.asarray(a) - b).max() / np.abs(b).max()) for a, b in zip(gj, gn))
    # tokens whose ratio sits exactly on a clip boundary (ρ = 1 ± ε in float32) have no unique
    # derivative: JAX splits min()'s tie, the reference takes the unclipped branch
    off = sum(
        int((np.abs(np.asarray(a) - b) > 1e-3 * np.abs(b).max()).sum()) for a, b in zip(gj, gn)
    )
    return {
        "jentropy_compile_s": first - steady,
        "jentropy_run_s": steady,
        "numpy_run_s": np_time,
        "speedup_vs_numpy": np_time / steady,
        "jentropy_tokens_per_s": tokens / steady,
        "numpy_tokens_per_s": tokens / np_time,
        "loss_jentropy": float(loss_j),
        "loss_numpy": float(loss_n),
        "grad_max_rel_diff": rel,
        "grad_tokens_off_by_more_than_1e-3": off,
    }


def bench_loss(quick: bool) -> dict:
    p, g, t, v = (64, 8, 256, 16) if quick else (512, 8, 1024, 16)
    x = make_inputs(p, g, t, v)
    tokens = p * g * t
    args = [x[k] for k in ("logits", "tokens", "old", "ref", "mask", "adv")]
    out = {"shape": {"prompts": p, "G": g, "tokens": t, "vocab": v}}
    out["from_logits"] = _compare(
        jax.value_and_grad(jentropy_loss), numpy_loss_and_grad, args, quick, tokens
    )
    # the model-agnostic part alone: loss from log-probs and entropies, gradient w.r.t. both
    logits = x["logits"]
    lse = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    lsm = logits - lse[..., None]
    logp = np.take_along_axis(lsm, x["tokens"][..., None], -1)[..., 0].astype(np.float32)
    h = (-(np.exp(lsm) * lsm).sum(-1)).astype(np.float32)
    del logits, lsm
    args = [logp, h, x["old"], x["ref"], x["mask"], x["adv"]]
    out["from_logprobs"] = _compare(
        jax.value_and_grad(jentropy_loss_from_logp, argnums=(0, 1)),
        numpy_loss_from_logp,
        args,
        quick,
        tokens,
    )
    return out


def bench_trainer(quick: bool) -> dict:
    task = rl.AdditionTask(n_digits=2)
    model = rl.make_policy(task, key=jax.random.key(0))
    steps = 5 if quick else 20
    out = {}
    for name, cfg in (
        ("grpo", rl.RLConfig.grpo(num_prompts=16)),
        ("confucius", rl.RLConfig.confucius(num_prompts=16)),
    ):
        res = rl.train_rl(model, task, cfg, key=jax.random.key(1), steps=steps + 1, progress=False)
        per_step = res.seconds_run / steps
        out[name] = {
            "compile_plus_first_step_s": res.seconds_compile,
            "steady_step_s": per_step,
            "steps_per_s": 1 / per_step,
            "sequences_per_step": 16 * 8,
            "generated_groups_per_step": float(res.history["generated_groups"][1:].mean()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    args = parser.parse_args()
    load_start = os.getloadavg()
    loss = bench_loss(args.quick)
    trainer = bench_trainer(args.quick)
    result = {
        "quick": args.quick,
        "loss": loss,
        "trainer": trainer,
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "platform": platform.platform(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
    }
    s = loss["shape"]
    print(
        f"(a) fused GRPO loss + grad, {s['prompts']} × {s['G']} × {s['tokens']} tokens, V = {s['vocab']}"
    )
    print(f"    {'input':<15}{'impl':<10}{'compile s':>11}{'run s':>10}{'Mtok/s':>9}{'× numpy':>9}")
    for part in ("from_logits", "from_logprobs"):
        r = loss[part]
        print(
            f"    {part:<15}{'jentropy':<10}{r['jentropy_compile_s']:>11.2f}{r['jentropy_run_s']:>10.4f}"
            f"{r['jentropy_tokens_per_s'] / 1e6:>9.1f}{r['speedup_vs_numpy']:>9.1f}"
        )
        print(
            f"    {'':<15}{'numpy':<10}{'-':>11}{r['numpy_run_s']:>10.4f}{r['numpy_tokens_per_s'] / 1e6:>9.1f}{1.0:>9.1f}"
        )
        print(
            f"    {'':<15}gradients: max |Δ| / max |g| = {r['grad_max_rel_diff']:.1e}; tokens off by "
            f"> 1e-3: {r['grad_tokens_off_by_more_than_1e-3']} (ties on the clip boundary)"
        )
    print("(b) rl.train_rl on 2-digit addition, 16 prompts × G = 8")
    for name, r in trainer.items():
        print(
            f"    {name:<10} compile+1st {r['compile_plus_first_step_s']:6.1f} s   "
            f"{r['steps_per_s']:5.2f} steps/s   ({r['generated_groups_per_step']:.0f} groups generated/step)"
        )
    print(f"load average {load_start} -> {result['loadavg_end']}")
    os.makedirs(RESULTS, exist_ok=True)
    write_json_atomic(os.path.join(RESULTS, "rl_loss.json"), result)


if __name__ == "__main__":
    main()
