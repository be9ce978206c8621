"""The computations behind ``jentropy reproduce active_matter`` (figures are drawn in reproduce.py).

* :func:`exact_runs` — spec cases 1-4 learned from *simulated* stationary samples: a trapped
  AOUP (full and g-part EPR), the rotational linear SDE, equilibrium (v0 = 0) and N coupled AOUPs
  with springs learned by the local transformer; each against its Lyapunov answer.
* ``mips_runs`` (in ``_experiments_mips.py``) — the MIPS system at CPU scale.

:func:`sizes` gives both their problem sizes per scale.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jentropy import integrate, nn
from jentropy.reproduce import pick, progress

from ._epr import (
    entropy_production_rate,
    local_entropy_production,
    particle_score_identities,
)
from ._fields import particle_entropy_production
from ._fit import fit_score
from ._linear import (
    LinearSDE,
    aoup_linear_sde,
    aoup_trap_epr,
    linear_epr,
    linear_score,
    stationary_covariance,
)
from ._network import LocalTransformer, particle_patches
from ._simulate import init_particles, simulate_replicas
from ._system import ActiveSystem


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Problem sizes of one scale."""

    exact_cases: tuple[str, ...]  # of "trap", "rotation", "equilibrium", "coupled"
    replicas: int  # independent trajectories for the low-dimensional systems
    flat_steps: int  # training steps, flat score models
    coupled_n: int  # particles in the coupled linear system
    coupled_steps: int
    coupled_width: int
    coupled_depth: int
    mips_n: int  # particles of the MIPS training system
    thermalize: int  # MIPS steps before saving
    snapshots: int
    snapshot_every: int
    sweep_thermalize: int  # other packing fractions / the 4N system
    sweep_snapshots: int
    mips_steps: int  # training steps, MIPS network
    k: int  # neighbours of the MIPS network
    width: int
    depth: int
    phis: tuple[float, ...]


ALL_CASES = ("trap", "rotation", "equilibrium", "coupled")
TAGS = {
    "trap: full": "trap",
    "trap: g-part": "trap_g",
    "rotation 2ω²/k": "rotation",
    "equilibrium v0=0": "equilibrium",
}
DT_LOW = 2e-3  # Euler step of the low-dimensional systems: O(dt) bias in Σ below 0.5%


def sizes(scale: str) -> Sizes:
    """Sizes per scale. smoke: toy sizes with the fewest compilations (the trapped AOUP only
    among the exact cases — the transformer path runs in ``mips`` — and no packing-fraction
    sweep); quick: ~5 CPU-minutes in all; full: the paper's network and N (an accelerator's
    job)."""
    return pick(
        scale,
        smoke=Sizes(
            exact_cases=("trap",),
            replicas=32,
            flat_steps=60,
            coupled_n=4,
            coupled_steps=40,
            coupled_width=16,
            coupled_depth=1,
            mips_n=64,
            thermalize=300,
            snapshots=2,
            snapshot_every=50,
            sweep_thermalize=200,
            sweep_snapshots=1,
            mips_steps=30,
            k=8,
            width=16,
            depth=1,
            phis=(0.5,),
        ),
        quick=Sizes(
            exact_cases=ALL_CASES,
            replicas=512,
            flat_steps=1000,
            coupled_n=8,
            coupled_steps=2500,
            coupled_width=32,
            coupled_depth=2,
            mips_n=1024,
            thermalize=10_000,
            snapshots=8,
            snapshot_every=500,
            sweep_thermalize=6_000,
            sweep_snapshots=4,
            mips_steps=1_500,
            k=16,
            width=32,
            depth=2,
            phis=(0.2, 0.35, 0.5, 0.65, 0.8),
        ),
        full=Sizes(
            exact_cases=ALL_CASES,
            replicas=1024,
            flat_steps=20_000,
            coupled_n=16,
            coupled_steps=20_000,
            coupled_width=128,
            coupled_depth=4,
            mips_n=4096,
            thermalize=500_000,
            snapshots=100,
            snapshot_every=10_000,
            sweep_thermalize=200_000,
            sweep_snapshots=20,
            mips_steps=100_000,
            k=64,
            width=256,
            depth=4,
            phis=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        ),
    )


def _flat_fit(zs: jax.Array, key: jax.Array, steps: int, loss: str) -> tuple[Any, np.ndarray]:
    n = zs.shape[1]
    model = nn.MLP(n, n, 64, 2, key=key)
    res = fit_score(
        model,
        zs,
        key=jax.random.fold_in(key, 1),
        steps=steps,
        batch_size=256,
        loss=loss,
        sigmas=(1e-2,),
        learning_rate=3e-3,
        ema_decay=0.99,
        progress=False,
    )
    return res.ema_model, res.history["loss"]


def _trap_samples(system: ActiveSystem, s: Sizes, key: jax.Array) -> jax.Array:
    k1, k2 = jax.random.split(key)
    states = jax.vmap(lambda k: init_particles(k, system))(jax.random.split(k1, s.replicas))
    traj = simulate_replicas(
        system,
        states,
        jax.random.split(k2, s.replicas),
        dt=DT_LOW,
        n_steps=32 * 250,
        save_every=250,  # 0.5 time units apart
        thermalize=5_000,  # 10 relaxation times 1/k
    )
    r, t = traj.x.shape[:2]
    return jnp.concatenate([traj.x.reshape(r * t, -1), traj.g.reshape(r * t, -1)], axis=1)


def _rotation_samples(sde: LinearSDE, s: Sizes, key: jax.Array) -> jax.Array:
    a, d = sde.drift_matrix, jnp.sqrt(2 * sde.diffusion)

    def one(k: jax.Array) -> jax.Array:
        _, ys = integrate.euler_maruyama(
            lambda t, y, _: a @ y,
            lambda t, y, _: d,
            jnp.zeros(2),
            5e-3,
            5_200,
            key=k,
            save_every=100,
        )
        return ys[21:]  # after 10 time units (relaxation time 1/k = 1)

    return jax.vmap(one)(jax.random.split(key, s.replicas)).reshape(-1, 2)


def _flat_cases(
    named_masks: dict[str, Any], sde: LinearSDE, zs: jax.Array, key: jax.Array, steps: int
) -> list[dict[str, Any]]:
    """Train one flat score model by DSM and estimate the EPR over each coordinate subset."""
    model, history = _flat_fit(zs, key, steps, "dsm")
    drift = lambda z: sde.drift_matrix @ z  # noqa: E731
    sigma = stationary_covariance(sde)
    exact_score = lambda z: linear_score(sigma, z)  # noqa: E731
    cases = []
    for name, mask in named_masks.items():
        out = {
            "name": name,
            "tag": TAGS[name],
            "loss": history,
            "exact": float(linear_epr(sde, sigma, mask=mask)),
        }
        for form in ("quadratic", "divergence"):
            est = entropy_production_rate(drift, model, sde.diffusion, zs, form=form, mask=mask)
            out[form] = (float(est.value), float(est.stderr))
        est = entropy_production_rate(drift, exact_score, sde.diffusion, zs, mask=mask)
        out["analytic_score_on_samples"] = (float(est.value), float(est.stderr))
        cases.append(out)
    return cases


def exact_runs(s: Sizes, key: jax.Array) -> list[dict[str, Any]]:
    """Learned vs analytic EPR for the exact cases, each trained on simulated samples."""
    keys = jax.random.split(key, 8)
    trap = ActiveSystem(1, v0=1.0, gamma=1.0, epsilon=0.5, stiffness=0.0, trap=1.0)
    bar = progress(total=len(s.exact_cases), desc="exact systems")
    cases: list[dict[str, Any]] = []
    if "trap" in s.exact_cases:
        g_mask = jnp.array([False, False, True, True])
        found = _flat_cases(
            {"trap: full": None, "trap: g-part": g_mask},
            aoup_linear_sde(trap),
            _trap_samples(trap, s, keys[0]),
            keys[1],
            s.flat_steps,
        )
        full, g_part = aoup_trap_epr(1.0, 1.0, 1.0, 0.5)
        found[0]["closed_form"], found[1]["closed_form"] = 2 * full, 2 * g_part  # d = 2
        cases += found
        bar.update(1)
    if "rotation" in s.exact_cases:
        rot = LinearSDE(jnp.array([[-1.0, 1.0], [-1.0, -1.0]]), jnp.ones(2))
        samples = _rotation_samples(rot, s, keys[2])
        cases += _flat_cases({"rotation 2ω²/k": None}, rot, samples, keys[3], s.flat_steps)
        cases[-1]["closed_form"] = 2.0
        bar.update(1)
    if "equilibrium" in s.exact_cases:
        eq = trap.replace(v0=0.0)
        samples = _trap_samples(eq, s, keys[4])
        cases += _flat_cases(
            {"equilibrium v0=0": None}, aoup_linear_sde(eq), samples, keys[5], s.flat_steps
        )
        cases[-1]["closed_form"] = 0.0
        bar.update(1)
    if "coupled" in s.exact_cases:
        cases.append(_coupled_case(s, keys[6]))
        bar.update(1)
    bar.close()
    return cases


def _coupled_case(s: Sizes, key: jax.Array) -> dict[str, Any]:
    """Spec case 4: N AOUPs, all-to-all springs, trap, ε = 0; the local transformer."""
    n = s.coupled_n
    system = ActiveSystem(n, v0=1.0, gamma=1.0, epsilon=0.0, stiffness=0.0, trap=1.0, spring=0.25)
    k1, k2, k3 = jax.random.split(key, 3)
    states = jax.vmap(lambda k: init_particles(k, system))(jax.random.split(k1, s.replicas))
    traj = simulate_replicas(
        system,
        states,
        jax.random.split(k2, s.replicas),
        dt=DT_LOW,
        n_steps=32 * 250,
        save_every=250,
        thermalize=5_000,
    )
    xs, gs = traj.x.reshape(-1, n, 2), traj.g.reshape(-1, n, 2)
    patches = jax.vmap(lambda x, g: particle_patches(x, g, n - 1, None))(xs, gs)
    patches = jax.tree_util.tree_map(lambda a: a.reshape(-1, *a.shape[2:]), patches)
    model = LocalTransformer(
        n_neighbors=n - 1,
        width=s.coupled_width,
        depth=s.coupled_depth,
        num_heads=2,
        absolute_position=True,
        length_scale=1.0,
        key=k3,
    )
    res = fit_score(
        model,
        patches,
        key=jax.random.fold_in(k3, 1),
        steps=s.coupled_steps,
        batch_size=128,
        sigmas=(1e-2,),
        perturb_context=False,  # lower-variance DSM: see make_score_loss
        learning_rate=2e-3,
        ema_decay=0.99,
        progress=False,
    )
    exact = float(linear_epr(aoup_linear_sde(system)))
    out = {
        "name": f"{n} coupled (transformer)",
        "tag": "coupled",
        "loss": res.history["loss"],
        "exact": exact,
    }
    for form in ("quadratic", "divergence"):
        epr = particle_entropy_production(res.ema_model, system, xs, gs, form=form)
        out[form] = (float(epr.total.value), float(epr.total.stderr))
    sde = aoup_linear_sde(system)
    zs = jnp.concatenate([xs.reshape(len(xs), -1), gs.reshape(len(gs), -1)], axis=1)
    s_g = linear_score(stationary_covariance(sde), zs)[:, n * 2 :].reshape(gs.shape)
    exact_local = local_entropy_production(system, gs, s_g, form="quadratic").sum(-1)
    out["analytic_score_on_samples"] = (
        float(exact_local.mean()),
        float(exact_local.std() / np.sqrt(len(exact_local))),
    )
    field = epr.field
    ids = particle_score_identities(gs, field.score, field.jacobian_diagonal.sum(-1))
    out["g_dot_s_per_coordinate"] = float(ids["g_dot_s"].value)
    out["stein_per_coordinate"] = float(ids["stein"].value)
    return out
