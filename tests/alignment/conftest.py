"""Shared base distributions for the alignment tests (float64: the oracle values have 6 digits)."""

import jax
import jax.numpy as jnp
import pytest

from jentropy import alignment as al


@pytest.fixture
def bernoulli(x64):
    """Bernoulli(0.3) token with reward = the token (the spec's sequence example)."""
    return al.outcomes(jnp.array([0.0, 1.0]), probs=jnp.array([0.7, 0.3]))


@pytest.fixture
def categorical(x64):
    """A 50-outcome categorical with Gaussian rewards (no ties) and peaked logits."""
    logits = 2.0 * jax.random.normal(jax.random.key(1), (50,))
    reward = jax.random.normal(jax.random.key(2), (50,))
    return al.outcomes(reward, logits=logits)


@pytest.fixture
def tied(x64):
    """Four outcomes with a tie at reward 1 (levels 0, 1, 2 with masses .1, .5, .4)."""
    return al.outcomes(jnp.array([0.0, 1.0, 1.0, 2.0]), probs=jnp.array([0.1, 0.2, 0.3, 0.4]))
