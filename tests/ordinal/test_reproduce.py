"""The ordinal reproductions are registered (they run in the notebook at smoke scale in CI)."""

from jentropy import reproduce


def test_reproductions_registered():
    found = reproduce.reproductions("ordinal")
    assert {"hc_plane", "sampling_interval"} <= set(found)
    assert all(r.description for r in found.values())
