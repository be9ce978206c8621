"""Flax NNX policy: KV-cache decoding equals the full forward; sampler consistency; lazy import."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import rl

TASK = rl.AdditionTask(n_digits=2)


@pytest.fixture
def model(tiny_policy):
    return tiny_policy


def test_import_does_not_load_flax():
    code = "import sys, jentropy.rl as r; assert 'flax' not in sys.modules and 'optax' not in sys.modules; r.TinyLM; assert 'flax' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_kv_cache_decode_matches_full_forward(model):
    tokens = jax.random.randint(jax.random.key(1), (3, TASK.seq_len), 0, TASK.vocab_size)
    full = _fwd(model, tokens)

    @jax.jit
    def decode_all(m, toks):
        cache = m.init_cache(toks.shape[0], toks.shape[1])

        def step(cache, t):
            logits, cache = m.decode(toks[:, t], cache, t)
            return cache, logits

        return jax.lax.scan(step, cache, jnp.arange(toks.shape[1]))[1].swapaxes(0, 1)

    # f32, two paths with different op order: 1e-5 relative
    np.testing.assert_allclose(decode_all(model, tokens), full, rtol=1e-5, atol=1e-5)


_gen = jax.jit(rl.generate, static_argnames=("max_new_tokens", "temperature", "eos_id", "pad_id"))
_fwd = jax.jit(lambda m, t: m(t))
_logprobs = jax.jit(rl.sequence_logprobs, static_argnames=("temperature", "with_entropy"))


def test_generate_determinism_eos_and_logp_consistency(model):
    a, b = jnp.arange(8) * 11, jnp.arange(8) * 7
    prompts = TASK.prompts(a, b)
    kw = {"max_new_tokens": TASK.completion_len, "eos_id": TASK.eos_id, "pad_id": TASK.pad_id}
    out1 = _gen(model, prompts, key=jax.random.key(3), **kw)
    out2 = _gen(model, prompts, key=jax.random.key(3), **kw)
    np.testing.assert_array_equal(out1.tokens, out2.tokens)
    tok, mask = np.asarray(out1.tokens), np.asarray(out1.mask)
    for row, m in zip(tok, mask):  # after EOS: pad and mask 0; before: mask 1
        eos = np.flatnonzero(row == TASK.eos_id)
        end = eos[0] + 1 if len(eos) else len(row)
        assert np.all(m[:end] == 1) and np.all(m[end:] == 0) and np.all(row[end:] == TASK.pad_id)
    lp = _logprobs(model, prompts, out1.tokens)
    np.testing.assert_allclose(np.asarray(lp) * mask, out1.logp, rtol=1e-5, atol=1e-5)


def test_greedy_is_argmax_of_teacher_forcing(model):
    prompts = TASK.prompts(jnp.array([12, 58]), jnp.array([30, 77]))
    out = _gen(
        model,
        prompts,
        key=jax.random.key(0),
        max_new_tokens=3,
        temperature=0.0,
        eos_id=None,
        pad_id=TASK.pad_id,
    )
    seq = jnp.concatenate([prompts, out.tokens], axis=1)
    logits = _fwd(model, seq[:, :-1])[:, prompts.shape[1] - 1 :]
    np.testing.assert_array_equal(out.tokens, jnp.argmax(logits, -1))


def test_temperature_scales_logprobs(model):
    prompts = TASK.prompts(jnp.array([12]), jnp.array([30]))
    comp = TASK.answers(jnp.array([12]), jnp.array([30]))
    lp2, h2 = _logprobs(model, prompts, comp, temperature=2.0, with_entropy=True)
    logits = (
        _fwd(model, jnp.concatenate([prompts, comp], 1)[:, :-1])[:, prompts.shape[1] - 1 :] / 2.0
    )
    ref = jnp.take_along_axis(jax.nn.log_softmax(logits), comp[..., None], -1)[..., 0]
    np.testing.assert_allclose(lp2, ref, rtol=1e-6)
    np.testing.assert_allclose(h2, rl.token_entropy(logits), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="divisible"):
        rl.TinyLM(14, 10, width=10, heads=4, rngs=__import__("flax").nnx.Rngs(0))
    with pytest.raises(ValueError, match="max_new_tokens"):
        rl.generate(None, jnp.zeros((1, 2), jnp.int32), key=jax.random.key(0), max_new_tokens=0)
