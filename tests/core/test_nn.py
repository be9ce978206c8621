"""Tests for jentropy.nn: shapes, attention against a NumPy reference, masking, permutation
equivariance, affine depth-0 MLP, embedding closed form, jit == no-jit, key determinism."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import nn

DIM, HEADS, T, S = 16, 4, 6, 9

# float32 matmuls of length <= 16 plus a softmax: a few ulp of O(1) values, far below 1e-5.
F32_TOL = 1e-5


@pytest.fixture(scope="module")
def attn():
    return nn.MultiHeadAttention(DIM, HEADS, key=jax.random.key(1))


@pytest.fixture(scope="module")
def cross_attn():
    return nn.MultiHeadAttention(DIM, HEADS, context_dim=5, key=jax.random.key(2))


@pytest.fixture(scope="module")
def block():
    return nn.TransformerBlock(DIM, HEADS, mlp_ratio=2, key=jax.random.key(3))


@pytest.fixture(scope="module")
def tokens():
    kx, kc = jax.random.split(jax.random.key(4))
    return jax.random.normal(kx, (T, DIM)), jax.random.normal(kc, (S, 5))


def _linear_np(layer, x):
    out = x @ np.asarray(layer.weight, np.float64).T
    return out if layer.bias is None else out + np.asarray(layer.bias, np.float64)


def _reference_attention(module, x, context, mask=None):
    """softmax(Q K^T / sqrt(d)) V per head in float64 NumPy, from the module's own weights."""
    x, context = np.asarray(x, np.float64), np.asarray(context, np.float64)
    h, d = module.num_heads, module.dim // module.num_heads
    q = _linear_np(module.query_proj, x).reshape(len(x), h, d)
    k = _linear_np(module.key_proj, context).reshape(len(context), h, d)
    v = _linear_np(module.value_proj, context).reshape(len(context), h, d)
    out = np.empty((len(x), h, d))
    for head in range(h):
        logits = q[:, head] @ k[:, head].T / np.sqrt(d)
        if mask is not None:
            logits = np.where(mask, logits, -np.inf)
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        out[:, head] = w @ v[:, head]
    return _linear_np(module.output_proj, out.reshape(len(x), -1))


def test_attention_matches_numpy_reference(attn, cross_attn, tokens):
    x, c = tokens
    np.testing.assert_allclose(
        attn(x), _reference_attention(attn, x, x), rtol=F32_TOL, atol=F32_TOL
    )
    np.testing.assert_allclose(
        cross_attn(x, context=c), _reference_attention(cross_attn, x, c), rtol=F32_TOL, atol=F32_TOL
    )
    mask = np.array(jax.random.bernoulli(jax.random.key(5), 0.6, (T, S)))
    mask[:, 0] = True  # every query keeps at least one key, as the reference needs
    np.testing.assert_allclose(
        cross_attn(x, context=c, mask=jnp.asarray(mask)),
        _reference_attention(cross_attn, x, c, mask),
        rtol=F32_TOL,
        atol=F32_TOL,
    )


def test_attention_softmax_is_stable_for_huge_logits(attn, tokens):
    # logits of order 1e6 overflow a naive exp(logits) to inf (and inf / inf = NaN); the
    # max-subtracted softmax must stay finite.
    x, _ = tokens
    out = attn(1e3 * x)
    assert bool(jnp.all(jnp.isfinite(out)))


def test_mask_blocks_masked_keys_exactly(cross_attn, tokens):
    x, c = tokens
    mask = np.ones((T, S), dtype=bool)
    mask[:, 3] = False  # no query sees key 3
    mask[0, 5] = False  # query 0 does not see key 5
    mask = jnp.asarray(mask)
    base = cross_attn(x, context=c, mask=mask)
    # Masked weights are exactly 0 and the row max ignores masked logits, so changing masked
    # keys must change nothing, bit for bit.
    moved = cross_attn(x, context=c.at[3].set(100.0), mask=mask)
    np.testing.assert_array_equal(base, moved)
    moved5 = cross_attn(x, context=c.at[5].set(-50.0), mask=mask)
    np.testing.assert_array_equal(base[0], moved5[0])
    assert not np.allclose(base[1:], moved5[1:])  # the unmasked queries do see key 5


def test_fully_masked_query_gives_output_bias(attn, tokens):
    x, _ = tokens
    mask = jnp.ones((T, T), dtype=bool).at[2].set(False)
    out = attn(x, mask=mask)
    # zero attention weights -> zero head outputs -> only the output bias remains (exact)
    np.testing.assert_array_equal(out[2], attn.output_proj.bias)
    assert bool(jnp.all(jnp.isfinite(out)))


def test_attention_and_block_are_permutation_equivariant(attn, block, tokens):
    x, _ = tokens
    perm = np.asarray(jax.random.permutation(jax.random.key(6), T))
    # Without positional encodings each output token depends on its own token and the
    # multiset of all tokens; float32 sums in another order differ by a few ulp << 1e-5.
    np.testing.assert_allclose(attn(x[perm]), attn(x)[perm], rtol=F32_TOL, atol=F32_TOL)
    np.testing.assert_allclose(block(x[perm]), block(x)[perm], rtol=F32_TOL, atol=F32_TOL)
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))
    permuted_mask = causal[perm][:, perm]
    np.testing.assert_allclose(
        block(x[perm], mask=permuted_mask), block(x, mask=causal)[perm], rtol=F32_TOL, atol=F32_TOL
    )


def test_transformer_block_matches_its_definition(block, tokens):
    x, _ = tokens
    h = x + block.attention(jax.vmap(block.norm1)(x))
    expected = h + jax.vmap(block.mlp)(jax.vmap(block.norm2)(h))
    np.testing.assert_allclose(block(x), expected, rtol=F32_TOL, atol=F32_TOL)
    assert block.mlp.width == 2 * DIM


def test_transformer_block_dropout_only_with_key(tokens):
    x, _ = tokens
    block = nn.TransformerBlock(DIM, HEADS, dropout=0.5, key=jax.random.key(7))
    # no key: deterministic and equal to the same block without dropout (same init key)
    plain = nn.TransformerBlock(DIM, HEADS, key=jax.random.key(7))
    np.testing.assert_array_equal(block(x), plain(x))
    a, b = block(x, key=jax.random.key(0)), block(x, key=jax.random.key(1))
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, block(x, key=jax.random.key(0)))


def test_mlp_shapes_and_scalar_sizes():
    key = jax.random.key(0)
    assert nn.MLP(3, 2, 8, 2, key=key)(jnp.ones(3)).shape == (2,)
    assert nn.MLP("scalar", "scalar", 8, 1, key=key)(jnp.float32(0.5)).shape == ()
    assert nn.MLP(3, "scalar", 8, 2, use_layernorm=True, key=key)(jnp.ones(3)).shape == ()
    mlp = nn.MLP(3, 2, 8, 2, use_layernorm=True, key=key)
    assert len(mlp.layers) == 3 and len(mlp.norms) == 2
    assert jax.vmap(mlp)(jnp.ones((5, 3))).shape == (5, 2)


def test_mlp_matches_its_definition():
    mlp = nn.MLP(3, 2, 8, 2, use_layernorm=True, final_activation=jnp.tanh, key=jax.random.key(0))
    x = jnp.arange(3.0)
    h = x
    for layer, norm in zip(mlp.layers[:-1], mlp.norms):
        h = jax.nn.gelu(norm(layer.weight @ h + layer.bias))
    expected = jnp.tanh(mlp.layers[-1].weight @ h + mlp.layers[-1].bias)
    np.testing.assert_allclose(mlp(x), expected, rtol=F32_TOL, atol=F32_TOL)


def test_mlp_depth_zero_is_affine():
    mlp = nn.MLP(4, 3, 32, 0, key=jax.random.key(0))
    assert len(mlp.layers) == 1
    xs = jax.random.normal(jax.random.key(1), (3, 4))
    a, b = 0.3, 0.7
    # An affine map f satisfies f(a x + b y) = a f(x) + b f(y) when a + b = 1 (to f32 rounding).
    np.testing.assert_allclose(
        mlp(a * xs[0] + b * xs[1]), a * mlp(xs[0]) + b * mlp(xs[1]), rtol=F32_TOL, atol=F32_TOL
    )
    np.testing.assert_allclose(
        mlp(xs[2]), mlp.layers[0].weight @ xs[2] + mlp.layers[0].bias, rtol=F32_TOL, atol=F32_TOL
    )


def test_sinusoidal_embedding_closed_form():
    embed = nn.SinusoidalEmbedding(8, max_period=100.0)
    t = 0.7
    w = 100.0 ** (-np.arange(4) / 4)
    expected = np.concatenate([np.sin(t * w), np.cos(t * w)])
    np.testing.assert_allclose(embed(jnp.float32(t)), expected, rtol=F32_TOL, atol=F32_TOL)
    # sin^2 + cos^2 = 1 per frequency, so |e(t)|^2 = dim / 2 for every t
    ts = jnp.linspace(0.0, 1e3, 17)
    norms = jnp.sum(jax.vmap(embed)(ts) ** 2, axis=-1)
    np.testing.assert_allclose(norms, 4.0, rtol=F32_TOL)
    np.testing.assert_array_equal(embed(jnp.int32(0)), np.r_[np.zeros(4), np.ones(4)])


def test_jit_equals_no_jit(attn, block, tokens):
    x, _ = tokens
    mlp = nn.MLP(DIM, 3, 8, 2, use_layernorm=True, key=jax.random.key(0))
    embed = nn.SinusoidalEmbedding(DIM)
    # XLA may fuse differently under jit: agreement to float32 rounding, not bitwise.
    for fn, arg in [(attn, x), (block, x), (mlp, x[0]), (embed, jnp.float32(3.0))]:
        np.testing.assert_allclose(eqx.filter_jit(fn)(arg), fn(arg), rtol=F32_TOL, atol=F32_TOL)


def test_same_key_same_init_and_different_key_differs():
    def leaves(m):
        return jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_array))

    for make in (
        lambda k: nn.MLP(3, 2, 8, 2, key=k),
        lambda k: nn.MultiHeadAttention(DIM, HEADS, key=k),
        lambda k: nn.TransformerBlock(DIM, HEADS, key=k),
    ):
        a, b, c = make(jax.random.key(0)), make(jax.random.key(0)), make(jax.random.key(1))
        assert all(np.array_equal(u, v) for u, v in zip(leaves(a), leaves(b)))
        assert not all(np.array_equal(u, v) for u, v in zip(leaves(a), leaves(c)))


def test_bad_arguments_name_the_argument(attn, tokens):
    x, _ = tokens
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="num_heads"):
        nn.MultiHeadAttention(10, 3, key=key)
    with pytest.raises(ValueError, match="depth"):
        nn.MLP(2, 2, 4, -1, key=key)
    with pytest.raises(ValueError, match="in_size"):
        nn.MLP("vector", 2, 4, 1, key=key)
    with pytest.raises(ValueError, match="x must have shape"):
        attn(x[:, :3])
    with pytest.raises(ValueError, match="mask"):
        attn(x, mask=jnp.ones((T, T + 1), dtype=bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        attn(x, mask=jnp.ones((T, T)))
    with pytest.raises(ValueError, match="dim must be even"):
        nn.SinusoidalEmbedding(7)
    with pytest.raises(ValueError, match="dropout"):
        nn.TransformerBlock(DIM, HEADS, dropout=1.0, key=key)
    with pytest.raises(ValueError, match="MLP: x must have shape"):
        nn.MLP(3, 2, 4, 1, key=key)(jnp.ones((2, 3)))
