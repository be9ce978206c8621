"""Scalar delay differential equations ``dx/dt = f(x(t), x(t − τ), t, p)``; τ is ``p["tau"]``.

Each function takes the current state ``x`` of shape (1,), the delayed state ``xd = x(t − τ)``
of shape (1,), the time ``t`` (unused: all six are autonomous) and the parameter dict ``p``, and
returns dx/dt of shape (1,). The delay τ itself is read by the solver, not by these functions.
"""

import jax.numpy as jnp

from ._system import delay


@delay("MackeyGlass")
def mackey_glass(x, xd, t, p):
    """Mackey & Glass (1977), Science 197:287; Glass & Mackey (1979), Ann. N. Y. Acad. Sci.
    316:214: blood-cell production with delayed feedback, β x_τ / (1 + x_τⁿ) − γ x."""
    return p["beta"] * xd / (1 + xd ** p["n"]) - p["gamma"] * x


@delay("IkedaDelay")
@delay("SprottDelay")
def ikeda_delay(x, xd, t, p):
    """Ikeda & Matsumoto (1987), Physica D 29:223: a passive optical resonator,
    μ sin(x_τ − x₀) − c x. SprottDelay (Sprott (2007), Phys. Lett. A 366:397, dx/dt = sin x_τ)
    is the same equation with μ = 1, c = 0, x₀ = 0."""
    return p["mu"] * jnp.sin(xd - p["x0"]) - p["c"] * x


@delay("VossDelay")
def voss_delay(x, xd, t, p):
    """Voss (2002), Phys. Rev. Lett. 87:014102 ("real-time anticipation of chaotic states of an
    electronic circuit"): −α x + f(x_τ) with the cubic f(u) = −10.44 u³ − 13.95 u² − 3.63 u + 0.85."""
    f = ((-10.44 * xd - 13.95) * xd - 3.63) * xd + 0.85
    return -p["alpha"] * x + f


@delay("ScrollDelay")
def scroll_delay(x, xd, t, p):
    """Driver (1977), Ordinary and Delay Differential Equations (Springer): a delay circuit with
    a steep tanh nonlinearity, −α x_τ + β tanh(10 x_τ). As in dysts, the right-hand side
    depends on the delayed state only."""
    return -p["alpha"] * xd + p["beta"] * jnp.tanh(10 * xd)


@delay("PiecewiseCircuit")
def piecewise_circuit(x, xd, t, p):
    """Tamaševičius, Mykolaitis, Bumelienė (2006), Electron. Lett. 42:13: a delay circuit with a
    cubic nonlinearity, −α x_τ + β (3 u − u³), u = x_τ / c (delayed state only, as in dysts)."""
    u = xd / p["c"]
    return -p["alpha"] * xd + p["beta"] * (3 * u - u**3)
