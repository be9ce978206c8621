"""Data helpers: scikit-learn's digits, the Shepp–Logan phantom, random phantoms."""

import jax
import numpy as np
import pytest

from jentropy import active_sampling as ads


def test_load_digits():
    pytest.importorskip("sklearn")
    images, labels = ads.load_digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    np.testing.assert_array_equal(np.unique(labels), np.arange(10))


def test_shepp_logan():
    p = np.asarray(ads.shepp_logan(64))
    assert p.shape == (64, 64) and p.min() >= 0.0 and p.max() <= 1.0 + 1e-6
    # the centre lies in the head (1.0) and brain (−0.8) ellipses only: 0.2
    np.testing.assert_allclose(p[32, 32], 0.2, atol=1e-6)
    assert p[0, 0] == 0.0  # outside the head
    np.testing.assert_allclose(p.max(), 1.0, atol=1e-6)  # the skull rim


def test_random_phantoms():
    a = ads.random_phantoms(jax.random.key(0), 5, 16)
    b = ads.random_phantoms(jax.random.key(0), 5, 16)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 16, 16) and float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert float(a[:, 0, 0].max()) == 0.0 and float(a[:, 8, 8].min()) > 0.0
    with pytest.raises(ValueError, match="size must be"):
        ads.random_phantoms(jax.random.key(0), 2, 2)
