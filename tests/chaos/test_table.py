"""The property-table command: rows, diagnostics, atomic resumable output, failure capture.

Sizes are the ``smoke`` preset on a map (cheap to compile), so the numbers are checked only
loosely here (Hénon λ1 within 0.05 of 0.419 from 2 × 1,000 iterations: stderr ~0.01); the
estimators themselves are tested to tight tolerances in test_lyapunov.py / test_properties.py.
"""

import json

import jax
import numpy as np
import pytest

from jentropy import chaos
from jentropy.chaos import _table


def test_property_table_row_and_resume(x64, tmp_path, monkeypatch):
    out = str(tmp_path / "props.json")
    cfg = chaos.table_config("smoke")
    table = chaos.property_table(["Henon"], key=jax.random.key(0), config=cfg, out=out)
    row = table["Henon"]
    assert row["status"] == "ok", row
    assert abs(row["maximum_lyapunov"] - 0.419) < 0.05
    np.testing.assert_allclose(sum(row["lyapunov_spectrum"]), np.log(0.3), atol=1e-9)
    for field in ("kaplan_yorke_dimension", "correlation_dimension", "zero_one_K",
                  "multiscale_entropy", "lyapunov_stderr", "lyapunov_half_drift"):  # fmt: skip
        assert row[field] is not None, field
    assert set(row["seconds"]) == {"trajectory", "lyapunov"}
    with open(out) as f:
        saved = json.load(f)
    assert saved["systems"]["Henon"]["maximum_lyapunov"] == row["maximum_lyapunov"]

    calls = []
    monkeypatch.setattr(_table, "system_properties", lambda s, **kw: calls.append(s) or {})
    again = chaos.property_table(["Henon"], key=jax.random.key(0), config=cfg, out=out)
    assert calls == [] and again["Henon"] == saved["systems"]["Henon"]  # resumed, not recomputed
    chaos.property_table(["Henon"], key=jax.random.key(0), config=cfg, out=out, resume=False)
    assert len(calls) == 1


def test_failures_are_rows_not_crashes(x64, monkeypatch):
    def boom(*args, **kwargs):
        raise FloatingPointError("diverged")

    monkeypatch.setattr(_table, "_lyapunov", boom)
    row = chaos.system_properties(
        "Henon", key=jax.random.key(0), config=chaos.table_config("smoke")
    )
    assert row["status"] == "failed" and "diverged" in row["lyapunov_error"]
    assert row["correlation_dimension"] is not None  # the other part still ran


def test_shared_names_get_a_kind_suffix():
    systems = [chaos.get("Duffing"), chaos.get("Duffing", kind="map")]
    keyed = {}
    for s in systems:
        keyed[_table.row_name(s, keyed)] = s
    assert list(keyed) == ["Duffing", "Duffing (map)"]


def test_cli_parses(tmp_path, monkeypatch):
    seen = {}

    def fake(names, **kwargs):
        seen.update(names=names, **kwargs)
        return {}

    monkeypatch.setattr(_table, "property_table", fake)
    assert _table.main(["--systems", "Lorenz, Henon", "--scale", "smoke", "--out", "x.json"]) == 0
    assert seen["names"] == ["Lorenz", "Henon"] and seen["out"] == "x.json"
    with pytest.raises(SystemExit):
        _table.main(["--scale", "huge"])
