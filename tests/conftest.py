"""Test configuration shared by every test folder.

Four virtual CPU devices (so sharded code paths run on one machine), strict dtype promotion
(catches silent int/float and f32/f64 mixing, as equinox's own tests do), and a ``key`` fixture.
Tests that need float64 use the ``x64`` fixture, which enables it only inside the test.
"""

import os

os.environ.setdefault("JENTROPY_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax
import pytest

jax.config.update("jax_num_cpu_devices", 4)
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture
def key():
    """A fresh PRNG key; tests derive everything random from it. ``JENTROPY_TEST_SEED=N``
    changes it, to check that statistical assertions hold beyond the default seed 0."""
    return jax.random.key(int(os.environ.get("JENTROPY_TEST_SEED", "0")))


@pytest.fixture
def x64():
    """Run the test body with 64-bit floats enabled (a context manager, never a global flip)."""
    with jax.enable_x64(True):
        yield
