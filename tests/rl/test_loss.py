"""The fused policy loss: TRL reference, peer-name equivalence, μ = 1 behaviour, finite gradients."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jentropy import rl

B, T = 6, 5
rng = np.random.default_rng(0)
LP = jnp.asarray(-np.abs(rng.normal(1.0, 0.5, (B, T))), jnp.float32)
OLD = LP + jnp.asarray(rng.normal(0, 0.3, (B, T)), jnp.float32)
REF = LP + jnp.asarray(rng.normal(0, 0.3, (B, T)), jnp.float32)
H = jnp.asarray(np.abs(rng.normal(1.0, 0.5, (B, T))), jnp.float32)
MASK = (jnp.arange(T)[None] < jnp.array([[5], [3], [1], [4], [5], [2]])).astype(jnp.float32)
ADV = rl.grpo_advantages(jnp.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])).reshape(-1)


def _trl_reference(
    lp, old, ref, adv, m, h, *, loss_type, eps_lo, eps_hi, beta, delta, ent_coef, max_len
):
    """TRL GRPOTrainer._compute_loss (token level, no entropy mask) written out in numpy."""
    lp, old, ref, m, h = (np.asarray(x, np.float64) for x in (lp, old, ref, m, h))
    adv = np.asarray(adv, np.float64)[:, None]
    coef1 = np.exp(lp - old)
    kl = np.exp(ref - lp) - (ref - lp) - 1
    coef2 = np.clip(coef1, 1 - eps_lo, 1 + eps_hi)
    if delta is not None:
        coef1 = np.minimum(coef1, delta)
    ptl = -np.minimum(coef1 * adv, coef2 * adv) + beta * kl
    if loss_type == "grpo":
        loss = ((ptl * m).sum(-1) / np.maximum(m.sum(-1), 1)).mean()
    elif loss_type in ("bnpo", "dapo"):
        loss = (ptl * m).sum() / max(m.sum(), 1)
    elif loss_type == "dr_grpo":
        loss = (ptl * m).sum() / (ptl.shape[0] * max_len)
    return loss - ent_coef * (h * m).sum() / max(m.sum(), 1)


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dapo", "dr_grpo"])
def test_matches_trl_reference(loss_type):
    cfg = rl.PolicyLossConfig(
        loss_type=loss_type,
        epsilon=0.2,
        epsilon_high=0.28,
        delta=1.5,
        beta=0.04,
        kl_clamp=False,
        entropy_coef=0.01,
        max_length=8,
    )
    loss, _ = rl.policy_loss(LP, MASK, ADV, old_logp=OLD, ref_logp=REF, entropies=H, config=cfg)
    ref = _trl_reference(
        LP,
        OLD,
        REF,
        ADV,
        MASK,
        H,
        loss_type=loss_type,
        eps_lo=0.2,
        eps_hi=0.28,
        beta=0.04,
        delta=1.5,
        ent_coef=0.01,
        max_len=8,
    )
    assert float(loss) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize(
    "trl,verl",
    [("grpo", "seq-mean-token-mean"), ("dapo", "token-mean"), ("luspo", "seq-mean-token-sum")],
)
def test_trl_and_verl_named_configs_agree(trl, verl):
    base = rl.PolicyLossConfig(epsilon=0.2, epsilon_high=0.28, beta=0.1, kl_estimator="low_var_kl")
    a, _ = rl.policy_loss(
        LP, MASK, ADV, old_logp=OLD, ref_logp=REF, config=dataclasses.replace(base, loss_type=trl)
    )
    b, _ = rl.policy_loss(
        LP,
        MASK,
        ADV,
        old_logp=OLD,
        ref_logp=REF,
        config=dataclasses.replace(base, loss_type=verl, kl_estimator="k3"),
    )
    assert float(a) == pytest.approx(float(b), rel=1e-6)


def test_on_policy_loss_is_zero_but_gradient_is_not():
    # TRL #2703 / #3452: at μ = 1 with zero-mean advantages the loss reads 0, gradients do not vanish
    adv = rl.grpo_advantages(jnp.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])).reshape(-1)
    cfg = rl.PolicyLossConfig(loss_type="grpo")
    f = lambda lp: rl.policy_loss(lp, MASK, adv, config=cfg)[0]  # noqa: E731
    assert abs(float(f(LP))) < 1e-6
    assert float(jnp.abs(jax.grad(f)(LP)).sum()) > 0.1


def test_top_entropy_mask_and_ter_terms():
    cfg = rl.PolicyLossConfig(loss_type="token-mean", top_entropy_quantile=0.5)
    loss, _ = rl.policy_loss(LP, MASK, ADV, old_logp=OLD, entropies=H, config=cfg)
    keep = rl.top_entropy_mask(H, MASK, quantile=0.5).astype(jnp.float32)
    per = rl.clipped_surrogate(rl.importance_ratio(LP, OLD, MASK), ADV) * keep
    assert float(loss) == pytest.approx(float(rl.aggregate_loss(per, MASK, "token-mean")), rel=1e-6)
    ter = rl.PolicyLossConfig(target_entropy=0.55, target_entropy_coef=0.1)
    l_ter, met = rl.policy_loss(LP, MASK, ADV, old_logp=OLD, entropies=H, config=ter)
    l_plain, _ = rl.policy_loss(LP, MASK, ADV, old_logp=OLD, config=rl.PolicyLossConfig())
    hbar = float(rl.masked_mean(H, MASK))
    assert float(l_ter - l_plain) == pytest.approx(0.1 * abs(hbar - 0.55), rel=1e-5)
    assert float(met["target_entropy_term"]) == pytest.approx(0.1 * abs(hbar - 0.55), rel=1e-5)


def test_traced_entropy_coef_and_metrics_under_jit():
    cfg = rl.PolicyLossConfig(beta=0.05)

    @jax.jit
    def f(lp, coef):
        return rl.policy_loss(
            lp, MASK, ADV, old_logp=OLD, ref_logp=REF, entropies=H, config=cfg, entropy_coef=coef
        )

    l0, _ = f(LP, jnp.float32(0.0))
    l1, m1 = f(LP, jnp.float32(0.1))
    assert float(l0 - l1) == pytest.approx(0.1 * float(rl.masked_mean(H, MASK)), rel=1e-5)
    for k in (
        "clip_ratio/low_mean",
        "clip_ratio/high_mean",
        "clip_ratio/region_mean",
        "ratio/max",
        "ratio/min",
        "ppo_kl",
        "kl",
        "entropy",
        "policy_loss",
    ):
        assert np.isfinite(float(m1[k])), k
    assert float(m1["ppo_kl"]) == pytest.approx(float(rl.masked_mean(OLD - LP, MASK)), rel=1e-5)


def test_config_errors():
    with pytest.raises(ValueError, match="loss_type"):
        rl.PolicyLossConfig(loss_type="sum")
    with pytest.raises(ValueError, match="kl_estimator"):
        rl.PolicyLossConfig(kl_estimator="k5")
    with pytest.raises(ValueError, match="ref_logp"):
        rl.policy_loss(LP, MASK, ADV, config=rl.PolicyLossConfig(beta=0.1))
    with pytest.raises(ValueError, match="entropies"):
        rl.policy_loss(LP, MASK, ADV, config=rl.PolicyLossConfig(entropy_coef=0.1))


# ---- property tests: gradients stay finite in every corner the issue names ----------------------

CONFIGS = [
    rl.PolicyLossConfig(
        loss_type=lt,
        importance_sampling_level=lvl,
        beta=0.1,
        kl_estimator=kl,
        clip_ratio_c=3.0,
        delta=2.0,
        entropy_coef=0.01,
        top_entropy_quantile=q,
        target_entropy=0.55,
        target_entropy_coef=0.01,
    )
    for lt, lvl, kl, q in [
        ("grpo", "token", "k3", 1.0),
        ("dapo", "sequence", "k3+", 0.5),
        ("dr_grpo", "sequence_token", "k1", 1.0),
        ("luspo", "sequence", "k2", 0.2),
        ("seq-mean-token-sum-norm", "token", "abs+", 1.0),
    ]
]


def _grad_fn(cfg):
    def loss(lp, old, ref, h, mask, rewards):
        adv = rl.grpo_advantages(rewards).reshape(-1)
        return rl.policy_loss(lp, mask, adv, old_logp=old, ref_logp=ref, entropies=h, config=cfg)[0]

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 3)))


GRADS = [_grad_fn(c) for c in CONFIGS]
big = st.floats(-1e4, 0, width=32)


@settings(max_examples=12, deadline=None)
@given(
    st.lists(big, min_size=24, max_size=24),
    st.lists(big, min_size=24, max_size=24),
    st.lists(st.sampled_from([1.0, 0.0]), min_size=24, max_size=24),
    st.lists(st.sampled_from([0.0, 1.0]), min_size=6, max_size=6),
    st.sampled_from([0, 1, 2]),
)
def test_gradients_finite_in_corner_cases(lp, old, mask, rewards, pad):
    lp = np.array(lp, np.float32).reshape(6, 4)
    old = np.array(old, np.float32).reshape(6, 4)
    m = np.array(mask, np.float32).reshape(6, 4)
    m[:pad] = 0.0  # fully masked sequences
    ref = np.where(m > 0, old[::-1], -np.inf).astype(np.float32)
    lp = np.where(m > 0, lp, -np.inf).astype(np.float32)  # padding may hold -inf log-probs
    old = np.where(m > 0, old, -np.inf).astype(np.float32)
    r = np.array(rewards, np.float32).reshape(2, 3)  # zero-variance groups are frequent
    h = np.where(m > 0, np.abs(np.nan_to_num(lp)) % 3, 0).astype(np.float32)
    for g in GRADS:
        val, (g_lp, g_h) = g(lp, old, ref, h, m, r)
        assert np.isfinite(float(val))
        assert np.all(np.isfinite(np.asarray(g_lp))) and np.all(np.isfinite(np.asarray(g_h)))
        assert np.all(np.asarray(g_lp)[m == 0] == 0)  # masked tokens get no gradient
