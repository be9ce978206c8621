"""Tests for jentropy.train: convergence to closed forms, history, chunk independence,
bit-identical checkpoint/resume, non-finite detection, EMA, data sources, keys, no recompilation.

Bitwise comparisons (``np.array_equal``) are used where the same XLA computation runs on the same
inputs in a different grouping of scan chunks or processes: the scan body is compiled once per
call and does not depend on the chunk length, so nothing may be reassociated.
"""

import logging
import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jentropy import train

# ---------------------------------------------------------------- shared problems


def _regression_data():
    kx, kn = jax.random.split(jax.random.key(42))
    x = jax.random.normal(kx, (64, 3))
    y = x @ jnp.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * jax.random.normal(kn, (64,))
    return {"x": x, "y": y}


REG_DATA = _regression_data()
REG_MODEL = {"w": jnp.zeros(3), "b": jnp.zeros(())}


def reg_loss(model, batch, key):
    residual = batch["x"] @ model["w"] + model["b"] - batch["y"]
    return 0.5 * jnp.mean(residual**2)


SINE_X = jnp.linspace(-3.0, 3.0, 256)[:, None]
SINE_DATA = {"x": SINE_X, "y": jnp.sin(SINE_X)}


def sine_model(seed=0):
    return eqx.nn.MLP(1, 1, 16, 2, activation=jnp.tanh, key=jax.random.key(seed))


def noisy_sine_loss(model, batch, key):
    """Uses the loss key (input jitter), so key handling is part of what is compared."""
    x = batch["x"] + 1e-3 * jax.random.normal(key, batch["x"].shape)
    residual = jax.vmap(model)(x) - batch["y"]
    return jnp.mean(residual**2), {"max_abs": jnp.max(jnp.abs(residual))}


def sine_fit(**kwargs):
    args = dict(
        key=jax.random.key(7),
        steps=60,
        batch_size=16,
        ema_decay=0.9,
        has_aux=True,
        chunk=50,
    )
    args.update(kwargs)
    model = args.pop("model", sine_model())
    return train.fit(noisy_sine_loss, model, optax.adam(1e-2), SINE_DATA, **args)


def state_leaves(result):
    """Every array of the train state except the (unchanging) key."""
    return jax.tree_util.tree_leaves(tuple(result.state[:4]))


def assert_bitwise_equal(a, b):
    la, lb = state_leaves(a), state_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert a.history.keys() == b.history.keys()
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k])


@pytest.fixture(scope="module")
def sine_reference():
    """Uninterrupted 60-step run (chunk 50: one full chunk and one partial chunk)."""
    return sine_fit()


@pytest.fixture(scope="module")
def resume_reference():
    """Uninterrupted 200-step run of the resume tests."""
    return sine_fit(steps=200, chunk=40, ema_decay=None)


# ---------------------------------------------------------------- convergence


def test_linear_regression_converges_to_least_squares():
    result = train.fit(
        reg_loss, REG_MODEL, optax.sgd(0.5), REG_DATA, key=jax.random.key(0), steps=300
    )
    design = np.c_[np.asarray(REG_DATA["x"], np.float64), np.ones(64)]
    solution = np.linalg.lstsq(design, np.asarray(REG_DATA["y"], np.float64), rcond=None)[0]
    # Full-batch GD contracts the error by <= (1 - 0.5 * lambda_min) ~ 0.8 per step, so after
    # 300 steps only float32 rounding of the gradient is left: ~1e-7 / lambda_min << 1e-4.
    np.testing.assert_allclose(result.model["w"], solution[:3], atol=1e-4)
    np.testing.assert_allclose(result.model["b"], solution[3], atol=1e-4)
    assert result.history["loss"].shape == (300,)
    assert result.seconds_compile > 0 and result.seconds_run > 0


def test_mlp_fits_a_sine():
    result = train.fit(
        lambda m, b, k: noisy_sine_loss(m, b, k)[0],
        sine_model(),
        optax.adam(1e-2),
        SINE_DATA,
        key=jax.random.key(1),
        steps=600,
        batch_size=32,
        chunk=200,
    )
    pred = train.evaluate(lambda m, b: jax.vmap(m)(b["x"]), result.model, SINE_DATA, batch_size=100)
    mse = float(jnp.mean((pred - SINE_DATA["y"]) ** 2))
    # var(sin) on [-3, 3] is ~0.5; a 16x16 tanh MLP gets below 1% of it in 600 Adam steps
    # (measured ~1e-3; the threshold leaves room for platform differences).
    assert mse < 5e-3
    assert result.history["loss"][-20:].mean() < 0.02 * result.history["loss"][:20].mean()


def test_evaluate_equals_vmap_over_all_rows():
    model = sine_model()
    full = jax.vmap(model)(SINE_X)
    # 256 rows in batches of 100: two full batches and a remainder of 56
    out = train.evaluate(lambda m, b: {"y": jax.vmap(m)(b)}, model, SINE_X, batch_size=100)
    assert out["y"].shape == (256, 1)
    # same per-row arithmetic, different matmul shapes: agreement to float32 rounding
    np.testing.assert_allclose(out["y"], full, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- history and callback


def test_history_records_loss_before_each_update_and_aux_metrics():
    snapshots = {}

    def callback(step, state, metrics):
        snapshots[step] = state.params
        assert metrics["loss"].shape == (10,)

    def loss_with_aux(model, batch, key):
        loss = reg_loss(model, batch, key)
        return loss, {"twice": 2.0 * loss}

    result = train.fit(
        loss_with_aux,
        REG_MODEL,
        optax.sgd(0.1),
        REG_DATA,
        key=jax.random.key(0),
        steps=30,
        chunk=10,
        has_aux=True,
        callback=callback,
    )
    assert set(result.history) == {"loss", "twice"}
    assert all(v.shape == (30,) for v in result.history.values())
    # doubling is exact in floating point
    np.testing.assert_array_equal(result.history["twice"], 2.0 * result.history["loss"])
    # history[s] is the loss at the parameters before update s: at step 0 the initial model,
    # at steps 10 and 20 the parameters the callback saw; recomputed outside the scan, so
    # agreement to float32 rounding (rtol 1e-6).
    for step, params in [(0, REG_MODEL), (10, snapshots[10]), (20, snapshots[20])]:
        expected = float(reg_loss(params, REG_DATA, None))
        np.testing.assert_allclose(result.history["loss"][step], expected, rtol=1e-6)
    assert sorted(snapshots) == [10, 20, 30]
    np.testing.assert_array_equal(snapshots[30]["w"], result.model["w"])


def test_callback_returning_true_stops_early():
    result = train.fit(
        reg_loss,
        REG_MODEL,
        optax.sgd(0.1),
        REG_DATA,
        key=jax.random.key(0),
        steps=100,
        chunk=10,
        callback=lambda step, state, metrics: step >= 20,
    )
    assert int(result.state.step) == 20 and result.history["loss"].shape == (20,)


# ---------------------------------------------------------------- determinism


def test_chunk_size_does_not_change_results(sine_reference):
    # chunk=7: 8 full chunks + a 4-step remainder, vs chunk=50 (reference)
    assert_bitwise_equal(sine_fit(chunk=7), sine_reference)


def test_same_key_same_result_different_key_different_result(sine_reference):
    assert_bitwise_equal(sine_fit(), sine_reference)
    other = sine_fit(key=jax.random.key(8))
    assert not np.array_equal(other.history["loss"], sine_reference.history["loss"])
    assert not np.array_equal(other.model.layers[0].weight, sine_reference.model.layers[0].weight)


def test_no_recompilation_across_chunks():
    traces = []

    def counting_loss(model, batch, key):
        traces.append(1)  # a Python side effect: runs once per trace, never per step
        return reg_loss(model, batch, key)

    kwargs = dict(key=jax.random.key(0), chunk=5)
    train.fit(counting_loss, REG_MODEL, optax.sgd(0.1), REG_DATA, steps=5, **kwargs)
    one_chunk = len(traces)
    train.fit(counting_loss, REG_MODEL, optax.sgd(0.1), REG_DATA, steps=23, **kwargs)
    assert one_chunk == 1 and len(traces) - one_chunk == 1  # 5 chunks, still one trace


# ---------------------------------------------------------------- checkpoint / resume


def test_resume_after_fewer_steps_is_bit_identical(resume_reference, tmp_path, caplog):
    first = sine_fit(steps=100, chunk=40, ema_decay=None, checkpoint_dir=tmp_path)
    assert int(first.state.step) == 100
    with jax.log_compiles(True), caplog.at_level(logging.WARNING):
        resumed = sine_fit(steps=200, chunk=40, ema_decay=None, checkpoint_dir=tmp_path)
    assert_bitwise_equal(resumed, resume_reference)
    # the restored state is placed like a fresh one, so its chunks reuse the one executable
    compiles = [r for r in caplog.records if "Compiling jit(run_chunk)" in r.getMessage()]
    assert len(compiles) == 1
    assert sorted(os.listdir(tmp_path)) == [train.CHECKPOINT_FILE]  # no temp files left


def test_resume_after_keyboard_interrupt_is_bit_identical(resume_reference, tmp_path):
    def interrupt(step, state, metrics):
        if step >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        # chunk 25 (different from the reference's 40): chunk ends at 25, 50, ..., interrupted
        # after the chunk that reaches 100; checkpoint_every=30 also writes at 50 and 75.
        sine_fit(
            steps=200,
            chunk=25,
            ema_decay=None,
            checkpoint_dir=tmp_path,
            checkpoint_every=30,
            callback=interrupt,
        )
    with np.load(tmp_path / train.CHECKPOINT_FILE) as f:
        assert '"step": 100' in str(f["meta"])
    resumed = sine_fit(steps=200, chunk=40, ema_decay=None, checkpoint_dir=tmp_path)
    assert_bitwise_equal(resumed, resume_reference)
    again = sine_fit(steps=200, chunk=40, ema_decay=None, checkpoint_dir=tmp_path)
    assert_bitwise_equal(again, resume_reference)  # finished checkpoint: nothing left to run


def test_incompatible_checkpoint_is_refused(tmp_path):
    base = dict(steps=20, chunk=20, checkpoint_dir=tmp_path)
    sine_fit(**base)
    with pytest.raises(ValueError, match=r"incompatible run.*key"):
        sine_fit(**base, key=jax.random.key(99))
    with pytest.raises(ValueError, match=r"incompatible run.*batch_size"):
        sine_fit(**base, batch_size=8)
    with pytest.raises(ValueError, match=r"incompatible run.*state"):
        sine_fit(**base, model=eqx.nn.MLP(1, 1, 8, 2, activation=jnp.tanh, key=jax.random.key(0)))
    with pytest.raises(ValueError, match=r"incompatible run.*ema"):
        sine_fit(**base, ema_decay=None)
    with pytest.raises(ValueError, match="steps=10 is below the checkpoint's step 20"):
        sine_fit(**{**base, "steps": 10})
    # resume=False starts afresh and overwrites
    fresh = sine_fit(**{**base, "key": jax.random.key(99)}, resume=False)
    assert int(fresh.state.step) == 20


# ---------------------------------------------------------------- non-finite loss


def _poisoned_data(key, step):
    # a finite target except at step 13
    return jnp.where(step == 13, jnp.float32(jnp.nan), jnp.float32(1.0))


def _scalar_loss(model, batch, key):
    return jnp.sum((model["p"] - batch) ** 2)


def test_nan_loss_raises_naming_the_step_and_saves_last_good_state(tmp_path):
    model = {"p": jnp.array([0.0, 2.0])}
    kwargs = dict(key=jax.random.key(0), chunk=5)
    with pytest.raises(FloatingPointError, match="step 13"):
        train.fit(
            _scalar_loss,
            model,
            optax.sgd(0.1),
            _poisoned_data,
            steps=30,
            checkpoint_dir=tmp_path,
            **kwargs,
        )
    clean = train.fit(_scalar_loss, model, optax.sgd(0.1), _poisoned_data, steps=13, **kwargs)
    # the checkpoint holds the state after steps 0..12, bit for bit what a 13-step run gives
    with np.load(tmp_path / train.CHECKPOINT_FILE) as f:
        assert '"step": 13' in str(f["meta"])
        np.testing.assert_array_equal(f["state/1"], clean.model["p"])
        np.testing.assert_array_equal(f["history/loss"], clean.history["loss"])
    assert np.all(np.isfinite(clean.history["loss"]))


def test_make_step_leaves_state_unchanged_on_nan():
    opt = optax.sgd(0.1)
    model = {"p": jnp.array([0.0, 2.0])}
    step = jax.jit(train.make_step(_scalar_loss, opt, model))
    state = train.init_state(model, opt, key=jax.random.key(0))
    new, metrics = step(state, jnp.float32(jnp.nan))
    assert bool(jnp.isnan(metrics["loss"])) and int(new.step) == 0
    np.testing.assert_array_equal(new.params["p"], model["p"])


# ---------------------------------------------------------------- EMA


def _ema_closed_form(p0, lr, decay, steps):
    """SGD on 0.5 |p|^2 gives p_k = (1 - lr)^k p0; e_0 = p0, e_k = decay e_{k-1} + (1-decay) p_k,
    so e_K = decay^K p0 + (1 - decay) sum_{j=1..K} decay^(K-j) (1 - lr)^j p0."""
    r = 1.0 - lr
    j = np.arange(1, steps + 1)
    return (decay**steps + (1 - decay) * np.sum(decay ** (steps - j) * r**j)) * p0, r**steps * p0


def _half_square(model, batch, key):
    return 0.5 * jnp.sum(model["p"] ** 2)


def test_ema_matches_closed_form():
    p0 = np.array([1.0, -2.0, 3.0])
    model = {"p": jnp.asarray(p0, jnp.float32)}
    result = train.fit(
        _half_square,
        model,
        optax.sgd(0.1),
        lambda key, step: jnp.zeros(()),
        key=jax.random.key(0),
        steps=20,
        ema_decay=0.9,
    )
    ema, params = _ema_closed_form(p0, 0.1, 0.9, 20)
    # 20 float32 multiply-adds of O(1) numbers: relative error ~20 ulp ~ 2e-6 < 1e-5
    np.testing.assert_allclose(result.model["p"], params, rtol=1e-5)
    np.testing.assert_allclose(result.ema_model["p"], ema, rtol=1e-5)


def test_custom_loop_with_make_step_matches_closed_form():
    p0 = np.array([1.0, -2.0, 3.0])
    model = {"p": jnp.asarray(p0, jnp.float32)}
    opt = optax.sgd(0.1)
    state = train.init_state(model, opt, key=jax.random.key(0), ema=True)
    step = jax.jit(train.make_step(_half_square, opt, model, ema_decay=0.9))
    for _ in range(20):
        state, _ = step(state, None)
    ema, params = _ema_closed_form(p0, 0.1, 0.9, 20)
    np.testing.assert_allclose(state.params["p"], params, rtol=1e-5)  # as above
    np.testing.assert_allclose(state.ema["p"], ema, rtol=1e-5)
    assert int(state.step) == 20
    # a schedule returning 0 makes the EMA track the parameters exactly (0 * e + 1 * p = p)
    state = train.init_state(model, opt, key=jax.random.key(0), ema=True)
    step = jax.jit(train.make_step(_half_square, opt, model, ema_decay=lambda s: 0.0))
    state, _ = step(*step(state, None)[:1], None)
    np.testing.assert_array_equal(state.ema["p"], state.params["p"])


# ---------------------------------------------------------------- data sources


def test_callable_data_equals_full_batch_arrays():
    kwargs = dict(key=jax.random.key(0), steps=50)
    arrays = train.fit(reg_loss, REG_MODEL, optax.sgd(0.1), REG_DATA, **kwargs)
    generated = train.fit(reg_loss, REG_MODEL, optax.sgd(0.1), lambda k, s: REG_DATA, **kwargs)
    # same arithmetic; closed-over constants may be folded differently by XLA than arguments,
    # so agreement to float32 rounding rather than bitwise
    for name in ("w", "b"):
        np.testing.assert_allclose(generated.model[name], arrays.model[name], rtol=1e-6, atol=1e-7)


def test_minibatches_are_without_replacement_and_cover_each_epoch():
    n, batch_size = 40, 8  # epochs of 5 steps

    def loss(model, batch, key):
        ordered = jnp.sort(batch)
        distinct = 1 + jnp.sum(jnp.diff(ordered) > 0)
        return jnp.sum(model["w"] ** 2), {
            "distinct": distinct.astype(jnp.float32),
            "index_sum": jnp.sum(batch),
        }

    result = train.fit(
        loss,
        {"w": jnp.ones(())},
        optax.sgd(0.1),
        jnp.arange(n, dtype=jnp.float32),
        key=jax.random.key(0),
        steps=23,
        chunk=7,
        batch_size=batch_size,
        has_aux=True,
    )
    # exact integer-valued floats: every batch has 8 distinct rows, and each complete epoch of 5
    # steps sums to 0 + 1 + ... + 39 = 780 (every row exactly once)
    np.testing.assert_array_equal(result.history["distinct"], 8.0)
    epoch_sums = result.history["index_sum"][:20].reshape(4, 5).sum(axis=1)
    np.testing.assert_array_equal(epoch_sums, 780.0)
    assert len(set(result.history["index_sum"][:20].tolist())) > 5  # batches are shuffled


# ---------------------------------------------------------------- errors


def test_bad_arguments_name_the_argument(tmp_path):
    opt = optax.sgd(0.1)
    key = jax.random.key(0)

    def fit(**kw):
        args = dict(loss_fn=reg_loss, model=REG_MODEL, optimizer=opt, data=REG_DATA)
        args.update(kw)
        return train.fit(
            args.pop("loss_fn"),
            args.pop("model"),
            args.pop("optimizer"),
            args.pop("data"),
            **{"key": key, "steps": 5, **args},
        )

    with pytest.raises(ValueError, match="steps"):
        fit(steps=0)
    with pytest.raises(ValueError, match="chunk"):
        fit(chunk=0)
    with pytest.raises(ValueError, match="batch_size must be <= N = 64"):
        fit(batch_size=65)
    with pytest.raises(ValueError, match="batch_size applies to array data"):
        fit(data=lambda k, s: REG_DATA, batch_size=4)
    with pytest.raises(ValueError, match="data: every array needs the same leading axis"):
        fit(data={"x": REG_DATA["x"], "y": REG_DATA["y"][:10]})
    with pytest.raises(ValueError, match="ema_decay"):
        fit(ema_decay=1.0)
    with pytest.raises(ValueError, match="checkpoint_every needs checkpoint_dir"):
        fit(checkpoint_every=10)
    with pytest.raises(TypeError, match=r"optimizer must be an optax\.GradientTransformation"):
        fit(optimizer="adam")
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        fit(key=0)
    with pytest.raises(ValueError, match="floating scalar loss"):
        fit(loss_fn=lambda m, b, k: b["x"] @ m["w"])
    with pytest.raises(TypeError, match="has_aux=True"):
        fit(loss_fn=lambda m, b, k: (reg_loss(m, b, k), {}))
    with pytest.raises(ValueError, match="no floating-point array leaves"):
        fit(model={"n": jnp.arange(3)})


# ---------------------------------------------------------------- package surface


def test_save_load_pytree_round_trip_is_exact_for_bfloat16_keys_and_extras(tmp_path):
    # a plugged-in Flax/tunix policy may hold bfloat16 parameters, which np.load cannot read back
    tree = {
        "w": jnp.array([1.5, -2.25, 3e-3, -0.0], jnp.bfloat16),
        "b": jnp.linspace(-1.0, 1.0, 5),
        "step": jnp.arange(3),
        "key": jax.random.key(7),
    }
    path = str(tmp_path / "sub" / "state.npz")
    train.save_pytree(path, tree, {"fingerprint": "abc"}, {"loss": np.array([0.5, 0.25])})
    out, meta, extra = train.load_pytree(path, tree)
    for name in ("w", "b", "step"):
        assert out[name].dtype == tree[name].dtype
        np.testing.assert_array_equal(
            np.asarray(out[name]).view(np.uint8), np.asarray(tree[name]).view(np.uint8)
        )
    np.testing.assert_array_equal(jax.random.key_data(out["key"]), jax.random.key_data(tree["key"]))
    assert meta == {"fingerprint": "abc"}
    np.testing.assert_array_equal(extra["loss"], [0.5, 0.25])
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["state.npz"]  # no temp file left
    with pytest.raises(ValueError, match="shape"):
        train.load_pytree(path, {**tree, "b": jnp.zeros(4)})
    with pytest.raises(ValueError, match="leaves"):
        train.load_pytree(path, {"w": tree["w"]})


def test_import_does_not_pull_in_flax():
    code = "import sys, jentropy.train; assert 'flax' not in sys.modules, 'flax imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
