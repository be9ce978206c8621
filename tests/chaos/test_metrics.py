"""Forecast metrics against hand computations, sklearn and scipy, plus their NaN conventions.

Tolerances: float64 results must match the references to 1e-12 (relative), float32 ones to 1e-6
relative (a few ulps of sums over ≤ 200 terms); ties and constant columns are exercised on
purpose because that is where definitions differ.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from jentropy import chaos

RNG = np.random.default_rng(0)
B, T, D = 3, 40, 2
Y = RNG.normal(size=(B, T, D)) + 1.5
P = Y + 0.7 * RNG.normal(size=(B, T, D))
P[0, :6, 0] = Y[0, :6, 0]  # exact points, so sMAPE/MAPE see zero errors
Y_TIES = np.round(Y, 1)  # ties for the rank correlations (no zeros: MAPE conventions differ there)
Y_TIES[Y_TIES == 0] = 0.1
P_TIES = np.round(P, 1)
TRAIN = RNG.normal(size=(B, 60, D)).cumsum(axis=1)


def _columns(fn, y, p):
    """Reference for per-coordinate metrics averaged over coordinates, per batch entry."""
    return np.array(
        [
            np.mean([fn(y[b, :, d], p[b, :, d]) for d in range(y.shape[2])])
            for b in range(y.shape[0])
        ]
    )


REFERENCES = {
    "smape": lambda y, p: 200 * np.mean(np.abs(y - p) / (np.abs(y) + np.abs(p)), axis=(1, 2)),
    "mae": lambda y, p: np.array([skm.mean_absolute_error(y[b], p[b]) for b in range(len(y))]),
    "mse": lambda y, p: np.array([skm.mean_squared_error(y[b], p[b]) for b in range(len(y))]),
    "rmse": lambda y, p: np.sqrt([skm.mean_squared_error(y[b], p[b]) for b in range(len(y))]),
    "r2_score": lambda y, p: np.array([skm.r2_score(y[b], p[b]) for b in range(len(y))]),
    "mape": lambda y, p: (
        100 * np.array([skm.mean_absolute_percentage_error(y[b], p[b]) for b in range(len(y))])
    ),
    "nrmse": lambda y, p: np.sqrt(
        np.mean((y - p) ** 2 / np.std(y, axis=1, keepdims=True) ** 2, axis=(1, 2))
    ),
    "wape": lambda y, p: 100 * np.abs(y - p).sum(axis=(1, 2)) / np.abs(y).sum(axis=(1, 2)),
    "marre": lambda y, p: (
        100 * np.mean(np.abs(y - p) / np.ptp(y, axis=1, keepdims=True), axis=(1, 2))
    ),
    "coefficient_of_variation": lambda y, p: (
        100 * np.sqrt(np.mean((y - p) ** 2, axis=(1, 2))) / np.mean(y, axis=(1, 2))
    ),
    "pearson": lambda y, p: _columns(lambda a, b: stats.pearsonr(a, b)[0], y, p),
    "spearman": lambda y, p: _columns(lambda a, b: stats.spearmanr(a, b)[0], y, p),
    "kendall": lambda y, p: _columns(lambda a, b: stats.kendalltau(a, b)[0], y, p),
}


def _mase_reference(y, p, train, m):
    scale = np.mean(np.abs(train[:, m:] - train[:, :-m]), axis=(1, 2))
    return np.mean(np.abs(y - p), axis=(1, 2)) / scale


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_metrics_match_references_float64(name, x64):
    for y, p in ((Y, P), (Y_TIES, P_TIES)):
        got = np.asarray(chaos.METRICS[name](jnp.asarray(y), jnp.asarray(p)))
        assert got.dtype == np.float64 and got.shape == (B,)
        np.testing.assert_allclose(got, REFERENCES[name](y, p), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_metrics_match_references_float32(name):
    y32, p32 = Y_TIES.astype(np.float32), P_TIES.astype(np.float32)
    got = np.asarray(chaos.METRICS[name](y32, p32))
    assert got.dtype == np.float32
    want = REFERENCES[name](y32.astype(np.float64), p32.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("season", [1, 3])
def test_mase(season, x64):
    got = chaos.mase(Y, P, TRAIN, season)
    np.testing.assert_allclose(got, _mase_reference(Y, P, TRAIN, season), rtol=1e-12)
    # the seasonal naive forecast of its own training series scores exactly 1
    y = TRAIN[0, season:]
    assert float(chaos.mase(y, TRAIN[0, :-season], TRAIN[0], season)) == pytest.approx(
        1.0, rel=1e-12
    )


def test_hand_computed_values(x64):
    assert float(chaos.smape(jnp.array([1.0, 2.0]), jnp.array([1.0, 1.0]))) == pytest.approx(
        100 / 3
    )
    assert float(chaos.smape(jnp.array([1.0]), jnp.array([-1.0]))) == pytest.approx(
        200.0
    )  # the maximum
    assert float(chaos.mape(jnp.array([2.0, 4.0]), jnp.array([1.0, 4.0]))) == pytest.approx(25.0)
    assert float(chaos.wape(jnp.array([2.0, 4.0]), jnp.array([1.0, 4.0]))) == pytest.approx(100 / 6)
    assert float(chaos.marre(jnp.array([0.0, 4.0]), jnp.array([1.0, 4.0]))) == pytest.approx(12.5)
    assert float(
        chaos.spearman(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 5.0, 4.0]))
    ) == pytest.approx(0.5)
    assert float(
        chaos.kendall(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 3.0, 2.0]))
    ) == pytest.approx(1 / 3)
    cv = chaos.coefficient_of_variation(jnp.array([1.0, 3.0]), jnp.array([2.0, 2.0]))
    assert float(cv) == pytest.approx(50.0)
    mase = chaos.mase(jnp.array([3.0, 4.0]), jnp.array([3.0, 3.0]), jnp.array([0.0, 1.0, 2.0]))
    assert float(mase) == pytest.approx(0.5)


def test_conventions_nan_inf_zero_constant(x64):
    y = jnp.array([0.0, 1.0, 2.0, 3.0])
    # 0/0 points are perfect: sMAPE and MAPE are 0 for an exact forecast containing zeros
    assert float(chaos.smape(y, y)) == 0.0
    assert float(chaos.mape(y, y)) == 0.0
    # a nonzero error over a zero scale is +inf
    assert float(chaos.mape(y, y + 1.0)) == np.inf
    assert float(chaos.mase(y, y + 1.0, jnp.ones(5))) == np.inf
    # NaN or inf anywhere → NaN, for every metric (no exception, no finite number)
    bad = y.at[2].set(jnp.nan)
    inf = y.at[2].set(jnp.inf)
    for name, fn in chaos.METRICS.items():
        args = (jnp.ones(6),) if name == "mase" else ()
        assert np.isnan(float(fn(y, bad, *args))), name
        assert np.isnan(float(fn(inf, y, *args))), name
    # constant series: correlations NaN (scipy), R² 1 if exact else 0 (sklearn force_finite)
    c = jnp.full(4, 2.0)
    for name in ("pearson", "spearman", "kendall"):
        assert np.isnan(float(chaos.METRICS[name](c, y))), name
    assert float(chaos.r2_score(c, c)) == 1.0
    assert float(chaos.r2_score(c, c + 1.0)) == 0.0
    assert float(skm.r2_score(np.asarray(c), np.asarray(c + 1.0))) == 0.0
    # sMAPE is bounded by 200 whatever the forecast
    wild = jnp.asarray(RNG.normal(size=(5, 30, 2)) * 1e6)
    assert float(jnp.max(chaos.smape(jnp.asarray(Y[:1].repeat(5, 0)[:, :30]), wild))) <= 200.0


def test_forecast_metrics_dict_jit_and_vmap(x64):
    got = chaos.forecast_metrics(Y, P, TRAIN)
    assert set(got) == set(chaos.METRICS)
    for name, fn in chaos.METRICS.items():
        want = fn(Y, P, TRAIN) if name == "mase" else fn(Y, P)
        np.testing.assert_allclose(got[name], want, rtol=1e-12, err_msg=name)
    jitted = jax.jit(lambda y, p: chaos.smape(y, p))(Y, P)
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(got["smape"]))
    vm = jax.vmap(chaos.spearman)(jnp.asarray(Y), jnp.asarray(P))  # (T, D) per member
    np.testing.assert_allclose(vm, got["spearman"], rtol=1e-12)


def test_univariate_one_dimensional_input(x64):
    y, p = Y[0, :, 0], P[0, :, 0]
    assert chaos.smape(y, p).shape == ()
    assert float(chaos.smape(y, p)) == pytest.approx(
        float(chaos.smape(y[:, None], p[:, None])), rel=1e-15
    )


def test_errors():
    with pytest.raises(ValueError, match="same shape"):
        chaos.smape(jnp.ones((5, 2)), jnp.ones((5, 3)))
    with pytest.raises(ValueError, match="scalar"):
        chaos.mae(jnp.ones(()), jnp.ones(()))
    with pytest.raises(ValueError, match="y_train"):
        chaos.forecast_metrics(jnp.ones(3), jnp.ones(3), names=["mase"])
    with pytest.raises(ValueError, match="unknown metric"):
        chaos.forecast_metrics(jnp.ones(3), jnp.ones(3), names=["sMAPE"])
    with pytest.raises(ValueError, match="season"):
        chaos.mase(jnp.ones(3), jnp.ones(3), jnp.ones(3), season=3)
    with pytest.raises(TypeError, match="real array"):
        chaos.mse(jnp.ones(3, jnp.complex64), jnp.ones(3, jnp.complex64))
