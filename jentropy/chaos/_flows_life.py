"""Biology, chemistry and ecology: reaction kinetics, cell physiology and food webs.

Each function takes the state ``x`` of shape (dim,), the time ``t`` and the parameter dict ``p``,
and returns dx/dt of shape (dim,). Seasonally or periodically forced models carry their phase as
a state coordinate (as in dysts), so none of them reads ``t``.
"""

import math

import jax.numpy as jnp

from ._rhs_utils import trig_coordinates
from ._system import flow


def _hill(u, k, n):
    """The Hill function uⁿ / (kⁿ + uⁿ)."""
    un = u**n
    return un / (k**n + un)


@flow("GlycolyticOscillation")
def glycolytic_oscillation(x, t, p):
    """Decroly & Goldbeter (1982), Proc. Natl. Acad. Sci. USA 79:6917: two allosteric enzymes in
    series (Monod–Wyman–Changeux rate laws φ, η) with substrate a, intermediate b, product c."""
    a, b, c = x
    s1, s2 = p["s1"], p["s2"]
    db = 1 + p["d"] * b
    phi = a * (1 + a) * (1 + b) ** 2 / (p["l1"] + (1 + a) ** 2 * (1 + b) ** 2)
    eta = b * db * (1 + c) ** 2 / (p["l2"] + db**2 * (1 + c) ** 2)
    return jnp.stack(
        [p["nu"] - s1 * phi, p["q1"] * s1 * phi - s2 * eta, p["q2"] * s2 * eta - p["k"] * c]
    )


@flow("CoevolvingPredatorPrey")
def coevolving_predator_prey(x, t, p):
    """Gilpin & Feldman (2017), PLoS Comput. Biol. 13:e1005644: predator y, prey x and an
    evolving prey trait α that trades growth against predation."""
    prey, pred, alpha = x
    a1, b1, k1, k2, k4, d1 = p["a1"], p["b1"], p["k1"], p["k2"], p["k4"], p["d1"]
    delta = p["delta"]
    ad = alpha * delta
    holling = 1 + p["b2"] * prey
    growth = a1 * alpha * (1 - k1 * prey * (ad - alpha)) / (1 + b1 * alpha)
    death = d1 * (1 - k2 * (ad**2 - alpha**2) + k4 * (ad**4 - alpha**4))
    trait = -a1 * k1 * prey * ad / (1 + b1 * alpha) - d1 * (
        -2 * k2 * alpha * delta**2 + 4 * k4 * alpha**3 * delta**4
    )
    return jnp.stack(
        [
            prey * (growth - death - p["a3"] * pred / holling),
            pred * (p["a2"] * prey / holling - p["d2"]),
            p["vv"] * trait,
        ]
    )


@flow("KawczynskiStrizhak")
def kawczynski_strizhak(x, t, p):
    """Strizhak & Kawczynski (1995), J. Phys. Chem. 99:10830: a three-variable model of the
    Belousov–Zhabotinsky reaction with mixed-mode oscillations."""
    x1, y, z = x
    mu = p["mu"]
    return jnp.stack(
        [
            p["gamma"] * (y - x1**3 + 3 * mu * x1),
            -2 * mu * x1 - y - z + p["beta"],
            p["kappa"] * (x1 - z),
        ]
    )


@flow("BelousovZhabotinsky")
def belousov_zhabotinsky(x, t, p):
    """Györgyi & Field (1992), Nature 355:808: a three-variable chaotic model of the BZ reaction
    (scaled [HBrO₂] x, [Ce(IV)] z, [BrMA] v), with the Br⁻ concentration ȳ adiabatically
    eliminated. As in dysts, ȳ uses the raw x and the other rates the clamped x⁺ = max(x, 0)."""
    xr, z, v = x
    c = [p[f"c{i}"] for i in range(1, 14)]
    kf, z0 = p["kf"], p["z0"]
    ybar = p["yb1"] * z * v / (p["y0"] * (p["yb2"] * xr + p["yb3"] + kf))
    xp = jnp.maximum(xr, 0.0)
    rf = (p["ci"] - z0 * z) * jnp.sqrt(xp)
    dx = c[0] * xp * ybar + c[1] * ybar + c[2] * xp**2 + c[3] * rf + c[4] * xp * z - kf * xp
    dz = c[5] / z0 * rf + c[6] * xp * z + c[7] * z * v + c[8] * z - kf * z
    dv = c[9] * xp * ybar + c[10] * ybar + c[11] * xp**2 + c[12] * z * v - kf * v
    return p["t0"] * jnp.stack([dx, dz, dv])


@flow("IsothermalChemical")
def isothermal_chemical(x, t, p):
    """Petrov, Scott & Showalter (1992), J. Chem. Phys. 97:6191: mixed-mode oscillations in an
    isothermal autocatalator."""
    a, b, g = x
    auto = a * b**2 + a
    return jnp.stack(
        [p["mu"] * (p["kappa"] + g) - auto, (auto - b) / p["sigma"], (b - g) / p["delta"]]
    )


@flow("ForcedBrusselator", postprocess=trig_coordinates(sin=(2,)))
def forced_brusselator(x, t, p):
    """Prigogine (1980), From Being to Becoming (Freeman): the Brusselator forced by f cos z,
    z' = w."""
    x1, y, z = x
    b = p["b"]
    x2y = x1**2 * y
    return jnp.stack(
        [
            p["a"] + x2y - (b + 1) * x1 + p["f"] * jnp.cos(z),
            b * x1 - x2y,
            jnp.broadcast_to(p["w"], y.shape),
        ]
    )


@flow("SaltonSea")
def salton_sea(x, t, p):
    """Upadhyay, Bairagi, Kundu & Chattopadhyay (2008), Appl. Math. Comput. 196:392: susceptible
    fish x, infected fish y and birds z in the Salton Sea."""
    s, i, z = x
    infection = p["lam"] * s * i
    predation = z * i / (i + p["a"])
    return jnp.stack(
        [
            p["r"] * s * (1 - (s + i) / p["k"]) - infection,
            infection - p["m"] * predation - p["mu"] * i,
            p["th"] * predation - p["d"] * z,
        ]
    )


@flow("CaTwoPlus")
@flow("CaTwoPlusQuasiperiodic")
def ca_two_plus(x, t, p):
    """Houart, Dupont & Goldbeter (1999), Bull. Math. Biol. 61:507: cytosolic Ca²⁺ z, stored
    Ca²⁺ y and IP₃ a with Ca²⁺-induced Ca²⁺ release (CaTwoPlusQuasiperiodic: the same equations
    at the paper's quasiperiodic parameters)."""
    z, y, a = x
    v_in = p["V0"] + p["V1"] * p["beta"]
    v2 = p["Vm2"] * _hill(z, p["K2"], 2)
    v3 = p["Vm3"] * _hill(z, p["Kz"], p["m"]) * _hill(y, p["Ky"], 2) * _hill(a, p["Ka"], 4)
    v5 = p["Vm5"] * _hill(a, p["K5"], p["p"]) * _hill(z, p["Kd"], p["n"])
    return jnp.stack(
        [
            v_in - v2 + v3 + p["kf"] * y - p["k"] * z,
            v2 - v3 - p["kf"] * y,
            p["beta"] * p["V4"] - v5 - p["eps"] * a,
        ]
    )


@flow("CellCycle")
def cell_cycle(x, t, p):
    """Romond, Rustici, Gonze & Goldbeter (1999), Ann. N. Y. Acad. Sci. 879:180: two coupled
    cdc2–cyclin oscillators (cyclin c, active cdc2 m, active protease x per module), each
    cyclin inhibiting the other module's synthesis through Kim. As in dysts, both modules share
    their parameters and every Michaelis constant of the covalent-modification cycles is K."""
    c = x[0::3]
    m = x[1::3]
    prot = x[2::3]
    kk = p["K"]
    synthesis = p["vi"] * p["Kim"] / (p["Kim"] + m[::-1])
    dc = synthesis - p["vd"] * prot * c / (p["Kd1"] + c) - p["kd1"] * c
    activation = p["Vm1"] * c / (p["Kc"] + c)
    dm = activation * (1 - m) / (kk + 1 - m) - p["V2"] * m / (kk + m)
    dx = p["Vm3"] * m * (1 - prot) / (kk + 1 - prot) - p["V4"] * prot / (kk + prot)
    return jnp.stack([dc, dm, dx], axis=-1).reshape(-1)


@flow("CircadianRhythm", postprocess=trig_coordinates(cos=(4,)))
def circadian_rhythm(x, t, p):
    """Leloup, Gonze & Goldbeter (1999), J. Biol. Rhythms 14:433; Gonze, Leloup & Goldbeter
    (2000): the Drosophila PER clock (mRNA m, cytosolic/stored/nuclear protein fc, fs, fn) under
    light–dark forcing of the transcription rate through the phase θ, θ' = 2π/ps."""
    m, fc, fs, fn, th = x
    n, ki, k, k1, k2 = p["n"], p["Ki"], p["k"], p["k1"], p["k2"]
    vmin = p["vmin"]
    vs = p["vc"] * (0.5 + 0.5 * jnp.cos(th) + vmin) * (p["vmax"] - vmin)
    return jnp.stack(
        [
            vs * ki**n / (ki**n + fn**n) - p["vm"] * m / (p["km"] + m),
            p["ks"] * m - k1 * fc + k2 * fn - k * fc,
            k * fc - p["vd"] * fs / (p["kd"] + fs),
            k1 * fc - k2 * fn - p["vdn"] * fn / (p["kdn"] + fn),
            jnp.broadcast_to(2 * math.pi / p["ps"], m.shape),
        ]
    )


@flow("Blasius")
def blasius(x, t, p):
    """Blasius, Huppert & Stone (1999), Nature 399:354: vegetation x, herbivores y and
    predators z with Holling type-II interactions."""
    x1, y, z = x
    graze = p["alpha1"] * x1 * y / (1 + p["k1"] * x1)
    hunt = p["alpha2"] * y * z / (1 + p["k2"] * y)
    return jnp.stack(
        [p["a"] * x1 - graze, -p["b"] * y + graze - hunt, -p["c"] * (z - p["zs"]) + hunt]
    )


@flow("TurchinHanski", postprocess=trig_coordinates(sin=(2,)))
def turchin_hanski(x, t, p):
    """Turchin & Hanski (1997), Am. Nat. 149:842: seasonally forced vole n – weasel p dynamics,
    season phase z' = 2π λ."""
    n, pr, z = x
    r, s = p["r"], p["s"]
    season = 1 - p["e"] * jnp.sin(z)
    dn = (
        r * season * n
        - r * n**2
        - p["g"] * n**2 / (n**2 + p["h"] ** 2)
        - p["a"] * n * pr / (n + p["d"])
    )
    dp = s * season * pr - s * pr**2 / n
    return jnp.stack([dn, dp, jnp.broadcast_to(2 * math.pi * p["lamb"], n.shape)])


@flow("HastingsPowell")
def hastings_powell(x, t, p):
    """Hastings & Powell (1991), Ecology 72:896: the three-species "teacup" food chain."""
    x1, y, z = x
    f1 = p["a1"] * x1 / (1 + p["b1"] * x1)
    f2 = p["a2"] * y / (1 + p["b2"] * y)
    return jnp.stack([x1 * (1 - x1) - f1 * y, f1 * y - f2 * z - p["d1"] * y, f2 * z - p["d2"] * z])


@flow("MacArthur")
def macarthur(x, t, p):
    """MacArthur (1969), PNAS 64:1369, with the phytoplankton parameters of Huisman & Weissing
    (1999), Nature 402:407: 5 species N competing for 5 resources R, growth by Liebig's law
    μᵢ = minⱼ r Rⱼ / (Kⱼᵢ + Rⱼ), dN/dt = N (μ − m), dR/dt = D (S − R) − C (μ N)."""
    n_species = p["k"].shape[1]
    nn, rr = x[:n_species], x[n_species:]
    uptake = p["r"] * rr[:, None] / (p["k"] + rr[:, None])  # (resource j, species i)
    mu = jnp.min(uptake, axis=0)
    dn = nn * (mu - p["m"])
    dr = p["d"] * (p["s"] - rr) - p["c"] @ (mu * nn)
    return jnp.concatenate([dn, dr])


@flow("ItikBanksTumor")
def itik_banks_tumor(x, t, p):
    """Itik & Banks (2010), Int. J. Bifurc. Chaos 20:71: tumour cells x, healthy cells y and
    effector immune cells z."""
    x1, y, z = x
    return jnp.stack(
        [
            x1 * (1 - x1) - p["a12"] * x1 * y - p["a13"] * x1 * z,
            p["r2"] * y * (1 - y) - p["a21"] * x1 * y,
            p["r3"] * x1 * z / (x1 + p["k3"]) - p["a31"] * x1 * z - p["d3"] * z,
        ]
    )
