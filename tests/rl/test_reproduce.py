"""Reproduction helpers (AUROC vs scikit-learn, sizes) and, marked slow, a smoke run."""

import numpy as np
import pytest

from jentropy import reproduce


def test_auroc_matches_sklearn():
    sklearn = pytest.importorskip("sklearn.metrics")
    from jentropy.rl import _experiments as ex

    rng = np.random.default_rng(0)
    labels = rng.random(300) < 0.4
    scores = np.round(labels + rng.normal(0, 1, 300), 1)  # rounding makes ties
    assert ex.auroc(scores, labels) == pytest.approx(
        sklearn.roc_auc_score(labels, scores), abs=1e-12
    )
    assert np.isnan(ex.auroc(scores, np.ones(300, bool)))


def test_sizes_and_registry():
    from jentropy.rl import _experiments as ex

    assert ex.sizes("quick").seeds == ex.sizes("smoke").seeds == 3
    assert set(reproduce.reproductions("rl")) == {"addition_rl", "semantic_entropy_auroc"}
    cfgs = [c for c, _ in ex.variants(ex.sizes("smoke")).values()]
    assert len(cfgs) == 6


@pytest.mark.slow
def test_smoke_reproductions(tmp_path):
    records = reproduce.run("rl", scale="smoke", out=str(tmp_path), show_progress=False)
    for name, rec in records.items():
        assert rec.error is None, f"{name}: {rec.error}"
    files = {p.name for p in (tmp_path / "rl").iterdir()}
    assert {
        "accuracy.png",
        "entropy.png",
        "pshw.png",
        "rsr.png",
        "seed_updates.png",
        "semantic_entropy_auroc.png",
    } <= files
