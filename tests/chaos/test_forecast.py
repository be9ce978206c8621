"""Forecasting models, the data protocol and the resumable runner.

Numbers checked: naive baselines against their definitions (exact), ridge against the normal
equations, AR(2) coefficient recovery within a few standard errors, NVAR on Lorenz against a
measured bound, the echo-state reservoir's spectral radius and fading memory, batched fits
against single fits, joint N-BEATS training against solo training, and runner resumption.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import chaos, integrate


# --- shared data ---------------------------------------------------------------------------------
def _lorenz(t, y, args):
    return jnp.stack(
        [10.0 * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 8.0 / 3.0 * y[2]]
    )


@pytest.fixture(scope="module")
def lorenz64():
    """Lorenz (10, 28, 8/3) at dt = 0.01 (RK4 with step 0.002), transient removed, float64."""
    with jax.enable_x64(True):
        _, ys = integrate.rk4(_lorenz, jnp.array([1.0, 1.0, 20.0]), 0.002, 16_000, save_every=5)
        return np.asarray(ys)[1000:]


def _sines(n_series=3, t=80, ppp=10, dtype=np.float32):
    k = np.arange(t)[:, None]
    out = [
        np.sin(2 * np.pi * k / ppp * (1 + 0.1 * i)) + 0.3 * np.cos(0.7 * k) + 2
        for i in range(n_series)
    ]
    return np.stack(out).astype(dtype)  # (B, T, 1)


# --- naive baselines -------------------------------------------------------------------------------
def test_naive_baselines_exact(key, x64):
    y = np.random.default_rng(1).normal(size=(23, 2))
    h = 7
    mean = chaos.forecast(chaos.fit_forecaster(chaos.NaiveMean(), y, key=key), y, h)
    np.testing.assert_allclose(mean, np.broadcast_to(y.mean(0), (h, 2)), rtol=1e-15)
    last = chaos.forecast(chaos.fit_forecaster(chaos.NaiveLast(), y, key=key), y, h)
    np.testing.assert_array_equal(last, np.broadcast_to(y[-1], (h, 2)))
    seas = chaos.forecast(chaos.fit_forecaster(chaos.SeasonalNaive(season=5), y, key=key), y, 12)
    np.testing.assert_array_equal(seas, np.concatenate([y[-5:], y[-5:], y[-5:-3]]))
    drift = chaos.forecast(chaos.fit_forecaster(chaos.NaiveDrift(), y, key=key), y, h)
    want = y[-1] + np.arange(1, h + 1)[:, None] * (y[-1] - y[0]) / 22
    np.testing.assert_allclose(drift, want, rtol=1e-13)


# --- linear models ----------------------------------------------------------------------------------
def test_ridge_regression_normal_equations(x64):
    rng = np.random.default_rng(2)
    phi = np.c_[np.ones(50), rng.normal(size=(50, 4))]
    y = rng.normal(size=(50, 2))
    lam = 0.1
    w = chaos.ridge_regression(phi, y, lam)
    gram = phi.T @ phi / 50 + lam * np.diag([0.0, 1, 1, 1, 1])
    np.testing.assert_allclose(w, np.linalg.solve(gram, phi.T @ y / 50), rtol=1e-10)
    w0 = chaos.ridge_regression(phi, y, 0.0)
    np.testing.assert_allclose(w0, np.linalg.lstsq(phi, y, rcond=None)[0], rtol=1e-9, atol=1e-12)


def test_linear_ar_recovers_ar2(key, x64):
    # x_t = 0.6 x_{t-1} − 0.3 x_{t-2} + ε_t; the least-squares estimate has standard error
    # ≈ sqrt((1 − φ2²)/T) ≈ 0.0067 for T = 20 000, so 0.03 is a 4.5σ bound
    rng = np.random.default_rng(3)
    t = 20_000
    eps = rng.normal(size=t + 100)
    x = np.zeros(t + 100)
    for i in range(2, t + 100):
        x[i] = 0.6 * x[i - 1] - 0.3 * x[i - 2] + eps[i]
    params = chaos.fit_forecaster(chaos.LinearAR(lags=2, ridge=0.0), x[100:], key=key)
    coef = np.asarray(chaos.LinearAR.lag_coefficients(params))[:, 0, 0]
    np.testing.assert_allclose(coef, [0.6, -0.3], atol=0.03)


def test_linear_ar_exact_on_noise_free_var1(key, x64):
    # a rotation x_{t+1} = R x_t (a stationary orbit) is recovered exactly, in original units
    th = 0.3
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    x = [np.array([3.0, 0.5])]
    for _ in range(199):
        x.append(rot @ x[-1])
    x = np.stack(x) * np.array([1.0, 10.0])  # unequal scales exercise the standardisation
    a = rot * np.array([[1.0, 0.1], [10.0, 1.0]])
    params = chaos.fit_forecaster(chaos.LinearAR(lags=1, ridge=0.0), x, key=key)
    np.testing.assert_allclose(chaos.LinearAR.lag_coefficients(params)[0], a, atol=1e-9)
    pred = chaos.forecast(params, x[:150], 50)
    np.testing.assert_allclose(pred, x[150:], rtol=1e-8, atol=1e-8)


def test_nvar_forecasts_lorenz(lorenz64, key, x64):
    # Lorenz's field is quadratic, so a two-tap quadratic NVAR is an accurate one-step map at
    # dt = 0.01. Measured NRMSE over 100 steps (1 time unit ≈ 0.9 Lyapunov times): 1.5e-3
    # (ridge 1e-6); persistence scores 0.97. The bound 5e-3 allows 3× that.
    train, test = lorenz64[:2000], lorenz64[2000:2100]
    scale = train.std(0)
    params = chaos.fit_forecaster(chaos.NVAR(taps=2, skip=1, ridge=1e-6), train, key=key)
    pred = chaos.forecast(params, train, 100)
    err = float(chaos.nrmse(test, pred, scale))
    naive = chaos.forecast(chaos.fit_forecaster(chaos.NaiveLast(), train, key=key), train, 100)
    assert err < 5e-3
    assert float(chaos.nrmse(test, naive, scale)) > 0.5
    assert chaos.NVAR(taps=2).num_features(3) == params.weights.shape[0] == 1 + 6 + 21


# --- echo-state network -----------------------------------------------------------------------------
ESN = chaos.EchoStateNetwork(size=40, spectral_radius=0.8, density=0.3, washout=10)


def test_esn_spectral_radius_and_echo_state(key):
    for rho in (0.8, 1.5):
        w, w_in = dataclasses.replace(ESN, spectral_radius=rho).reservoir(2, key=key)
        radius = np.max(np.abs(np.linalg.eigvals(np.asarray(w, np.float64))))
        assert radius == pytest.approx(rho, rel=1e-5)  # float32 rounding of the entries
        assert w_in.shape == (40, 3) and float(jnp.max(jnp.abs(w_in))) <= 0.5
    # echo-state property: the same input from two different states → the same states
    w, w_in = ESN.reservoir(2, key=key)
    u = jax.random.normal(jax.random.key(1), (300, 2))
    r_a = ESN.drive(w, w_in, u, jnp.zeros(40))
    r_b = ESN.drive(w, w_in, u, jax.random.normal(jax.random.key(2), (40,)))
    gap = jnp.linalg.norm(r_a - r_b, axis=1)
    assert float(gap[0]) > 0.5 and float(gap[-1]) < 1e-6


def test_esn_deterministic_by_key(key):
    y = _sines(1, 80)[0]
    p1 = chaos.fit_forecaster(ESN, y, key=key)
    p2 = chaos.fit_forecaster(ESN, y, key=key)
    p3 = chaos.fit_forecaster(ESN, y, key=jax.random.key(7))
    np.testing.assert_array_equal(p1.w_out, p2.w_out)
    np.testing.assert_array_equal(chaos.forecast(p1, y, 20), chaos.forecast(p2, y, 20))
    assert not np.allclose(p1.w, p3.w)


# --- batching ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cfg",
    [
        chaos.LinearAR(lags=3),
        chaos.NVAR(taps=2, skip=2),
        ESN,
        chaos.SeasonalNaive(season=10),
    ],
)
def test_batched_fit_equals_single(cfg, key, x64):
    s = _sines(3, 80, dtype=np.float64)
    params = chaos.fit_forecasters(cfg, s, key=key)
    batch = chaos.forecast_many(params, s, 15)
    assert batch.shape == (3, 15, 1)
    for b in range(3):
        one = chaos.forecast(chaos.fit_forecaster(cfg, s[b], key=key), s[b], 15)
        np.testing.assert_allclose(batch[b], one, rtol=1e-9, atol=1e-9)


@pytest.mark.slow  # two network compilations: ~10 s on an idle 2-core machine
def test_nbeats_joint_training_is_independent_training(key):
    # B networks trained jointly (sum of losses, Adam) are B independent trainings: member 0's
    # result must not depend on member 1's data. Two runs of one compiled shape (B = 2) that
    # share member 0 and differ in member 1; float32, so 1e-5 allows last-bit differences.
    cfg = chaos.NBeats(input_size=20, output_size=10, blocks=2, width=16, depth=1, steps=100,
                       learning_rate=1e-2, batch_size=16)  # fmt: skip
    s = _sines(3, 120)
    runs = [
        chaos.forecast_many(chaos.fit_forecasters(cfg, s[idx, :100], key=key), s[idx, :100], 20)
        for idx in ([0, 1], [0, 2])
    ]
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(runs[0][1], runs[1][1])
    # and it learned the quasi-periodic signal: sMAPE two blocks ahead well below persistence
    err = float(chaos.smape(s[1, 100:], runs[0][1]))
    naive = float(chaos.smape(s[1, 100:], np.broadcast_to(s[1, 99], (20, 1))))
    assert err < 0.5 * naive


def test_forecaster_errors(key):
    y = _sines(1, 40)[0]
    params = chaos.fit_forecaster(chaos.LinearAR(lags=5), y, key=key)
    with pytest.raises(ValueError, match="D=1"):
        chaos.forecast(params, np.ones((10, 2), np.float32), 5)
    with pytest.raises(ValueError, match="at least 5"):
        chaos.forecast(params, y[:3], 5)
    with pytest.raises(ValueError, match="horizon"):
        chaos.forecast(params, y, 0)
    with pytest.raises(ValueError, match="lags"):
        chaos.LinearAR(lags=0)
    with pytest.raises(ValueError, match="leak"):
        chaos.EchoStateNetwork(leak=1.5)
    with pytest.raises(TypeError, match="configuration"):
        chaos.fit_forecaster("NVAR", y, key=key)
    with pytest.raises(ValueError, match="more than"):
        chaos.fit_forecaster(chaos.NVAR(taps=30, skip=2), y, key=key)


# --- runner -----------------------------------------------------------------------------------------
class _NaNParams(eqx.Module):
    config: object = eqx.field(static=True)
    mean: jax.Array


class _NaNForecaster:
    """A deliberately broken model: forecasts NaN (the runner must record a failure)."""

    name = "NaN"

    def _fit_batch(self, series, key):
        return _NaNParams(self, jnp.mean(series, axis=1))

    def _predict(self, params, context, horizon):
        return jnp.full((horizon, context.shape[1]), jnp.nan, context.dtype)


def _tasks():
    s = _sines(5, 120, ppp=10)
    tasks = [
        chaos.ForecastTask(f"sys{i}", s[i, :60], s[i, 60:], 50, 5, 0.1 * i, True) for i in range(5)
    ]
    bad = chaos.ForecastTask(
        "broken", np.zeros((60, 1), np.float32), np.zeros((60, 1), np.float32), 50, 5, 1.0, False
    )
    return [*tasks, bad]


MODELS = {
    "NaiveMean": chaos.NaiveMean(),
    "LinearAR": [chaos.LinearAR(lags=2), chaos.LinearAR(lags=8, ridge=1e-2)],
    "NVAR": chaos.NVAR(taps=2, skip=1, ridge=1e-4),
}


def _strip(records):
    return {
        m: {s: {k: v for k, v in r.items() if k != "seconds"} for s, r in per.items()}
        for m, per in records.items()
    }


def test_runner_resumes_with_identical_results(tmp_path, key):
    tasks = _tasks()
    full = chaos.run_forecast_benchmark(
        tasks, MODELS, key=key, path=tmp_path / "a.json", chunk_size=2, show_progress=False
    )
    assert full.complete() and full.failures() == {"NaiveMean": 1, "LinearAR": 1, "NVAR": 1}
    assert full.records["NVAR"]["broken"]["error"].startswith("trajectory failed")
    assert {r["candidate"] for s, r in full.records["LinearAR"].items() if s != "broken"} <= {0, 1}

    calls = []
    interrupt = [True]

    def stop_after_four(model, systems):
        calls.append((model, systems))
        if interrupt[0] and len(calls) == 4:
            raise KeyboardInterrupt

    path = tmp_path / "b.json"
    with pytest.raises(KeyboardInterrupt):
        chaos.run_forecast_benchmark(
            tasks,
            MODELS,
            key=key,
            path=path,
            chunk_size=2,
            show_progress=False,
            on_chunk=stop_after_four,
        )
    assert path.exists()
    calls.clear()
    interrupt[0] = False
    resumed = chaos.run_forecast_benchmark(
        tasks,
        MODELS,
        key=key,
        path=path,
        chunk_size=2,
        show_progress=False,
        on_chunk=stop_after_four,
    )
    assert len(calls) == 9 - 4  # 3 models × 3 chunks, 4 done before the interruption
    np.testing.assert_equal(_strip(resumed.records), _strip(full.records))  # NaN == NaN here
    # a third call computes nothing, and a file of another protocol is refused
    calls.clear()
    chaos.run_forecast_benchmark(
        tasks,
        MODELS,
        key=key,
        path=path,
        chunk_size=2,
        show_progress=False,
        on_chunk=stop_after_four,
    )
    assert calls == []
    with pytest.raises(ValueError, match="different protocol"):
        chaos.run_forecast_benchmark(
            tasks, MODELS, key=jax.random.key(5), path=path, show_progress=False
        )
    # summaries: failed sMAPE counts as 200
    med = full.median("smape")
    vals = full.values("smape", failed_value=200.0)
    assert med["NVAR"] == pytest.approx(float(np.median(vals[:, 2])))
    assert vals[-1].tolist() == [200.0, 200.0, 200.0]


def test_diverging_forecast_is_reported(key):
    y = _sines(2, 40)
    params = chaos.fit_forecasters(_NaNForecaster(), y, key=key)
    with pytest.raises(FloatingPointError, match=r"member\(s\) \[0, 1\]"):
        chaos.forecast_many(params, y, 5)
    assert np.isnan(chaos.forecast_many(params, y, 5, on_failure="nan")).all()
    with pytest.raises(FloatingPointError, match="diverged"):
        chaos.forecast(chaos.fit_forecaster(_NaNForecaster(), y[0], key=key), y[0], 5)


def test_runner_records_non_finite_forecasts(key):
    res = chaos.run_forecast_benchmark(
        _tasks()[:3], {"NaN": _NaNForecaster()}, key=key, show_progress=False
    )
    assert all(
        r["failed"] and r["error"] == "non-finite forecast" for r in res.records["NaN"].values()
    )
    assert res.median("smape") == {"NaN": 200.0}


# --- data protocol (uses make_trajectory) --------------------------------------------------------------
def test_make_forecast_tasks_protocol(key):
    kw = dict(granularity="coarse", ics="trajectory", solver="rk4", key=key, show_progress=False)
    (uni,) = chaos.make_forecast_tasks(["Lorenz"], **kw)
    (multi,) = chaos.make_forecast_tasks(["Lorenz"], multivariate=True, **kw)
    (noisy,) = chaos.make_forecast_tasks(["Lorenz"], noise=0.2, **kw)
    (noisy2,) = chaos.make_forecast_tasks(["Lorenz"], noise=0.2, **kw)
    assert uni.train.shape == uni.test.shape == (180, 1) and multi.test.shape == (180, 3)
    assert uni.split == 150 and uni.horizon == 30 and uni.success
    assert uni.max_lyapunov == pytest.approx(
        chaos.get("Lorenz").metadata["maximum_lyapunov_estimated"]
    )
    np.testing.assert_array_equal(uni.test, multi.test[:, :1])
    assert np.abs(uni.train[0] - uni.test[0]).max() > 1.0  # different initial conditions
    # noise: 0.2 × the fitted part's std, reproducible by key; std of 180 normals is within
    # ±25% (≈ 4.7 standard errors) of 1
    z = (noisy.test - uni.test) / (0.2 * uni.test[:150].std(0))
    assert 0.75 < z.std() < 1.25
    np.testing.assert_array_equal(noisy.test, noisy2.test)
    with pytest.raises(ValueError, match="granularity"):
        chaos.make_forecast_tasks(["Lorenz"], granularity="medium", key=key)
    with pytest.raises(ValueError, match="map"):
        chaos.make_forecast_tasks(["Logistic"], key=key)


def test_random_initial_conditions_path(key):
    # the paper's protocol: train and test from two random points on the attractor
    kw = dict(granularity=10, periods=3, fit_periods=2, solver="rk4", key=key)
    (a,) = chaos.make_forecast_tasks(["Rossler"], **kw)
    (b,) = chaos.make_forecast_tasks(["Rossler"], **kw)
    assert a.success and a.train.shape == (30, 1) and a.split == 20 and a.horizon == 10
    assert abs(float(a.train[0, 0] - a.test[0, 0])) > 1e-3
    np.testing.assert_array_equal(a.test, b.test)


def test_escaped_trajectories_are_flagged():
    from jentropy.chaos._forecast_data import ESCAPE_SIGMAS, _escaped

    lorenz = chaos.get("Lorenz")
    mean, std = np.asarray(lorenz.metadata["mean"]), np.asarray(lorenz.metadata["std"])
    ok = mean + std * np.random.default_rng(0).normal(size=(50, 3))
    far = ok.copy()
    far[-1, 0] = mean[0] + 2 * ESCAPE_SIGMAS * std[0]
    assert not _escaped(lorenz, ok, ok[:, :1])
    assert _escaped(lorenz, ok, far) and _escaped(lorenz, far[:, :1])
