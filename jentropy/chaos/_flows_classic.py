"""Lorenz-like and other quadratic three-dimensional flows (plus Lorenz-96).

The classic convection, dynamo and feedback-control attractors: Lorenz and its bounded, coupled
and atmospheric variants, the Chen/Lü family, rigid-body and finance models, and other
autonomous systems with polynomial (mostly quadratic) nonlinearities.

Every function takes the state ``x`` of shape (dim,), the time ``t`` (unused: all these flows are
autonomous) and the parameter dict ``p`` keyed by dysts's parameter names, and returns dx/dt of
shape (dim,). Each docstring cites the source given in the metadata.
"""

import jax.numpy as jnp

from ._system import flow


@flow("Lorenz")
def lorenz(x, t, p):
    """Lorenz (1963), J. Atmos. Sci. 20:130: three-mode truncation of Rayleigh–Bénard convection."""
    x1, x2, x3 = x
    return jnp.stack([p["sigma"] * (x2 - x1), x1 * (p["rho"] - x3) - x2, x1 * x2 - p["beta"] * x3])


@flow("LorenzBounded")
def lorenz_bounded(x, t, p):
    """Sprott & Xiong (2015), Chaos 25:083101: the Lorenz field times the confining factor
    1 − |x|²/r², which makes the ball of radius r invariant."""
    x1, x2, x3 = x
    confine = 1 - (x1**2 + x2**2 + x3**2) / p["r"] ** 2
    field = jnp.stack([p["sigma"] * (x2 - x1), x1 * (p["rho"] - x3) - x2, x1 * x2 - p["beta"] * x3])
    return field * confine


@flow("LorenzCoupled")
def lorenz_coupled(x, t, p):
    """Two Lorenz (1963) systems with Rayleigh numbers rho1, rho2; the first drives the second
    through a diffusive coupling eps (x1 − x2) in its first equation."""
    x1, y1, z1, x2, y2, z2 = x
    s, b = p["sigma"], p["beta"]
    return jnp.stack(
        [
            s * (y1 - x1),
            x1 * (p["rho1"] - z1) - y1,
            x1 * y1 - b * z1,
            s * (y2 - x2) + p["eps"] * (x1 - x2),
            x2 * (p["rho2"] - z2) - y2,
            x2 * y2 - b * z2,
        ]
    )


@flow("Lorenz96")
def lorenz96(x, t, p):
    """Lorenz (1996), ECMWF Seminar on Predictability: dx_i/dt = (x_{i+1} − x_{i−2}) x_{i−1}
    − x_i + F on a ring (indices mod dim; works for any dim ≥ 4)."""
    return (jnp.roll(x, -1) - jnp.roll(x, 2)) * jnp.roll(x, 1) - x + p["f"]


@flow("Lorenz84")
def lorenz84(x, t, p):
    """Lorenz (1984), Tellus A 36:98: a low-order model of the general atmospheric circulation
    (westerly wind x, travelling-wave amplitudes y, z)."""
    x1, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack(
        [
            -a * x1 - y**2 - z**2 + a * p["f"],
            -y + x1 * y - b * x1 * z + p["g"],
            -z + b * x1 * y + x1 * z,
        ]
    )


@flow("Hadley")
def hadley(x, t, p):
    """Hadley circulation model as written in dysts (the Lorenz-84 equations with a different
    grouping; Hadley (1735), Phil. Trans. R. Soc. 34:58 for the physics)."""
    x1, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack(
        [
            -(y**2) - z**2 - a * x1 + a * p["f"],
            x1 * y - b * x1 * z - y + p["g"],
            b * x1 * y + x1 * z - z,
        ]
    )


@flow("AtmosphericRegime")
def atmospheric_regime(x, t, p):
    """Tuwankotta (2006), coupled oscillators with widely spaced frequencies and an
    energy-preserving quadratic nonlinearity: a model of atmospheric regime transitions."""
    x1, y, z = x
    al, be, sg, om, m2 = p["alpha"], p["beta"], p["sigma"], p["omega"], p["mu2"]
    return jnp.stack(
        [
            p["mu1"] * x1 + sg * x1 * y,
            m2 * y + om * z + al * y * z + be * z**2 - sg * x1**2,
            m2 * z - om * y - al * y**2 - be * y * z,
        ]
    )


@flow("Rossler")
def rossler(x, t, p):
    """Rössler (1976), Phys. Lett. A 57:397: spiral chaos in a minimal oscillator."""
    x1, y, z = x
    return jnp.stack([-y - z, x1 + p["a"] * y, p["b"] + z * (x1 - p["c"])])


@flow("Thomas")
@flow("ThomasLabyrinth")
def thomas(x, t, p):
    """Thomas (1999), Int. J. Bifurc. Chaos 9:1889: cyclically symmetric feedback circuits,
    dx_i/dt = −a x_i + b sin x_{i+1} (ThomasLabyrinth: the same equations with small a, where
    orbits wander through the labyrinth of the sine lattice)."""
    return -p["a"] * x + p["b"] * jnp.sin(jnp.roll(x, -1))


@flow("Halvorsen")
def halvorsen(x, t, p):
    """Sprott (2010), Elegant Chaos (World Scientific): Halvorsen's cyclically symmetric flow."""
    a, b = p["a"], p["b"]
    x1, y, z = x
    return jnp.stack(
        [
            -a * x1 - b * (y + z) - y**2,
            -a * y - b * (z + x1) - z**2,
            -a * z - b * (x1 + y) - x1**2,
        ]
    )


@flow("Chen")
def chen(x, t, p):
    """Chen (1997) / Chen & Ueta (1999), Int. J. Bifurc. Chaos 9:1465: anti-controlled Lorenz."""
    x1, y, z = x
    a, c = p["a"], p["c"]
    return jnp.stack([a * (y - x1), (c - a) * x1 - x1 * z + c * y, x1 * y - p["b"] * z])


@flow("ChenLee")
def chen_lee(x, t, p):
    """Chen & Lee (2004), Chaos Solitons Fractals 21:957: anti-control of rigid-body motion."""
    x1, y, z = x
    return jnp.stack([p["a"] * x1 - y * z, p["b"] * y + x1 * z, p["c"] * z + x1 * y / 3])


@flow("LuChen")
def lu_chen(x, t, p):
    """Lü & Chen (2002), Int. J. Bifurc. Chaos 12:659: bridges the Lorenz and Chen attractors."""
    x1, y, z = x
    return jnp.stack([p["a"] * (y - x1), -x1 * z + p["c"] * y, x1 * y - p["b"] * z])


@flow("LuChenCheng")
def lu_chen_cheng(x, t, p):
    """Lü, Chen & Cheng (2004), Int. J. Bifurc. Chaos 14:1507: a four-scroll attractor."""
    x1, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack([-(a * b) / (a + b) * x1 - y * z + p["c"], a * y + x1 * z, b * z + x1 * y])


@flow("QiChen")
def qi_chen(x, t, p):
    """Qi, Chen et al. (2008), Chaos Solitons Fractals 38:705: a double-wing attractor."""
    x1, y, z = x
    return jnp.stack([p["a"] * (y - x1) + y * z, p["c"] * x1 + y - x1 * z, x1 * y - p["b"] * z])


@flow("ZhouChen")
def zhou_chen(x, t, p):
    """Zhou & Chen (2004), Int. J. Bifurc. Chaos 14:1795: a smooth 3-layer attractor."""
    x1, y, z = x
    return jnp.stack(
        [
            p["a"] * x1 + p["b"] * y + y * z,
            p["c"] * y - x1 * z + p["d"] * y * z,
            p["e"] * z - x1 * y,
        ]
    )


@flow("BurkeShaw")
def burke_shaw(x, t, p):
    """Shaw (1981), Z. Naturforsch. 36a:80: the Burke–Shaw scroll attractor."""
    x1, y, z = x
    n = p["n"]
    return jnp.stack([-n * (x1 + y), y - n * x1 * z, n * x1 * y + p["e"]])


@flow("WangSun")
def wang_sun(x, t, p):
    """Wang, Sun, van Wyk, Qi & van Wyk (2009), Braz. J. Phys. 39:547: a four-wing attractor."""
    x1, y, z = x
    return jnp.stack(
        [
            p["a"] * x1 + p["q"] * y * z,
            p["b"] * x1 + p["d"] * y - x1 * z,
            p["e"] * z + p["f"] * x1 * y,
        ]
    )


@flow("YuWang")
def yu_wang(x, t, p):
    """Yu & Wang (2012), Eng. Technol. Appl. Sci. Res. 2:209: exponential nonlinearity exp(xy)."""
    x1, y, z = x
    return jnp.stack(
        [p["a"] * (y - x1), p["b"] * x1 - p["c"] * x1 * z, jnp.exp(x1 * y) - p["d"] * z]
    )


@flow("YuWang2")
def yu_wang2(x, t, p):
    """Yu & Wang (2012), Eng. Technol. Appl. Sci. Res. 2:209: the cosh(xy) variant."""
    x1, y, z = x
    return jnp.stack(
        [p["a"] * (y - x1), p["b"] * x1 - p["c"] * x1 * z, jnp.cosh(x1 * y) - p["d"] * z]
    )


@flow("SanUmSrisuchinwong")
def san_um_srisuchinwong(x, t, p):
    """San-Um & Srisuchinwong (2012), J. Comput. 7:1041: two scrolls from tanh and |y|
    nonlinearities (the Wimol–Banlue system)."""
    x1, y, z = x
    return jnp.stack([y - x1, -z * jnp.tanh(x1), -p["a"] + x1 * y + jnp.abs(y)])


@flow("DequanLi")
@flow("PanXuZhou")
@flow("Tsucs2")
def dequan_li(x, t, p):
    """Li (2008), Phys. Lett. A 372:387: the three-scroll unified chaotic system (TSUCS).
    PanXuZhou (Zhou et al. (2008), Phys. Lett. A 372:5773) and Tsucs2 (Pan, Zhou & Li (2013))
    are the same equations at other parameters."""
    x1, y, z = x
    a = p["a"]
    return jnp.stack(
        [
            a * (y - x1) + p["d"] * x1 * z,
            p["k"] * x1 + p["f"] * y - x1 * z,
            p["c"] * z + x1 * y - p["eps"] * x1**2,
        ]
    )


@flow("Sakarya")
@flow("LiuChen")
def sakarya(x, t, p):
    """Li et al. (2015), IEICE Electron. Express 12:20141116: a four-wing attractor born in
    bistability. LiuChen (Liu & Chen (2004), Int. J. Bifurc. Chaos 14:1395) is the same family."""
    x1, y, z = x
    return jnp.stack(
        [
            p["a"] * x1 + p["h"] * y + p["s"] * y * z,
            -p["b"] * y - p["p"] * x1 + p["q"] * x1 * z,
            p["c"] * z - p["r"] * x1 * y,
        ]
    )


@flow("RayleighBenard")
def rayleigh_benard(x, t, p):
    """Yanagita & Kaneko (1995), Physica D 82:288: reduced Rayleigh–Bénard convection cell."""
    x1, y, z = x
    return jnp.stack([p["a"] * (y - x1), p["r"] * y - x1 * z, x1 * y - p["b"] * z])


@flow("Finance")
def finance(x, t, p):
    """Cai & Huang (2007), Int. J. Nonlinear Sci. 3:213: interest rate x, investment demand y,
    price index z."""
    x1, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack([(1 / b - a) * x1 + z + x1 * y, -b * y - x1**2, -x1 - p["c"] * z])


@flow("Bouali2")
@flow("Bouali")
def bouali(x, t, p):
    """Bouali (1999), Int. J. Bifurc. Chaos 9:745: an extended van der Pol economic cycle with
    feedback (Bouali and Bouali2 differ only in their parameters)."""
    x1, y, z = x
    m = p["m"]
    return jnp.stack(
        [
            p["a"] * x1 * (p["y0"] - y) - p["b"] * z,
            p["g"] * y * (x1**2 - 1),
            m * x1 * (p["bb"] * z - 1.5) - p["c"] * z,
        ]
    )


@flow("NewtonLiepnik")
def newton_liepnik(x, t, p):
    """Leipnik & Newton (1981), Phys. Lett. A 86:63: rigid body with linear feedback control."""
    x1, y, z = x
    return jnp.stack(
        [-p["a"] * x1 + y + 10 * y * z, -x1 - 0.4 * y + 5 * x1 * z, p["b"] * z - 5 * x1 * y]
    )


@flow("RabinovichFabrikant")
def rabinovich_fabrikant(x, t, p):
    """Rabinovich & Fabrikant (1979), Sov. Phys. JETP 50:311: stochastic self-modulation of
    waves in non-equilibrium media."""
    x1, y, z = x
    g = p["g"]
    return jnp.stack(
        [
            y * (z - 1 + x1**2) + g * x1,
            x1 * (3 * z + 1 - x1**2) + g * y,
            -2 * z * (p["a"] + x1 * y),
        ]
    )


@flow("NoseHoover")
def nose_hoover(x, t, p):
    """Nosé (1984), J. Chem. Phys. 81:511; Hoover (1985), Phys. Rev. A 31:1695: a thermostatted
    oscillator (the Sprott A system with a free parameter)."""
    x1, y, z = x
    return jnp.stack([y, -x1 + y * z, p["a"] - y**2])


@flow("Dadras")
def dadras(x, t, p):
    """Dadras & Momeni (2009), Phys. Lett. A 373:3637: two-, three- and four-scroll attractors."""
    x1, y, z = x
    return jnp.stack(
        [
            y - p["p"] * x1 + p["o"] * y * z,
            p["r"] * y - x1 * z + z,
            p["c"] * x1 * y - p["e"] * z,
        ]
    )


@flow("RikitakeDynamo")
def rikitake_dynamo(x, t, p):
    """Rikitake (1958), Proc. Camb. Phil. Soc. 54:89: two coupled disk dynamos."""
    x1, y, z = x
    mu = p["mu"]
    return jnp.stack([-mu * x1 + y * z, -mu * y + x1 * (z - p["a"]), 1 - x1 * y])


@flow("Aizawa")
def aizawa(x, t, p):
    """Aizawa & Uezu (1982), Prog. Theor. Phys. 67:982; Langford (1984): a torus-like attractor."""
    x1, y, z = x
    b, d, e = p["b"], p["d"], p["e"]
    rho2 = x1**2 + y**2
    return jnp.stack(
        [
            x1 * (z - b) - d * y,
            d * x1 + y * (z - b),
            p["c"] + p["a"] * z - z**3 / 3 - rho2 * (1 + e * z) + p["f"] * z * x1**3,
        ]
    )


@flow("GuckenheimerHolmes")
def guckenheimer_holmes(x, t, p):
    """Guckenheimer & Holmes (1983), Nonlinear Oscillations, Dynamical Systems, and Bifurcations
    of Vector Fields (Springer): a normal form with a torus-breakdown route to chaos."""
    x1, y, z = x
    a, b, c = p["a"], p["b"], p["c"]
    rho2 = x1**2 + y**2
    return jnp.stack(
        [
            a * x1 - b * y + c * z * x1 + p["d"] * z * rho2,
            a * y + b * x1 + c * z * y,
            p["e"] - z**2 - p["f"] * rho2 - a * z**3,
        ]
    )


@flow("ShimizuMorioka")
def shimizu_morioka(x, t, p):
    """Shimizu & Morioka (1980), Phys. Lett. A 76:201: a Lorenz-like symmetric attractor."""
    x1, y, z = x
    return jnp.stack([y, x1 - p["a"] * y - x1 * z, -p["b"] * z + x1**2])


@flow("Rucklidge")
def rucklidge(x, t, p):
    """Rucklidge (1992), J. Fluid Mech. 237:209: double convection with lateral constraints."""
    x1, y, z = x
    return jnp.stack([-p["a"] * x1 + p["b"] * y - y * z, x1, -z + y**2])


@flow("Laser")
def laser(x, t, p):
    """Abooee, Yaghini-Bonabi & Jahed-Motlagh (2013), Commun. Nonlinear Sci. 18:1235: a
    laser-like system with cubic couplings."""
    x1, y, z = x
    return jnp.stack(
        [
            p["a"] * (y - x1) + p["b"] * y * z**2,
            p["c"] * x1 + p["d"] * x1 * z**2,
            p["h"] * z + p["k"] * x1**2,
        ]
    )
