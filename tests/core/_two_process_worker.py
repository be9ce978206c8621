"""One process of the two-process test in test_parallel.py (run as a script, not collected).

Reads JENTROPY_COORDINATOR / JENTROPY_NUM_PROCESSES / JENTROPY_PROCESS_ID from the
environment (so the env-var path of initialize_distributed is what is exercised), builds a
4-device cluster from 2 local CPU devices per process, and prints one JSON line of results.
"""

import json
import sys

import jax

jax.config.update("jax_num_cpu_devices", 2)
# gloo is already JAX's default CPU collectives backend here; set it so older defaults work.
jax.config.update("jax_cpu_collectives_implementation", "gloo")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import PartitionSpec  # noqa: E402

from jentropy import parallel  # noqa: E402


def main() -> None:
    initialized = parallel.initialize_distributed()
    info = parallel.process_info()
    mesh = parallel.device_mesh()
    pid = info.process_index

    # Each process owns 4 consecutive rows of the global batch 0..7.
    local = np.arange(4.0, dtype=np.float32) + 4.0 * pid
    x = parallel.shard_batch(local, mesh, process_local=True)

    total = jax.jit(
        jax.shard_map(
            lambda v: jax.lax.psum(jnp.sum(v), "batch"),
            mesh=mesh,
            in_specs=PartitionSpec("batch"),
            out_specs=PartitionSpec(),
        )
    )(x)
    squares = parallel.map_over_devices(lambda v: v * v + 1.0, x, mesh=mesh)
    keys = parallel.shard_batch(
        jax.random.split(jax.random.key(0), 8), mesh
    )  # same full batch on both processes
    noise = parallel.map_over_devices(lambda k: jax.random.normal(k, ()), keys, mesh=mesh)
    # A host value, equal on both processes, whose size (6) is not a multiple of 4 devices.
    odd = parallel.map_over_devices(lambda v: 2.0 * v, np.arange(6.0, dtype=np.float32), mesh=mesh)
    gathered_local = parallel.allgather(np.array([pid], np.int32), tiled=True)
    print(
        json.dumps(
            {
                "initialized": initialized,
                "info": list(info),
                "shape": list(x.shape),
                "addressable": len(x.addressable_shards),
                "total": float(parallel.allgather(total)),
                "squares": parallel.allgather(squares).tolist(),
                "noise": parallel.allgather(noise).tolist(),
                "odd": parallel.allgather(odd).tolist(),
                "pids": gathered_local.tolist(),
            }
        ),
        flush=True,
    )
    jax.distributed.shutdown()


if __name__ == "__main__":
    sys.exit(main())
