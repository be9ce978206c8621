"""Two-dimensional (image) ordinal patterns against ordpy, float64 (atol 1e-15 / 1e-10)."""

import numpy as np
import ordpy
import pytest

from jentropy import ordinal


@pytest.mark.parametrize("dx, dy, tx, ty", [(3, 2, 1, 2)])  # non-square, row delay 2
def test_image_patterns_match_ordpy(x64, dx, dy, tx, ty):
    rng = np.random.default_rng(0)
    images = np.stack(
        [rng.standard_normal((30, 36)), rng.integers(0, 3, (30, 36)).astype(float)]  # + ties
    )
    probs = ordinal.image_ordinal_distribution(images, dx, dy, tx, ty)
    h, c = ordinal.image_entropy_complexity(images, dx, dy, tx, ty)
    for b, img in enumerate(images):
        _, ref = ordpy.ordinal_distribution(
            img, dx=dx, dy=dy, taux=tx, tauy=ty, return_missing=True, ordered=True
        )
        np.testing.assert_allclose(probs[b], ref, rtol=0, atol=1e-15)
        ref_hc = ordpy.complexity_entropy(img, dx=dx, dy=dy, taux=tx, tauy=ty)
        np.testing.assert_allclose([h[b], c[b]], ref_hc, rtol=0, atol=1e-10)


def test_image_errors():
    with pytest.raises(ValueError, match="image must have shape"):
        ordinal.image_entropy_complexity(np.zeros(10))
    with pytest.raises(ValueError, match="smaller than the 3 x 2 window"):
        ordinal.image_pattern_counts(np.zeros((2, 2)), dx=2, dy=3)
    with pytest.raises(ValueError, match="image contains NaN"):
        ordinal.image_pattern_counts(np.full((4, 4), np.nan))
