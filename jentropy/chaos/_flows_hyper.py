"""Four-dimensional hyperchaotic flows (two positive Lyapunov exponents).

Mostly Lorenz/Chen/Lü-type systems extended by a fourth state ``w`` fed back through linear
control. Each function takes the state ``x`` of shape (4,), the time ``t`` (unused) and the
parameter dict ``p``, and returns dx/dt of shape (4,).
"""

import jax.numpy as jnp

from ._system import flow


@flow("HyperRossler")
def hyper_rossler(x, t, p):
    """Rössler (1979), Phys. Lett. A 71:155: "An equation for hyperchaos"."""
    x1, y, z, w = x
    return jnp.stack([-y - z, x1 + p["a"] * y + w, p["b"] + x1 * z, -p["c"] * z + p["d"] * w])


@flow("HyperLorenz")
def hyper_lorenz(x, t, p):
    """A hyperchaotic Lorenz system, as catalogued by J. Meier (2003), Presentation of
    Attractors with Cinema."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + w,
            -x1 * z + p["c"] * x1 - y,
            -p["b"] * z + x1 * y,
            p["d"] * w - x1 * z,
        ]
    )


@flow("HyperCai")
def hyper_cai(x, t, p):
    """Cai & Huang (2007), Int. J. Nonlinear Sci. 3:213: hyperchaotic finance-type system."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1),
            p["b"] * x1 + p["c"] * y - x1 * z + w,
            -p["d"] * z + y**2,
            -p["e"] * x1,
        ]
    )


@flow("HyperBao")
def hyper_bao(x, t, p):
    """Bao & Liu (2008), Chin. Phys. Lett. 25:2396: hyperchaos coined from the Lü system."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + w,
            p["c"] * y - x1 * z,
            x1 * y - p["b"] * z,
            p["e"] * x1 + p["d"] * y * z,
        ]
    )


@flow("HyperJha")
def hyper_jha(x, t, p):
    """A hyperchaotic Lorenz-type system catalogued by J. Meier (2003), Presentation of
    Attractors with Cinema."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + w,
            -x1 * z + p["b"] * x1 - y,
            x1 * y - p["c"] * z,
            -x1 * z + p["d"] * w,
        ]
    )


@flow("HyperQi")
def hyper_qi(x, t, p):
    """Qi, van Wyk, van Wyk & Chen (2008), Phys. Lett. A 372:124: "On a new hyperchaotic
    system"."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + y * z,
            p["b"] * (x1 + y) - x1 * z,
            -p["c"] * z - p["e"] * w + x1 * y,
            -p["d"] * w + p["f"] * z + x1 * y,
        ]
    )


@flow("Qi")
def qi(x, t, p):
    """Qi, van Wyk, van Wyk & Chen (2008), Phys. Lett. A: a four-wing system with cubic
    couplings and a broad power spectrum."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + y * z * w,
            p["b"] * (x1 + y) - x1 * z * w,
            -p["c"] * z + x1 * y * w,
            -p["d"] * w + x1 * y * z,
        ]
    )


@flow("LorenzStenflo")
def lorenz_stenflo(x, t, p):
    """Stenflo (1996), Phys. Scr. 53:83 (see Letellier & Rössler (2007), Scholarpedia 2:1936):
    acoustic-gravity waves in a rotating atmosphere."""
    x1, y, z, w = x
    a = p["a"]
    return jnp.stack(
        [
            a * (y - x1) + p["d"] * w,
            p["c"] * x1 - x1 * z - y,
            x1 * y - p["b"] * z,
            -x1 - a * w,
        ]
    )


@flow("HyperYangChen")
def hyper_yang_chen(x, t, p):
    """A hyperchaotic Yang–Chen system catalogued by J. Meier (2003), Presentation of
    Attractors with Cinema."""
    x1, y, z, w = x
    return jnp.stack(
        [p["a"] * (y - x1), p["c"] * x1 - x1 * z + w, -p["b"] * z + x1 * y, -p["d"] * x1]
    )


@flow("HyperYan")
def hyper_yan(x, t, p):
    """A hyperchaotic Chen-type system catalogued by J. Meier (2003), Presentation of
    Attractors with Cinema."""
    x1, y, z, w = x
    a, c = p["a"], p["c"]
    return jnp.stack(
        [
            a * (y - x1),
            (c - a) * x1 - x1 * z + c * y,
            -p["b"] * z + x1 * y - y * z + x1 * z - w,
            -p["d"] * w + y * z - x1 * z,
        ]
    )


@flow("HyperXu")
def hyper_xu(x, t, p):
    """A hyperchaotic Xu system (Letellier & Rössler (2007), Hyperchaos, Scholarpedia 2:1936)."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + w,
            p["b"] * x1 + p["e"] * x1 * z,
            -p["c"] * z - x1 * y,
            x1 * z - p["d"] * y,
        ]
    )


@flow("HyperWang")
def hyper_wang(x, t, p):
    """Hyperchaotic extension of the Wang system (Wang, Sun, van Wyk, Qi & van Wyk (2009),
    Braz. J. Phys. 39:547)."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1),
            -x1 * z + p["b"] * x1 + w,
            -p["c"] * z + p["e"] * x1**2,
            -p["d"] * x1,
        ]
    )


@flow("HyperPang")
def hyper_pang(x, t, p):
    """Pang & Liu (2011), J. Comput. Appl. Math. 235:2775: a hyperchaotic Lü-type system."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1),
            -x1 * z + p["c"] * y + w,
            x1 * y - p["b"] * z,
            -p["d"] * (x1 + y),
        ]
    )


@flow("HyperLu")
def hyper_lu(x, t, p):
    """Chen, Lu, Lü & Yu (2006), Physica A 364:103: hyperchaotic Lü attractor via state
    feedback."""
    x1, y, z, w = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + w,
            -x1 * z + p["c"] * y,
            x1 * y - p["b"] * z,
            p["d"] * w + x1 * z,
        ]
    )
