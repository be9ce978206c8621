"""Tests for jentropy.parallel on the 4 virtual CPU devices set up by conftest, plus one run
of two local processes forming a 4-device cluster.

Functions mapped over devices are module-level so their compiled programs are shared.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec

from jentropy import integrate, parallel

WORKER = pathlib.Path(__file__).with_name("_two_process_worker.py")


def energy(q, p):
    return 0.5 * (q @ q + p @ p)


def noisy_step(key, y):
    return {"y": y + jax.random.normal(key, y.shape), "norm": jnp.linalg.norm(y)}


def square(t, y, args):
    return y * y


SAVE_TIMES = jnp.array([0.0, 0.5, 1.0, 1.5])


def solve_shard(y0):
    sol = integrate.solve_ode(square, y0, SAVE_TIMES, batched=True)
    return sol.ys, sol.success


def normalize_shard(x):
    # A per-shard function with a cross-device collective: rows divided by the global sum.
    return x / jax.lax.psum(jnp.sum(x), "batch")


def test_four_virtual_devices_and_mesh():
    assert len(jax.devices()) == 4
    mesh = parallel.device_mesh()
    assert mesh.axis_names == ("batch",) and mesh.shape["batch"] == 4
    sub = parallel.device_mesh("walkers", jax.devices()[:2])
    assert sub.shape["walkers"] == 2
    sharding = parallel.batch_sharding(mesh)
    assert isinstance(sharding, NamedSharding) and sharding.spec == PartitionSpec("batch")


def test_shard_batch_places_rows_on_four_devices(key):
    tree = {"x": jnp.arange(24.0).reshape(8, 3), "k": jax.random.split(key, 8)}
    placed = parallel.shard_batch(tree)
    for leaf in jax.tree_util.tree_leaves(placed):
        assert leaf.sharding.spec == PartitionSpec("batch")
        shards = leaf.addressable_shards
        assert {s.device for s in shards} == set(jax.devices())
        assert all(s.data.shape[0] == 2 for s in shards)  # 8 rows / 4 devices
    # Exact: placement moves data, it never changes it.
    np.testing.assert_array_equal(placed["x"], tree["x"])
    np.testing.assert_array_equal(jax.random.key_data(placed["k"]), jax.random.key_data(tree["k"]))
    first = next(s for s in placed["x"].addressable_shards if s.index[0].start in (0, None))
    np.testing.assert_array_equal(first.data, tree["x"][:2])


@pytest.mark.parametrize("n", [1, 7, 13, 16])
def test_map_over_devices_per_example_equals_vmap(n):
    q = jnp.arange(3.0 * n).reshape(n, 3)
    p = jnp.cos(q)
    out = parallel.map_over_devices(energy, q, p)
    # Same per-example arithmetic on each device: equal up to float32 summation order.
    np.testing.assert_allclose(out, jax.vmap(energy)(q, p), rtol=1e-6)
    assert out.shape == (n,)


def test_map_over_devices_pytree_and_keys(key):
    n = 7
    keys = jax.random.split(key, n)
    y = jnp.linspace(-1.0, 1.0, 2 * n).reshape(n, 2)
    out = parallel.map_over_devices(noisy_step, keys, y)
    ref = jax.vmap(noisy_step)(keys, y)
    # Per-example keys: the same draws whatever the device count or padding. Not bitwise: the
    # normal transform compiles differently per program; a few float32 ulp (|z| < 4).
    np.testing.assert_allclose(out["y"], ref["y"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(out["norm"], ref["norm"], rtol=1e-6)
    # Independent examples: no two rows received the same noise.
    noise = np.asarray(out["y"] - y)
    assert len({tuple(r) for r in noise.round(6)}) == n


@pytest.mark.parametrize("n", [7, 12])
def test_map_over_devices_per_shard_with_collective(n):
    x = jnp.arange(1.0, n + 1.0)
    out = parallel.map_over_devices(normalize_shard, x, per_example=False)
    # Padding repeats the last row, so the global sum includes it for n = 7 (8 rows); for
    # n = 12 no padding: out == x / sum(x). float32: 1e-6 relative.
    padded_sum = float(jnp.sum(x)) + float(x[-1]) * (-n % 4)
    np.testing.assert_allclose(out, np.asarray(x) / padded_sum, rtol=1e-6)
    assert out.shape == (n,)


def test_joint_ode_solve_per_shard_with_failures():
    # Each device solves its rows jointly (diffrax loops inside shard_map). y' = y² from c
    # blows up at 1/c: members with c > 2/3 fail before t = 1.5, each on its own.
    c = np.linspace(0.1, 1.2, 10, dtype=np.float32)
    ys, ok = parallel.map_over_devices(solve_shard, jnp.asarray(c)[:, None], per_example=False)
    np.testing.assert_array_equal(ok, c < 2.0 / 3.0)
    exact = c[:, None] / (1.0 - c[:, None] * np.asarray(SAVE_TIMES)[None])
    # float32 at rtol=1e-6 on solutions growing up to 8x: 2e-5 relative.
    np.testing.assert_allclose(ys[ok, :, 0], exact[np.asarray(ok)], rtol=2e-5)


def test_map_over_devices_is_jittable_and_reuses_sharded_input():
    q = parallel.shard_batch(jnp.ones((8, 3)))
    out = jax.jit(lambda a: parallel.map_over_devices(energy, a, a))(q)
    np.testing.assert_allclose(out, np.full(8, 3.0))  # 0.5 (3 + 3), exact in float32
    assert out.sharding.spec == PartitionSpec("batch")


def test_pad_and_unpad():
    tree = {"a": jnp.arange(7.0), "b": jnp.ones((7, 2))}
    padded, n = parallel.pad_batch(tree, 4)
    assert n == 7 and padded["a"].shape == (8,) and padded["b"].shape == (8, 2)
    np.testing.assert_array_equal(padded["a"], [0, 1, 2, 3, 4, 5, 6, 6])  # last row repeated
    back = parallel.unpad(padded, n)
    np.testing.assert_array_equal(back["a"], tree["a"])
    same, m = parallel.pad_batch(tree, 7)
    assert m == 7 and same["a"].shape == (7,)


def test_single_process_helpers(monkeypatch):
    for name in ("JENTROPY_COORDINATOR", "JENTROPY_NUM_PROCESSES", "JENTROPY_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    assert parallel.initialize_distributed() is False
    assert parallel.initialize_distributed(num_processes=1) is False
    monkeypatch.setenv("JENTROPY_NUM_PROCESSES", "1")
    assert parallel.initialize_distributed() is False
    assert parallel.process_info() == parallel.ProcessInfo(0, 1, 4, 4)
    x = parallel.shard_batch(jnp.arange(8.0))
    np.testing.assert_array_equal(parallel.allgather(x), np.arange(8.0))
    np.testing.assert_array_equal(parallel.allgather(np.array([3.0]), tiled=False), [[3.0]])


def test_bad_inputs(monkeypatch):
    for name in ("JENTROPY_COORDINATOR", "JENTROPY_NUM_PROCESSES", "JENTROPY_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"batch size 7 is not divisible by the 4 devices"):
        parallel.shard_batch(jnp.ones((7, 2)))
    with pytest.raises(ValueError, match="same leading batch axis"):
        parallel.shard_batch({"a": jnp.ones((8, 2)), "b": jnp.ones((4,))})
    with pytest.raises(ValueError, match="same leading batch axis"):
        parallel.map_over_devices(energy, jnp.ones((5, 3)), jnp.ones((6, 3)))
    with pytest.raises(ValueError, match="axis_name 'x' is not an axis"):
        parallel.batch_sharding(parallel.device_mesh(), axis_name="x")
    with pytest.raises(ValueError, match="multiple must be a positive int"):
        parallel.pad_batch(jnp.ones(3), 0)
    with pytest.raises(ValueError, match="batch is empty"):
        parallel.map_over_devices(energy, jnp.ones((0, 3)), jnp.ones((0, 3)))
    with pytest.raises(ValueError, match=r"leading\s+axis has the shard's size"):
        parallel.map_over_devices(lambda x: jnp.sum(x, keepdims=True), jnp.ones(8),
                                  per_example=False)  # fmt: skip
    with pytest.raises(TypeError, match="callable"):
        parallel.map_over_devices(3, jnp.ones(4))
    with pytest.raises(ValueError, match=r"needs \['coordinator_address'\]"):
        parallel.initialize_distributed(num_processes=2, process_id=0)
    monkeypatch.setenv("JENTROPY_NUM_PROCESSES", "two")
    with pytest.raises(ValueError, match="JENTROPY_NUM_PROCESSES must be an int"):
        parallel.initialize_distributed()
    with pytest.raises(ValueError, match=r"process_id must be in \[0, 2\)"):
        parallel.initialize_distributed("127.0.0.1:1234", 2, 5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.multiprocess
def test_two_processes_form_one_cluster(key):
    port = _free_port()
    procs = []
    try:
        for pid in range(2):
            env = dict(
                os.environ,
                JENTROPY_COORDINATOR=f"127.0.0.1:{port}",
                JENTROPY_NUM_PROCESSES="2",
                JENTROPY_PROCESS_ID=str(pid),
            )
            env.pop("XLA_FLAGS", None)  # the worker chooses its own device count
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-3000:]
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    squares = (np.arange(8.0) ** 2 + 1.0).tolist()
    noise = jax.vmap(lambda k: jax.random.normal(k, ()))(jax.random.split(jax.random.key(0), 8))
    for pid, res in enumerate(outputs):
        assert res["initialized"] is True
        assert res["info"] == [pid, 2, 2, 4]  # index, processes, local devices, global devices
        assert res["shape"] == [8] and res["addressable"] == 2
        assert res["total"] == 28.0  # psum over both processes of 0 + 1 + … + 7, exact
        assert res["squares"] == squares  # small integers: exact in float32
        assert res["odd"] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        assert res["pids"] == [0, 1]
        # The same per-example keys give the same normals as a single-process vmap (ulp).
        np.testing.assert_allclose(res["noise"], noise, rtol=0, atol=1e-6)
