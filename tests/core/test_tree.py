"""jentropy.tree: pytree arithmetic checked against leafwise numpy, plus invariants."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import tree


def _tree(scale=1.0):
    return {"w": scale * jnp.arange(6.0).reshape(2, 3), "b": (scale * jnp.array([1.0, -2.0]),)}


def test_arithmetic_matches_numpy():
    a, b = _tree(1.0), _tree(0.5)
    np.testing.assert_array_equal(tree.add(a, b)["w"], 1.5 * np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(tree.sub(a, b)["b"][0], [0.5, -1.0])
    np.testing.assert_array_equal(tree.scale(3.0, a)["b"][0], [3.0, -6.0])
    np.testing.assert_array_equal(tree.axpy(2.0, a, b)["w"], 2.5 * np.arange(6.0).reshape(2, 3))
    # dot = Σ over leaves; norm² = dot(a, a)
    expected = 0.5 * (np.sum(np.arange(6.0) ** 2) + 1 + 4)
    assert float(tree.dot(a, b)) == pytest.approx(expected, rel=1e-6)
    assert float(tree.norm(a)) == pytest.approx(np.sqrt(float(tree.dot(a, a))), rel=1e-6)
    assert float(tree.norm(a, ord=1)) == pytest.approx(15 + 3)
    assert float(tree.norm(a, ord=np.inf)) == 5.0
    with pytest.raises(ValueError, match="ord"):
        tree.norm(a, ord=3)


def test_norm_overflow_safe():
    big = {"x": jnp.full((4,), 1e30, jnp.float32)}
    # naive Σx² overflows float32 (1e60); the scaled norm is exact: 2e30
    assert float(tree.norm(big)) == pytest.approx(2e30, rel=1e-6)
    assert float(tree.norm({"x": jnp.zeros(3)})) == 0.0


def test_dtype_preserved():
    a = {"h": jnp.ones(3, jnp.bfloat16), "f": jnp.ones(2, jnp.float32)}
    out = tree.scale(0.5, a)
    assert out["h"].dtype == jnp.bfloat16 and out["f"].dtype == jnp.float32
    ema = tree.ema_update(a, tree.zeros_like(a), 0.9)
    assert ema["h"].dtype == jnp.bfloat16
    np.testing.assert_allclose(np.float32(ema["f"]), 0.9, rtol=1e-6)


def test_constructors_and_size():
    a = _tree()
    assert tree.size(a) == 8
    assert all(float(jnp.sum(x)) == 0 for x in jax.tree_util.tree_leaves(tree.zeros_like(a)))
    assert float(tree.dot(tree.ones_like(a), tree.ones_like(a))) == 8.0
    np.testing.assert_array_equal(tree.full_like(a, 7.0)["b"][0], [7.0, 7.0])


def test_random_normal_like(key):
    a = {"x": jnp.zeros((2000,)), "y": jnp.zeros((3, 4), jnp.float32)}
    r1, r2 = tree.random_normal_like(key, a), tree.random_normal_like(key, a)
    assert tree.allclose(r1, r2)  # same key, same draw
    assert not np.allclose(r1["x"][:12], np.ravel(r1["y"]))  # leaves get independent keys
    # standard normal: mean within 4 standard errors (1/sqrt(2000)), variance within 10%
    assert abs(float(jnp.mean(r1["x"]))) < 4 / np.sqrt(2000)
    assert float(jnp.var(r1["x"])) == pytest.approx(1.0, rel=0.1)
    with pytest.raises(TypeError, match="floating"):
        tree.random_normal_like(key, {"i": jnp.zeros(3, jnp.int32)})


def test_stack_unstack_roundtrip():
    trees = [_tree(float(s)) for s in range(3)]
    st = tree.stack(trees)
    assert st["w"].shape == (3, 2, 3)
    back = tree.unstack(st)
    assert len(back) == 3 and all(tree.allclose(x, y) for x, y in zip(back, trees))
    with pytest.raises(ValueError, match="empty"):
        tree.stack([])


def test_ravel_roundtrip():
    a = _tree()
    flat, unravel = tree.ravel(a)
    assert flat.shape == (8,)
    assert tree.allclose(unravel(flat), a)


def test_allclose_dtype_aware_tolerances():
    x = jnp.ones(4, jnp.float32)
    assert tree.allclose({"a": x}, {"a": x + 1e-6})  # within f32 tolerance (~1e-4)
    assert not tree.allclose({"a": x}, {"a": x + 1e-2})
    assert not tree.allclose({"a": x}, {"b": x})  # structure differs
    assert not tree.allclose({"a": x}, {"a": jnp.ones(5)})  # shape differs
    assert tree.allclose({"a": jnp.array([jnp.nan])}, {"a": jnp.array([jnp.nan])})
    r64, _ = tree.default_tolerance(jnp.float64)
    r32, _ = tree.default_tolerance(jnp.float32)
    r16, _ = tree.default_tolerance(jnp.bfloat16)
    assert r64 < r32 < r16
    assert tree.default_tolerance(jnp.int32) == (0.0, 0.0)


def test_ema_matches_closed_form():
    # repeated EMA towards a constant: e_t = c + decay^t (e_0 − c)
    e, c = {"p": jnp.zeros(3)}, {"p": jnp.full(3, 2.0)}
    for _ in range(10):
        e = tree.ema_update(e, c, 0.8)
    np.testing.assert_allclose(e["p"], 2.0 * (1 - 0.8**10), rtol=1e-6)


def test_jit_and_vmap_compatible():
    a = _tree()
    f = jax.jit(lambda t: tree.norm(tree.axpy(2.0, t, t)))
    assert float(f(a)) == pytest.approx(3 * float(tree.norm(a)), rel=1e-6)
    st = tree.stack([a, tree.scale(2.0, a)])
    norms = jax.vmap(tree.norm)(st)
    np.testing.assert_allclose(norms, [float(tree.norm(a)), 2 * float(tree.norm(a))], rtol=1e-6)
