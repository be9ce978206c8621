"""The spec's worked example, shared by the alignment reproductions: a Bernoulli(0.3) token with
reward = number of ones, KL budget δ = 0.1 per token, and the spec's table for it."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from ._outcomes import outcomes

Q = 0.3  # Bernoulli token of the spec's example
DELTA = 0.1
SPEC_TABLE = {
    100: (0.4929, 0.0895, 9.2e-3),
    1000: (0.5113, 0.0989, 2.0e-3),
    5000: (0.5138, 0.0998, 5.6e-4),
}


def bernoulli_example():
    """The Bernoulli(Q) token as outcomes: values (0, 1), reward = value."""
    return outcomes(jnp.array([0.0, 1.0]), probs=jnp.array([1 - Q, Q]))


def as_float(x: Any) -> float:
    """A scalar (NumPy or JAX, any float dtype) as a Python float, for metrics."""
    return float(np.asarray(x))
