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
    """A fresh PRNG key; tests derive everything random from it."""
    return jax.random.key(0)


@pytest.fixture
def x64():
    """Run the test body with 64-bit floats enabled (a context manager, never a global flip)."""
    with jax.enable_x64(True):
        yield
