"""Spread batched work over devices and hosts: a 1-D device mesh, batch sharding, shard_map.

Built only on ``jax.make_mesh`` / ``jax.sharding.Mesh``, ``NamedSharding``, ``PartitionSpec``
and ``jax.shard_map``. Large ensembles (trajectories, particles, rollouts) are split along
their leading (batch) axis; everything else is replicated.

* :func:`device_mesh`, :func:`batch_sharding`, :func:`shard_batch` — place a batch.
* :func:`pad_batch` / :func:`unpad` — make any batch size divisible by the device count.
* :func:`map_over_devices` — apply a per-example (or per-shard) function across devices.
* :func:`initialize_distributed`, :func:`process_info`, :func:`allgather` — multi-host runs
  on JAX's own engine (``jax.distributed``); single-process calls are harmless no-ops.

Example::

    from jentropy import parallel

    def simulate(key, y0):                      # written for ONE example
        return y0 + jax.random.normal(key, y0.shape)

    keys = jax.random.split(key, 1000)          # per-example keys: randomness independent of
    y0 = jnp.zeros((1000, 3))                   # the number of devices
    out = parallel.map_over_devices(simulate, keys, y0)      # (1000, 3), equal to vmap

    xs = parallel.shard_batch(jnp.ones((8, 5)))  # 8 rows split over the devices
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec
from jaxtyping import PyTree

__all__ = [
    "ProcessInfo",
    "allgather",
    "batch_sharding",
    "device_mesh",
    "initialize_distributed",
    "map_over_devices",
    "pad_batch",
    "process_info",
    "shard_batch",
    "unpad",
]


def device_mesh(axis_name: str = "batch", devices: Sequence[Any] | None = None) -> Mesh:
    """A 1-D mesh named ``axis_name`` over ``devices`` (default: all global devices).

    The axis is ``AxisType.Auto``: arrays sharded over it behave like ordinary arrays in user
    code (XLA propagates the sharding) instead of carrying it in their types.

    Example::

        mesh = device_mesh()                      # Mesh('batch': len(jax.devices()))
        mesh = device_mesh("walkers", jax.local_devices()[:2])
    """
    if not isinstance(axis_name, str) or not axis_name:
        raise ValueError(f"device_mesh: axis_name must be a non-empty str, got {axis_name!r}")
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("device_mesh: devices is empty")
    return jax.make_mesh((len(devices),), (axis_name,), (AxisType.Auto,), devices=devices)


def _mesh_and_size(mesh: Mesh | None, axis_name: str, fn: str) -> tuple[Mesh, int]:
    mesh = device_mesh(axis_name) if mesh is None else mesh
    if not isinstance(mesh, Mesh):
        raise TypeError(f"{fn}: mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    if axis_name not in mesh.axis_names:
        raise ValueError(
            f"{fn}: axis_name {axis_name!r} is not an axis of the mesh {mesh.axis_names}"
        )
    return mesh, mesh.shape[axis_name]


def batch_sharding(mesh: Mesh | None = None, axis_name: str = "batch") -> NamedSharding:
    """``NamedSharding`` that splits the leading axis over ``axis_name`` and replicates the rest.

    Example::

        x = jax.device_put(jnp.zeros((8, 3)), batch_sharding())   # 8/n rows per device
    """
    mesh, _ = _mesh_and_size(mesh, axis_name, "batch_sharding")
    return NamedSharding(mesh, PartitionSpec(axis_name))


def _batch_size(tree: PyTree, name: str, fn: str) -> int:
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError(f"{fn}: {name} has no array leaves")
    shapes = [np.shape(x) for x in leaves]
    sizes = {s[0] if s else None for s in shapes}
    if None in sizes or len(sizes) != 1:
        raise ValueError(
            f"{fn}: every leaf of {name} needs the same leading batch axis, got shapes {shapes}"
        )
    return sizes.pop()


def shard_batch(
    tree: PyTree,
    mesh: Mesh | None = None,
    *,
    axis_name: str = "batch",
    process_local: bool = False,
) -> PyTree:
    """Place every leaf of ``tree`` with its leading axis split across the mesh's devices.

    Each of the ``n`` devices holds ``B / n`` consecutive rows, so ``B`` must be divisible by
    ``n`` (use :func:`pad_batch` first otherwise).

    Args:
        tree: pytree of arrays sharing a leading batch axis ``B``.
        mesh: default ``device_mesh(axis_name)``.
        axis_name: the mesh axis to split over.
        process_local: multi-host only: ``tree`` is THIS process's part of the batch
            (``B_local`` rows), and the global batch is the concatenation over processes in
            process order (``jax.make_array_from_process_local_data``). With the default
            ``False`` every process passes the same full batch.

    Returns:
        The same pytree of global ``jax.Array`` s with ``batch_sharding(mesh, axis_name)``.

    Example::

        xs = shard_batch({"x": jnp.zeros((8, 3)), "k": jax.random.split(key, 8)})
        [s.data.shape for s in xs["x"].addressable_shards]      # [(2, 3)] * 4 on 4 devices
    """
    fn = "shard_batch"
    mesh, n_dev = _mesh_and_size(mesh, axis_name, fn)
    sharding = NamedSharding(mesh, PartitionSpec(axis_name))
    batch = _batch_size(tree, "tree", fn)
    if process_local:
        n_local = n_dev // jax.process_count()
        if batch % n_local:
            raise ValueError(
                f"{fn}: the process-local batch size {batch} is not divisible by this "
                f"process's {n_local} devices on axis {axis_name!r}; pad_batch(tree, {n_local})"
            )
        return jax.tree_util.tree_map(lambda x: _place(x, sharding, True), tree)
    if batch % n_dev:
        raise ValueError(
            f"{fn}: the batch size {batch} is not divisible by the {n_dev} devices on axis "
            f"{axis_name!r}; use pad_batch(tree, {n_dev}) first"
        )
    return jax.tree_util.tree_map(lambda x: _place(x, sharding, False), tree)


def _place(x: Any, sharding: NamedSharding, process_local: bool) -> jax.Array:
    if jnp.issubdtype(jnp.result_type(x), jax.dtypes.prng_key):
        # Typed keys travel as their uint32 data (NumPy cannot hold them).
        data = _place(jax.random.key_data(x), sharding, process_local)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    if process_local:
        return jax.make_array_from_process_local_data(sharding, np.asarray(x))
    if jax.process_count() > 1 and not (isinstance(x, jax.Array) and not x.is_fully_addressable):
        # A host value: device_put checks it is equal on every process and scatters it.
        x = np.asarray(x)
    return jax.device_put(x, sharding)


def pad_batch(tree: PyTree, multiple: int) -> tuple[PyTree, int]:
    """Pad the leading axis of every leaf up to a multiple of ``multiple``.

    Padding repeats the last example (not zeros), so padded rows run through the same code
    without producing spurious NaN/inf (e.g. ``log(0)``) or invalid PRNG keys; strip them with
    :func:`unpad`. Works on traced arrays (the sizes are static).

    Returns:
        ``(padded, n)`` with ``n`` the original batch size.

    Example::

        padded, n = pad_batch(jnp.arange(7.0), 4)   # padded: [0 … 6, 6], n = 7
        unpad(padded, n)                            # back to 7 rows
    """
    if not isinstance(multiple, int | np.integer) or isinstance(multiple, bool) or multiple < 1:
        raise ValueError(f"pad_batch: multiple must be a positive int, got {multiple!r}")
    n = _batch_size(tree, "tree", "pad_batch")
    if n == 0:
        raise ValueError("pad_batch: the batch is empty (leading axis 0); nothing to repeat")
    extra = -n % multiple
    if extra == 0:
        return tree, n

    def pad(x):
        x = jnp.asarray(x)
        return jnp.concatenate([x, jnp.repeat(x[-1:], extra, axis=0)], axis=0)

    return jax.tree_util.tree_map(pad, tree), n


def unpad(tree: PyTree, n: int) -> PyTree:
    """Keep the first ``n`` rows of every leaf: the inverse of :func:`pad_batch`."""
    return jax.tree_util.tree_map(lambda x: x[:n], tree)


@eqx.filter_jit
def _map_sharded(f, xs, mesh, axis_name, per_example):
    n_dev = mesh.shape[axis_name]
    padded, n = pad_batch(xs, n_dev)
    spec = PartitionSpec(axis_name)
    body = jax.vmap(f) if per_example else f
    # check_vma=False: loops whose carry starts replicated and becomes per-device (diffrax's
    # save buffers, a lax.scan from zeros) would otherwise be rejected; every output here is
    # per-device (out_specs splits the batch axis), so there is no replication to check.
    mapped = jax.shard_map(
        lambda args: body(*args), mesh=mesh, in_specs=(spec,), out_specs=spec, check_vma=False
    )
    out = mapped(padded)
    total = n + (-n % n_dev)
    for x in jax.tree_util.tree_leaves(out):
        if x.ndim == 0 or x.shape[0] != total:
            raise ValueError(
                "map_over_devices: with per_example=False, f must return leaves whose leading "
                f"axis has the shard's size (row i = example i); got output shape {x.shape} for "
                f"a padded batch of {total} over {n_dev} devices"
            )
    return unpad(out, n)


def map_over_devices(
    f: Callable[..., PyTree],
    *xs: PyTree,
    mesh: Mesh | None = None,
    axis_name: str = "batch",
    per_example: bool = True,
) -> PyTree:
    """Apply ``f`` to a batch split across the devices of ``mesh`` (``jax.shard_map``).

    ``per_example=True``: ``f(*x_i)`` is written for ONE example and is ``vmap``-ed over each
    device's shard; the result equals ``jax.vmap(f)(*xs)``. ``per_example=False``: ``f`` maps a
    whole shard (leading axis ``B / n``) to outputs with the same leading axis, row ``i``
    belonging to example ``i`` (for functions that batch themselves, e.g. a joint
    :func:`jentropy.integrate.solve_ode`).

    Any batch size works: the batch is padded (repeating the last example) to a multiple of
    the device count and the padding is stripped from the result. The whole call is one
    compiled program, cached per ``f``/shapes; inputs already placed by :func:`shard_batch`
    are not moved.

    ``f`` runs under ``jax.shard_map(..., check_vma=False)``, so library code with internal
    loops (diffrax solves, ``lax.scan``) works unchanged; ``jax.lax.psum(v, axis_name)`` sums
    over devices.

    Randomness: pass per-example keys as one of ``xs`` (``jax.random.split(key, B)``), so the
    draws depend on the key and the example, never on the device count or padding.

    Args:
        f: the function; closed-over arrays are replicated to every device.
        *xs: pytrees of arrays sharing the leading batch axis ``B``.
        mesh: default ``device_mesh(axis_name)``.
        axis_name: mesh axis to split over; inside ``f`` collectives such as
            ``jax.lax.psum(v, axis_name)`` run across devices (``per_example=False``).
        per_example: see above.

    Returns:
        The outputs with leading axis ``B``, sharded along it.

    Example::

        energies = map_over_devices(lambda q, p: 0.5 * (q @ q + p @ p), qs, ps)   # (B,)
        ys = map_over_devices(lambda y: solve_ode(f, y, ts, batched=True).ys, y0s,
                              per_example=False)            # each device solves its shard
    """
    fn = "map_over_devices"
    if not callable(f):
        raise TypeError(f"{fn}: f must be callable, got {type(f).__name__}")
    if not xs:
        raise ValueError(f"{fn}: pass at least one batched input after f")
    mesh, _ = _mesh_and_size(mesh, axis_name, fn)
    if not isinstance(per_example, bool):
        raise TypeError(f"{fn}: per_example must be a bool, got {per_example!r}")
    if _batch_size(xs, "xs", fn) == 0:
        raise ValueError(f"{fn}: the batch is empty (leading axis 0)")
    return _map_sharded(f, xs, mesh, axis_name, per_example)


# ---------------------------------------------------------------------------------------------
# multi-host


class ProcessInfo(NamedTuple):
    """Where this process sits in a (possibly multi-host) JAX run."""

    process_index: int
    process_count: int
    local_device_count: int
    device_count: int


def process_info() -> ProcessInfo:
    """This process's index, the number of processes, and local / global device counts.

    Example::

        info = process_info()      # ProcessInfo(0, 1, 4, 4) on one host with 4 devices
    """
    return ProcessInfo(
        jax.process_index(), jax.process_count(), jax.local_device_count(), jax.device_count()
    )


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"initialize_distributed: ${name} must be an int, got {value!r}") from None


def initialize_distributed(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    local_device_ids: int | Sequence[int] | None = None,
) -> bool:
    """Join a multi-process JAX run (``jax.distributed.initialize``), or do nothing.

    Arguments left ``None`` are read from ``$JENTROPY_COORDINATOR`` (``"host:port"`` of
    process 0), ``$JENTROPY_NUM_PROCESSES`` and ``$JENTROPY_PROCESS_ID``. With one process
    (or no coordinator and no process count anywhere) nothing is initialised and the call
    returns ``False``; otherwise it initialises (once; a repeated call is a no-op) and
    returns ``True``. Call it first, before any other JAX work. Afterwards ``jax.devices()``
    lists the devices of every process and :func:`device_mesh` spans them. For cluster
    auto-detection (SLURM, TPU pods) call ``jax.distributed.initialize()`` directly.

    On CPU, cross-process collectives use gloo (JAX's default here:
    ``jax_cpu_collectives_implementation``).

    Example::

        # process i of 2, on each host:
        initialize_distributed("10.0.0.1:12345", num_processes=2, process_id=i)
        process_info()       # ProcessInfo(i, 2, local_devices, 2 * local_devices)
    """
    fn = "initialize_distributed"
    if coordinator_address is None:
        coordinator_address = os.environ.get("JENTROPY_COORDINATOR") or None
    if num_processes is None:
        num_processes = _env_int("JENTROPY_NUM_PROCESSES")
    if process_id is None:
        process_id = _env_int("JENTROPY_PROCESS_ID")
    if num_processes is not None and (not isinstance(num_processes, int) or num_processes < 1):
        raise ValueError(f"{fn}: num_processes must be a positive int, got {num_processes!r}")
    if coordinator_address is None and num_processes in (None, 1):
        return False
    if num_processes == 1:
        return False
    if jax.distributed.is_initialized():
        return True
    missing = [
        name
        for name, value in (
            ("coordinator_address", coordinator_address),
            ("num_processes", num_processes),
            ("process_id", process_id),
        )
        if value is None
    ]
    if missing:
        raise ValueError(
            f"{fn}: a multi-process run needs {missing} (arguments or $JENTROPY_COORDINATOR, "
            "$JENTROPY_NUM_PROCESSES, $JENTROPY_PROCESS_ID)"
        )
    if not isinstance(coordinator_address, str) or ":" not in coordinator_address:
        raise ValueError(
            f"{fn}: coordinator_address must be 'host:port', got {coordinator_address!r}"
        )
    if not isinstance(process_id, int) or not 0 <= process_id < num_processes:
        raise ValueError(f"{fn}: process_id must be in [0, {num_processes}), got {process_id!r}")
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        local_device_ids=local_device_ids,
    )
    return True


def allgather(x: PyTree, *, tiled: bool = True) -> PyTree:
    """Bring values to every process as NumPy arrays.

    A global ``jax.Array`` (e.g. the output of :func:`map_over_devices` or
    :func:`shard_batch`) comes back whole on every host. Host-local values (NumPy arrays, or
    arrays on this process's devices only) are gathered from all processes: concatenated
    along axis 0 with ``tiled=True``, stacked along a new leading process axis with
    ``tiled=False``. With one process it returns ``x`` as NumPy (stacked with a leading axis
    of 1 when ``tiled=False`` and ``x`` is host-local).

    Wraps ``jax.experimental.multihost_utils.process_allgather``.

    Example::

        losses = allgather(np.array([local_loss]))      # shape (process_count,)
    """
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(x, tiled=tiled)
