"""Validation and normalisation of the base distribution (the issue's bad-input list)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import alignment as al


def test_probs_and_logits_agree(x64):
    p = jnp.array([0.2, 0.5, 0.3])
    r = jnp.array([1.0, 0.0, 2.0])
    a = al.outcomes(r, probs=p)
    b = al.outcomes(r, logits=jnp.asarray(np.log([0.2, 0.5, 0.3]) + 7.0))  # normalised
    np.testing.assert_allclose(a.logp, np.log(np.asarray(p)), rtol=1e-15)
    np.testing.assert_allclose(b.logp, a.logp, rtol=1e-14)
    assert a.logp.dtype == jnp.float64 and a.reward.dtype == jnp.float64


def test_dtype_follows_input():
    o = al.outcomes(jnp.arange(3, dtype=jnp.float32), probs=jnp.full(3, 1 / 3, jnp.float32))
    assert o.logp.dtype == jnp.float32 and o.reward.dtype == jnp.float32
    assert al.tilt_kl(o, 0.5).dtype == jnp.float32


def test_zero_probabilities_become_minus_inf(x64):
    o = al.outcomes(jnp.arange(3.0), probs=jnp.array([0.5, 0.0, 0.5]))
    assert np.isneginf(o.logp[1]) and np.isfinite(o.logp[0])


def test_traced_inputs_skip_value_checks(x64):
    # under jit the values are unknown; building Outcomes must still work (and be differentiable)
    f = jax.jit(lambda lg: al.outcomes(jnp.arange(3.0), logits=lg).logp)
    np.testing.assert_allclose(np.exp(f(jnp.zeros(3))), np.full(3, 1 / 3), rtol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"probs": [0.5, 0.6]}, ValueError, "sum to one"),
        ({"probs": [1.2, -0.2]}, ValueError, "non-negative"),
        ({"probs": [0.5, 0.5], "logits": [0.0, 0.0]}, ValueError, "exactly one"),
        ({}, ValueError, "exactly one"),
        ({"probs": [[0.5, 0.5]]}, ValueError, "1-D"),
        ({"probs": [0.2, 0.3, 0.5]}, ValueError, "same shape"),
        ({"logits": [0.0, float("nan")]}, ValueError, "NaN"),
        ({"logits": [0.0, float("inf")]}, ValueError, r"\+inf"),
        ({"logits": [-float("inf")] * 2}, ValueError, "positive probability"),
        ({"probs": [0.5 + 0j, 0.5]}, TypeError, "real"),
    ],
)
def test_bad_inputs(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        al.outcomes(jnp.array([0.0, 1.0]), **kwargs)


def test_non_finite_reward():
    with pytest.raises(ValueError, match="reward must be finite"):
        al.outcomes(jnp.array([0.0, jnp.inf]), probs=jnp.array([0.5, 0.5]))


def test_functions_want_outcomes():
    with pytest.raises(TypeError, match="must be an Outcomes"):
        al.tilt_kl((jnp.zeros(2), jnp.zeros(2)), 1.0)
    with pytest.raises(ValueError, match="equal length"):
        al.tilt_kl(al.Outcomes(jnp.zeros(2), jnp.zeros(3)), 1.0)
