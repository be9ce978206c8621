"""Tests for jentropy.integrate: closed forms, convergence orders, scipy, batching, SDE moments.

Vector fields are defined once at module level so diffrax's compiled solves are shared.
"""

import inspect

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jentropy import integrate


def decay(t, y, k):
    return -k * y


def oscillator(t, y, omega):
    return {"q": y["p"], "p": -(omega**2) * y["q"]}


def lorenz(t, y, args):
    x, u, z = y[..., 0], y[..., 1], y[..., 2]
    return jnp.stack([10.0 * (u - x), x * (28.0 - z) - u, x * u - 8.0 / 3.0 * z], axis=-1)


def square(t, y, args):
    return y * y


def logistic(t, y, args):
    return y * (1.0 - y)


def logistic_exact(t, y0):
    return 1.0 / (1.0 + (1.0 / y0 - 1.0) * np.exp(-t))


def ou_drift(t, y, theta):
    return -theta * y


def ou_diffusion(t, y, theta):
    return jnp.full_like(y, 0.5)


def gbm_drift(t, y, args):
    return 0.5 * y


def gbm_diffusion(t, y, args):
    return 0.8 * y


TS = jnp.linspace(0.0, 1.0, 11)


# ------------------------------------------------------------------------------------ ODEs


def test_exponential_decay_closed_form():
    y0 = jnp.array([1.0, 2.0, -3.0])
    sol = integrate.solve_ode(decay, y0, TS, args=2.0)
    exact = np.asarray(y0)[None] * np.exp(-2.0 * np.asarray(TS))[:, None]
    assert sol.ys.shape == (11, 3) and sol.ys.dtype == jnp.float32
    assert bool(sol.success) and dfx.is_successful(sol.result)
    # rtol=1e-6 per step in float32 (eps 1.2e-7) accumulates to a few 1e-6 relative.
    np.testing.assert_allclose(sol.ys, exact, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(sol.ts, TS)


def test_harmonic_oscillator_pytree_state_implicit(x64):
    solver = "kvaerno5"  # the explicit tableaus are covered by the other tests
    omega = 3.0
    y0 = {"q": jnp.array(1.0), "p": jnp.array(0.0)}
    ts = jnp.linspace(0.0, 2.0, 9)
    sol = integrate.solve_ode(oscillator, y0, ts, args=omega, solver=solver, rtol=1e-10, atol=1e-12)
    t = np.asarray(ts)
    assert sol.ys["q"].dtype == jnp.float64 and bool(sol.success)
    # tolerance 1e-10 per step over ~6 radians of phase: global error well below 1e-7.
    np.testing.assert_allclose(sol.ys["q"], np.cos(omega * t), atol=1e-7)
    np.testing.assert_allclose(sol.ys["p"], -omega * np.sin(omega * t), atol=1e-7)


def test_batched_rates_joint_vs_closed_form():
    rates = jnp.array([0.1, 0.5, 1.0, 2.0, 5.0])
    y0 = jnp.stack([jnp.arange(1.0, 6.0), -jnp.arange(1.0, 6.0)], axis=1)  # (5, 2)
    sol = integrate.solve_ode(decay, y0, TS, args=rates, batched=True, batched_args=True)
    assert sol.ys.shape == (5, 11, 2) and sol.success.shape == (5,)
    assert bool(jnp.all(sol.success))
    exact = np.asarray(y0)[:, None, :] * np.exp(-np.outer(rates, TS))[:, :, None]
    # Same float32 budget as the scalar decay test; every member meets its own tolerance.
    np.testing.assert_allclose(sol.ys, exact, rtol=1e-5, atol=1e-6)


def test_joint_batch_matches_per_member_lorenz(x64):
    y0 = jnp.array([1.0, 1.0, 20.0]) + jax.random.normal(jax.random.key(1), (8, 3))
    ts = jnp.linspace(0.0, 0.5, 6)
    kw = dict(rtol=1e-10, atol=1e-10)
    joint = integrate.solve_ode(lorenz, y0, ts, batched=True, **kw)
    loop = jnp.stack([integrate.solve_ode(lorenz, y, ts, **kw).ys for y in y0])
    # Different step sequences, both at rtol=1e-10 over a short chaotic horizon (|y| ~ 20,
    # Lyapunov growth e^{0.45}): agreement to 1e-7 absolute.
    np.testing.assert_allclose(joint.ys, loop, atol=1e-7)
    assert joint.ys.shape == (8, 6, 3)


def test_lorenz_matches_scipy(x64):
    y0 = np.array([1.0, 1.0, 20.0])
    ts = np.linspace(0.0, 1.0, 21)
    ref = solve_ivp(
        lambda t, y: np.asarray(lorenz(t, y, None)),
        (0.0, 1.0),
        y0,
        method="DOP853",
        t_eval=ts,
        rtol=1e-12,
        atol=1e-12,
    )
    sol = integrate.solve_ode(lorenz, jnp.asarray(y0), jnp.asarray(ts), rtol=1e-10, atol=1e-10)
    assert ref.success and bool(sol.success)
    # Both solvers are ~1e-10 accurate; chaos (λ≈0.9) amplifies that by e^0.9 over t∈[0, 1].
    np.testing.assert_allclose(sol.ys, ref.y.T, atol=1e-7)


def test_jit_equals_no_jit():
    rates = jnp.array([0.1, 0.5, 1.0, 2.0, 5.0])
    y0 = jnp.ones((5, 2))

    def solve(y, k):
        return integrate.solve_ode(decay, y, TS, args=k, batched=True, batched_args=True)

    eager, jitted = solve(y0, rates), jax.jit(solve)(y0, rates)
    # The same XLA program up to fusion choices: float32 agreement to a few ulp.
    np.testing.assert_allclose(jitted.ys, eager.ys, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(jitted.success, eager.success)
    assert int(jitted.num_steps) == int(eager.num_steps)


def test_blow_up_fails_only_that_member():
    # y' = y², y(0) = c: y = c / (1 - c t) blows up at t = 1/c; only c = 1 does so before 1.5.
    y0 = jnp.array([[0.1], [1.0], [0.5]])
    ts = jnp.array([0.0, 0.5, 1.0, 1.5])
    sol = integrate.solve_ode(square, y0, ts, batched=True)
    np.testing.assert_array_equal(sol.success, [True, False, True])
    assert dfx.is_successful(sol.result)  # the batch finished; the member failure is per-member
    assert int(sol.num_steps) < 1000  # the dead member did not stall the others
    c = np.array([0.1, 0.5])[:, None]
    exact = c / (1.0 - c * np.asarray(ts)[None])
    # float32 with rtol=1e-6 on a solution that grows 4x: 1e-5 relative.
    np.testing.assert_allclose(sol.ys[jnp.array([0, 2]), :, 0], exact, rtol=1e-5)
    assert not np.isfinite(np.asarray(sol.ys[1, 2:])).any()  # saves past the failure are inf
    with pytest.raises(RuntimeError, match=r"members \[1\] of 3"):
        integrate.solve_ode(square, y0, ts, batched=True, throw=True)


def test_vmapped_per_member_failure_and_throw_under_trace():
    # jax.vmap of an unbatched solve: independent step sizes; the c = 1 member exhausts
    # max_steps on its own while the other finishes.
    y0 = jnp.array([[0.1], [1.0]])
    ts = jnp.array([0.0, 1.5])

    def solve(y, throw=False):
        return integrate.solve_ode(square, y, ts, max_steps=300, throw=throw)

    sol = jax.vmap(solve)(y0)
    np.testing.assert_array_equal(sol.success, [True, False])
    np.testing.assert_array_equal(sol.result == dfx.RESULTS.max_steps_reached, [False, True])
    np.testing.assert_allclose(sol.ys[0, -1, 0], 0.1 / (1.0 - 0.15), rtol=1e-5)  # float32
    with pytest.raises(RuntimeError, match="solve failed"):  # traced: an equinox runtime error
        jax.block_until_ready(jax.vmap(lambda y: solve(y, throw=True))(y0).ys)


def test_constant_step_euler_and_dtype(x64):
    y0 = jnp.array([1.0], dtype=jnp.float32)
    sol = integrate.solve_ode(decay, y0, TS, args=1.0, solver="euler", dt0=0.001)
    assert sol.ys.dtype == jnp.float32 and sol.ts.dtype == jnp.float32  # follows y0, not x64
    # Euler's global error ≈ dt t e^{-t} / 2 ≤ 1.9e-4 at dt = 1e-3.
    np.testing.assert_allclose(sol.ys[:, 0], np.exp(-np.asarray(TS)), atol=2.5e-4)


def test_gradient_through_solve_ode():
    def final(k):
        return integrate.solve_ode(decay, jnp.array(2.0), TS, args=k).ys[-1]

    # d/dk [2 e^{-k}] at k = 0.7; float32 solve at rtol=1e-6 -> 1e-5 relative.
    np.testing.assert_allclose(jax.grad(final)(0.7), -2.0 * np.exp(-0.7), rtol=1e-5)


# ------------------------------------------------------------------------- fixed step


@pytest.mark.parametrize(
    ("method", "order", "steps"),
    [
        (integrate.euler, 1.0, (64, 128, 256, 512)),
        (integrate.heun, 2.0, (16, 32, 64, 128)),
        (integrate.rk4, 4.0, (8, 16, 32, 64)),
    ],
)
def test_fixed_step_order_of_convergence(x64, method, order, steps):
    T = 2.0
    errors = []
    for n in steps:
        ts, ys = method(logistic, jnp.array(0.1), T / n, n)
        assert ts.shape == ys.shape == (n + 1,)
        errors.append(abs(float(ys[-1]) - logistic_exact(T, 0.1)))
    slope = np.polyfit(np.log([T / n for n in steps]), np.log(errors), 1)[0]
    # Error ratios per halving are within 4% of 2^order here; ±0.2 on the fitted slope.
    assert abs(slope - order) < 0.2, (slope, errors)


def test_fixed_step_integrators_are_documented_functions():
    # rk4/heun/euler come from one factory: each must still look like a hand-written function.
    expected = ["f", "y0", "dt", "n_steps", "args", "t0", "save_every"]
    for method, order in (
        (integrate.rk4, "dt⁴"),
        (integrate.heun, "dt²"),
        (integrate.euler, "dt)"),
    ):
        signature = inspect.signature(method)
        assert list(signature.parameters) == expected
        assert signature.parameters["save_every"].default == 1
        assert method.__name__ == method.__qualname__
        assert (
            method.__doc__.startswith(f"Fixed-step {method.__name__} ") and order in method.__doc__
        )
    assert set(integrate.__all__) <= set(dir(integrate))


def test_fixed_step_save_every_and_pytree():
    y0 = {"q": jnp.array(1.0), "p": jnp.array(0.0)}
    ts, ys = integrate.rk4(oscillator, y0, 0.01, 200, args=1.0, save_every=20, t0=1.0)
    _, ys_all = integrate.rk4(oscillator, y0, 0.01, 200, args=1.0, t0=1.0)
    assert ts.shape == (11,) and ys["q"].shape == (11,)
    # Saving is a view of the same trajectory: identical up to float32 round-off.
    np.testing.assert_allclose(ys["q"], ys_all["q"][::20], atol=1e-6)
    np.testing.assert_allclose(ts, 1.0 + 0.2 * np.arange(11), atol=1e-6)
    # rk4 at dt = 0.01: error ~1e-10, float32 round-off dominates (~1e-6).
    np.testing.assert_allclose(ys["q"], np.cos(np.asarray(ts) - 1.0), atol=1e-5)


# ------------------------------------------------------------------------------------ SDEs


def test_ou_moments_solve_sde_and_euler_maruyama(key):
    theta, sigma, y_init, dt, n = 2.0, 0.5, 1.0, 0.01, 100
    members = 2000
    # Exact moments of the Euler–Maruyama chain y_{k+1} = (1 - θ dt) y_k + σ sqrt(dt) ξ_k.
    a = 1.0 - theta * dt
    mean = y_init * a**n
    var = sigma**2 * dt * (1.0 - a ** (2 * n)) / (1.0 - a**2)
    y0 = jnp.full((members, 1), y_init)
    k1, k2 = jax.random.split(key)
    sde = integrate.solve_sde(
        ou_drift, ou_diffusion, y0, TS, key=k1, dt=dt, args=theta, batched=True
    )
    keys = jax.random.split(k2, members)
    _, em = jax.vmap(
        lambda y, k: integrate.euler_maruyama(
            ou_drift, ou_diffusion, y, dt, n, key=k, args=theta, save_every=n
        )
    )(y0, keys)
    for final in (sde.ys[:, -1, 0], em[:, -1, 0]):
        final = np.asarray(final, np.float64)
        # 4 standard errors: SE(mean) = sqrt(var/N), SE(var) ≈ var sqrt(2/(N-1)).
        assert abs(final.mean() - mean) < 4 * np.sqrt(var / members)
        assert abs(final.var(ddof=1) - var) < 4 * var * np.sqrt(2.0 / (members - 1))
    # The chain's moments are within O(θ dt) = 2% of the continuous OU closed form.
    var_exact = sigma**2 / (2 * theta) * (1.0 - np.exp(-2 * theta))
    assert abs(var - var_exact) < 0.03 * var_exact
    assert bool(jnp.all(sde.success))


def test_strong_order_euler_and_milstein(x64, key):
    # GBM on one Brownian path per member (the virtual tree is consistent across dt):
    # error against a fine Milstein reference falls like dt^0.5 (Euler) and dt^1 (Milstein).
    y0 = jnp.ones((200, 1))
    ts = jnp.array([0.0, 1.0])
    # One max_steps for every dt (dt itself is traced), so each solver compiles once.
    kw = dict(key=key, brownian_tol=2.0**-10, batched=True, max_steps=2**9 + 16)
    ref = integrate.solve_sde(
        gbm_drift, gbm_diffusion, y0, ts, dt=2.0**-9, solver="milstein", **kw
    ).ys[:, -1]
    dts = [2.0**-k for k in range(3, 7)]
    for solver, order in (("euler", 0.5), ("milstein", 1.0)):
        errors = []
        for dt in dts:
            ys = integrate.solve_sde(gbm_drift, gbm_diffusion, y0, ts, dt=dt, solver=solver, **kw)
            errors.append(float(jnp.mean(jnp.abs(ys.ys[:, -1] - ref))))
        slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
        # 200 paths shared across dt keep the slope's Monte Carlo scatter below ~0.1.
        assert abs(slope - order) < 0.2, (solver, slope, errors)


def test_euler_maruyama_weak_mean(key):
    # E[y_n] of Euler–Maruyama on GBM is exactly (1 + μ dt)^n (independent increments),
    # within O(dt) of the SDE's e^{μ T}.
    members, dt, n = 4000, 0.05, 20
    keys = jax.random.split(key, members)
    _, ys = jax.vmap(
        lambda k: integrate.euler_maruyama(
            gbm_drift, gbm_diffusion, jnp.array([1.0]), dt, n, key=k, save_every=n
        )
    )(keys)
    final = np.asarray(ys[:, -1, 0], np.float64)
    se = final.std(ddof=1) / np.sqrt(members)
    assert abs(final.mean() - (1.0 + 0.5 * dt) ** n) < 4 * se  # 4 standard errors


def test_same_key_same_path_and_independent_members(key):
    args = dict(key=key, dt=0.01, args=2.0, batched=True)
    y0 = jnp.zeros((2000, 1))
    a = integrate.solve_sde(ou_drift, ou_diffusion, y0, TS, **args)
    b = integrate.solve_sde(ou_drift, ou_diffusion, y0, TS, **args)
    np.testing.assert_array_equal(a.ys, b.ys)
    c = integrate.solve_sde(ou_drift, ou_diffusion, y0, TS, **{**args, "key": jax.random.key(7)})
    assert not np.allclose(a.ys[:, -1], c.ys[:, -1])
    # Independent members: the lag-one correlation across members is within 4/sqrt(N) of 0.
    x = np.asarray(a.ys[:, -1, 0], np.float64)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 4 / np.sqrt(x.size)

    _, e1 = integrate.euler_maruyama(ou_drift, ou_diffusion, y0[0], 0.01, 100, key=key, args=2.0)
    _, e10 = integrate.euler_maruyama(
        ou_drift, ou_diffusion, y0[0], 0.01, 100, key=key, args=2.0, save_every=10
    )
    np.testing.assert_array_equal(e1[::10], e10)  # the path does not depend on save_every


def test_general_noise_shared_brownian_motion(key):
    # Two components driven by ONE Brownian motion: y = (W, 2W) so y[1] - 2 y[0] = 0 exactly.
    ys = integrate.solve_sde(
        lambda t, y, a: jnp.zeros_like(y),
        lambda t, y, a: jnp.array([[1.0], [2.0]]),
        jnp.zeros(2),
        TS,
        key=key,
        dt=0.01,
        noise="general",
        noise_shape=(1,),
    ).ys
    assert ys.shape == (11, 2)
    np.testing.assert_allclose(ys[:, 1], 2.0 * ys[:, 0], atol=1e-6)  # float32 round-off
    assert float(jnp.abs(ys[-1, 0])) > 0.0


# --------------------------------------------------------------------------------- errors


def test_check_finite():
    tree = {"a": jnp.array([[1.0, 2.0], [jnp.nan, 0.0], [1.0, jnp.inf]]), "b": jnp.ones((3,))}
    np.testing.assert_array_equal(integrate.check_finite(tree, batched=True), [True, False, False])
    assert not bool(integrate.check_finite(tree))
    assert bool(integrate.check_finite({"b": jnp.ones(3)}))


def test_bad_inputs(key):
    y0 = jnp.ones(2)
    with pytest.raises(ValueError, match="strictly increasing"):
        integrate.solve_ode(decay, y0, jnp.array([0.0, 1.0, 0.5]), args=1.0)
    with pytest.raises(ValueError, match=r"t0=.* must be <="):
        integrate.solve_ode(decay, y0, TS, args=1.0, t0=0.5)
    with pytest.raises(ValueError, match="same leading batch axis"):
        integrate.solve_ode(decay, {"a": jnp.ones((3, 2)), "b": jnp.ones((4, 2))}, TS, args=1.0,
                            batched=True)  # fmt: skip
    with pytest.raises(ValueError, match="same leading batch axis"):
        integrate.solve_ode(decay, jnp.array(1.0), TS, args=1.0, batched=True)
    with pytest.raises(ValueError, match="args has batch size 2 but y0 has 3"):
        integrate.solve_ode(decay, jnp.ones((3, 1)), TS, args=jnp.ones(2), batched=True,
                            batched_args=True)  # fmt: skip
    with pytest.raises(ValueError, match=r"one of \[.*'dopri5'.*'tsit5'\]"):
        integrate.solve_ode(decay, y0, TS, args=1.0, solver="rk45")
    with pytest.raises(ValueError, match="pass dt0"):
        integrate.solve_ode(decay, y0, TS, args=1.0, solver="euler")
    with pytest.raises(ValueError, match="must return shapes"):
        integrate.solve_ode(lambda t, y, a: y[0], y0, TS)
    with pytest.raises(TypeError, match="floating"):
        integrate.solve_ode(decay, jnp.array([1, 2]), TS, args=1.0)
    with pytest.raises(ValueError, match="multiple of save_every"):
        integrate.rk4(decay, y0, 0.1, 10, args=1.0, save_every=3)
    with pytest.raises(ValueError, match="dt must be a positive"):
        integrate.euler_maruyama(ou_drift, ou_diffusion, y0, -0.1, 10, key=key, args=1.0)
    with pytest.raises(TypeError, match="key"):
        integrate.solve_sde(ou_drift, ou_diffusion, y0, TS, key=0, dt=0.1, args=1.0)
    with pytest.raises(ValueError, match="noise_shape"):
        integrate.solve_sde(ou_drift, ou_diffusion, y0, TS, key=key, dt=0.1, noise="general")
    with pytest.raises(ValueError, match="diagonal noise"):
        integrate.solve_sde(ou_drift, ou_diffusion, y0, TS, key=key, dt=0.1, solver="milstein",
                            noise="general", noise_shape=(2,))  # fmt: skip
    with pytest.raises(ValueError, match=r"diffusion\(t, y, args\) must return shapes"):
        integrate.solve_sde(ou_drift, lambda t, y, a: jnp.ones(3), y0, TS, key=key, dt=0.1,
                            args=1.0)  # fmt: skip
