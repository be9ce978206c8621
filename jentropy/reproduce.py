"""Registry of paper reproductions, and the runner behind ``jentropy reproduce``.

Each paper module's ``reproduce.py`` registers functions with the signature
``name(*, scale: str, key: jax.Array) -> Result``::

    from jentropy.reproduce import Result, register, pick

    @register("ordinal", description="H-C plane of the paper's example signals")
    def hc_plane(*, scale, key):
        n_points = pick(scale, smoke=1_000, quick=20_000, full=100_000)
        ...
        return Result(figures={"hc_plane": fig}, metrics={"H_sine": 0.21})

Three scales (DESIGN.md): ``smoke`` (same code path at toy size, < 1 min), ``quick`` (the CPU
reproduction, minutes) and ``full`` (the paper's scale, for an accelerator).

:func:`run` executes reproductions, writes ``DIR/<module>/<figure>.png`` and ``DIR/<module>/metrics.json``
(atomically) and returns the results.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

SCALES = ("smoke", "quick", "full")
T = TypeVar("T")


@dataclasses.dataclass
class Result:
    """What a reproduction returns.

    Attributes:
        figures: ``{file_stem: matplotlib.figure.Figure}``; each is written as ``<file_stem>.png``.
        metrics: JSON-serialisable numbers (and short strings/lists) the reproduction measured.
        notes: free text shown in the summary (e.g. the gap to the paper's numbers).
    """

    figures: dict[str, Any] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """A registered reproduction: ``fn(*, scale, key) -> Result``."""

    module: str
    name: str
    fn: Callable[..., Result]
    description: str = ""


_REGISTRY: dict[str, dict[str, Reproduction]] = {}


def register(
    module: str, name: str | None = None, *, description: str = ""
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Decorator registering ``fn(*, scale, key) -> Result`` as reproduction ``module/name``.

    ``name`` defaults to the function's name; ``description`` defaults to its docstring's first line.
    """

    def decorator(fn: Callable[..., Result]) -> Callable[..., Result]:
        fig_name = name or fn.__name__
        doc = description or (fn.__doc__ or "").strip().split("\n")[0]
        _REGISTRY.setdefault(module, {})[fig_name] = Reproduction(module, fig_name, fn, doc)
        return fn

    return decorator


def check_scale(scale: str) -> str:
    """Return ``scale`` if it is one of :data:`SCALES`, else raise ``ValueError``."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return scale


def pick(scale: str, *, smoke: T, quick: T, full: T) -> T:
    """Choose a size by scale: ``pick(scale, smoke=100, quick=10_000, full=100_000)``."""
    return {"smoke": smoke, "quick": quick, "full": full}[check_scale(scale)]


def scale_from_env(default: str = "quick") -> str:
    """The scale named by the ``JENTROPY_SCALE`` environment variable (notebooks' first cell)."""
    return check_scale(os.environ.get("JENTROPY_SCALE", default).strip().lower())


def progress(
    iterable: Iterable[T] | None = None,
    *,
    desc: str = "",
    total: int | None = None,
    disable: bool | None = None,
    **kwargs: Any,
) -> Any:
    """A progress bar on stderr (tqdm), off when ``JENTROPY_PROGRESS=0`` or ``disable=True``.

    Iterate over it like the wrapped iterable, or pass ``iterable=None, total=n`` and call
    ``.update(k)`` / ``.set_postfix(loss=...)`` by hand. Extra keyword arguments go to tqdm.
    """
    from tqdm.auto import tqdm

    if disable is None or not disable:
        disable = bool(disable) or os.environ.get("JENTROPY_PROGRESS", "1") == "0"
    kwargs.setdefault("leave", False)
    return tqdm(iterable, desc=desc, total=total, disable=disable, file=sys.stderr, **kwargs)


def built_modules() -> tuple[str, ...]:
    """Paper modules that ship a ``reproduce.py`` (in the order of ``jentropy.PAPER_MODULES``)."""
    from jentropy import PAPER_MODULES

    return tuple(m for m in PAPER_MODULES if _has_reproduce(m))


def _has_reproduce(module: str) -> bool:
    try:
        return importlib.util.find_spec(f"jentropy.{module}.reproduce") is not None
    except ModuleNotFoundError:
        return False


def reproductions(module: str) -> dict[str, Reproduction]:
    """The reproductions module ``module`` registers, by name (imports its ``reproduce.py``).

    Raises ``ValueError`` naming the built modules when ``module`` is unknown.
    """
    from jentropy import PAPER_MODULES

    built = built_modules()
    if module not in built:
        state = "is planned but not built yet" if module in PAPER_MODULES else "is not a module"
        raise ValueError(f"module {module!r} {state}; built modules: {', '.join(built) or 'none'}")
    importlib.import_module(f"jentropy.{module}.reproduce")
    return dict(_REGISTRY.get(module, {}))


def _jsonable(value: Any) -> Any:
    """Convert numpy/JAX scalars and arrays to JSON types; non-finite floats become strings."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, int):
        return value
    if hasattr(value, "tolist"):  # numpy / jax arrays and scalars
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def write_json_atomic(path: str, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temp file in the same folder + rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_jsonable(data), f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_figure(fig: Any, path: str, dpi: int = 120) -> None:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        plt.close(fig)


def environment() -> dict[str, Any]:
    """Versions and devices, recorded in every metrics.json (and printed by ``jentropy info``)."""
    import jax

    import jentropy

    versions = {"python": platform.python_version(), "jentropy": jentropy.__version__}
    for pkg in ("jax", "jaxlib", "equinox", "diffrax", "optax", "flax", "numpy", "scipy"):
        try:
            versions[pkg] = importlib.import_module(pkg).__version__
        except Exception:  # a missing optional package is reported, not fatal
            versions[pkg] = "not installed"
    devices = jax.devices()
    return {
        "versions": versions,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "device_count": len(devices),
        "process_count": jax.process_count(),
        "platform": platform.platform(),
    }


@dataclasses.dataclass
class RunRecord:
    """Outcome of one reproduction inside :func:`run`."""

    name: str
    seconds: float
    result: Result | None
    files: list[str]
    error: str | None = None


def run(
    module: str,
    figure: str | None = None,
    *,
    scale: str = "full",
    seed: int = 0,
    out: str | None = "results",
    show_progress: bool = True,
) -> dict[str, RunRecord]:
    """Run the reproductions of ``module`` (all, or only ``figure``) and write their outputs.

    Writes ``out/<module>/<stem>.png`` for each figure and merges this run's metrics into
    ``out/<module>/metrics.json`` (atomically), unless ``out`` is None. An exception inside one
    reproduction is recorded (``RunRecord.error``) and the others still run.

    Raises:
        ValueError: unknown module, unknown figure (the message lists the valid names) or scale.
    """
    import jax

    check_scale(scale)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    available = reproductions(module)
    if figure is not None and figure not in available:
        raise ValueError(
            f"module {module!r} has no figure {figure!r}; figures: {', '.join(sorted(available))}"
        )
    names = [figure] if figure is not None else list(available)
    records: dict[str, RunRecord] = {}
    folder = os.path.join(out, module) if out is not None else None
    bar = progress(names, desc=f"{module} [{scale}]", total=len(names), disable=not show_progress)
    for name in bar:
        key = jax.random.fold_in(jax.random.key(seed), _stable_hash(name))
        start = time.perf_counter()
        try:
            result = available[name].fn(scale=scale, key=key)
            if not isinstance(result, Result):
                raise TypeError(f"reproduction {module}/{name} returned {type(result).__name__}")
            error = None
        except Exception:
            result, error = None, traceback.format_exc()
        seconds = time.perf_counter() - start
        files: list[str] = []
        if result is not None and folder is not None:
            for stem, fig in result.figures.items():
                path = os.path.join(folder, f"{stem}.png")
                save_figure(fig, path)
                files.append(path)
        records[name] = RunRecord(name, seconds, result, files, error)
    if folder is not None:
        _merge_metrics(folder, module, scale, seed, records)
    return records


def _stable_hash(name: str) -> int:
    """A per-figure integer that does not depend on Python's randomised ``hash``."""
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little") % (2**31 - 1)


def _merge_metrics(
    folder: str, module: str, scale: str, seed: int, records: Mapping[str, RunRecord]
) -> None:
    path = os.path.join(folder, "metrics.json")
    data: dict[str, Any] = {}
    if os.path.exists(path):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError):
            data = {}
    data.update({"module": module, "environment": environment()})
    figures = data.setdefault("figures", {})
    for name, rec in records.items():
        entry: dict[str, Any] = {
            "scale": scale,
            "seed": seed,
            "seconds": round(rec.seconds, 3),
            "files": [os.path.basename(p) for p in rec.files],
            "status": "ok" if rec.error is None else "error",
        }
        if rec.result is not None:
            entry["metrics"] = rec.result.metrics
            entry["notes"] = rec.result.notes
        if rec.error is not None:
            entry["error"] = rec.error.strip().splitlines()[-1]
        figures[name] = entry
    write_json_atomic(path, data)


def summary_table(module: str, records: Mapping[str, RunRecord], max_metrics: int = 6) -> str:
    """A plain-text table of what :func:`run` did (name, status, seconds, files, headline metrics)."""
    rows = [("figure", "status", "seconds", "files", "metrics")]
    for name, rec in records.items():
        metrics = ""
        if rec.result is not None:
            items = [
                (k, v) for k, v in rec.result.metrics.items() if isinstance(v, (int, float, str))
            ]
            metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in items[:max_metrics])
            if len(items) > max_metrics:
                metrics += f", … (+{len(items) - max_metrics})"
        status = "ok" if rec.error is None else "FAILED"
        rows.append((name, status, f"{rec.seconds:.1f}", str(len(rec.files)), metrics))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"== jentropy reproduce {module} =="]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
        if i == 0:
            lines.append("-" * (sum(widths) + 8 + len(r[4])))
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
