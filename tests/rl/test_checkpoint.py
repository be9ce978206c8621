"""The RL trainers' atomic checkpoint: exact round trip of every leaf dtype, shape checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy.rl._checkpoint import load_pytree, save_pytree


def test_round_trip_is_exact_for_bfloat16_keys_and_extras(tmp_path):
    # a plugged-in Flax/tunix policy may hold bfloat16 parameters, which np.load cannot read back
    tree = {
        "w": jnp.array([1.5, -2.25, 3e-3, -0.0], jnp.bfloat16),
        "b": jnp.linspace(-1.0, 1.0, 5),
        "step": jnp.arange(3),
        "key": jax.random.key(7),
    }
    path = str(tmp_path / "sub" / "state.npz")
    save_pytree(path, tree, {"fingerprint": "abc"}, {"loss": np.array([0.5, 0.25])})
    out, meta, extra = load_pytree(path, tree)
    for name in ("w", "b", "step"):
        assert out[name].dtype == tree[name].dtype
        np.testing.assert_array_equal(
            np.asarray(out[name]).view(np.uint8), np.asarray(tree[name]).view(np.uint8)
        )
    np.testing.assert_array_equal(jax.random.key_data(out["key"]), jax.random.key_data(tree["key"]))
    assert meta == {"fingerprint": "abc"}
    np.testing.assert_array_equal(extra["loss"], [0.5, 0.25])
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["state.npz"]  # no temp file left
    with pytest.raises(ValueError, match="shape"):
        load_pytree(path, {**tree, "b": jnp.zeros(4)})
