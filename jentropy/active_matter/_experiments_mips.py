"""The MIPS computations behind ``jentropy reproduce active_matter``: a MIPS system at CPU
scale, simulated from the authors' dense start; per-particle DSM training of the shifted local
transformer; the local EPR on the training system, on other packing fractions and on a 4× larger
system (sizes from :func:`._experiments.sizes`)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jentropy.reproduce import progress

from ._cells import nearest_neighbors
from ._epr import (
    particle_score_identities,
)
from ._experiments import Sizes
from ._fields import particle_entropy_production
from ._fit import fit_score
from ._network import LocalTransformer, particle_patches
from ._simulate import init_particles, simulate
from ._system import ActiveSystem, mips_system


def local_packing(xs: jax.Array, half_width: float, k: int = 12) -> np.ndarray:
    """k-NN estimate of the local packing fraction around each particle, φ_i = k r²/r_k²."""
    rk = jax.lax.map(
        lambda x: jnp.linalg.norm(nearest_neighbors(x, k, half_width).displacement[:, -1], axis=-1),
        xs,
    )
    return np.asarray(k / rk**2)


def _run_system(
    system: ActiveSystem, key: jax.Array, thermalize: int, snapshots: int, every: int
) -> tuple[jax.Array, jax.Array]:
    """Dense (or uniform, φ < 0.25) start, a short overlap-tolerant relaxation, then the run."""
    k1, k2, k3 = jax.random.split(key, 3)
    phi = system.packing_fraction or 0.5
    state = init_particles(k1, system, layout="cluster" if phi >= 0.25 else "uniform")
    roomy = system.replace(cell_capacity=64, max_neighbors=128)
    state = simulate(roomy, state, key=k2, dt=0.1, n_steps=200).final
    traj = simulate(
        system,
        state,
        key=k3,
        dt=0.1,
        n_steps=snapshots * every,
        save_every=every,
        thermalize=thermalize,
    )
    return traj.x, traj.g


def mips_runs(s: Sizes, key: jax.Array) -> dict[str, Any]:
    """Simulate, train at (N, φ = 0.5), evaluate at N, 4N and the other packing fractions."""
    keys = jax.random.split(key, 4 + len(s.phis))
    system = mips_system(s.mips_n, 0.5)
    bar = progress(total=3 + len(s.phis), desc="mips")
    xs, gs = _run_system(system, keys[0], s.thermalize, s.snapshots, s.snapshot_every)
    bar.update(1)
    train_part = max(1, s.snapshots // 2)
    patches = jax.vmap(lambda x, g: particle_patches(x, g, s.k, system.half_width))(
        xs[:train_part], gs[:train_part]
    )
    patches = jax.tree_util.tree_map(lambda a: a.reshape(-1, *a.shape[2:]), patches)
    model = LocalTransformer(
        n_neighbors=s.k, width=s.width, depth=s.depth, num_heads=2, shift=True, key=keys[1]
    )
    res = fit_score(
        model,
        patches,
        key=keys[2],
        steps=s.mips_steps,
        batch_size=min(128, patches.x_self.shape[0]),
        sigmas=(1e-2,),
        learning_rate=1e-3,
        ema_decay=0.99,
        progress=False,
    )
    net = res.ema_model
    bar.update(1)
    evals: dict[str, Any] = {}

    def evaluate(tag: str, sys_: ActiveSystem, x: jax.Array, g: jax.Array) -> None:
        div = particle_entropy_production(net, sys_, x, g)
        quad = particle_entropy_production(net, sys_, x, g, form="quadratic")
        ids = particle_score_identities(g, div.field.score, div.field.jacobian_diagonal.sum(-1))
        evals[tag] = {
            "system": sys_,
            "x": np.asarray(x),
            "local": np.asarray(div.local),
            "local_quadratic": np.asarray(quad.local),
            "epr": (float(div.total.value), float(div.total.stderr)),
            "epr_quadratic": (float(quad.total.value), float(quad.total.stderr)),
            "g_dot_s": float(ids["g_dot_s"].value),
            "stein": float(ids["stein"].value),
            "packing": local_packing(x, sys_.half_width),
        }

    evaluate("train (held-out)", system, xs[train_part:], gs[train_part:])
    for i, phi in enumerate(s.phis):
        if phi == 0.5:
            evals[f"phi={phi}"] = evals["train (held-out)"]
        else:
            sys_phi = mips_system(s.mips_n, phi)
            x, g = _run_system(
                sys_phi, keys[4 + i], s.sweep_thermalize, s.sweep_snapshots, s.snapshot_every
            )
            evaluate(f"phi={phi}", sys_phi, x, g)
        bar.update(1)
    big = mips_system(4 * s.mips_n, 0.5)
    x, g = _run_system(big, keys[3], s.sweep_thermalize, s.sweep_snapshots, s.snapshot_every)
    evaluate("4N", big, x, g)
    bar.update(1)
    bar.close()
    return {
        "system": system,
        "xs": np.asarray(xs),
        "loss": res.history["loss"],
        "evals": evals,
        "train_snapshots": train_part,
    }
