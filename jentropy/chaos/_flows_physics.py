"""Mechanics, Hamiltonian systems, fluid flows, space physics and a quasiperiodic torus.

Pendula and Hamiltonian particle dynamics; Lagrangian tracer advection in model flows (the
"blinking" flows switch between two stirrers with a smooth square-wave protocol and carry its
phase as a state coordinate); the solar-wind-driven magnetosphere and El Niño models; a forced
bouncing droplet; and a torus flow driven explicitly by time.

Each function takes the state ``x`` of shape (dim,), the time ``t`` (read only by Torus) and the
parameter dict ``p``, and returns dx/dt of shape (dim,).
"""

import math

import jax.numpy as jnp

from ._rhs_utils import trig_coordinates
from ._system import flow

_SQRT2 = math.sqrt(2.0)
_SWAP_STIFFNESS = 20.0  # steepness of the smooth switching protocol, as in dysts


def _blink(phase, period):
    """Smooth square wave in [0, 1]: ½ + ½ tanh(20 τ sin(2π s / τ)) (stirrer on/off)."""
    return 0.5 + 0.5 * jnp.tanh(period * _SWAP_STIFFNESS * jnp.sin(2 * math.pi * phase / period))


@flow("DoublePendulum", postprocess=trig_coordinates(sin=(0, 1)))
def double_pendulum(x, t, p):
    """Two rigid pendula in Hamiltonian form (angles θ₁, θ₂ and their conjugate momenta), see
    e.g. Marion & Thornton, Classical Dynamics of Particles and Systems. The momentum equations
    follow dysts, which writes the coupling term h₂ through dθ₂/dt; that form is not exactly
    Hamilton's equations of the standard double-pendulum Hamiltonian (for l₁ = l₂ it carries half
    of the p₁ p₂ cos(θ₁ − θ₂) cross term), so energy is not exactly conserved."""
    th1, th2, p1, p2 = x
    g, l1, l2, m1, m2 = p["g"], p["l1"], p["l2"], p["m1"], p["m2"]
    diff = th1 - th2
    cos_d, sin_d = jnp.cos(diff), jnp.sin(diff)
    denom = l1 * l2 * (m1 + m2 * sin_d**2)
    dth1 = (l2 * p1 - l1 * p2 * cos_d) / (l1 * denom)
    dth2 = ((m1 + m2) * l1 * p2 - m2 * l2 * p1 * cos_d) / (m2 * l2 * denom)
    h1 = p1 * p2 * sin_d / denom
    h2 = m2 * l2 * p1**2 / (2 * l1 * denom**2) + 0.5 * m2 * l1 * l2 * p2 * dth2 / denom
    h2 = h2 * jnp.sin(2 * diff)
    return jnp.stack(
        [
            dth1,
            dth2,
            -(m1 + m2) * g * l1 * jnp.sin(th1) - h1 + h2,
            -m2 * g * l2 * jnp.sin(th2) + h1 - h2,
        ]
    )


@flow("SwingingAtwood", postprocess=trig_coordinates(sin=(1,)))
def swinging_atwood(x, t, p):
    """Tufillaro, Abbott & Griffiths (1984), Am. J. Phys. 52:895: the swinging Atwood machine in
    Hamiltonian form (r, θ, p_r, p_θ) with g = 9.82 fixed (as in dysts)."""
    r, th, pr, pth = x
    m1, m2 = p["m1"], p["m2"]
    g = 9.82
    return jnp.stack(
        [
            pr / (m1 + m2),
            pth / (m1 * r**2),
            pth**2 / (m1 * r**3) - m2 * g + m1 * g * jnp.cos(th),
            -m1 * g * r * jnp.sin(th),
        ]
    )


@flow("HenonHeiles")
def henon_heiles(x, t, p):
    """Hénon & Heiles (1964), Astron. J. 69:73: a star in an axisymmetric galactic potential,
    H = ½ (p_x² + p_y² + x² + y²) + λ (x² y − y³/3)."""
    x1, y, px, py = x
    lam = p["lam"]
    return jnp.stack([px, py, -x1 - 2 * lam * x1 * y, -y - lam * (x1**2 - y**2)])


@flow("NuclearQuadrupole")
def nuclear_quadrupole(x, t, p):
    """Baran & Raduta (1998), Int. J. Mod. Phys. E 7:527: a quadrupole boson Hamiltonian with
    chaos from resonance overlap."""
    q1, q2, p1, p2 = x
    a, b, d = p["a"], p["b"], p["d"]
    rho2 = q1**2 + q2**2
    return jnp.stack(
        [
            a * p1,
            a * p2,
            -a * q1 + 3 / _SQRT2 * b * (q1**2 - q2**2) - d * q1 * rho2,
            -a * q2 - 3 * _SQRT2 * b * q1 * q2 - d * q2 * rho2,
        ]
    )


@flow("ArnoldWeb", postprocess=trig_coordinates(sin=(2, 3), cos=(4,)))
def arnold_web(x, t, p):
    """Froeschlé, Guzzo & Lega (2000), Science 289:2108: a quasi-integrable Hamiltonian,
    H = ½ (p₁² + p₂²) + w z' + μ / (4 + cos x₁ + cos x₂ + cos z); state (p₁, p₂, x₁, x₂, z)."""
    p1, p2, x1, x2, z = x
    mu = p["mu"]
    denom2 = (4 + jnp.cos(z) + jnp.cos(x1) + jnp.cos(x2)) ** 2
    return jnp.stack(
        [
            -mu * jnp.sin(x1) / denom2,
            -mu * jnp.sin(x2) / denom2,
            p1,
            p2,
            jnp.broadcast_to(p["w"], p1.shape),
        ]
    )


@flow("ArnoldBeltramiChildress", postprocess=trig_coordinates(sin=(0, 2), cos=(1,)))
def arnold_beltrami_childress(x, t, p):
    """Arnold (1966), J. Appl. Math. Mech. 30:223: the ABC flow, a steady Beltrami solution of
    Euler's equations on the 3-torus."""
    x1, y, z = x
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack(
        [
            a * jnp.sin(z) + c * jnp.cos(y),
            b * jnp.sin(x1) + a * jnp.cos(z),
            c * jnp.sin(y) + b * jnp.cos(x1),
        ]
    )


@flow("DoubleGyre", postprocess=trig_coordinates(sin=(2,)))
def double_gyre(x, t, p):
    """Shadden, Lekien & Marsden (2005), Physica D 212:271: the periodically oscillating double
    gyre, ψ = α sin(π f(x, z)) sin(π y), f = ε sin z x² + (1 − 2 ε sin z) x, z' = ω."""
    x1, y, z = x
    alpha, eps = p["alpha"], p["eps"]
    a = eps * jnp.sin(z)
    b = 1 - 2 * a
    f = a * x1**2 + b * x1
    amp = alpha * math.pi
    return jnp.stack(
        [
            -amp * jnp.sin(math.pi * f) * jnp.cos(math.pi * y),
            amp * jnp.cos(math.pi * f) * jnp.sin(math.pi * y) * (2 * a * x1 + b),
            jnp.broadcast_to(p["omega"], y.shape),
        ]
    )


def _rotlet(r, th, a, b, bc):
    """Velocity (v_r, r v_θ) at polar (r, θ) of a rotlet at distance b from the centre of a
    disc of radius a; bc = 1 for a no-slip wall, 0 for the free-slip point-vortex limit."""
    cos_t = jnp.cos(th)
    a2 = a**2
    kappa = a2 + b**2 * r**2 / a2 - 2 * b * r * cos_t
    gamma = (1 - r**2 / a2) * (a2 - b**2 * r**2 / a2)
    iota = b**2 * r / a2 - b * cos_t
    zeta = b**2 + r**2 - 2 * b * r * cos_t
    nu = a2 + b**2 - 2 * b**2 * r**2 / a2
    vr = b * jnp.sin(th) * (-bc * gamma / kappa**2 - 1 / kappa + 1 / zeta)
    vth = (
        bc * gamma * iota / kappa**2
        + bc * r * nu / (a2 * kappa)
        + iota / kappa
        - (r - b * cos_t) / zeta
    )
    return vr, vth


def _polar_blinking_post(x, p):
    """(r, θ, s) ↦ (r cos θ, r sin θ, sin 2πs/τ): Cartesian position and protocol phase."""
    r, th, s = x
    return jnp.stack([r * jnp.cos(th), r * jnp.sin(th), jnp.sin(2 * math.pi * s / p["tau"])])


@flow("BlinkingRotlet", postprocess=_polar_blinking_post)
@flow("BlinkingVortex", postprocess=_polar_blinking_post)
def blinking_rotlet(x, t, p):
    """Meleshko & Aref (1996), Phys. Fluids 8:3215: Stokes flow in a disc stirred by a rotlet
    that blinks between ±b (BlinkingVortex, bc = 0: Aref (1984), J. Fluid Mech. 143:1, the
    inviscid blinking vortex). State (r, θ, s) with protocol phase s' = 1."""
    r, th, s = x
    a, b, bc = p["a"], p["b"], p["bc"]
    w = _blink(s, p["tau"])
    vr1, vt1 = _rotlet(r, th, a, b, bc)
    vr2, vt2 = _rotlet(r, th, a, -b, bc)
    sigma = p["sigma"]
    return jnp.stack(
        [
            sigma * (w * vr1 + (1 - w) * vr2),
            sigma * (w * vt1 + (1 - w) * vt2) / r,
            jnp.ones_like(r),
        ]
    )


def _cavity_mode(x, y, a, b, n, u):
    """Velocity of the n-th Stokes eigenmode of a rectangular cavity [0, a] × [−b, b] whose wall
    at y = ±b slides with speed u (the separable solution of the biharmonic equation)."""
    k = n * math.pi / a
    norm = 2 * u / (2 * n * math.pi * b + a * jnp.sinh(2 * k * b))
    shb, chb = jnp.sinh(k * b), jnp.cosh(k * b)
    shy, chy = jnp.sinh(k * y), jnp.cosh(k * y)
    vx = (
        norm
        * jnp.sin(k * x)
        * (-n * math.pi * b * shb * shy + chb * (n * math.pi * y * chy + a * shy))
    )
    vy = norm * n * math.pi * jnp.cos(k * x) * (b * shb * chy - chb * y * shy)
    return vx, vy


def _cavity_post(x, p):
    """(x, y, s) ↦ (x, y, sin 2πs/τ)."""
    return jnp.stack([x[0], x[1], jnp.sin(2 * math.pi * x[2] / p["tau"])])


@flow("LidDrivenCavityFlow", postprocess=_cavity_post)
def lid_driven_cavity_flow(x, t, p):
    """Grover, Ross, Stremler & Kumar (2012), Chaos 22:043135: a two-lid driven cavity whose
    first-mode lid speed u1 alternates sign with the blinking protocol (second mode u2 steady).
    State (x, y, s) with protocol phase s' = 1."""
    x1, y, s = x
    a, b = p["a"], p["b"]
    w = _blink(s, p["tau"])
    vx1, vy1 = _cavity_mode(x1, y, a, b, 1, p["u1"])
    vx2, vy2 = _cavity_mode(x1, y, a, b, 2, p["u2"])
    sign = 2 * w - 1  # w·(+u1) + (1 − w)·(−u1)
    return jnp.stack([sign * vx1 + vx2, sign * vy1 + vy2, jnp.ones_like(y)])


@flow("InteriorSquirmer", postprocess=_polar_blinking_post)
def interior_squirmer(x, t, p):
    """Blake (1971), Bull. Aust. Math. Soc. 5:255: Stokes flow inside a cylinder driven by
    tangential/normal surface modes with Fourier coefficients a (sine) and g (cosine), the two
    sets switched on alternately by the blinking protocol. State (r, θ, s), s' = 1."""
    r, th, s = x
    w = _blink(s, p["tau"])
    a = p["a"] * w
    g = p["g"] * (1 - w)
    n = jnp.arange(1, a.shape[0] + 1, dtype=x.dtype)
    sin_n, cos_n = jnp.sin(n * th), jnp.cos(n * th)
    rn = r**n
    vr = jnp.sum((g * cos_n + a * sin_n) * n * rn * (r**2 - 1) / r)
    vth = jnp.sum((2 * r + (r**2 - 1) * n / r) * (a * cos_n - g * sin_n) * rn)
    return jnp.stack([vr, vth / r, jnp.ones_like(r)])


def _oscillating_post(x, p):
    """(x, y, z) ↦ (cos kx, y, sin z): position within a roll and forcing phase."""
    return jnp.stack([jnp.cos(p["k"] * x[0]), x[1], jnp.sin(x[2])])


@flow("OscillatingFlow", postprocess=_oscillating_post)
def oscillating_flow(x, t, p):
    """Solomon & Gollub (1988), Phys. Rev. A 38:6280: a chain of convection rolls whose lateral
    position oscillates, f = x + b sin z, z' = ω."""
    x1, y, z = x
    k, u = p["k"], p["u"]
    f = x1 + p["b"] * jnp.sin(z)
    return jnp.stack(
        [
            u * jnp.cos(k * y) * jnp.sin(k * f),
            -u * jnp.sin(k * y) * jnp.cos(k * f),
            jnp.broadcast_to(p["omega"], y.shape),
        ]
    )


def _bickley_post(x, p):
    """(y, x, z) ↦ (y, sin(k_min x), sin(ω z k_min σ_min)), as dysts: the slowest wave's phase."""
    k_min, s_min = jnp.min(p["k"]), jnp.min(p["sigma"])
    return jnp.stack([x[0], jnp.sin(k_min * x[1]), jnp.sin(p["omega"] * x[2] * k_min * s_min)])


@flow("BickleyJet", postprocess=_bickley_post)
def bickley_jet(x, t, p):
    """Hadjighasem, Karrasch, Teramoto & Haller (2016), Phys. Rev. E 93:063107: the Bickley jet
    with three travelling waves (wavenumbers k, speeds σ, amplitudes ε), a steady Hamiltonian
    flow under a time-periodic perturbation. As in dysts the state is ordered (y, x, z) with
    phase z' = ω, and the velocity field has the opposite overall sign to the paper's."""
    y, x1, z = x
    ell, u = p["ell"], p["u"]
    sech2 = 1 / jnp.cosh(y / ell) ** 2
    phase = p["k"] * (x1 - z * p["sigma"])
    dx = u * sech2 * (-1 - 2 * jnp.sum(p["eps"] * jnp.cos(phase)) * jnp.tanh(y / ell))
    dy = ell * u * sech2 * jnp.sum(p["eps"] * p["k"] * jnp.sin(phase))
    return jnp.stack([dy, dx, jnp.broadcast_to(p["omega"], y.shape)])


@flow("WindmiReduced")
def windmi_reduced(x, t, p):
    """Smith, Thiffeault & Horton (2000), J. Geophys. Res. 105:12983; Horton, Weigel & Sprott
    (2001), Chaos 11:725: solar-wind energy transfer to the magnetosphere–ionosphere (current i,
    voltage v, plasma pressure p). Follows dysts, whose voltage equation reads b₂ p / 2 where the
    paper has b₂ p^{1/2} (a precedence slip, ``p**1 / 2``)."""
    i, v, pr = x
    vsw = p["vsw"]
    return jnp.stack(
        [
            p["a1"] * (vsw - v),
            p["b1"] * i - p["b2"] * pr / 2 - p["b3"] * v,
            vsw**2 - pr ** (5 / 4) * jnp.sqrt(vsw) * (1 + jnp.tanh(p["d1"] * (i - 1))) / 2,
        ]
    )


@flow("VallisElNino")
def vallis_el_nino(x, t, p):
    """Vallis (1988), J. Geophys. Res. 93:13979: a conceptual El Niño–Southern Oscillation model
    (current x, east–west temperature difference y, mean temperature z)."""
    x1, y, z = x
    return jnp.stack([p["b"] * y - p["c"] * (x1 + p["p"]), -y + x1 * z, -z - x1 * y + 1])


@flow("FluidTrampoline", postprocess=trig_coordinates(cos=(2,)))
def fluid_trampoline(x, t, p):
    """Gilet & Bush (2009), J. Fluid Mech. 625:167: a droplet (height x, velocity y) bouncing on
    a vibrated soap film, which acts only while x < 0; forcing phase θ' = w."""
    x1, y, th = x
    contact = jnp.where(x1 < 0, x1 + p["psi"] * y * jnp.abs(y), 0.0)
    return jnp.stack(
        [y, -1 - contact + p["gamma"] * jnp.cos(th), jnp.broadcast_to(p["w"], y.shape)]
    )


@flow("Torus")
def torus(x, t, p):
    """A quasiperiodic winding on a torus (see e.g. Strogatz (1994), Nonlinear Dynamics and
    Chaos): the velocity of (r + a cos nt)(cos t, sin t) + (0, 0, a sin nt). The only continuous
    system here whose right-hand side reads t (its state is unused)."""
    a, n, r = p["a"], p["n"], p["r"]
    t = jnp.broadcast_to(t, x.shape[:-1])
    radial = -a * n * jnp.sin(n * t)
    ring = r + a * jnp.cos(n * t)
    return jnp.stack(
        [
            radial * jnp.cos(t) - ring * jnp.sin(t),
            radial * jnp.sin(t) + ring * jnp.cos(t),
            a * n * jnp.cos(n * t),
        ]
    )
