"""Electronic circuits, neuron models, neural networks and periodically forced oscillators.

Piecewise-linear circuits (Chua, multi-scroll Chua, Colpitts, cellular neural networks),
continuous-time recurrent and Hopfield networks, conductance-based and polynomial neuron models,
and the classic forced oscillators. Forced systems follow dysts and carry their forcing phase as
a state coordinate (dz/dt = ω), so their right-hand sides do not read ``t``.

Each function takes the state ``x`` of shape (dim,), the time ``t`` and the parameter dict ``p``,
and returns dx/dt of shape (dim,).
"""

import jax
import jax.numpy as jnp

from ._rhs_utils import trig_coordinates
from ._system import flow


def _unit_saturation(u):
    # 0.5 (|u + 1| − |u − 1|), the standard piecewise-linear saturation, equals clip(u, −1, 1).
    return jnp.clip(u, -1.0, 1.0)


@flow("Chua")
def chua(x, t, p):
    """Chua's circuit (Chua (1969), Introduction to Nonlinear Network Theory; Matsumoto (1984)):
    a three-segment piecewise-linear diode with slopes m0 (inner) and m1 (outer)."""
    x1, y, z = x
    m0, m1 = p["m0"], p["m1"]
    diode = m1 * x1 + (m0 - m1) * _unit_saturation(x1)
    return jnp.stack([p["alpha"] * (y - x1 - diode), x1 - y + z, -p["beta"] * y])


@flow("MultiChua")
def multi_chua(x, t, p):
    """Yalçin, Suykens & Vandewalle (2000), Int. J. Bifurc. Chaos 10:913 (multi-scroll Chua):
    the diode h(x) = m₅ x + Σᵢ₌₁⁵ ½ (mᵢ₋₁ − mᵢ)(|x + cᵢ| − |x − cᵢ|) with breakpoints c."""
    x1, y, z = x
    m, c = p["m"], p["c"]
    # ½ (|x + c| − |x − c|) = clip(x, −c, c) for c ≥ 0.
    diode = m[-1] * x1 + jnp.sum((m[:-1] - m[1:]) * jnp.clip(x1, -c[1:], c[1:]))
    return jnp.stack([p["a"] * (y - diode), x1 - y + z, -p["b"] * y])


@flow("Colpitts")
def colpitts(x, t, p):
    """Kennedy (1994), IEEE Trans. Circuits Syst. I 41:771; Li, Zhou & Yang (2007): the Colpitts
    oscillator with the transistor as a one-sided linear element f(u) = max(−u, 0)."""
    x1, y, z = x
    u = z - (p["e"] - 1)
    f = jnp.maximum(-u, 0.0)
    return jnp.stack([y - p["a"] * f, p["c"] - x1 - p["b"] * y - z, y - p["d"] * z])


@flow("CellularNeuralNetwork")
def cellular_neural_network(x, t, p):
    """Arena, Caponetto, Fortuna & Porto (1998), Int. J. Bifurc. Chaos 8:1527: three coupled
    cells with the saturating output f(u) = ½ (|u + 1| − |u − 1|)."""
    x1, y, z = x
    a, b = p["a"], p["b"]
    fx, fy, fz = _unit_saturation(x1), _unit_saturation(y), _unit_saturation(z)
    return jnp.stack(
        [
            -x1 + p["d"] * fx - b * fy - b * fz,
            -y - b * fx + p["c"] * fy - a * fz,
            -z - b * fx + a * fy + fz,
        ]
    )


@flow("BeerRNN")
def beer_rnn(x, t, p):
    """Beer (1995), Adapt. Behav. 3:469: a continuous-time recurrent neural network,
    τᵢ dxᵢ/dt = −xᵢ + Σⱼ wᵢⱼ σ(xⱼ + θⱼ)."""
    return (-x + p["w"] @ jax.nn.sigmoid(x + p["theta"])) / p["tau"]


@flow("Hopfield")
def hopfield(x, t, p):
    """Lewis & Glass (1992), Neural Comput. 4:621: a frustrated Hopfield-type network,
    dx/dt = −x/τ + ½ (1 + tanh(ε K x)) − β."""
    return -x / p["tau"] + (1 + jnp.tanh(p["eps"] * (p["k"] @ x))) / 2 - p["beta"]


@flow("HindmarshRose")
def hindmarsh_rose(x, t, p):
    """Hindmarsh–Rose neuron in the time-scaled form of Marhl & Perc (2005), Chaos Solitons
    Fractals 26:1339: spiking and bursting."""
    x1, y, z = x
    a, b, tx, tz = p["a"], p["b"], p["tx"], p["tz"]
    return jnp.stack(
        [
            -x1 + (y - a * x1**3 + b * x1**2 + z) / tx,
            -a * x1**3 - (p["d"] - b) * x1**2 + z,
            (-p["s"] * x1 - z + p["c"]) / tz,
        ]
    )


@flow("ExcitableCell")
def excitable_cell(x, t, p):
    """Chay (1985), Physica D 16:233: a three-variable Hodgkin–Huxley-type model of an excitable
    cell (membrane potential v, K⁺ activation n, intracellular Ca²⁺ c). The parameters vm and vn
    are stored in the metadata but unused by the equations (as in dysts)."""
    v, n, c = x
    alpha_m = p["ams"] * (p["amvb"] + v) / -jnp.expm1(-p["ar"] * v - p["amvo"])
    beta_m = p["bms"] * jnp.exp(-p["bmr"] * v - p["bmo"])
    m_inf = alpha_m / (alpha_m + beta_m)
    alpha_h = p["ahs"] * jnp.exp(-p["ahr"] * v - p["aho"])
    beta_h = jax.nn.sigmoid(p["bhr"] * v + p["bho"])
    h_inf = alpha_h / (alpha_h + beta_h)
    alpha_n = p["ans"] * (p["anvb"] + v) / -jnp.expm1(-p["ar"] * v - p["anvo"])
    beta_n = p["bns"] * jnp.exp(-p["bnr"] * v - p["bno"])
    n_inf = alpha_n / (alpha_n + beta_n)
    rate_n = p["tscl"] * (alpha_n + beta_n)  # 1 / τ_n
    fast_na = m_inf**3 * h_inf
    vk = p["vk"]
    dv = (
        p["gi"] * fast_na * (p["vi"] - v)
        + p["gkv"] * n**4 * (vk - v)
        + p["gkc"] * c / (1 + c) * (vk - v)
        + p["gl"] * (p["vl"] - v)
    )
    return jnp.stack([dv, (n_inf - n) * rate_n, p["rho"] * (fast_na * (p["vc"] - v) - p["kc"] * c)])


@flow("AnishchenkoAstakhov")
def anishchenko_astakhov(x, t, p):
    """Anishchenko et al. (2007), Nonlinear Dynamics of Chaotic and Stochastic Systems
    (Springer): the Anishchenko–Astakhov generator with inertial nonlinearity."""
    x1, y, z = x
    eta = p["eta"]
    heat = jnp.where(x1 > 0, x1**2, 0.0)
    return jnp.stack([p["mu"] * x1 + y - x1 * z, -x1, eta * (heat - z)])


@flow("Duffing", postprocess=trig_coordinates(cos=(2,)))
def duffing(x, t, p):
    """Duffing (1918), Erzwungene Schwingungen bei veränderlicher Eigenfrequenz (Vieweg):
    x'' + δ x' + β x + α x³ = γ cos z, with forcing phase z' = ω."""
    x1, y, z = x
    return jnp.stack(
        [
            y,
            -p["delta"] * y - p["beta"] * x1 - p["alpha"] * x1**3 + p["gamma"] * jnp.cos(z),
            jnp.broadcast_to(p["omega"], y.shape),
        ]
    )


@flow("ForcedVanDerPol", postprocess=trig_coordinates(sin=(2,)))
def forced_van_der_pol(x, t, p):
    """van der Pol (1920), Radio Rev. 1:701: x'' − μ (1 − x²) x' + x = a sin z, z' = w."""
    x1, y, z = x
    return jnp.stack(
        [
            y,
            p["mu"] * (1 - x1**2) * y - x1 + p["a"] * jnp.sin(z),
            jnp.broadcast_to(p["w"], y.shape),
        ]
    )


@flow("ForcedFitzHughNagumo", postprocess=trig_coordinates(sin=(2,)))
def forced_fitzhugh_nagumo(x, t, p):
    """FitzHugh (1961), Biophys. J. 1:445: the FitzHugh–Nagumo neuron driven by f sin z, z' = ω."""
    v, w, z = x
    return jnp.stack(
        [
            v - v**3 / 3 - w + p["curr"] + p["f"] * jnp.sin(z),
            p["gamma"] * (v + p["a"] - p["b"] * w),
            jnp.broadcast_to(p["omega"], v.shape),
        ]
    )


@flow("StickSlipOscillator", postprocess=trig_coordinates(cos=(2,)))
def stick_slip_oscillator(x, t, p):
    """Awrejcewicz & Holicke (1999), Int. J. Bifurc. Chaos 9:505: a weakly forced Duffing-type
    oscillator on a moving belt with stick-slip friction T(v) = t0 sgn(v − vs) − α v
    + β (v − vs)³."""
    x1, v, th = x
    slip = v - p["vs"]
    friction = p["t0"] * jnp.sign(slip) - p["alpha"] * v + p["beta"] * slip**3
    return jnp.stack(
        [
            v,
            p["eps"] * (p["gamma"] * jnp.cos(th) - friction) + p["a"] * x1 - p["b"] * x1**3,
            jnp.broadcast_to(p["w"], v.shape),
        ]
    )
