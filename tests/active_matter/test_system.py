"""ActiveSystem validation, box size from packing fraction, wrapping and the minimum image."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import active_matter as am


def test_box_from_packing_fraction():
    system = am.mips_system(4096, 0.5)
    assert system.half_width == pytest.approx(0.5 * math.sqrt(4096 * math.pi / 0.5))
    assert system.packing_fraction == pytest.approx(0.5)
    assert (system.v0, system.gamma, system.epsilon, system.beta) == (0.025, 1e-4, 0.0, 7.5)
    assert system.interaction_range == pytest.approx(2.0 + 15.0 / 7.5)
    assert am.ActiveSystem(4, beta=None).interaction_range == 2.0


def test_wrap_and_minimum_image(x64):
    x = jnp.array([[-10.0, 9.999], [10.0, -10.5], [25.0, 3.0]])
    w = am.wrap(x, 10.0)
    assert bool(jnp.all((w >= -10.0) & (w < 10.0)))
    np.testing.assert_allclose(w, [[-10.0, 9.999], [-10.0, 9.5], [5.0, 3.0]], atol=1e-12)
    d = am.minimum_image(jnp.array([[19.0, -11.0]]), 10.0)
    np.testing.assert_allclose(d, [[-1.0, 9.0]], atol=1e-12)
    assert am.wrap(x, None) is x


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_particles": 0}, "n_particles"),
        ({"n_particles": 4, "gamma": 0.0}, "gamma"),
        ({"n_particles": 4, "v0": -1.0}, "v0"),
        ({"n_particles": 4, "half_width": 5.0, "trap": 1.0}, "free space"),
        ({"n_particles": 4, "propulsion": "run-tumble"}, "propulsion"),
        ({"n_particles": 4, "propulsion": "abp", "dim": 3}, "dim=2"),
        ({"n_particles": 4, "cell_capacity": 0}, "cell_capacity"),
    ],
)
def test_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        am.ActiveSystem(**kwargs)
    with pytest.raises(ValueError, match="packing_fraction"):
        am.mips_system(10, 1.5)
    with pytest.raises(TypeError, match="v0"):
        am.ActiveSystem(4, v0="fast")
