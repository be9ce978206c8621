"""Shared base distributions for the alignment tests (float64: the oracle values have 6 digits).

Test data come from NumPy's generator (no compilation); the outcome counts fall into the
library's shape bucket K ≤ 16 (the M = 10⁵ oracle aside), so the tests share compiled functions:
compilation, not arithmetic, is what these tests spend their time on.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import alignment as al

K = 16


@pytest.fixture
def bernoulli(x64):
    """Bernoulli(0.3) token with reward = the token (the spec's sequence example)."""
    return al.outcomes(jnp.array([0.0, 1.0]), probs=jnp.array([0.7, 0.3]))


@pytest.fixture
def categorical(x64):
    """A 16-outcome categorical with Gaussian rewards (no ties) and peaked logits."""
    rng = np.random.default_rng(1)
    logits, reward = 2.0 * rng.standard_normal(K), rng.standard_normal(K)
    return al.outcomes(jnp.asarray(reward), logits=jnp.asarray(logits))


@pytest.fixture
def tied(x64):
    """Four outcomes with a tie at reward 1 (levels 0, 1, 2 with masses .1, .5, .4)."""
    return al.outcomes(jnp.array([0.0, 1.0, 1.0, 2.0]), probs=jnp.array([0.1, 0.2, 0.3, 0.4]))
