"""Trajectories: dysts semantics, accuracy against scipy DOP853, joint batches with per-member error
control, failure reporting, maps, and the method-of-steps delay solver.

Tolerances (float64): both jentropy (diffrax Dopri8) and scipy DOP853 run at rtol = atol = 1e-12;
two such solutions agree to ~1e-10 at the start and drift apart like exp(λ t) (Lorenz λ ≈ 0.9), so
over the first five Lyapunov times (t ≤ 5.5) the pointwise difference stays below 1e-6 of the
attractor's scale (measured: 3e-8). The delay solver is checked against a closed-form
piecewise-polynomial solution (exact to round-off, since RK4 and cubic Hermite interpolation are
exact on cubics) and against an independent scipy method-of-steps reference (error 1e-8 at the
default grid, fourth-order convergence).
"""

import dataclasses
import warnings
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jentropy import chaos

LYAP_TIME = 1 / 0.906


def lorenz_numpy(t, x, sigma=10.0, rho=28.0, beta=2.667):
    return [sigma * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1], x[0] * x[1] - beta * x[2]]


def dop853(x0, ts):
    sol = solve_ivp(
        lorenz_numpy, (0, ts[-1]), x0, t_eval=ts, method="DOP853", rtol=1e-12, atol=1e-12
    )
    return sol.y.T


@pytest.fixture(scope="module")
def lorenz_batch():
    """8 random Lorenz ICs solved jointly, 500 points (10 periods), float64."""
    with jax.enable_x64(True):
        x0 = chaos.random_initial_conditions("Lorenz", 8, key=jax.random.key(3))
        traj = chaos.make_trajectory("Lorenz", 500, init_cond=x0)
    return np.asarray(x0), traj


def test_single_lorenz_matches_dop853(x64):
    traj = chaos.make_trajectory("Lorenz", 1000)
    system = chaos.get("Lorenz")
    assert traj.ys.shape == (1000, 3) and bool(traj.success)
    np.testing.assert_allclose(traj.ts[-1], system.period * 1000 / 100, rtol=1e-14)
    ts = np.asarray(traj.ts)
    ref = dop853(system.ic, ts)
    early = ts <= 5 * LYAP_TIME
    err = np.abs(np.asarray(traj.ys)[early] - ref[early]).max()
    assert err < 1e-6 * 10, err  # attractor scale ~10


def test_joint_batch_every_member_matches_dop853(lorenz_batch):
    x0, traj = lorenz_batch
    assert traj.ys.shape == (8, 500, 3) and traj.success.shape == (8,)
    assert bool(traj.success.all())
    ts = np.asarray(traj.ts)
    early = ts <= 5 * LYAP_TIME
    for i in range(8):
        ref = dop853(x0[i], ts)
        err = np.abs(np.asarray(traj.ys[i])[early] - ref[early]).max()
        assert err < 1e-5, (i, err)


@pytest.mark.slow
def test_joint_solve_controls_each_member(x64):
    # One member on a 100x larger scale (Lorenz is not scale-free, but the point is the error
    # norm): with a max norm over members the small member keeps its own accuracy.
    x0 = jnp.asarray(chaos.get("Lorenz").ic)
    kw = dict(rtol=1e-8, atol=1e-8, solver="dopri5")
    single = chaos.make_trajectory("Lorenz", 200, init_cond=x0, **kw)
    batch = chaos.make_trajectory("Lorenz", 200, init_cond=jnp.stack([x0, 3 * x0]), **kw)
    ref = dop853(np.asarray(x0), np.asarray(single.ts))
    early = np.asarray(single.ts) <= 3 * LYAP_TIME
    err_single = np.abs(np.asarray(single.ys)[early] - ref[early]).max()
    err_joint = np.abs(np.asarray(batch.ys[0])[early] - ref[early]).max()
    assert err_joint <= 2 * err_single + 1e-9


def test_time_spans_follow_dysts(x64):
    s = chaos.get("Lorenz")
    t = chaos.make_trajectory(s, 50, resample=False, solver="rk4").ts
    np.testing.assert_allclose(t[-1], 49 * s.dt, rtol=1e-12)
    t = chaos.make_trajectory(s, 50, pts_per_period=10, solver="rk4").ts
    np.testing.assert_allclose(t[-1], 5 * s.period, rtol=1e-12)
    t = chaos.make_trajectory(s, 50, timescale="Lyapunov", solver="rk4").ts
    np.testing.assert_allclose(t[-1], 0.5 / s.metadata["maximum_lyapunov_estimated"], rtol=1e-12)


def test_matches_dysts_make_trajectory(x64):
    dysts_flows = pytest.importorskip("dysts.flows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = dysts_flows.Lorenz().make_trajectory(1000, method="DOP853", return_times=True)
    traj = chaos.make_trajectory("Lorenz", 1000)  # same compiled solve as the test above
    np.testing.assert_allclose(traj.ts, ref[0], rtol=1e-13)
    early = ref[0] <= 5 * LYAP_TIME
    np.testing.assert_allclose(np.asarray(traj.ys)[early], ref[1][early], atol=1e-6)


def test_standardize_integrates_rescaled_field(x64):
    s = chaos.get("Lorenz")
    plain = chaos.make_trajectory(s, 1000, pts_per_period=500)
    scaled = chaos.make_trajectory(s, 1000, pts_per_period=500, standardize=True)
    mean, std = np.asarray(s.metadata["mean"]), np.asarray(s.metadata["std"])
    np.testing.assert_allclose(np.asarray(scaled.ys) * std + mean, plain.ys, atol=1e-7)


def test_rk4_option_agrees(x64):
    fine = chaos.make_trajectory("Lorenz", 1000, pts_per_period=500, solver="rk4", dt=1e-3)
    ref = chaos.make_trajectory("Lorenz", 1000, pts_per_period=500)
    np.testing.assert_allclose(fine.ys, ref.ys, atol=1e-5)  # RK4 at dt=1e-3: error ~dt⁴·C


def test_same_key_same_trajectory(x64):
    a = chaos.make_trajectory("Lorenz", 64, key=jax.random.key(7), n_ics=3, solver="rk4")
    b = chaos.make_trajectory("Lorenz", 64, key=jax.random.key(7), n_ics=3, solver="rk4")
    c = chaos.make_trajectory("Lorenz", 64, key=jax.random.key(8), n_ics=3, solver="rk4")
    np.testing.assert_array_equal(a.ys, b.ys)
    assert not np.allclose(a.ys, c.ys)
    assert a.ys.shape == (3, 64, 3)


def test_random_initial_conditions_on_attractor(x64):
    x0 = chaos.random_initial_conditions("Lorenz", 32, key=jax.random.key(0))
    assert x0.shape == (32, 3)
    assert len(np.unique(np.asarray(x0)[:, 0])) == 32
    s = chaos.get("Lorenz")
    z = (np.asarray(x0) - np.asarray(s.metadata["mean"])) / np.asarray(s.metadata["std"])
    assert np.abs(z).max() < 4  # on the attractor: within 4 stored stds of its mean


def _custom(kind, fn, ic, params=None, **meta):
    base = chaos.get("Lorenz") if kind == "flow" else chaos.get("MackeyGlass")
    metadata = {"period": 1.0, "dt": 0.01, **meta}
    return dataclasses.replace(
        base,
        name=f"custom_{kind}",
        dim=1,
        params=MappingProxyType(params or {}),
        ic=np.asarray(ic, float),
        metadata=MappingProxyType(metadata),
        fn=fn,
    )


def test_failures_are_reported_per_member(x64):
    blowup = _custom("flow", lambda x, t, p: x * x, [0.1])  # x(t) = x0/(1 − x0 t)
    x0 = jnp.array([[0.1], [2.0], [0.5]])  # blow up at t = 10, 0.5, 2 (span: 0 … 1)
    with pytest.warns(RuntimeWarning, match=r"member\(s\) \[1\]"):
        traj = chaos.make_trajectory(blowup, 11, pts_per_period=10, init_cond=x0, solver="dopri5")
    np.testing.assert_array_equal(traj.success, [True, False, True])
    np.testing.assert_allclose(traj.ys[0, :, 0], 0.1 / (1 - 0.1 * traj.ts), rtol=1e-9)
    with pytest.raises(RuntimeError, match="failed"):
        chaos.make_trajectory(
            blowup, 11, pts_per_period=10, init_cond=x0, solver="dopri5", throw=True
        )


@pytest.mark.parametrize("solver", ["rk4", pytest.param("dopri5", marks=pytest.mark.slow)])
def test_sharded_batch_equals_unsharded(x64, solver):
    assert len(jax.devices()) == 4
    x0 = chaos.random_initial_conditions("Lorenz", 10, key=jax.random.key(1))
    kw = dict(init_cond=x0, pts_per_period=20, rtol=1e-10, atol=1e-10, solver=solver, dt=0.005)
    a = chaos.make_trajectory("Lorenz", 40, shard=True, **kw)
    b = chaos.make_trajectory("Lorenz", 40, shard=False, **kw)
    assert a.ys.shape == (10, 40, 3) and bool(a.success.all())
    # fixed steps: identical; adaptive: each device chooses its own steps, so agreement at the
    # tolerance, amplified over 2 periods
    np.testing.assert_allclose(a.ys, b.ys, atol=1e-12 if solver == "rk4" else 1e-6)


@pytest.mark.slow
def test_noise_is_reproducible(x64):
    kw = dict(noise=0.05, pts_per_period=20, key=jax.random.key(2), dt=0.005)
    a = chaos.make_trajectory("Lorenz", 40, **kw)
    b = chaos.make_trajectory("Lorenz", 40, **kw)
    clean = chaos.make_trajectory("Lorenz", 40, pts_per_period=20, solver="rk4", dt=0.005)
    np.testing.assert_array_equal(a.ys, b.ys)
    assert bool(a.success) and not np.allclose(a.ys, clean.ys, atol=1e-3)


def test_maps_match_dysts(x64):
    dysts_maps = pytest.importorskip("dysts.maps")
    for name in ("Henon", "Logistic"):
        # 20 iterations: round-off differences grow like exp(0.5 k) in these chaotic maps
        ref = dysts_maps.__dict__[name]().make_trajectory(20)
        traj = chaos.make_trajectory(name, 20)
        np.testing.assert_allclose(np.asarray(traj.ys).reshape(ref.shape), ref, rtol=1e-9)
    fwd = chaos.make_trajectory("Henon", 5)
    back = chaos.make_trajectory("Henon", 4, init_cond=fwd.ys[-1], inverse=True)
    np.testing.assert_allclose(back.ys[::-1], fwd.ys[:4], rtol=1e-9)  # undoes the map
    with pytest.raises(ValueError, match="invertible"):
        chaos.make_trajectory("Logistic", 5, inverse=True)
    z = chaos.make_trajectory("Henon", 100, standardize=True).ys
    np.testing.assert_allclose(np.mean(z, axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(np.std(z, axis=0), 1, rtol=1e-12)


def test_delay_solver_exact_on_polynomial_pieces(x64):
    # x' = −x(t − 1), history 1: piecewise polynomials of degree <= 3 on [0, 3].
    def exact(t):
        return np.select(
            [t < 0, t <= 1, t <= 2],
            [1.0, 1 - t, t**2 / 2 - 2 * t + 1.5],
            -0.5 - ((t - 1) ** 3 / 6 - (t - 1) ** 2 + 1.5 * (t - 1) - 2 / 3),
        )

    dde = _custom(
        "delay",
        lambda x, xd, t, p: -p["a"] * xd,
        [1.0],
        {"a": 1.0, "tau": 1.0},
        dt=0.01,
        embedding_dimension=4,
    )
    traj = chaos.make_trajectory(dde, 201, resample=False, init_cond=jnp.array([1.0]))
    s = np.asarray(traj.ts)
    np.testing.assert_allclose(s[[0, -1]], [1.0, 3.0], rtol=1e-14)
    lags = np.linspace(0, 1, 4)
    np.testing.assert_allclose(traj.ys, exact(s[:, None] - lags[None, :]), atol=1e-12)


def _mackey_glass_reference(history, t_end, beta=0.2, gamma=0.1, n=10.0, tau=16.0):
    """Method of steps with scipy DOP853 (rtol 1e-12) and its dense output per delay interval."""
    pieces = []

    def past(t):
        if t <= 0:
            return history
        return pieces[min(int(t // tau), len(pieces) - 1)].sol(t)[0]

    y, t0 = history, 0.0
    while t0 < t_end:

        def f(t, x):
            xd = past(t - tau)
            return [beta * xd / (1 + xd**n) - gamma * x[0]]

        sol = solve_ivp(f, (t0, t0 + tau), [y], "DOP853", rtol=1e-12, atol=1e-12, dense_output=True)
        pieces.append(sol)
        y, t0 = sol.y[0, -1], t0 + tau
    return lambda ts: np.array([past(t) for t in ts])


def test_mackey_glass_against_scipy_method_of_steps(x64):
    s = chaos.get("MackeyGlass")
    traj = chaos.make_trajectory(s, 100, pts_per_period=20)  # span 5 periods + τ ≈ 46
    ref = _mackey_glass_reference(float(s.ic[0]), float(traj.ts[-1]) + 1)
    lags = np.linspace(0, 16.0, 10)
    want = np.stack([ref(np.asarray(traj.ts) - lag) for lag in lags], axis=1)
    assert traj.ys.shape == (100, 10)
    np.testing.assert_allclose(traj.ys, want, atol=1e-7)
    # fourth order: halving the step divides the error by ~16
    errs = []
    for m in (25, 50):
        t = chaos.make_trajectory(s, 100, pts_per_period=20, steps_per_delay=m)
        errs.append(np.abs(np.asarray(t.ys) - want).max())
    assert 10 < errs[0] / errs[1] < 24, errs


def test_ensemble_over_systems(x64):
    out = chaos.make_ensemble(50, ["Lorenz", "Henon"], solver="rk4", show_progress=False)
    assert out["Lorenz"].ys.shape == (50, 3) and out["Henon"].ys.shape == (50, 2)
    assert all(bool(t.success) for t in out.values())


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        chaos.make_trajectory("Lorenz", 1)
    with pytest.raises(ValueError, match="timescale"):
        chaos.make_trajectory("Lorenz", 10, timescale="Fast")
    with pytest.raises(ValueError, match="trailing dimension"):
        chaos.make_trajectory("Lorenz", 10, init_cond=np.zeros(4))
    with pytest.raises(ValueError, match="needs a key"):
        chaos.make_trajectory("Lorenz", 10, noise=0.1)
    with pytest.raises(ValueError, match="unknown system"):
        chaos.make_trajectory("Lorenzz", 10)


def test_jit_vmap_and_grad_over_parameters(x64):
    x0 = jnp.asarray(chaos.get("Lorenz").ic)

    def final(rho):
        kw = dict(init_cond=x0, params={"rho": rho}, solver="rk4", dt=0.01, pts_per_period=10)
        return chaos.make_trajectory("Lorenz", 20, **kw).ys[-1]

    rhos = jnp.array([20.0, 28.0, 35.0])
    loop = jnp.stack([final(r) for r in rhos])
    np.testing.assert_allclose(jax.vmap(final)(rhos), loop, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(final)(rhos[1]), loop[1], rtol=1e-12)
    # d x(T)/d rho by autodiff through the integrator vs central differences (2 periods: the
    # derivative is still O(10), far from the chaotic blow-up)
    g = jax.grad(lambda r: final(r)[0])(28.0)
    fd = (final(28.0 + 1e-5)[0] - final(28.0 - 1e-5)[0]) / 2e-5
    np.testing.assert_allclose(g, fd, rtol=1e-5)
