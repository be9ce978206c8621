"""Recompute the property table (Lyapunov spectrum, dimensions, entropy, period, 0–1 test) of every
system, with run times and convergence diagnostics, resumably.

dysts ships one number per property and system, estimated once with its own (biased) routines;
:func:`property_table` recomputes them with this package's estimators and writes, per system, the
new values next to the stored ones, how long each took, and whether they converged:

* Lyapunov: ``stderr`` over members and blocks, the drift between the first and second half of
  the averaging time (``half_drift``), and for flows the magnitude of the exponent closest to 0
  (an autonomous flow must have one); a run whose tangent dynamics blew up is retried with a 5×
  smaller step, then reported failed;
* correlation dimension: the spread of the local slopes over the fit range (a plateau is small);
* dominant period: the ratio to the stored period.

Results are written atomically after every system, so an interrupted run resumes where it
stopped (``resume=True`` skips systems already in the file with the same settings).

Command line::

    python -m jentropy.chaos.table --out chaos_properties.json --scale quick
    python -m jentropy.chaos.table --systems Lorenz,Henon --scale smoke --out /tmp/t.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

STORED = (
    "lyapunov_spectrum_estimated",
    "maximum_lyapunov_estimated",
    "kaplan_yorke_dimension",
    "correlation_dimension",
    "pesin_entropy",
    "multiscale_entropy",
    "period",
)


@dataclasses.dataclass(frozen=True)
class TableConfig:
    """Sizes of the estimates (see :func:`table_config` for the presets).

    Attributes:
        lyap_periods: Lyapunov averaging time per member, in stored periods (flows, delays).
        lyap_iterations: the same for maps.
        n_ics: Lyapunov members (random points on the attractor).
        max_exponents: at most this many exponents (delay equations: of the discretised state).
        n_points: trajectory length for dimension, period, 0–1 test and entropy.
        pts_per_period: its sampling.
        mse_scales: multiscale-entropy scales.
    """

    lyap_periods: float = 100.0
    lyap_iterations: int = 10_000
    n_ics: int = 8
    max_exponents: int = 10
    n_points: int = 4000
    pts_per_period: int = 20
    mse_scales: int = 10


def table_config(scale: str) -> TableConfig:
    """The :class:`TableConfig` preset for a reproduction scale.

    ``smoke``: seconds per system (a code-path check); ``quick``: 50 periods × 4 members for
    the exponents and 2,000 points for the rest (tens of seconds per system on 2 CPU cores);
    ``full``: 100 periods × 8 members, 4,000 points, 10 multiscale-entropy scales.

    Example::

        chaos.table_config("quick").n_ics      # 4
    """
    from jentropy.reproduce import pick

    return pick(
        scale,
        smoke=TableConfig(10.0, 1000, 2, 4, 600, 20, 3),
        quick=TableConfig(50.0, 5000, 4, 4, 2000, 20, 5),
        full=TableConfig(),
    )


def _stable_int(name: str) -> int:
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little") % (2**31 - 1)


def _finite(x: Any) -> Any:
    """Floats for JSON: non-finite values as None."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        v = float(arr)
        return v if math.isfinite(v) else None
    return [v if math.isfinite(v) else None for v in arr.tolist()]


def _starts(system: Any, ys: Any, n: int, key: PRNGKeyArray) -> Any:
    """``n`` rows of the second half of a trajectory, jittered by 1e-3 of its spread (so that
    members decorrelate; see :func:`random_initial_conditions`)."""
    from ._ensemble import jitter_scale

    half = ys[ys.shape[0] // 2 :]
    pick, move = jax.random.split(key)
    idx = jax.random.choice(pick, half.shape[0], (n,), replace=False)
    x0 = half[idx]
    noise = jax.random.normal(move, x0.shape, x0.dtype)
    return x0 + 1e-3 * jitter_scale(system, half) * noise


def _lyapunov(system, cfg: TableConfig, key: PRNGKeyArray, ys: Any = None) -> dict[str, Any]:
    from ._lyapunov import kaplan_yorke_dimension, lyapunov_spectrum, pesin_entropy

    dim = system.dim if system.kind != "delay" else cfg.max_exponents
    k = min(dim, cfg.max_exponents)
    if system.kind == "map":
        kw: dict[str, Any] = {"time": float(cfg.lyap_iterations)}
    else:
        kw = {"time": cfg.lyap_periods * system.period}
    dt = None if system.kind != "flow" else system.period / 500
    res = None
    for _ in range(2):
        if dt is not None:
            kw["dt"] = dt
        if ys is not None:  # start on the attractor from the table's own trajectory
            kw["init_cond"] = _starts(system, ys, cfg.n_ics, key)
        else:
            kw["n_ics"] = cfg.n_ics
        res = lyapunov_spectrum(system, n_exponents=k, key=key, **kw)
        if bool(np.all(np.asarray(res.success))):
            break
        if dt is None:
            break
        dt = dt / 5
    assert res is not None
    lam = np.asarray(res.exponents)
    blocks = np.asarray(res.blocks)[np.asarray(res.success)]
    half = blocks.shape[1] // 2
    drift = (
        np.abs(blocks[:, :half].mean((0, 1)) - blocks[:, half:].mean((0, 1)))
        if blocks.size and half
        else np.full(k, np.nan)
    )
    out = {
        "lyapunov_spectrum": _finite(lam),
        "maximum_lyapunov": _finite(lam[0]),
        "kaplan_yorke_dimension": _finite(kaplan_yorke_dimension(lam)),
        "pesin_entropy": _finite(pesin_entropy(lam)),
        "lyapunov_stderr": _finite(res.stderr),
        "lyapunov_half_drift": _finite(drift),
        "lyapunov_members_ok": int(np.sum(np.asarray(res.success))),
        "lyapunov_time": res.time,
        "lyapunov_dt": dt if dt is not None else (1.0 if system.kind == "map" else None),
    }
    if system.kind == "flow" and not system.nonautonomous:
        out["zero_exponent"] = _finite(np.min(np.abs(lam)))
    return out


def _trajectory_properties(system, cfg: TableConfig, key: PRNGKeyArray) -> tuple[dict, Any]:
    from ._dimension import correlation_dimension
    from ._multiscale import multiscale_entropy
    from ._spectral import dominant_period
    from ._trajectory import make_trajectory, params_as, postprocess_states
    from ._zero_one import zero_one_test

    if system.kind == "map":
        traj = make_trajectory(system, cfg.n_points)
        theiler, every = 0, 1
    else:
        tol = 1e-9 if jnp.zeros(()).dtype == jnp.float64 else 1e-6
        traj = make_trajectory(
            system, cfg.n_points, pts_per_period=cfg.pts_per_period, solver="dopri5",
            rtol=tol, atol=tol, postprocess=False,
        )  # fmt: skip
        theiler, every = cfg.pts_per_period, max(1, cfg.pts_per_period // 5)
    if not bool(traj.success):
        return {"trajectory_ok": False}, None
    raw = traj.ys  # states (Lyapunov starting points); properties use the bounded observables
    ys = (
        raw
        if system.kind != "flow"
        else postprocess_states(system, raw, params_as(system, raw.dtype))
    )
    dim = correlation_dimension(ys, theiler=theiler)
    slopes = np.asarray(dim.local_slopes)
    out: dict[str, Any] = {
        "trajectory_ok": True,
        "correlation_dimension": _finite(dim.dimension),
        "correlation_slope_spread": _finite(np.nanmax(slopes) - np.nanmin(slopes)),
        "zero_one_K": _finite(zero_one_test(ys[::every, 0], key=key)),
    }
    x = ys[:, 0]
    scales = min(cfg.mse_scales, x.shape[0] // 20)
    out["multiscale_entropy"] = _finite(multiscale_entropy(x, scales).index)
    if system.kind != "map":
        dt = float(traj.ts[1] - traj.ts[0])
        period = float(dominant_period(ys, dt=dt))
        out["period"] = _finite(period)
        out["period_ratio_to_stored"] = _finite(period / system.period)
    return out, raw


def system_properties(
    system: Any, *, key: PRNGKeyArray, config: TableConfig | None = None
) -> dict[str, Any]:
    """Every property of one system, with per-property run times (seconds) and diagnostics.

    Never raises for a numerical failure: the entry gets ``status="failed"`` and the error.

    Example::

        with jax.enable_x64(True):
            row = chaos.system_properties("Lorenz", key=jax.random.key(0))
        row["lyapunov_spectrum"], row["seconds"]
    """
    from ._trajectory import as_system

    system = as_system(system)
    cfg = TableConfig() if config is None else config
    row: dict[str, Any] = {"kind": system.kind, "dim": system.dim}
    row["stored"] = {k: system.metadata.get(k) for k in STORED if k in system.metadata}
    k1, k2 = jax.random.split(key)
    seconds: dict[str, float] = {}
    status = "ok"
    ys = None

    def attempt(part: str, fn: Any) -> Any:
        nonlocal status
        start = time.perf_counter()
        try:
            return fn()
        except Exception as e:  # one system's failure is data for the table, not a crash
            status = "failed"
            row[f"{part}_error"] = f"{type(e).__name__}: {e}"
            row[f"{part}_traceback"] = traceback.format_exc(limit=3)
            return None
        finally:
            seconds[part] = round(time.perf_counter() - start, 3)

    got = attempt("trajectory", lambda: _trajectory_properties(system, cfg, k2))
    if got is not None:
        row.update(got[0])
        ys = got[1]
    lyap = attempt("lyapunov", lambda: _lyapunov(system, cfg, k1, ys))
    if lyap is not None:
        row.update(lyap)
    if row.get("lyapunov_members_ok", 1) == 0 or row.get("trajectory_ok") is False:
        status = "failed"
    row["seconds"] = seconds
    row["status"] = status
    return row


def all_systems() -> list[Any]:
    """Every registered system: continuous flows, delay equations, then maps."""
    from ._system import get, list_systems

    return [get(n, kind=k) for k in ("flow", "delay", "map") for n in list_systems(k)]


def row_name(system: Any, taken: Iterable[str] = ()) -> str:
    """The table key: the system's name, suffixed with its kind where the name is shared
    (``"Duffing"`` is a flow and a map in dysts)."""
    return f"{system.name} ({system.kind})" if system.name in set(taken) else system.name


def property_table(
    systems: Iterable[Any] | None = None,
    *,
    key: PRNGKeyArray,
    config: TableConfig | None = None,
    out: str | None = None,
    resume: bool = True,
    show_progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Recompute the property table (default: every continuous system, delay equation and map).

    Args:
        systems: names or :class:`~jentropy.chaos.System` objects.
        key: PRNG key; a system uses ``fold_in(key, hash(its row name))`` (order-independent).
        config: estimate sizes (:class:`TableConfig`; default: the ``full`` preset).
        out: JSON file written atomically after every system (None: in memory only).
        resume: skip systems already in ``out`` computed with the same ``config``.
        show_progress: progress bar on stderr.

    Returns:
        ``{row name: row}`` with rows as from :func:`system_properties`; the row name is the
        system name (plus `` (map)`` for the Duffing map, whose name a flow also has).

    Example::

        with jax.enable_x64(True):
            table = chaos.property_table(["Lorenz", "Henon"], key=jax.random.key(0),
                                         config=chaos.table_config("quick"), out="props.json")
    """
    from jentropy.reproduce import environment, progress, write_json_atomic

    from ._trajectory import as_system

    cfg = TableConfig() if config is None else config
    items = all_systems() if systems is None else [as_system(s) for s in systems]
    keyed: dict[str, Any] = {}
    for s in items:
        keyed[row_name(s, keyed)] = s
    settings = dataclasses.asdict(cfg) | {"x64": bool(jnp.zeros(()).dtype == jnp.float64)}
    data: dict[str, Any] = {"settings": settings, "systems": {}}
    if out is not None and resume and os.path.exists(out):
        with open(out) as f:
            old = json.load(f)
        if old.get("settings") == settings:
            data["systems"] = old.get("systems", {})
    rows = data["systems"]
    todo = [n for n in keyed if n not in rows]
    bar = progress(todo, desc="property table", total=len(todo), disable=not show_progress)
    for name in bar:
        rows[name] = system_properties(
            keyed[name], key=jax.random.fold_in(key, _stable_int(name)), config=cfg
        )
        if out is not None:
            data["environment"] = environment()
            write_json_atomic(out, data)
    return {n: rows[n] for n in keyed}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jentropy.chaos.table``: recompute and write the property table."""
    p = argparse.ArgumentParser(
        prog="python -m jentropy.chaos.table", description=__doc__.split("\n")[0]
    )
    p.add_argument("--out", default="chaos_properties.json", help="JSON output (resumable)")
    p.add_argument("--scale", default="full", choices=("smoke", "quick", "full"))
    p.add_argument("--systems", default=None, help="comma-separated names (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-resume", action="store_true", help="recompute systems already in --out")
    p.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    args = p.parse_args(argv)
    names = (
        None if args.systems is None else [s.strip() for s in args.systems.split(",") if s.strip()]
    )
    start = time.perf_counter()
    with jax.enable_x64(not args.float32):
        table = property_table(
            names, key=jax.random.key(args.seed), config=table_config(args.scale), out=args.out,
            resume=not args.no_resume,
        )  # fmt: skip
    failed = [n for n, r in table.items() if r.get("status") != "ok"]
    print(f"{len(table)} systems in {time.perf_counter() - start:.1f} s -> {args.out}")
    if failed:
        print(f"failed ({len(failed)}): {', '.join(failed)}")
    return 0
