"""Bad input raises ValueError/TypeError naming the argument and what was expected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import ordinal

X = np.random.default_rng(0).standard_normal(200)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n": 1}, ValueError, r"n \(pattern length\) must be >= 2"),
        ({"n": 3.0}, TypeError, r"n \(pattern length\) must be a Python int"),
        ({"n": True}, TypeError, r"n \(pattern length\) must be a Python int"),
        ({"n": 11}, ValueError, r"n=11 .*allow_large=True"),
        ({"n": 13, "allow_large": True}, ValueError, r"n \(pattern length\) must be <= 12"),
        ({"delay": 0}, ValueError, r"delay \(sampling interval ℓ\) must be >= 1"),
        ({"delay": 1.5}, TypeError, r"delay must be an int"),
        ({"delay": np.array([1, 0])}, ValueError, r"delay values .* must be >= 1"),
        ({"delay": np.array([[1, 2]])}, ValueError, r"delay array must be 1-D"),
        ({"delay": 60}, ValueError, r"x has 200 time points .* spans \(n-1\)\*delay\+1 = 241"),
        ({"n": 5, "delay": np.array([1, 50])}, ValueError, r"x has 200 time points"),
    ],
)
def test_bad_orders_and_delays(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ordinal.entropy_complexity(X, **kwargs)


def test_bad_series():
    with pytest.raises(ValueError, match=r"x must be a series of shape \(T,\) or a batch"):
        ordinal.entropy_complexity(np.zeros((2, 3, 50)))
    with pytest.raises(ValueError, match=r"x must be a series of shape"):
        ordinal.entropy_complexity(np.float32(1.0))
    with pytest.raises(TypeError, match="x must have a real"):
        ordinal.entropy_complexity(np.ones(50, complex))
    with pytest.raises(TypeError, match="x must have a real"):
        ordinal.entropy_complexity(np.ones(50, bool))
    with pytest.raises(ValueError, match="x has 4 time points"):
        ordinal.entropy_complexity(np.arange(4.0), 5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(bad):
    x = X.copy()
    x[17] = bad
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        ordinal.entropy_complexity(x, 3)
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        ordinal.pattern_counts(x[None], 3)


def test_non_finite_under_jit_is_a_runtime_error():
    x = jnp.asarray(X).at[3].set(jnp.nan)
    with pytest.raises(Exception, match="x contains NaN or inf"):
        jax.block_until_ready(jax.jit(lambda s: ordinal.entropy_complexity(s, 3))(x))


def test_other_entry_points_validate():
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        ordinal.renyi_entropy_complexity(X, -1.0, 3)
    with pytest.raises(ValueError, match="q must be >= 0"):
        ordinal.tsallis_permutation_entropy(X, np.array([1.0, -2.0]), 3)
    with pytest.raises(ValueError, match="method must be one of"):
        ordinal.natural_timescale(X, method="zero")
    with pytest.raises(ValueError, match=r"dt .* positive"):
        ordinal.natural_timescale(X, dt=0.0)
    with pytest.raises(ValueError, match="boundary must be a fraction"):
        ordinal.classify(0.5, 0.2, 5, boundary=1.5)
    with pytest.raises(TypeError, match="single int delay"):
        ordinal.ordinal_patterns(X, 3, np.array([1, 2]))
    with pytest.raises(ValueError, match="p must be non-negative"):
        ordinal.entropy_complexity_from_distribution(np.array([1.5, -0.5]))
    with pytest.raises(ValueError, match="exponent must be a number or one of"):
        ordinal.colored_noise(jax.random.key(0), 100, "green")
