"""Sprott's algebraically simple flows and jerk systems.

Sprott's cases A–S (the 19 simplest three-dimensional chaotic flows with five or six terms),
his later minimal examples, and jerk equations x''' = J(x, x', x'') written as first-order
systems (x, y = x', z = x''). Each function takes the state ``x`` (3,), the time ``t`` (unused)
and the parameter dict ``p``, and returns dx/dt (3,).

The 19 cases A–S are from J. C. Sprott, "Some simple chaotic flows", Phys. Rev. E 50:R647 (1994).
"""

import jax.numpy as jnp

from ._system import flow


@flow("SprottA")
def sprott_a(x, t, p):
    """Sprott (1994) case A (the Nosé–Hoover oscillator at a = 1)."""
    x1, y, z = x
    return jnp.stack([y, -x1 + y * z, 1 - y**2])


@flow("SprottB")
def sprott_b(x, t, p):
    """Sprott (1994) case B."""
    x1, y, z = x
    return jnp.stack([y * z, x1 - y, 1 - x1 * y])


@flow("SprottC")
def sprott_c(x, t, p):
    """Sprott (1994) case C."""
    x1, y, z = x
    return jnp.stack([y * z, x1 - y, 1 - x1**2])


@flow("SprottD")
def sprott_d(x, t, p):
    """Sprott (1994) case D."""
    x1, y, z = x
    return jnp.stack([-y, x1 + z, x1 * z + 3 * y**2])


@flow("SprottE")
def sprott_e(x, t, p):
    """Sprott (1994) case E."""
    x1, y, z = x
    return jnp.stack([y * z, x1**2 - y, 1 - 4 * x1])


@flow("SprottF")
def sprott_f(x, t, p):
    """Sprott (1994) case F."""
    x1, y, z = x
    return jnp.stack([y + z, -x1 + p["a"] * y, x1**2 - z])


@flow("SprottG")
def sprott_g(x, t, p):
    """Sprott (1994) case G."""
    x1, y, z = x
    return jnp.stack([p["a"] * x1 + z, x1 * z - y, -x1 + y])


@flow("SprottH")
def sprott_h(x, t, p):
    """Sprott (1994) case H."""
    x1, y, z = x
    return jnp.stack([-y + z**2, x1 + p["a"] * y, x1 - z])


@flow("SprottI")
def sprott_i(x, t, p):
    """Sprott (1994) case I."""
    x1, y, z = x
    return jnp.stack([-p["a"] * y, x1 + z, x1 + y**2 - z])


@flow("SprottJ")
def sprott_j(x, t, p):
    """Sprott (1994) case J."""
    x1, y, z = x
    return jnp.stack([2 * z, -2 * y + z, -x1 + y + y**2])


@flow("SprottK")
def sprott_k(x, t, p):
    """Sprott (1994) case K."""
    x1, y, z = x
    return jnp.stack([x1 * y - z, x1 - y, x1 + p["a"] * z])


@flow("SprottL")
def sprott_l(x, t, p):
    """Sprott (1994) case L."""
    x1, y, z = x
    return jnp.stack([y + p["b"] * z, p["a"] * x1**2 - y, 1 - x1])


@flow("SprottM")
def sprott_m(x, t, p):
    """Sprott (1994) case M."""
    x1, y, z = x
    return jnp.stack([-z, -(x1**2) - y, p["a"] * (1 + x1) + y])


@flow("SprottN")
def sprott_n(x, t, p):
    """Sprott (1994) case N."""
    x1, y, z = x
    return jnp.stack([-2 * y, x1 + z**2, 1 + y - 2 * z])


@flow("SprottO")
def sprott_o(x, t, p):
    """Sprott (1994) case O."""
    x1, y, z = x
    return jnp.stack([y, x1 - z, x1 + x1 * z + p["a"] * y])


@flow("SprottP")
def sprott_p(x, t, p):
    """Sprott (1994) case P."""
    x1, y, z = x
    return jnp.stack([p["a"] * y + z, -x1 + y**2, x1 + y])


@flow("SprottQ")
def sprott_q(x, t, p):
    """Sprott (1994) case Q."""
    x1, y, z = x
    return jnp.stack([-z, x1 - y, p["a"] * x1 + y**2 + p["b"] * z])


@flow("SprottR")
def sprott_r(x, t, p):
    """Sprott (1994) case R."""
    x1, y, z = x
    return jnp.stack([p["a"] - y, p["b"] + z, x1 * y - z])


@flow("SprottS")
def sprott_s(x, t, p):
    """Sprott (1994) case S."""
    x1, y, z = x
    return jnp.stack([-x1 - 4 * y, x1 + z**2, 1 + x1])


@flow("SprottJerk")
def sprott_jerk(x, t, p):
    """Sprott (1997), Phys. Lett. A 228:271: the simplest dissipative chaotic jerk,
    x''' = −μ x'' + x'² − x."""
    x1, y, z = x
    return jnp.stack([y, z, -x1 + y**2 - p["mu"] * z])


@flow("SprottMore")
def sprott_more(x, t, p):
    """Sprott (2020), Chaos Theory Appl. 2:1: a nearly three-dimensional multifractal attractor
    with a sign(z) switch."""
    x1, y, z = x
    return jnp.stack([y, -x1 - jnp.sign(z) * y, y**2 - jnp.exp(-(x1**2))])


@flow("SprottTorus")
def sprott_torus(x, t, p):
    """Sprott (2014), Phys. Lett. A 378:1361: coexisting torus and strange attractor."""
    x1, y, z = x
    return jnp.stack([y + 2 * x1 * y + x1 * z, 1 - 2 * x1**2 + y * z, x1 - x1**2 - y**2])


@flow("PehlivanWei")
def pehlivan_wei(x, t, p):
    """Pehlivan & Wei (2012), Turk. J. Elec. Eng. Comp. Sci. 20:1003: a quadratic system with
    codimension-one and -two Hopf bifurcations."""
    x1, y, z = x
    return jnp.stack([y * (1 - z), y * (1 + z) - 2 * x1, 2 - x1 * y - y**2])


@flow("Arneodo")
@flow("Coullet")
def arneodo(x, t, p):
    """Arneodo, Coullet & Tresser (1980), Phys. Lett. A 79:259: the ACT jerk
    x''' = −a x − b x' − c x'' + d x³ (Coullet: the same equations at other parameters)."""
    x1, y, z = x
    return jnp.stack([y, z, -p["a"] * x1 - p["b"] * y - p["c"] * z + p["d"] * x1**3])


@flow("GenesioTesi")
def genesio_tesi(x, t, p):
    """Genesio & Tesi (1992), Automatica 28:531: x''' = −c x − b x' − a x'' + x²."""
    x1, y, z = x
    return jnp.stack([y, z, -p["c"] * x1 - p["b"] * y - p["a"] * z + x1**2])


@flow("MooreSpiegel")
def moore_spiegel(x, t, p):
    """Moore & Spiegel (1966), Astrophys. J. 143:871: a thermally excited nonlinear oscillator
    (a convective element in a stellar atmosphere)."""
    x1, y, z = x
    return jnp.stack([y, p["a"] * z, -z + p["eps"] * y - y * x1**2 - p["b"] * x1])


@flow("JerkCircuit")
def jerk_circuit(x, t, p):
    """Sprott (2011), IEEE Trans. Circuits Syst. II 58:240: a jerk circuit with a diode,
    x''' = −x'' − x − ε (exp(x'/y0) − 1)."""
    x1, y, z = x
    return jnp.stack([y, z, -z - x1 - p["eps"] * jnp.expm1(y / p["y0"])])
