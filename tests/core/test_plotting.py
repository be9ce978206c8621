"""jentropy.plotting: headless figures with the house defaults."""

import pytest

from jentropy import plotting


def test_subplots_shape_and_size():
    fig, axes = plotting.subplots(2, 3)
    assert axes.shape == (2, 3)
    w, h = fig.get_size_inches()
    assert (w, h) == pytest.approx((3 * 3.8, 2 * 3.2))
    plotting.label(axes[0, 0], "x", "y", "t")
    assert axes[0, 0].get_xlabel() == "x" and axes[0, 0].get_title() == "t"
    with pytest.raises(ValueError, match="nrows"):
        plotting.subplots(0, 1)


def test_colors():
    assert len(plotting.colors(4)) == 4
    assert plotting.colors(3, "categorical")[0] != plotting.colors(3, "categorical")[1]
    assert plotting.colors(0) == []
