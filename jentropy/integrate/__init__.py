"""Integration of ODEs and SDEs: adaptive solves on diffrax and fixed-step ``lax.scan`` loops.

Every function takes a vector field written for ONE instance, ``f(t, y, args)`` with ``y`` any
pytree of floating arrays, and follows the dtype of ``y0`` (float64 only where the caller
enabled it; the library never flips ``jax_enable_x64``).

* :func:`solve_ode` — adaptive (or constant-step) diffrax solve saved at ``ts``. With
  ``batched=True`` a batch of initial conditions is solved *jointly* as one ``(B, ...)`` state,
  which on CPU is ~2-3× faster than ``jax.vmap`` over ``diffeqsolve`` (see its docstring).
* :func:`solve_sde` — diffrax SDE solve on a ``VirtualBrownianTree`` (diagonal or general noise).
* :func:`rk4`, :func:`heun`, :func:`euler`, :func:`euler_maruyama` — fixed-step ``lax.scan``
  integrators returning ``(ts, ys)``.
* :func:`check_finite` — which members of a (batched) pytree are free of NaN/inf.

Failures are reported, never hidden: solutions carry ``success`` (per member when batched) and
diffrax's ``result``; ``throw=True`` raises naming the failed members.

Example::

    from jentropy import integrate

    def lorenz(t, y, args):
        x, u, z = y
        return jnp.stack([10.0 * (u - x), x * (28.0 - z) - u, x * u - 8.0 / 3.0 * z])

    y0 = jnp.ones((256, 3)) + 0.01 * jax.random.normal(key, (256, 3))
    sol = integrate.solve_ode(lorenz, y0, jnp.linspace(0.0, 5.0, 101), batched=True)
    sol.ys.shape, sol.success.shape          # (256, 101, 3), (256,)
    ts, ys = integrate.rk4(lorenz, y0[0], 0.01, 500, save_every=10)   # ys: (51, 3)

Reference: P. Kidger, "On Neural Differential Equations", PhD thesis, Oxford (2021) — diffrax.
"""

from ._common import VectorField as VectorField
from ._common import check_finite as check_finite
from ._fixed import euler as euler
from ._fixed import euler_maruyama as euler_maruyama
from ._fixed import heun as heun
from ._fixed import rk4 as rk4
from ._ode import ODE_SOLVERS as ODE_SOLVERS
from ._ode import ODESolution as ODESolution
from ._ode import solve_ode as solve_ode
from ._sde import SDE_SOLVERS as SDE_SOLVERS
from ._sde import solve_sde as solve_sde

__all__ = [
    "ODE_SOLVERS",
    "SDE_SOLVERS",
    "ODESolution",
    "check_finite",
    "euler",
    "euler_maruyama",
    "heun",
    "rk4",
    "solve_ode",
    "solve_sde",
]
