"""Series shared by the ordinal tests, built with NumPy exactly as the spec defines them.

The oracle values in docs/specs come from these NumPy constructions (the chaotic maps iterated
with NumPy scalars, as peccary's examples do), so the tests feed them to jentropy in float64.
"""

import math

import numpy as np
import pytest


def logistic_np(num: int, r: float = 4.0, x0: float = 0.1) -> np.ndarray:
    x = np.zeros(num)
    x[0] = x0
    for i in range(1, num):
        x[i] = r * x[i - 1] * (1 - x[i - 1])
    return x


def henon_np(num: int, a: float = 1.4, b: float = 0.3) -> np.ndarray:
    xy = np.zeros((2, num))
    xy[:, 0] = 1.0
    for i in range(1, num):
        xy[0, i] = 1.0 - a * xy[0, i - 1] ** 2.0 + xy[1, i - 1]  # NumPy scalar pow, as peccary
        xy[1, i] = b * xy[0, i - 1]
    return xy[0]


def sine_np(num: int, period: float) -> np.ndarray:
    return np.sin(2 * np.pi * np.arange(num) / period)


@pytest.fixture(scope="session")
def oracle_series():
    """The spec's four 1e5-point series (n = 5 oracle table), stacked in one (4, 1e5) batch."""
    num = 100_000
    white = np.random.default_rng(0).standard_normal(num)
    return np.stack([white, sine_np(num, 100.0), logistic_np(num), henon_np(num)])


@pytest.fixture(scope="session")
def peer_series():
    """White noise, sine, logistic, Hénon and an integer-valued (tie-heavy) series, 2500 points."""
    num = 2500
    rng = np.random.default_rng(7)
    return {
        "white": rng.standard_normal(num),
        "sine": sine_np(num, 37.3),
        "logistic": logistic_np(num),
        "henon": henon_np(num),
        "ties": rng.integers(0, 4, num).astype(np.float64),
    }


def factorial(n: int) -> int:
    return math.factorial(n)
