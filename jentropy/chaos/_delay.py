"""Scalar delay differential equations ``dx/dt = f(x(t), x(t − τ), t, p)``; τ is ``p["tau"]``."""

from ._system import delay


@delay("MackeyGlass")
def mackey_glass(x, xd, t, p):
    """Mackey & Glass (1977), Science 197:287: blood-cell production with delayed feedback."""
    return p["beta"] * xd / (1 + xd ** p["n"]) - p["gamma"] * x
