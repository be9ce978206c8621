"""jentropy.chaos against dysts 0.96: trajectories and the Lyapunov spectrum, float64.

(a) Lorenz, 1,024 initial conditions on the attractor x 1,000 points (10 periods, dysts's
    ``make_trajectory(1000)`` window), rtol = atol = 1e-12 for both. jentropy solves the (1024, 3)
    state jointly (Dopri8; the step-size controller uses the *largest* per-member error, so every
    member meets the tolerance on its own); dysts loops over the ICs with scipy DOP853 (same
    method family and tolerance) and, as a second reference, with its default Radau. dysts is
    timed on a subset of ICs and scaled linearly (its cost is a serial loop; the script says how
    many). Every jentropy member timed by DOP853 is checked against it pointwise over the first
    five Lyapunov times (t <= 5.5), where two 1e-12 solutions must agree.
(b) Every continuous system (129 ODEs + 6 delay equations) x 1 IC x 1,000 points: jentropy's
    defaults (Dopri8 at 1e-12; delay equations: method of steps) against dysts's defaults
    (Radau 1e-12; delay equations: its ddeint). Compile time is reported apart (one compile per
    system and shape). ``--quick`` runs 12 systems.
(c) Lorenz Lyapunov spectrum: jentropy's ``lyapunov_spectrum`` (64 members started on the
    attractor x 200 time units, RK4 dt = 0.02 with JAX tangents, QR every 5 steps) against dysts's
    ``find_lyapunov_exponents`` (trajectory length 20,000 at its defaults), time and error against
    the literature [0.906, 0, -14.572]. Both use dysts's stored parameters (beta = 2.667, which
    moves the third exponent by 3e-4 from beta = 8/3). The time to draw the 64 starting points
    is reported apart (dysts starts from its one stored initial condition).

Times: minimum over repeats with ``block_until_ready``; jentropy's compile time (first call minus
steady) is reported apart. The machine is shared: the script records ``os.getloadavg()`` at the
start and the end.

Usage: python benchmarks/chaos_vs_dysts.py [--quick]
Writes benchmarks/results/chaos_vs_dysts.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import jax
import numpy as np

from jentropy import chaos
from jentropy.reproduce import write_json_atomic

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
LITERATURE = np.array([0.906, 0.0, -14.572])
LYAPUNOV_TIME = 1 / 0.906
QUICK_SYSTEMS = [
    "Lorenz", "Rossler", "Chen", "Thomas", "Halvorsen", "SprottB", "DoublePendulum",
    "HyperRossler", "Duffing", "Chua", "MackeyGlass", "IkedaDelay",
]  # fmt: skip


def _timed(fn, repeats: int = 1):
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        jax.block_until_ready(out)
        best = min(best, time.perf_counter() - start)
    return best, out


def _dysts_model(name):
    import dysts.flows

    return getattr(dysts.flows, name)()


def _dysts_traj(model, n, ics, **kw):
    """dysts trajectories, one call per initial condition (dysts loops serially anyway);
    ``ics=None``: its stored initial condition."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ics is None:
            return np.asarray(model.make_trajectory(n, **kw))[None]
        return np.stack(
            [np.asarray(model.make_trajectory(n, init_cond=ic, **kw)) for ic in np.atleast_2d(ics)]
        )


def bench_lorenz_batch(quick: bool) -> dict:
    n_ics, n = 1024, 1000
    x0 = chaos.random_initial_conditions("Lorenz", n_ics, key=jax.random.key(0))
    first, traj = _timed(lambda: chaos.make_trajectory("Lorenz", n, init_cond=x0))
    steady, traj = _timed(lambda: chaos.make_trajectory("Lorenz", n, init_cond=x0), 3)
    model = _dysts_model("Lorenz")
    sub_dop = 64 if quick else n_ics
    sub_radau = 2 if quick else 8
    x0n = np.asarray(x0)
    t_dop, ref = _timed(
        lambda: _dysts_traj(model, n, x0n[:sub_dop], method="DOP853", rtol=1e-12, atol=1e-12)
    )
    t_rad, ref_rad = _timed(lambda: _dysts_traj(model, n, x0n[:sub_radau]))
    ts = np.asarray(traj.ts)
    early = ts <= 5 * LYAPUNOV_TIME
    ys = np.asarray(traj.ys)
    err = np.abs(ys[:sub_dop, early] - ref[:, early]).max(axis=(1, 2))
    err_rad = np.abs(ys[:sub_radau, early] - ref_rad[:, early]).max(axis=(1, 2))
    dop_full = t_dop * n_ics / sub_dop
    rad_full = t_rad * n_ics / sub_radau
    return {
        "n_ics": n_ics,
        "n_points": n,
        "rtol_atol": 1e-12,
        "all_success": bool(np.asarray(traj.success).all()),
        "jentropy_compile_s": max(first - steady, 0.0),
        "jentropy_steady_s": steady,
        "dysts_dop853_timed_ics": sub_dop,
        "dysts_dop853_s_scaled_to_1024": dop_full,
        "dysts_radau_timed_ics": sub_radau,
        "dysts_radau_s_scaled_to_1024": rad_full,
        "speedup_vs_dop853": dop_full / steady,
        "speedup_vs_radau": rad_full / steady,
        "members_checked_vs_dop853": int(err.size),
        "max_abs_diff_vs_dop853_first_5_lyapunov_times": float(err.max()),
        "median_abs_diff_vs_dop853_first_5_lyapunov_times": float(np.median(err)),
        "max_abs_diff_vs_radau_first_5_lyapunov_times": float(err_rad.max()),
    }


def bench_all_systems(quick: bool) -> dict:
    names = QUICK_SYSTEMS if quick else chaos.list_systems("flow") + chaos.list_systems("delay")
    rows = {}
    for name in names:
        system = chaos.get(name)
        first, traj = _timed(lambda s=system: chaos.make_trajectory(s, 1000))
        steady, traj = _timed(lambda s=system: chaos.make_trajectory(s, 1000))
        model = _dysts_model(name)
        try:
            t_dysts, ref = _timed(lambda m=model: _dysts_traj(m, 1000, None)[0])
            ok_dysts = ref.shape[0] == 1000 and bool(np.isfinite(ref).all())
        except Exception as e:  # dysts failing on a system is a result, not a crash
            t_dysts, ref, ok_dysts = float("nan"), None, f"{type(e).__name__}: {e}"
        ys = np.asarray(traj.ys)
        diff = None
        if ref is not None and np.shape(ref) == ys.shape:
            diff = float(np.abs(ys[:20] - ref[:20]).max())
        rows[name] = {
            "jentropy_compile_s": max(first - steady, 0.0),
            "jentropy_steady_s": steady,
            "jentropy_success": bool(traj.success),
            "dysts_s": t_dysts,
            "dysts_ok": ok_dysts,
            "max_abs_diff_first_20_points": diff,
        }
        print(f"  {name:28s} jentropy {steady:8.3f} s (+{rows[name]['jentropy_compile_s']:.1f} compile)"
              f"  dysts {t_dysts:8.3f} s  diff {diff}")  # fmt: skip
    steady = sum(r["jentropy_steady_s"] for r in rows.values())
    compile_s = sum(r["jentropy_compile_s"] for r in rows.values())
    dysts_s = sum(r["dysts_s"] for r in rows.values() if np.isfinite(r["dysts_s"]))
    return {
        "n_systems": len(rows),
        "jentropy_steady_total_s": steady,
        "jentropy_compile_total_s": compile_s,
        "dysts_total_s": dysts_s,
        "speedup_steady": dysts_s / steady,
        "speedup_including_compile": dysts_s / (steady + compile_s),
        "jentropy_failed": [n for n, r in rows.items() if not r["jentropy_success"]],
        "dysts_failed": [n for n, r in rows.items() if r["dysts_ok"] is not True],
        "systems": rows,
    }


def bench_lyapunov(quick: bool) -> dict:
    from dysts.analysis import find_lyapunov_exponents

    system = chaos.get("Lorenz")
    key = jax.random.key(1)
    settings = dict(time=200.0, dt=0.02, renorm_every=5)

    def starts():
        return chaos.random_initial_conditions(system, 64, key=key)

    x0 = starts()
    first, lam = _timed(lambda: chaos.lyapunov_spectrum(system, init_cond=x0, **settings).exponents)
    steady, lam = _timed(
        lambda: chaos.lyapunov_spectrum(system, init_cond=x0, **settings).exponents, 5
    )
    draw, _ = _timed(starts, 3)
    lam = np.asarray(lam)
    model = _dysts_model("Lorenz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_dysts, lam_d = _timed(lambda: find_lyapunov_exponents(model, 20_000))
    lam_d = np.asarray(lam_d)

    def err(v):
        rel = np.abs(v - LITERATURE) / np.where(LITERATURE != 0, np.abs(LITERATURE), 1.0)
        return rel.tolist()

    e = err(lam)
    return {
        "jentropy_settings": "64 members x 200 time units, RK4 dt=0.02, QR every 5 steps",
        "jentropy_spectrum": lam.tolist(),
        "jentropy_error": e,
        "jentropy_within_1pct": bool(e[0] < 0.01 and e[1] < 0.01 and e[2] < 0.01),
        "jentropy_compile_s": max(first - steady, 0.0),
        "jentropy_steady_s": steady,
        "jentropy_draw_64_ics_s": draw,
        "dysts_settings": "find_lyapunov_exponents(Lorenz(), 20000) (its defaults)",
        "dysts_spectrum": lam_d.tolist(),
        "dysts_error": err(lam_d),
        "dysts_s": t_dysts,
        "speedup": t_dysts / steady,
        "speedup_including_ic_draw": t_dysts / (steady + draw),
        "note": "errors: relative for exponents 1 and 3, absolute for the zero exponent",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsets for dysts and case (b)")
    parser.add_argument("--only", default="abc", help="which cases to run, e.g. 'ac'")
    args = parser.parse_args()
    out: dict = {
        "quick": args.quick,
        "load_average_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "dtype": "float64",
    }
    with jax.enable_x64(True):
        if "a" in args.only:
            print("(a) Lorenz, 1024 ICs x 1000 points, rtol = atol = 1e-12")
            out["a_lorenz_1024"] = a = bench_lorenz_batch(args.quick)
            print(f"  jentropy {a['jentropy_steady_s']:.3f} s (+{a['jentropy_compile_s']:.1f} s compile)"
                  f" | dysts DOP853 {a['dysts_dop853_s_scaled_to_1024']:.1f} s ({a['speedup_vs_dop853']:.0f}x)"
                  f" | dysts Radau {a['dysts_radau_s_scaled_to_1024']:.0f} s ({a['speedup_vs_radau']:.0f}x)"
                  f" | max diff vs DOP853 (t <= 5.5) {a['max_abs_diff_vs_dop853_first_5_lyapunov_times']:.1e}")  # fmt: skip
        if "b" in args.only:
            print("(b) every continuous system x 1 IC x 1000 points, defaults")
            out["b_all_systems"] = b = bench_all_systems(args.quick)
            print(f"  {b['n_systems']} systems: jentropy {b['jentropy_steady_total_s']:.1f} s"
                  f" (+{b['jentropy_compile_total_s']:.1f} s compile) | dysts {b['dysts_total_s']:.1f} s"
                  f" | {b['speedup_steady']:.0f}x steady, {b['speedup_including_compile']:.1f}x with compile")  # fmt: skip
        if "c" in args.only:
            print("(c) Lorenz Lyapunov spectrum")
            out["c_lyapunov"] = c = bench_lyapunov(args.quick)
            print(f"  jentropy {np.round(c['jentropy_spectrum'], 4).tolist()} in {c['jentropy_steady_s']:.3f} s"
                  f" (+{c['jentropy_compile_s']:.1f} s compile) | dysts {np.round(c['dysts_spectrum'], 3).tolist()}"
                  f" in {c['dysts_s']:.1f} s | {c['speedup']:.0f}x")  # fmt: skip
    out["load_average_end"] = list(os.getloadavg())
    path = os.path.join(RESULTS, "chaos_vs_dysts.json")
    if args.only != "abc" and os.path.exists(path):  # a partial run updates its own sections
        import json

        with open(path) as f:
            merged = json.load(f)
        runs = merged.get("runs", {})
        runs[args.only] = {k: out[k] for k in ("quick", "load_average_start", "load_average_end")}
        merged.update({k: v for k, v in out.items() if k[:2] in ("a_", "b_", "c_")})
        merged["runs"] = runs
        out = merged
    write_json_atomic(path, out)
    print(
        f"load average {out['load_average_start'][0]:.1f} -> {out['load_average_end'][0]:.1f}; wrote {path}"
    )


if __name__ == "__main__":
    main()
