"""Reproductions for ``jentropy reproduce chaos`` (Gilpin 2021, the dysts database).

* ``attractor_gallery`` — every registered system (129 ODEs, 6 delay equations, 23 maps) as a small
  multiple, integrated from its stored initial condition; failures are drawn and listed;
* ``lyapunov_table`` — Lyapunov spectra, Kaplan–Yorke and correlation dimensions recomputed by
  :func:`property_table`, against the values dysts stores, and the Lorenz spectrum against the
  literature, jentropy and dysts.

The forecasting reproductions (``forecast_benchmark``, ``forecast_vs_lyapunov``) live in
``_forecast_reproduce.py`` and ``_forecast_lyapunov.py`` and register themselves when this module
imports them (below).

Scales: ``smoke`` a handful of systems at toy sizes (the notebook in CI); ``quick`` every system in
the gallery with fixed-step RK4 at the stored ``dt``, and 9 representative systems in the table
(minutes on 2 CPU cores); ``full`` adaptive Dopri8 for the gallery and every system in the table.
Both compute in float64 (inside ``jax.enable_x64``, which they switch on locally).
"""

from __future__ import annotations

import time
from typing import Any

import jax
import numpy as np

from jentropy import plotting
from jentropy.reproduce import Result, pick, progress, register

from ._system import get, list_systems

#: Lorenz (σ, ρ, β) = (10, 28, 8/3): the literature spectrum (e.g. Sprott, *Chaos and Time-Series
#: Analysis*, 2003), dysts's stored estimate, and dysts's own routine
#: (``find_lyapunov_exponents``, trajectory length 20,000; measured by
#: ``benchmarks/chaos_vs_dysts.py``; see benchmarks/results/chaos_vs_dysts.json).
LORENZ_LITERATURE = (0.906, 0.0, -14.572)
LORENZ_DYSTS_ROUTINE = (0.73, -0.08, -14.22)

#: Systems of the quick Lyapunov table: classic flows of several dimensions, a delay equation, maps.
QUICK_TABLE = (
    "Lorenz",
    "Rossler",
    "Chen",
    "Halvorsen",
    "DoublePendulum",
    "HyperRossler",
    "MackeyGlass",
    "Henon",
    "Logistic",
)
SMOKE_TABLE = ("Henon",)


def _gallery_systems(scale: str) -> list[Any]:
    kinds = ("flow", "delay", "map")
    if scale == "smoke":
        picks = {"flow": ["Lorenz", "Rossler", "Thomas", "Aizawa"], "delay": ["MackeyGlass"]}
        picks["map"] = ["Henon", "Ikeda", "Logistic"]
        return [get(n, kind=k) for k in kinds for n in picks[k]]
    return [get(n, kind=k) for k in kinds for n in list_systems(k)]


def _gallery_trajectory(system: Any, scale: str) -> tuple[Any, str]:
    from ._trajectory import make_trajectory

    n = pick(scale, smoke=300, quick=1000, full=2000)
    if system.kind == "map":
        return make_trajectory(system, 4 * n), "scan"
    if system.kind == "delay":
        return make_trajectory(system, n), "method of steps"
    if scale == "full":
        return make_trajectory(system, n), "dopri8"
    # quick/smoke: fixed-step RK4 at the stored dt compiles in a fraction of a second; if it
    # fails for a stiff system, fall back to the adaptive solver (reported in the metrics)
    traj = make_trajectory(system, n, solver="rk4")
    if bool(traj.success):
        return traj, "rk4"
    return make_trajectory(system, n, solver="dopri5", rtol=1e-9, atol=1e-9), "dopri5"


def _projection(system: Any, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if system.kind == "delay":  # x(t) against x(t − τ/3)
        return ys[:, 0], ys[:, min(3, ys.shape[1] - 1)]
    if ys.shape[1] == 1:  # 1-D maps: return map x_{k+1} against x_k
        return ys[:-1, 0], ys[1:, 0]
    return ys[:, 0], ys[:, 1]


def _gallery_figure(entries: list[tuple[Any, np.ndarray | None]], title: str) -> Any:
    n = len(entries)
    cols = min(12, n)
    rows = -(-n // cols)
    fig, axes = plotting.subplots(rows, cols, width=1.9 * cols, height=1.9 * rows, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (system, ys) in zip(axes.ravel(), entries):
        name = system.name if system.kind != "map" or system.name != "Duffing" else "Duffing map"
        if ys is None:
            ax.text(0.5, 0.5, "failed", color="crimson", ha="center", va="center")
            ax.set_title(name, fontsize=7, color="crimson")
            continue
        u, v = _projection(system, ys)
        if system.kind == "map":
            ax.plot(u, v, ".", ms=1.0, color="k", alpha=0.6)
        else:
            ax.plot(u, v, lw=0.3, color="k")
        ax.set_title(name, fontsize=7)
    fig.suptitle(title)
    return fig


@register("chaos", description="every system's attractor (2-D projection), small multiples")
def attractor_gallery(*, scale: str, key: jax.Array) -> Result:
    """Every registered system's attractor (first two coordinates; delay: x(t) vs x(t − τ/3))."""
    systems = _gallery_systems(scale)
    entries: dict[str, list] = {"continuous": [], "maps": []}
    failed, solvers = [], {}
    start = time.perf_counter()
    with jax.enable_x64(True):
        for system in progress(systems, desc="gallery", total=len(systems)):
            traj, solver = _gallery_trajectory(system, scale)
            label = f"{system.name} ({system.kind})"
            solvers[solver] = solvers.get(solver, 0) + 1
            ok = bool(traj.success)
            if not ok:
                failed.append(label)
            group = "maps" if system.kind == "map" else "continuous"
            entries[group].append((system, np.asarray(traj.ys) if ok else None))
    seconds = time.perf_counter() - start
    figures = {}
    if entries["continuous"]:
        figures["attractor_gallery"] = _gallery_figure(
            entries["continuous"],
            f"{len(entries['continuous'])} continuous systems (ODEs and delay equations), "
            "from dysts's stored initial conditions",
        )
    if entries["maps"]:
        figures["attractor_gallery_maps"] = _gallery_figure(
            entries["maps"], f"{len(entries['maps'])} discrete maps"
        )
    metrics = {
        "n_systems": len(systems),
        "n_ok": len(systems) - len(failed),
        "failed": failed,
        "solvers": solvers,
        "seconds_integration": round(seconds, 2),
    }
    notes = (
        "Every system integrated from its stored initial condition "
        f"({'fixed-step RK4 at the stored dt, adaptive fallback' if scale != 'full' else 'Dopri8, rtol=atol=1e-12'}); "
        f"{len(failed)} failed{': ' + ', '.join(failed) if failed else ''}."
    )
    return Result(figures=figures, metrics=metrics, notes=notes)


def _lorenz_spectrum(scale: str, key: jax.Array) -> tuple[np.ndarray, np.ndarray, float]:
    from ._lyapunov import lyapunov_spectrum

    lorenz = get("Lorenz").with_params(beta=8 / 3)
    t = pick(scale, smoke=50.0, quick=400.0, full=2000.0)
    start = time.perf_counter()
    if scale == "smoke":  # one member from the stored initial condition: no extra compilation
        res = lyapunov_spectrum(lorenz, time=t, dt=0.01)
    else:
        n_ics = pick(scale, smoke=1, quick=16, full=64)
        res = lyapunov_spectrum(lorenz, n_ics=n_ics, key=key, time=t, dt=0.01)
    return np.asarray(res.exponents), np.asarray(res.stderr), time.perf_counter() - start


def _stored(row: dict, field: str) -> float:
    v = row.get("stored", {}).get(field)
    return float("nan") if v is None else float(v)


def _table_figure(table: dict, lorenz: np.ndarray) -> Any:
    fig, axes = plotting.subplots(2, 2, width=10, height=8.5)
    colors = {"flow": "tab:blue", "delay": "tab:green", "map": "tab:orange"}
    panels = (
        (axes[0, 0], "maximum_lyapunov", "maximum_lyapunov_estimated", "maximum Lyapunov exponent", True),
        (axes[0, 1], "kaplan_yorke_dimension", "kaplan_yorke_dimension", "Kaplan–Yorke dimension", False),
        (axes[1, 0], "correlation_dimension", "correlation_dimension", "correlation dimension", False),
    )  # fmt: skip
    for ax, ours, theirs, label, log in panels:
        pts = [
            (_stored(r, theirs), r.get(ours), r["kind"], name)
            for name, r in table.items()
            if r.get(ours) is not None
        ]
        seen = set()
        for x, y, kind, name in pts:
            if not (np.isfinite(x) and y is not None):
                continue
            if log and (x <= 0 or y <= 0):
                continue
            ax.scatter(x, y, s=14, color=colors[kind], label=None if kind in seen else kind)
            seen.add(kind)
            if len(pts) <= 20 or abs(np.log(max(y, 1e-12) / max(x, 1e-12))) > np.log(1.5):
                ax.annotate(name, (x, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
        good = [
            (x, y)
            for x, y, _, _ in pts
            if np.isfinite(x) and y is not None and (not log or min(x, y) > 0)
        ]
        if good:
            lo, hi = min(min(g) for g in good), max(max(g) for g in good)
            ax.plot([lo, hi], [lo, hi], color="gray", lw=0.8, ls="--", label="equal")
        else:
            msg = "no stored value for these systems\n(dysts stores none for maps)"
            ax.text(0.5, 0.5, msg, ha="center", va="center", transform=ax.transAxes)
        if log:
            ax.set_xscale("log")
            ax.set_yscale("log")
        plotting.label(ax, f"dysts stored {label}", f"jentropy {label}", label, legend=bool(good))
    ax = axes[1, 1]
    lit = np.asarray(LORENZ_LITERATURE)
    rows = (
        ("jentropy (this run)", lorenz),
        ("dysts stored (JSON)", np.asarray(get("Lorenz").metadata["lyapunov_spectrum_estimated"])),
        ("dysts routine (L=20000)", np.asarray(LORENZ_DYSTS_ROUTINE)),
    )
    idx = np.arange(3)
    for i, (name, vals) in enumerate(rows):
        err = np.abs(vals - lit) / np.where(lit != 0, np.abs(lit), 1.0)
        ax.bar(idx + (i - 1) * 0.27, np.maximum(err, 1e-5), width=0.27, label=name)
    ax.axhline(0.01, color="gray", ls="--", lw=0.8, label="1 % (λ2: 0.01 absolute)")
    ax.set_yscale("log")
    ax.set_xticks(idx, ["λ1 (relative)", "λ2 (absolute)", "λ3 (relative)"])
    plotting.label(
        ax, "", "error vs literature [0.906, 0, −14.572]", "Lorenz spectrum", legend=True
    )
    return fig


@register(
    "chaos", description="Lyapunov spectra and dimensions recomputed vs dysts's stored values"
)
def lyapunov_table(*, scale: str, key: jax.Array) -> Result:
    """Recomputed Lyapunov/dimension table against dysts's stored values; Lorenz in detail."""
    from ._table import property_table, table_config

    systems = pick(scale, smoke=SMOKE_TABLE, quick=QUICK_TABLE, full=None)
    k_table, k_lorenz = jax.random.split(key)
    start = time.perf_counter()
    with jax.enable_x64(True):
        table = property_table(systems, key=k_table, config=table_config(scale))
        lorenz, lorenz_err, lorenz_seconds = _lorenz_spectrum(scale, k_lorenz)
    seconds = time.perf_counter() - start
    lit = np.asarray(LORENZ_LITERATURE)
    rel = np.abs(lorenz - lit) / np.where(lit != 0, np.abs(lit), 1.0)
    ratios = [
        r["maximum_lyapunov"] / _stored(r, "maximum_lyapunov_estimated")
        for r in table.values()
        if r.get("maximum_lyapunov") and _stored(r, "maximum_lyapunov_estimated") > 0
    ]
    metrics: dict[str, Any] = {
        "n_systems": len(table),
        "n_failed": sum(r["status"] != "ok" for r in table.values()),
        "lorenz_spectrum": lorenz.tolist(),
        "lorenz_stderr": lorenz_err.tolist(),
        "lorenz_rel_error_vs_literature": rel.tolist(),
        "lorenz_kaplan_yorke": float(2 + (lorenz[0] + lorenz[1]) / abs(lorenz[2])),
        "lorenz_seconds": round(lorenz_seconds, 3),
        "median_ratio_max_exponent_to_stored": float(np.median(ratios)) if ratios else None,
        "seconds": round(seconds, 2),
        "table": {
            name: {
                k: r.get(k)
                for k in (
                    "maximum_lyapunov", "kaplan_yorke_dimension", "correlation_dimension",
                    "pesin_entropy", "zero_one_K", "status",
                )
            }
            | {
                "stored_maximum_lyapunov": _stored(r, "maximum_lyapunov_estimated"),
                "stored_kaplan_yorke": _stored(r, "kaplan_yorke_dimension"),
                "stored_correlation_dimension": _stored(r, "correlation_dimension"),
            }
            for name, r in table.items()
        },
    }  # fmt: skip
    notes = (
        f"Lorenz spectrum {np.round(lorenz, 3).tolist()} (literature {list(LORENZ_LITERATURE)}; "
        f"relative errors {np.round(rel, 4).tolist()}); dysts's stored {np.round(get('Lorenz').metadata['lyapunov_spectrum_estimated'], 3).tolist()} "
        f"and its routine {list(LORENZ_DYSTS_ROUTINE)} are biased. "
        f"{len(table)} systems recomputed at the '{scale}' preset"
        + ("" if systems is None else " (a representative subset; 'full' runs every system)")
        + "; dysts's stored maximum exponents come from a different estimator (its own"
        " trajectory-based routine), so the scatter shows agreement in order of magnitude, not"
        " to the digit."
    )
    return Result(
        figures={"lyapunov_table": _table_figure(table, lorenz)}, metrics=metrics, notes=notes
    )


# The forecasting reproductions register on import, after the two above.
from . import _forecast_lyapunov, _forecast_reproduce  # noqa: E402, F401
