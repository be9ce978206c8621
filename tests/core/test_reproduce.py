"""The reproduction registry, the runner and the ``jentropy`` CLI, on a stand-in module."""

import importlib.machinery
import json
import os
import subprocess
import sys
import types

import jax
import numpy as np
import pytest

import jentropy
from jentropy import cli, reproduce


@pytest.fixture
def fake_module(monkeypatch):
    """Register a paper module 'fake' with two reproductions, one of which fails."""
    mod = types.ModuleType("jentropy.fake.reproduce")
    mod.__spec__ = importlib.machinery.ModuleSpec("jentropy.fake.reproduce", loader=None)
    monkeypatch.setitem(sys.modules, "jentropy.fake.reproduce", mod)
    monkeypatch.setattr(jentropy, "PAPER_MODULES", (*jentropy.PAPER_MODULES, "fake"))
    monkeypatch.setitem(reproduce._REGISTRY, "fake", {})
    calls = []

    @reproduce.register("fake", description="a line plot")
    def line(*, scale, key):
        import matplotlib.pyplot as plt

        n = reproduce.pick(scale, smoke=5, quick=50, full=500)
        x = jax.random.normal(key, (n,))
        calls.append((scale, np.asarray(x)))
        fig, ax = plt.subplots()
        ax.plot(np.asarray(x))
        return reproduce.Result(
            figures={"line": fig}, metrics={"n": n, "mean": float(x.mean()), "bad": float("nan")}
        )

    @reproduce.register("fake")
    def broken(*, scale, key):
        """Always fails."""
        raise RuntimeError("deliberate failure")

    return calls


def test_pick_and_scale(monkeypatch):
    assert reproduce.pick("quick", smoke=1, quick=2, full=3) == 2
    with pytest.raises(ValueError, match="scale must be one of"):
        reproduce.pick("huge", smoke=1, quick=2, full=3)
    monkeypatch.setenv("JENTROPY_SCALE", "Smoke")
    assert reproduce.scale_from_env() == "smoke"
    monkeypatch.delenv("JENTROPY_SCALE")
    assert reproduce.scale_from_env() == "quick"


def test_unknown_module_and_figure_list_valid_names(fake_module):
    with pytest.raises(ValueError, match=r"built modules: .*fake"):
        reproduce.reproductions("nonexistent")
    with pytest.raises(ValueError, match="planned but not built"):
        reproduce.reproductions("consciousness")
    with pytest.raises(ValueError, match="figures: broken, line"):
        reproduce.run("fake", "nope", scale="smoke", out=None)


def test_run_writes_png_and_metrics_and_isolates_failures(fake_module, tmp_path):
    records = reproduce.run("fake", scale="smoke", seed=3, out=str(tmp_path), show_progress=False)
    assert records["line"].error is None and "deliberate failure" in records["broken"].error
    png = tmp_path / "fake" / "line.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "fake" / "metrics.json").read_text())
    entry = data["figures"]["line"]
    assert entry["status"] == "ok" and entry["metrics"]["n"] == 5 and entry["scale"] == "smoke"
    assert entry["metrics"]["bad"] == "nan"  # non-finite floats stay visible, JSON stays valid
    assert data["figures"]["broken"]["status"] == "error"
    assert data["environment"]["versions"]["jax"] == jax.__version__
    assert not [f for f in os.listdir(tmp_path / "fake") if f.startswith(".tmp")]  # atomic writes
    # same seed, same numbers; a later single-figure run merges into metrics.json
    reproduce.run("fake", "line", scale="smoke", seed=3, out=str(tmp_path), show_progress=False)
    np.testing.assert_array_equal(fake_module[0][1], fake_module[1][1])
    data2 = json.loads((tmp_path / "fake" / "metrics.json").read_text())
    assert set(data2["figures"]) == {"line", "broken"}
    reproduce.run("fake", "line", scale="smoke", seed=4, out=None, show_progress=False)
    assert not np.array_equal(fake_module[0][1], fake_module[2][1])


def test_cli_exit_codes_and_summary(fake_module, tmp_path, capsys):
    out = str(tmp_path)
    assert cli.main(["reproduce", "fake", "--figure", "line", "--smoke", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "line" in text and "ok" in text and "n=5" in text
    assert cli.main(["reproduce", "fake", "--smoke", "--out", out]) == cli.EXIT_FAILED
    assert "FAILED" in capsys.readouterr().out
    assert cli.main(["reproduce", "nope", "--smoke"]) == cli.EXIT_USAGE
    assert "built modules" in capsys.readouterr().err
    assert cli.main(["reproduce", "fake", "--figure", "zzz", "--smoke", "--out", out]) == 2
    assert "figures: broken, line" in capsys.readouterr().err
    assert cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "fake" in listing and "a line plot" in listing and "(planned)" in listing
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", "fake", "--quick", "--smoke"])  # mutually exclusive scales
    assert exc.value.code == 2


def test_cli_info_and_bench_listing(capsys, tmp_path):
    assert cli.main(["info"]) == 0
    assert "devices" in capsys.readouterr().out
    (tmp_path / "toy_bench.py").write_text("import sys; sys.exit(0)\n")
    assert cli.main(["bench", "--dir", str(tmp_path)]) == 0
    assert "toy_bench" in capsys.readouterr().out
    assert cli.main(["bench", "toy_bench", "--dir", str(tmp_path)]) == 0
    assert cli.main(["bench", "missing", "--dir", str(tmp_path)]) == cli.EXIT_USAGE


def test_console_script_and_cheap_import():
    # a fresh interpreter: `import jentropy` must not import jax's heavy paper modules or flax
    code = (
        "import sys, time; t = time.perf_counter(); import jentropy; "
        "print(time.perf_counter() - t); print('flax' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, heavy = out.stdout.split("\n")[:2]
    assert float(seconds) < 1.0
    assert heavy == "False False"
    proc = subprocess.run(
        [sys.executable, "-m", "jentropy.cli", "list"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "consciousness" in proc.stdout
