"""Shared, session-wide tiny policies: initialising a Flax model and compiling its SFT loop
once keeps the rl suite inside its time budget."""

import jax
import pytest

from jentropy import rl

TASK = rl.AdditionTask(n_digits=2)
SFT_KW = {"batch_size": 32, "carry_fraction": 0.1, "chunk": 20, "progress": False}


@pytest.fixture(scope="session")
def tiny_policy():
    """An untrained TinyLM (width 16, 2 blocks, 2 heads) for the addition task."""
    return rl.make_policy(TASK, key=jax.random.key(0), width=16, depth=2, heads=2)


@pytest.fixture(scope="session")
def sft_result(tiny_policy):
    """``tiny_policy`` after 40 SFT steps (chunks of 20, so resumed runs share the compilation)."""
    return rl.train_sft(tiny_policy, TASK, key=jax.random.key(1), steps=40, **SFT_KW)
