"""Discrete maps ``x_{k+1} = f(x_k, p)``: the 23 map classes of dysts 0.96.

Each function takes the state ``x`` of shape (dim,) and the parameter dict ``p`` and returns the
next state, shape (dim,). ``data/discrete_maps.json`` has 26 entries, but dysts 0.96 defines
equations for only 23 of them: Zaslavskii and ZeraouliaSprott are commented out in dysts and
EndCap has no class, so those three stay in the data file (unchanged) and are not registered.

Many maps have no citation in the metadata (``"."``); the docstrings below give the usual source.

Inverses (``System.inverse`` / ``System.rhs_inv``) are provided for the four maps for which dysts
defines ``_rhs_inv`` — Baker, Chirikov, Henon and BlinkingVortexMap. In dysts 0.96 these are
unreachable (``DynMap.__init__`` sets ``self._rhs_inv = None``, so ``rhs_inv`` always raises) and
two are wrong (Hénon's has ``−x'`` where ``x'`` belongs; Baker's does not undo its forward map); the ones
here are the exact inverses of the forward maps, checked by round trips in the tests.
"""

import math

import jax
import jax.numpy as jnp

from ._system import map_


@map_("Logistic")
def logistic(x, p):
    """May (1976), Nature 261:459: the logistic map r x (1 − x)."""
    return p["r"] * x * (1 - x)


@map_("Ricker")
def ricker(x, p):
    """Ricker (1954), J. Fish. Res. Board Can. 11:559: stock–recruitment x exp(a − x)."""
    return x * jnp.exp(p["a"] - x)


@map_("Tent")
def tent(x, p):
    """The symmetric tent map μ (1 − 2 |x − ½|) (see e.g. Ott (2002), Chaos in Dynamical
    Systems, CUP)."""
    return p["mu"] * (1 - 2 * jnp.abs(x - 0.5))


@map_("Gauss")
def gauss(x, p):
    """The Gauss ("mouse") map exp(−a x²) + b (see e.g. Hilborn (2000), Chaos and Nonlinear
    Dynamics, OUP)."""
    return jnp.exp(-p["a"] * x**2) + p["b"]


@map_("Chebyshev")
def chebyshev(x, p):
    """Geisel & Fairén (1984), Phys. Lett. A 105:263: the Chebyshev map cos(a arccos x) on
    [−1, 1]."""
    return jnp.cos(p["a"] * jnp.arccos(x))


@map_("Bogdanov")
def bogdanov(x, p):
    """Bogdanov (1981), Selecta Math. Soviet. 1:389; the map of Arrowsmith, Cartwright, Lansbury
    & Place (1993), Int. J. Bifurc. Chaos 3:803: y' = (1 + ε) y + k x (x − 1) + μ x y, x' = x + y'."""
    x1, y = x
    yp = (1 + p["eps"]) * y + p["k"] * x1 * (x1 - 1) + p["mu"] * x1 * y
    return jnp.stack([x1 + yp, yp])


_BAKER_STRETCH = 2.0 - 1e-10  # slightly below 2 keeps x' inside [0, 1) (as in dysts)


def _baker_inverse(xy, p):
    xp, yp = xy
    fold = jnp.floor(2 * yp)  # the lower half of y' came from x < ½, the upper from x ≥ ½
    return jnp.stack([(xp + fold) / _BAKER_STRETCH, (2 * yp - fold) / p["a"]])


@map_("Baker", inverse=_baker_inverse)
def baker(x, p):
    """The generalised baker's map (Farmer, Ott & Yorke (1983), Physica D 7:153): stretch x by 2,
    cut, and stack the halves in y with contraction a. The inverse is exact on the unit square
    for 0 < a ≤ 1."""
    x1, y = x
    stretched = _BAKER_STRETCH * x1
    fold = jnp.floor(stretched)
    return jnp.stack([stretched - fold, (p["a"] * y + fold) / 2])


@map_("Circle")
def circle(x, p):
    """Arnold's circle map θ + Ω + (K / 2π) sin 2πθ (Arnold (1965), Am. Math. Soc. Transl. 46:213),
    without reduction mod 1 (as in dysts)."""
    return x + p["omega"] + p["k"] / (2 * math.pi) * jnp.sin(2 * math.pi * x)


@map_("DeJong")
def dejong(x, p):
    """Peter de Jong's attractor (reported by Bourke, paulbourke.net/fractals/peterdejong):
    sin(a y) − cos(b x), sin(c x) − cos(d y)."""
    x1, y = x
    return jnp.stack(
        [jnp.sin(p["a"] * y) - jnp.cos(p["b"] * x1), jnp.sin(p["c"] * x1) - jnp.cos(p["d"] * y)]
    )


@map_("Svensson")
def svensson(x, p):
    """Johnny Svensson's attractor (metadata: Ivan Emrich): d sin(a x) − sin(b y),
    c cos(a x) + cos(b y)."""
    x1, y = x
    ax, by = p["a"] * x1, p["b"] * y
    return jnp.stack([p["d"] * jnp.sin(ax) - jnp.sin(by), p["c"] * jnp.cos(ax) + jnp.cos(by)])


@map_("Bedhead")
def bedhead(x, p):
    """The "Bedhead" attractor of Ivan Emrich: sin(x y / b) y + cos(a x − y), x + sin(y) / b."""
    x1, y = x
    b = p["b"]
    return jnp.stack([jnp.sin(x1 * y / b) * y + jnp.cos(p["a"] * x1 - y), x1 + jnp.sin(y) / b])


@map_("GumowskiMira")
def gumowski_mira(x, p):
    """Gumowski & Mira (1980), Recurrences and Discrete Dynamic Systems, LNM 809 (Springer):
    x' = b y + F(x), y' = F(x') − x with F(u) = a u + 2 (1 − a) u² / (1 + u²)."""
    x1, y = x
    a = p["a"]

    def f(u):
        return a * u + 2 * (1 - a) * u**2 / (1 + u**2)

    xp = p["b"] * y + f(x1)
    return jnp.stack([xp, f(xp) - x1])


@map_("Hopalong")
def hopalong(x, p):
    """Barry Martin's "hopalong" map (Dewdney (1986), Sci. Am. 255(3):14), in dysts's form
    y − 1 − sgn(x − 1) √|b x − 1 − c|, a − x − 1."""
    x1, y = x
    jump = jnp.sqrt(jnp.abs(p["b"] * x1 - 1 - p["c"])) * jnp.sign(x1 - 1)
    return jnp.stack([y - 1 - jump, p["a"] - x1 - 1])


@map_("Ikeda")
def ikeda(x, p):
    """Ikeda (1979), Opt. Commun. 30:257; Hammel, Jones & Moloney (1985), J. Opt. Soc. Am. B
    2:552: light in a nonlinear ring cavity, z' = 1 + u z exp(i (0.4 − 6 / (1 + |z|²)))."""
    x1, y = x
    u = p["u"]
    angle = 0.4 - 6 / (1 + x1**2 + y**2)
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.stack([1 + u * (x1 * c - y * s), u * (x1 * s + y * c)])


@map_("Tinkerbell")
def tinkerbell(x, p):
    """Nusse & Yorke (1994), Dynamics: Numerical Explorations (Springer): the Tinkerbell map."""
    x1, y = x
    return jnp.stack(
        [
            x1**2 - y**2 + p["a"] * x1 + p["b"] * y,
            2 * x1 * y + p["c"] * x1 + p["d"] * y,
        ]
    )


@map_("Pickover")
def pickover(x, p):
    """Pickover (1990), Computers, Pattern, Chaos and Beauty (St. Martin's): the "Clifford"
    attractor sin(a y) + c cos(a x), sin(b x) + d cos(b y)."""
    x1, y = x
    a, b = p["a"], p["b"]
    return jnp.stack(
        [
            jnp.sin(a * y) + p["c"] * jnp.cos(a * x1),
            jnp.sin(b * x1) + p["d"] * jnp.cos(b * y),
        ]
    )


@map_("MaynardSmith")
def maynard_smith(x, p):
    """Maynard Smith (1968), Mathematical Ideas in Biology (CUP): a delayed-density population
    map x' = y, y' = a y + b − x²."""
    x1, y = x
    return jnp.stack([y, p["a"] * y + p["b"] - x1**2])


@map_("KaplanYorke")
def kaplan_yorke(x, p):
    """Kaplan & Yorke (1979), Functional Differential Equations and Approximation of Fixed
    Points, LNM 730: x' = 2x mod 1, y' = α y + cos 4πx (modulus 0.99999995 as in dysts)."""
    x1, y = x
    return jnp.stack([jnp.mod(2 * x1, 0.99999995), p["alpha"] * y + jnp.cos(4 * math.pi * x1)])


@map_("Gingerbreadman")
def gingerbreadman(x, p):
    """Devaney (1984), Physica D 10:387: the piecewise-linear area-preserving map
    x' = 1 − y + |x|, y' = x."""
    x1, y = x
    return jnp.stack([1 - y + jnp.abs(x1), x1])


@map_("Duffing")
def duffing_map(x, p):
    """Holmes (1979), Phil. Trans. R. Soc. A 292:419: the Duffing (Holmes) map x' = y,
    y' = −b x + a y − y³."""
    x1, y = x
    return jnp.stack([y, -p["b"] * x1 + p["a"] * y - y**3])


def _chirikov_inverse(px, p):
    pp, xp = px
    x1 = xp - pp
    return jnp.stack([pp - p["k"] * jnp.sin(x1), x1])


@map_("Chirikov", inverse=_chirikov_inverse)
def chirikov(x, p):
    """Chirikov (1979), Phys. Rep. 52:263: the standard map on state (p, x), p' = p + k sin x,
    x' = x + p' (not reduced mod 2π, as in dysts)."""
    pm, x1 = x
    pp = pm + p["k"] * jnp.sin(x1)
    return jnp.stack([pp, x1 + pp])


def _henon_inverse(xy, p):
    xp, yp = xy
    x1 = yp / p["b"]
    return jnp.stack([x1, xp - 1 + p["a"] * x1**2])


@map_("Henon", inverse=_henon_inverse)
def henon(x, p):
    """Hénon (1976), Commun. Math. Phys. 50:69: x' = 1 − a x² + y, y' = b x."""
    x1, y = x
    return jnp.stack([1 - p["a"] * x1**2 + y, p["b"] * x1])


def _kepler_solve(target, ecc, iterations=30):
    """The root q of q − e sin q = target (unique for 0 ≤ e < 1), by Newton from q = target."""

    def step(_, q):
        return q - (q - ecc * jnp.sin(q) - target) / (1 - ecc * jnp.cos(q))

    return jax.lax.fori_loop(0, iterations, step, target)


def _point_vortex_advect(rt, tt, a, b, gamma, duration):
    """Advect the point (r, θ) for ``duration`` by a point vortex of circulation γ at (b, 0)
    inside a free-slip disc of radius a (image vortex at a²/b). Streamlines are Apollonius
    circles with centre η and radius ρ, traversed at a non-uniform angular speed that turns the
    position angle q into a Kepler-type equation q − e sin q = q₀ − e sin q₀ + 2π t / T."""
    a2b = a**2 / b
    cos_t = jnp.cos(tt)
    lam2 = (b**2 + rt**2 - 2 * b * rt * cos_t) / (a2b**2 + rt**2 - 2 * a2b * rt * cos_t)
    lam = jnp.sqrt(lam2)
    eta = (b - lam2 * a2b) / (1 - lam2)
    rho = jnp.abs(lam / (1 - lam2) * (a2b - b))
    q0 = jnp.arctan2(rt * jnp.sin(tt), rt * cos_t - eta)
    ecc = 2 * lam / (1 + lam2)
    period = (2 * math.pi) ** 2 * rho**2 / gamma * (1 + lam2) / (1 - lam2)
    q = _kepler_solve(q0 - ecc * jnp.sin(q0) + 2 * math.pi * duration / period, ecc)
    r_new = jnp.sqrt(rho**2 + eta**2 + 2 * rho * eta * jnp.cos(q))
    th_new = jnp.arctan2(rho * jnp.sin(q), eta + rho * jnp.cos(q))
    return jnp.stack([r_new, th_new])


def _blinking_vortex_inverse(x, p):
    # Reversing the circulation runs the same streamline backwards for the same time.
    return _point_vortex_advect(x[0], x[1], p["a"], p["b"], -p["gamma"], p["t"])


@map_("BlinkingVortexMap", inverse=_blinking_vortex_inverse)
def blinking_vortex_map(x, p):
    """Aref (1984), J. Fluid Mech. 143:1: the stroboscopic map of the blinking vortex, state
    (r, θ). Follows dysts 0.96, whose map advects for time t with the vortex at +b only (its
    sign flip of b between calls never reaches the parameters it uses), and solves the Kepler
    equation by Newton's method (unique root) where dysts calls scipy's fsolve."""
    return _point_vortex_advect(x[0], x[1], p["a"], p["b"], p["gamma"], p["t"])
