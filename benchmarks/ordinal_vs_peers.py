"""jentropy.ordinal against ordpy, peccary and antropy: permutation entropy H and complexity C.

Work (n = 5, ℓ = 1, white noise):
  (a) one series of 100,000 points;
  (b) 1,000 series × 10,000 points — the peers loop in Python (none of them batches); jentropy
      takes the (1000, 10000) array in one call.
jentropy computes H and C together; antropy computes H only. Times are the minimum over repeats
with ``block_until_ready``; jentropy's compile time (first call minus steady) is reported apart.
Inputs are placed on the device before timing (the peers get the same float64 NumPy arrays).

dtype: the headline timings are float64 (``jax.enable_x64``), because the peers work on float64
and the inputs should be identical; float32 timings are reported too (same patterns unless two
values of a window collide after rounding to float32). Correctness is asserted in float64: H and
C of every tool agree with jentropy to 1e-10 (max abs diff printed).

``--quick`` times every peer on a subsample of case (b) (50 series) and extrapolates linearly
to 1,000 series (their cost is a Python loop over independent series), and uses fewer repeats.

Usage: python benchmarks/ordinal_vs_peers.py [--quick]
Writes benchmarks/results/ordinal_vs_peers.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import numpy as np

from jentropy import ordinal
from jentropy.reproduce import write_json_atomic

N, DELAY = 5, 1
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        jax.block_until_ready(out)
        times.append(time.perf_counter() - start)
    return min(times), out


def bench_jentropy(x: np.ndarray, dtype, repeats: int) -> dict:
    with jax.enable_x64(dtype == np.float64):
        xd = jax.device_put(x.astype(dtype))
        jax.block_until_ready(xd)
        start = time.perf_counter()
        jax.block_until_ready(ordinal.entropy_complexity(xd, N, DELAY))
        first = time.perf_counter() - start
        steady, (h, c) = _best(lambda: ordinal.entropy_complexity(xd, N, DELAY), repeats)
        return {
            "compile_s": max(first - steady, 0.0),
            "steady_s": steady,
            "H": np.asarray(h, np.float64),
            "C": np.asarray(c, np.float64),
        }


def _peer_functions():
    import antropy
    import ordpy
    from peccary import peccary

    return {
        "ordpy": lambda s: ordpy.complexity_entropy(s, dx=N, taux=DELAY),
        "peccary": lambda s: peccary(s, n=N).calcHC(sampInt=DELAY),
        "antropy": lambda s: (antropy.perm_entropy(s, order=N, delay=DELAY, normalize=True),),
    }


def bench_peer(fn, rows: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    best, values = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        values = np.array([fn(r) for r in rows], np.float64)
        best = min(best, time.perf_counter() - start)
    return best, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsample peers on case (b)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = {
        "a: 1 x 100k": rng.standard_normal((1, 100_000)),
        "b: 1000 x 10k": rng.standard_normal((1000, 10_000)),
    }
    jax_repeats = 5 if args.quick else 10
    peers = _peer_functions()
    results: dict = {
        "n": N,
        "delay": DELAY,
        "quick": args.quick,
        "headline_dtype": "float64",
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "cases": {},
    }
    rows_out = []
    for case, x in cases.items():
        entry: dict = {"shape": list(x.shape)}
        j64 = bench_jentropy(x, np.float64, jax_repeats)
        j32 = bench_jentropy(x, np.float32, jax_repeats)
        entry["jentropy_float64"] = {k: j64[k] for k in ("compile_s", "steady_s")}
        entry["jentropy_float32"] = {k: j32[k] for k in ("compile_s", "steady_s")}
        big = x.shape[0] > 1
        sub = 50 if (args.quick and big) else x.shape[0]
        scale = x.shape[0] / sub
        peer_repeats = 1 if big else 3
        for name, fn in peers.items():
            seconds, values = bench_peer(fn, x[:sub], peer_repeats)
            diff_h = float(np.max(np.abs(values[:, 0] - j64["H"][:sub])))
            diff_c = (
                float(np.max(np.abs(values[:, 1] - j64["C"][:sub]))) if name != "antropy" else None
            )
            assert diff_h < 1e-10, (name, case, diff_h)
            assert diff_c is None or diff_c < 1e-10, (name, case, diff_c)
            entry[name] = {
                "seconds": seconds * scale,
                "measured_series": sub,
                "extrapolated": sub != x.shape[0],
                "max_abs_diff_H": diff_h,
                "max_abs_diff_C": diff_c,
                "computes": "H" if name == "antropy" else "H, C",
                "speedup_of_jentropy_f64": seconds * scale / j64["steady_s"],
                "speedup_of_jentropy_f32": seconds * scale / j32["steady_s"],
            }
        results["cases"][case] = entry
        rows_out.append((case, entry))

    print(
        f"\nordinal_vs_peers (n = {N}, ℓ = {DELAY}; H and C; antropy H only)"
        f"{' [--quick: peers on 50 series of (b), extrapolated x20]' if args.quick else ''}"
    )
    header = f"{'case':15s} {'tool':22s} {'compile s':>10s} {'steady s':>10s} {'jentropy(f64) x':>16s} {'max|dH|':>9s} {'max|dC|':>9s}"
    print(header)
    print("-" * len(header))
    for case, e in rows_out:
        for label, key in (
            ("jentropy float64", "jentropy_float64"),
            ("jentropy float32", "jentropy_float32"),
        ):
            print(
                f"{case:15s} {label:22s} {e[key]['compile_s']:10.3f} {e[key]['steady_s']:10.4f} {'':>16s}"
            )
        for name in peers:
            p = e[name]
            tag = name + (" (extrap.)" if p["extrapolated"] else "")
            dc = "-" if p["max_abs_diff_C"] is None else f"{p['max_abs_diff_C']:.1e}"
            print(
                f"{case:15s} {tag:22s} {'':>10s} {p['seconds']:10.3f} "
                f"{p['speedup_of_jentropy_f64']:15.1f}x {p['max_abs_diff_H']:9.1e} {dc:>9s}"
            )
    b = results["cases"]["b: 1000 x 10k"]
    ok = b["ordpy"]["speedup_of_jentropy_f64"] >= 50 and b["antropy"]["speedup_of_jentropy_f64"] > 1
    results["acceptance_b"] = {
        "rule": "jentropy (H and C, float64) >= 50x ordpy and faster than antropy on case (b)",
        "passed": bool(ok),
    }
    print(
        f"\nacceptance on (b): {'PASS' if ok else 'FAIL'} "
        f"(vs ordpy {b['ordpy']['speedup_of_jentropy_f64']:.0f}x, "
        f"vs antropy {b['antropy']['speedup_of_jentropy_f64']:.1f}x)"
    )
    path = os.path.join(RESULTS, "ordinal_vs_peers.json")
    write_json_atomic(path, results)
    print(f"wrote {path}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
