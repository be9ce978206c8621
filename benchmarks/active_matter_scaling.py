"""jentropy.active_matter scaling: simulation steps/s against N, O(N) lists vs all pairs, and the
score network's throughput.

Work (MIPS system of the paper: φ = 0.5, softplus repulsion β = 7.5, dt = 0.1, float32):
  (a) simulation steps/s for N = 64 … 32,768 with the O(N) Verlet list rebuilt from a cell list
      (``jentropy.active_matter.simulate``), against the same simulation with all-pairs forces
      (``method="all_pairs"``, the O(N²) peer) up to the N where it is clearly slower: the
      crossover N and the log-log slope of time per step against N (1 = linear).
  (b) k-nearest-neighbour search (the network's input): O(N) cell search vs all pairs.
  (c) the local transformer's throughput in particles/s: the score alone and score + its 2 × 2
      self-Jacobian (what the local EPR needs), for a CPU-sized network (k = 16, width 32,
      depth 2) and the paper's (k = 64, width 256, depth 4).
Each configuration is run once to compile (reported as compile time = first call − steady),
then ``repeats`` times; the steady time is the minimum, with ``block_until_ready``. Simulations
start from a jittered square lattice (no overlaps) and every timed call continues from the
previous call's final state, so they measure steady stepping including the Verlet-list rebuilds
that stepping needs (about one per 100 steps here), not the relaxation of an overlapping start.

The machine is shared: the load average (``uptime``) at the start and end is recorded, and the
CPU time of this process per step is reported next to the wall time (on a loaded machine wall
time also measures the other processes; CPU time counts this process's threads only).

Usage: python benchmarks/active_matter_scaling.py [--quick]
Writes benchmarks/results/active_matter_scaling.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from jentropy import active_matter as am
from jentropy.reproduce import write_json_atomic

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SIZES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _timed(fn, repeats):
    """(compile_s, steady wall s, steady CPU s of this process, output): minima over repeats."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn())
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    steady = min(walls)
    return max(first - steady, 0.0), steady, min(cpus), out


def bench_simulation(n: int, method: str, repeats: int, work: int, min_steps: int) -> dict:
    system = am.mips_system(n, 0.5)
    steps = max(min_steps, work // n)
    # a jittered lattice has no overlaps: stepping (and list rebuilding) is steady from the start
    state = {"s": am.init_particles(jax.random.key(n), system, layout="lattice")}
    calls = {"i": 0}

    def run():
        calls["i"] += 1
        traj = am.simulate(
            system,
            state["s"],
            key=jax.random.key(calls["i"]),
            dt=0.1,
            n_steps=steps,
            save_every=steps,
            method=method,
        )
        state["s"] = traj.final
        return traj.final.x

    compile_s, steady, cpu, _ = _timed(run, repeats)
    return {
        "N": n,
        "method": method,
        "steps": steps,
        "compile_s": compile_s,
        "seconds_per_step": steady / steps,
        "steps_per_s": steps / steady,
        "ns_per_particle_step": steady / steps / n * 1e9,
        "cpu_seconds_per_step": cpu / steps,
        "cpu_ns_per_particle_step": cpu / steps / n * 1e9,
    }


def bench_knn(n: int, k: int, repeats: int) -> dict:
    system = am.mips_system(n, 0.5)
    x = am.init_particles(jax.random.key(0), system).x
    out = {"N": n, "k": k}
    for label, radius in (("cells", 9.0), ("all_pairs", None)):
        c, s, _, nb = _timed(
            lambda r=radius: am.nearest_neighbors(x, k, system.half_width, search_radius=r), repeats
        )
        out[f"{label}_s"], out[f"{label}_compile_s"] = s, c
        out[f"{label}_exact"] = bool(nb.exact)
    return out


def bench_network(n: int, config: dict, repeats: int) -> dict:
    system = am.mips_system(n, 0.5)
    state = am.init_particles(jax.random.key(1), system)
    model = am.LocalTransformer(**config, key=jax.random.key(2))
    xs, gs = state.x[None], state.g[None]
    c1, s1, _, _ = _timed(
        lambda: am.particle_scores(model, state.x, state.g, system.half_width), repeats
    )
    c2, s2, _, _ = _timed(
        lambda: am.particle_score_fields(model, xs, gs, system.half_width), repeats
    )
    params = sum(x.size for x in jax.tree_util.tree_leaves(model) if hasattr(x, "size"))
    return {
        "N": n,
        **config,
        "parameters": int(params),
        "score_s": s1,
        "score_compile_s": c1,
        "score_particles_per_s": n / s1,
        "score_and_jacobian_s": s2,
        "score_and_jacobian_compile_s": c2,
        "score_and_jacobian_particles_per_s": n / s2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, less work per call")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    work = 400_000 if args.quick else 2_000_000  # particle-steps per timed call
    pair_max = 4096 if args.quick else 8192
    load_start = _load()
    print(f"load average at start: {load_start}  ({os.cpu_count()} CPUs, {jax.devices()})")

    sim = []
    print(f"\n(a) simulation, φ = 0.5, dt = 0.1 ({repeats} repeats, min)")
    print(
        f"{'N':>6} {'lists: steps/s':>15} {'ns/particle':>12} {'CPU ns/particle':>16} "
        f"{'all pairs: steps/s':>19} {'lists/all-pairs':>16} {'compile lists, pairs (s)':>25}"
    )
    for n in SIZES:
        # lists: ≥ 100 steps per call, about one list rebuild (amortised as in a long run)
        row = {"N": n, "lists": bench_simulation(n, "auto", repeats, work, 100)}
        if n <= pair_max:
            row["all_pairs"] = bench_simulation(n, "all_pairs", repeats, work // 4, 5)
        lists = row["lists"]
        pairs = row.get("all_pairs")
        speedup = pairs["seconds_per_step"] / lists["seconds_per_step"] if pairs else float("nan")
        print(
            f"{n:>6} {lists['steps_per_s']:>15.1f} {lists['ns_per_particle_step']:>12.0f} "
            f"{lists['cpu_ns_per_particle_step']:>16.0f} "
            f"{pairs['steps_per_s'] if pairs else float('nan'):>19.1f} {speedup:>16.2f} "
            f"{lists['compile_s']:>12.1f}, {pairs['compile_s'] if pairs else float('nan'):.1f}"
        )
        sim.append(row)
    ns = np.array([r["N"] for r in sim], float)
    t_list = np.array([r["lists"]["seconds_per_step"] for r in sim])
    big = ns >= 1024
    slope_list = float(np.polyfit(np.log(ns[big]), np.log(t_list[big]), 1)[0])
    c_list = np.array([r["lists"]["cpu_seconds_per_step"] for r in sim])
    slope_cpu = float(np.polyfit(np.log(ns[big]), np.log(c_list[big]), 1)[0])
    paired = [r for r in sim if "all_pairs" in r]
    t_pair = np.array([r["all_pairs"]["seconds_per_step"] for r in paired])
    n_pair = np.array([r["N"] for r in paired], float)
    slope_pair = float(
        np.polyfit(np.log(n_pair[n_pair >= 512]), np.log(t_pair[n_pair >= 512]), 1)[0]
    )
    faster = [
        r["N"]
        for r in paired
        if r["lists"]["seconds_per_step"] < r["all_pairs"]["seconds_per_step"]
    ]
    crossover = min(faster) if faster else None
    print(
        f"log-log slope of time/step vs N (N ≥ 1024): lists {slope_list:.2f} wall, "
        f"{slope_cpu:.2f} CPU time; all pairs {slope_pair:.2f} (N ≥ 512); lists faster from "
        f"N = {crossover}"
    )

    print("\n(b) k-nearest neighbours (k = 16): cell search vs all pairs, seconds")
    knn = [bench_knn(n, 16, repeats) for n in (1024, 8192, 32768)]
    for r in knn:
        print(
            f"{r['N']:>6} cells {r['cells_s']:.4f} (exact {r['cells_exact']})  all pairs "
            f"{r['all_pairs_s']:.4f}  ratio {r['all_pairs_s'] / r['cells_s']:.1f}"
        )

    print("\n(c) local transformer throughput, particles/s")
    configs = [
        (
            "cpu",
            dict(n_neighbors=16, width=32, depth=2, num_heads=2),
            4096 if not args.quick else 1024,
        ),
        (
            "paper",
            dict(n_neighbors=64, width=256, depth=4, num_heads=4),
            512 if not args.quick else 128,
        ),
    ]
    net = []
    for name, cfg, n in configs:
        r = bench_network(n, cfg, repeats)
        r["name"] = name
        net.append(r)
        print(
            f"{name:>6} (k={cfg['n_neighbors']}, width {cfg['width']}, depth {cfg['depth']}, "
            f"{r['parameters']} params, N = {n}): score {r['score_particles_per_s']:.0f}/s, "
            f"score + 2×2 Jacobian {r['score_and_jacobian_particles_per_s']:.0f}/s"
        )

    load_end = _load()
    print(f"\nload average at end: {load_end}")
    write_json_atomic(
        os.path.join(RESULTS, "active_matter_scaling.json"),
        {
            "quick": args.quick,
            "load_average_start": load_start,
            "load_average_end": load_end,
            "machine": {
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "jax": jax.__version__,
                "devices": [str(d) for d in jax.devices()],
            },
            "dtype": str(jnp.result_type(float)),
            "simulation": sim,
            "slope_lists_N_ge_1024": slope_list,
            "slope_lists_cpu_time_N_ge_1024": slope_cpu,
            "slope_all_pairs_N_ge_512": slope_pair,
            "crossover_N": crossover,
            "knn": knn,
            "network": net,
        },
    )


if __name__ == "__main__":
    main()
