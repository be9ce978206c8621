"""Every system's equations against dysts 0.96, and the registry's behaviour.

Oracle: dysts's own right-hand sides, called through its public API as the spec prescribes
(``m.rhs(x, t)`` per point for flows, ``m._rhs(x, x_delayed, t, *m.param_list)`` for delay
equations, ``m.rhs(X)`` on an (N, D) batch for maps), at 24 random states per system: the stored
initial condition plus Gaussian noise of half the stored attractor std (states on the attractor's
scale, so nothing overflows), and random times t ∈ [0, 100] (only Torus reads t; forced systems
carry their phase as a state). Map states are random iterates of a dysts trajectory from the
stored initial condition (maps have no stored mean/std, and several have restricted domains).

Tolerance: 1e-10 relative per component, in float64. Two correct float64 evaluations of the same
formula written with a different operation order differ by about (condition number) × 1e-16;
the worst measured here is 1e-12 (near-cancelling sums in KawczynskiStrizhak and CellCycle), so
1e-10 leaves two orders of margin while still catching any wrong coefficient, sign or term. An
absolute floor of 1e-13 × the component's largest magnitude over the sampled states only matters
for components that vanish by cancellation. Jacobians (jax.jacfwd vs dysts's hand-written
``_jac``) are compared at 1e-8 relative to the largest entry.

Cost: dysts compiles every system with numba on first use (0.1–1 s each on this 2-core machine)
and our side compiles its vmapped right-hand side once per system, so the whole database takes
minutes. A representative subset (every kind, each special case: array parameters, blinking
protocols, explicit time, state reordering, clamping, map inverses and the Kepler solve) runs by
default; the full sweep over all 135 continuous systems and 23 maps is marked ``slow``.
"""

import json
import os
import warnings
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jentropy import chaos

N_STATES = 24
RTOL = 1e-10
FLOOR = 1e-13
JAC_RTOL = 1e-8

_DATA = os.path.join(os.path.dirname(chaos.__file__), "data")
with open(os.path.join(_DATA, "chaotic_attractors.json")) as f:
    CONTINUOUS_JSON = json.load(f)
with open(os.path.join(_DATA, "discrete_maps.json")) as f:
    MAPS_JSON = json.load(f)

# The 23 map classes defined in dysts 0.96 (dysts/maps.py); the JSON has three more entries
# (Zaslavskii, ZeraouliaSprott — commented out in dysts — and EndCap, which has no class).
DYSTS_MAPS = {
    "Baker",
    "Bedhead",
    "BlinkingVortexMap",
    "Bogdanov",
    "Chebyshev",
    "Chirikov",
    "Circle",
    "DeJong",
    "Duffing",
    "Gauss",
    "Gingerbreadman",
    "GumowskiMira",
    "Henon",
    "Hopalong",
    "Ikeda",
    "KaplanYorke",
    "Logistic",
    "MaynardSmith",
    "Pickover",
    "Ricker",
    "Svensson",
    "Tent",
    "Tinkerbell",
}
MAPS_WITH_INVERSE = ("Baker", "BlinkingVortexMap", "Chirikov", "Henon")

# Default subset: each kind and every special case in the equations.
REPRESENTATIVE = {
    "Lorenz",  # the reference flow
    "Lorenz96",  # ring indexing
    "HyperRossler",  # 4-D hyperchaos
    "MultiChua",  # vector parameters, piecewise-linear diode
    "BeerRNN",  # matrix parameter
    "MacArthur",  # 10-D, min over resources, matrix parameters
    "BelousovZhabotinsky",  # clamped concentration
    "DoublePendulum",  # Hamiltonian
    "BlinkingRotlet",  # blinking protocol, polar coordinates
    "BickleyJet",  # reordered state, vector parameters
    "InteriorSquirmer",  # Fourier-mode sums
    "Torus",  # explicit time dependence
    "MackeyGlass",  # delay
    "IkedaDelay",  # delay, shared equations (SprottDelay)
    "Logistic",  # 1-D map
    "Henon",  # 2-D map with inverse
    "Baker",  # floor, inverse
    "BlinkingVortexMap",  # Kepler solve (fsolve in dysts), inverse
}

# Systems whose dysts ``_jac`` is checked by default (dysts has one for 59 flows).
JACOBIAN_DEFAULT = {"Lorenz", "Chua", "HenonHeiles"}

# (kind, name) pairs: "Duffing" is both a flow and a map.
ALL_SYSTEMS = [(k, n) for k in chaos.KINDS for n in chaos.list_systems(k)]


def _maybe_slow(names, default=REPRESENTATIVE):
    return [n if n in default else pytest.param(n, marks=pytest.mark.slow) for n in names]


def _systems_maybe_slow():
    return [
        pytest.param(k, n, id=f"{k}-{n}", marks=() if n in REPRESENTATIVE else (pytest.mark.slow,))
        for k, n in ALL_SYSTEMS
    ]


def _dysts_model(system):
    """The dysts object for ``system`` (dysts is a test extra, imported lazily)."""
    pytest.importorskip("dysts")
    import dysts.flows
    import dysts.maps

    module = dysts.maps if system.kind == "map" else dysts.flows
    return getattr(module, system.name)()


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _continuous_states(system):
    """(x, t) or, for delay equations, (x, x_delayed, t) at N_STATES random points."""
    rng = _rng(system.name)
    ic = np.asarray(system.ic)
    std = np.asarray(system.metadata["std"])
    t = rng.uniform(0.0, 100.0, N_STATES)
    if system.kind == "delay":
        # Current and delayed values drawn around two different lags of the stored embedding.
        lag = rng.integers(1, ic.size, N_STATES)
        x = ic[0] + 0.5 * std[0] * rng.standard_normal(N_STATES)
        xd = ic[lag] + 0.5 * std[lag] * rng.standard_normal(N_STATES)
        return x[:, None], xd[:, None], t
    return ic + 0.5 * std * rng.standard_normal((N_STATES, ic.size)), t


def _map_states(system, model):
    # Random iterates among the first 60 from the stored IC: perturbing the IC instead lets
    # Tinkerbell escape to infinity, and the first iterates keep GumowskiMira's states distinct
    # before it settles.
    rng = _rng(system.name)
    traj = np.asarray(model.make_trajectory(60)).reshape(60, system.dim)
    return traj[rng.choice(60, N_STATES, replace=False)]


def _dysts_rhs(system, model, states):
    if system.kind == "map":
        (x,) = states
        # dysts returns 1-D maps' images as a (1, N) row: reshape to (N, 1).
        return np.asarray(model.rhs(x), dtype=np.float64).reshape(x.shape)
    if system.kind == "delay":
        x, xd, t = states
        return np.array(
            [[model._rhs(a[0], b[0], s, *model.param_list)] for a, b, s in zip(x, xd, t)],
            dtype=np.float64,
        )
    x, t = states
    return np.array([np.asarray(model.rhs(a, s), dtype=np.float64) for a, s in zip(x, t)])


def _in_axes(system):
    return {"map": (0, None), "delay": (0, 0, 0, None), "flow": (0, 0, None)}[system.kind]


def _ours(system, states, *, jit):
    f = jax.vmap(system.fn, in_axes=_in_axes(system))
    if jit:
        f = jax.jit(f)
    args = [jnp.asarray(s) for s in states]
    return np.asarray(f(*args, system.param_array))


def _assert_close(ours, ref, rtol, name):
    assert np.all(np.isfinite(ref)), f"{name}: reference not finite at some sampled state"
    err = np.abs(ours - ref)
    bound = rtol * np.abs(ref) + FLOOR * np.max(np.abs(ref), axis=0)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), (
        f"{name}: max relative error {np.max(err / np.maximum(np.abs(ref), 1e-300)):.3g}; "
        f"worst at state {worst[0]}, component {worst[1]}: ours {ours[worst]!r}, "
        f"dysts {ref[worst]!r}"
    )


# --- the acceptance test: every right-hand side equals dysts's -----------------------------


@pytest.mark.parametrize(("kind", "name"), _systems_maybe_slow())
def test_rhs_matches_dysts(kind, name, x64):
    system = chaos.get(name, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _dysts_model(system)
        states = (
            (_map_states(system, model),) if system.kind == "map" else _continuous_states(system)
        )
        ref = _dysts_rhs(system, model, states)
    ours = _ours(system, states, jit=False)
    assert ours.shape == ref.shape == (N_STATES, system.dim)
    _assert_close(ours, ref, RTOL, name)
    # jit-able and vmap-able; XLA may fuse or contract operations differently, so the compiled
    # batch is held to the same bound rather than to bitwise equality.
    _assert_close(_ours(system, states, jit=True), ref, RTOL, f"{name} (jit)")


def _flows_with_dysts_jacobian():
    """The flows for which dysts 0.96 hand-writes ``_jac`` (59 of 129), read off the classes."""
    try:
        import dysts.base
        import dysts.flows
    except ImportError:  # the tests below then skip through importorskip
        return sorted(JACOBIAN_DEFAULT)
    return [
        n
        for n in chaos.list_systems("flow")
        if getattr(dysts.flows, n)._jac is not dysts.base.BaseDyn._jac
    ]


@pytest.mark.parametrize(
    "name", _maybe_slow(_flows_with_dysts_jacobian(), default=JACOBIAN_DEFAULT)
)
def test_jacobian_matches_dysts(name, x64):
    system = chaos.get(name, kind="flow")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _dysts_model(system)
        x, t = _continuous_states(system)
        x, t = x[:5], t[:5]
        ref = np.array([np.array(model.jac(a, s), dtype=np.float64) for a, s in zip(x, t)])
    ours = np.asarray(
        jax.vmap(jax.jacfwd(system.fn), (0, 0, None))(
            jnp.asarray(x), jnp.asarray(t), system.param_array
        )
    )
    scale = np.max(np.abs(ref))
    np.testing.assert_allclose(ours, ref, rtol=JAC_RTOL, atol=JAC_RTOL * scale, err_msg=name)
    np.testing.assert_allclose(system.jacobian(x[0], t[0]), ours[0], rtol=1e-14, atol=0.0)


# --- postprocessing of unbounded coordinates ------------------------------------------------

POSTPROCESS_DEFAULT = {"DoublePendulum", "BlinkingRotlet", "BickleyJet", "Duffing"}


@pytest.mark.parametrize(
    "name",
    _maybe_slow(chaos.list_systems(("flow", "delay"), unbounded=True), POSTPROCESS_DEFAULT),
)
def test_postprocess_matches_dysts(name, x64):
    """Angles and phases to bounded observables, as dysts's ``_postprocessing``."""
    system = chaos.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _dysts_model(system)
        x, _ = _continuous_states(system)
        ref = np.stack(model._postprocessing(*x.T), axis=-1).astype(np.float64)
    ours = jax.vmap(system.postprocess, (0, None))(jnp.asarray(x), system.param_array)
    _assert_close(np.asarray(ours), ref, RTOL, name)


def test_only_unbounded_systems_postprocess():
    continuous = chaos.list_systems(("flow", "delay"))
    with_post = [n for n in continuous if chaos.get(n).postprocess is not None]
    assert with_post == chaos.list_systems(("flow", "delay"), unbounded=True)
    assert all(chaos.get(n, "map").postprocess is None for n in chaos.list_systems("map"))


# --- map inverses ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", MAPS_WITH_INVERSE)
def test_map_inverse_round_trip(name, x64):
    system = chaos.get(name)
    rng = _rng(name)
    x = np.asarray(system.ic) + 0.1 * rng.uniform(size=(N_STATES, system.dim))
    image = system.rhs(x)
    # Float64 round trips lose a few ulps per step; the Kepler solve in BlinkingVortexMap and
    # the 1/b rescaling in Henon amplify that by at most ~1e2.
    np.testing.assert_allclose(system.rhs_inv(image), x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(system.rhs(system.rhs_inv(image)), image, rtol=1e-12, atol=1e-12)


def test_chirikov_inverse_matches_dysts(x64):
    """dysts's class-level ``_rhs_inv`` (unreachable through ``rhs_inv`` in 0.96) for the one map
    where it is correct."""
    system = chaos.get("Chirikov")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _dysts_model(system)
        xp = _rng("Chirikov").uniform(-3, 3, size=(N_STATES, 2))
        ref = np.stack(type(model)._rhs_inv(*xp.T, *model.param_list), axis=-1)
    np.testing.assert_allclose(system.rhs_inv(xp), ref, rtol=RTOL, atol=FLOOR)


def test_maps_without_inverse_raise():
    with pytest.raises(ValueError, match="no inverse"):
        chaos.get("Logistic").rhs_inv(jnp.array([0.3]))
    with pytest.raises(ValueError, match="no inverse"):
        chaos.get("Lorenz").rhs_inv(jnp.ones(3))
    assert {n for n in chaos.list_systems("map") if chaos.get(n).inverse} == set(MAPS_WITH_INVERSE)


# --- the registry --------------------------------------------------------------------------


def test_counts_and_names_match_dysts_database():
    flows, delays, maps = (chaos.list_systems(k) for k in ("flow", "delay", "map"))
    assert (len(flows), len(delays), len(maps)) == (129, 6, 23)
    assert set(flows) | set(delays) == set(CONTINUOUS_JSON)
    assert set(delays) == {n for n, e in CONTINUOUS_JSON.items() if e.get("delay")}
    assert chaos.list_systems(("flow", "delay")) == sorted(CONTINUOUS_JSON)
    assert set(maps) == DYSTS_MAPS
    assert set(MAPS_JSON) - DYSTS_MAPS == {"Zaslavskii", "ZeraouliaSprott", "EndCap"}
    assert len(chaos.list_systems()) == 158  # one entry per system: "Duffing" twice
    assert chaos.get("Duffing").kind == "flow" and chaos.get("Duffing", "map").dim == 2
    assert (chaos.get("Duffing").params, chaos.get("Duffing", kind="map").params) == (
        CONTINUOUS_JSON["Duffing"]["parameters"],
        MAPS_JSON["Duffing"]["parameters"],
    )
    # The paper's 131 plus the four systems added later, all present.
    for late in ("AtmosphericRegime", "LidDrivenCavityFlow", "InteriorSquirmer"):
        assert late in flows
    assert "GlycolyticOscillation" in flows


def test_registered_maps_are_dysts_classes():
    pytest.importorskip("dysts")
    import inspect

    import dysts.base
    import dysts.maps

    classes = {
        n
        for n, c in inspect.getmembers(dysts.maps, inspect.isclass)
        if issubclass(c, dysts.base.DynMap) and c.__module__ == "dysts.maps"
    }
    assert classes == set(chaos.list_systems("map"))


def _json_names(flag):
    return sorted(n for n, e in CONTINUOUS_JSON.items() if flag(e))


def test_filters_match_metadata():
    continuous = ("flow", "delay")
    ham = chaos.list_systems(continuous, hamiltonian=True)
    nonaut = chaos.list_systems(continuous, nonautonomous=True)
    unb = chaos.list_systems(continuous, unbounded=True)
    assert (len(ham), len(nonaut), len(unb)) == (9, 15, 19)
    assert ham == _json_names(lambda e: e.get("hamiltonian"))
    assert nonaut == _json_names(lambda e: e.get("nonautonomous"))
    assert unb == _json_names(lambda e: e.get("unbounded_indices"))
    assert chaos.list_systems("map", hamiltonian=True) == ["BlinkingVortexMap"]
    for d in (3, 4):
        assert chaos.list_systems("flow", dim=d) == _json_names(
            lambda e, d=d: not e.get("delay") and len(e["initial_conditions"]) == d
        )
    assert chaos.list_systems("map", dim=1) == ["Chebyshev", "Circle", "Gauss", "Logistic",
                                                 "Ricker", "Tent"]  # fmt: skip
    # Filters combine.
    both = chaos.list_systems("flow", hamiltonian=True, nonautonomous=True)
    assert both == sorted(set(ham) & set(nonaut))
    with pytest.raises(ValueError, match="kind"):
        chaos.list_systems("ode")
    with pytest.raises(ValueError, match="kind"):
        chaos.list_systems(("flow", "pde"))


def test_system_fields_from_metadata():
    lorenz = chaos.get("Lorenz")
    assert lorenz.kind == "flow" and lorenz.dim == 3
    assert dict(lorenz.params) == {"beta": 2.667, "rho": 28.0, "sigma": 10.0}
    np.testing.assert_array_equal(lorenz.ic, CONTINUOUS_JSON["Lorenz"]["initial_conditions"])
    assert lorenz.dt == CONTINUOUS_JSON["Lorenz"]["dt"]
    assert lorenz.period == CONTINUOUS_JSON["Lorenz"]["period"]
    assert "Lorenz" in lorenz.citation
    mg = chaos.get("MackeyGlass")
    assert mg.kind == "delay" and mg.dim == 1 and mg.ic.shape == (10,)
    assert chaos.get("Gingerbreadman").params == {}
    beer = chaos.get("BeerRNN")
    assert beer.params["w"].shape == (3, 3) and beer.params["w"].dtype == np.float64
    assert chaos.get("DoublePendulum").unbounded_indices == (0, 1)
    assert repr(lorenz) == "System('Lorenz', kind='flow', dim=3)"


def test_unknown_names_suggest_close_matches():
    with pytest.raises(ValueError, match=r"unknown system 'Lorenx'.*'Lorenz'"):
        chaos.get("Lorenx")
    with pytest.raises(ValueError, match="Henon"):
        chaos.get("henon")
    with pytest.raises(ValueError, match="list_systems"):
        chaos.get("NoSuchSystemAtAll")
    with pytest.raises(ValueError, match="'Lorenz' is a flow, not a map"):
        chaos.get("Lorenz", kind="map")
    with pytest.raises(ValueError, match="kind"):
        chaos.get("Lorenz", kind="ode")


def test_with_params_is_immutable():
    lorenz = chaos.get("Lorenz")
    faster = lorenz.with_params(rho=35.0)
    assert lorenz.params["rho"] == 28.0 and faster.params["rho"] == 35.0
    assert chaos.get("Lorenz").params["rho"] == 28.0  # the registry entry is untouched
    assert faster.ic is lorenz.ic and faster.metadata is lorenz.metadata
    x = jnp.array([1.0, 2.0, 3.0])
    assert float(faster.rhs(x)[1]) == pytest.approx(1.0 * (35.0 - 3.0) - 2.0)
    with pytest.raises(TypeError):
        lorenz.params["rho"] = 1.0  # type: ignore[index]
    with pytest.raises(ValueError):
        lorenz.ic[0] = 0.0  # read-only array
    with pytest.raises((TypeError, AttributeError)):
        lorenz.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['rh'\]"):
        lorenz.with_params(rh=1.0)
    # Array parameters: replaced by arrays of the same shape, stored read-only.
    beer = chaos.get("BeerRNN")
    w = np.eye(3)
    beer2 = beer.with_params(w=w)
    w[0, 0] = 5.0  # later edits to the caller's array do not leak in
    np.testing.assert_array_equal(beer2.params["w"], np.eye(3))
    assert not beer2.params["w"].flags.writeable
    with pytest.raises(ValueError, match="shape"):
        beer.with_params(w=np.eye(2))
    moved = lorenz.with_ic([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(moved.ic, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(lorenz.ic, CONTINUOUS_JSON["Lorenz"]["initial_conditions"])


def test_rhs_batches_and_checks_shapes(key):
    lorenz = chaos.get("Lorenz")
    xs = jax.random.normal(key, (2, 5, 3))
    batched = lorenz.rhs(xs, 0.0)
    assert batched.shape == (2, 5, 3)
    np.testing.assert_allclose(batched[1, 2], lorenz.rhs(xs[1, 2]), rtol=1e-6)
    with pytest.raises(ValueError, match="trailing dimension 3"):
        lorenz.rhs(jnp.ones(4))
    mg = chaos.get("MackeyGlass")
    x, xd = jnp.full((4, 1), 0.9), jnp.linspace(0.5, 1.5, 4)[:, None]
    p = mg.params
    expect = p["beta"] * xd / (1 + xd ** p["n"]) - p["gamma"] * x
    np.testing.assert_allclose(mg.rhs(x, x_delayed=xd), expect, rtol=1e-6)
    henon = chaos.get("Henon")
    np.testing.assert_allclose(
        henon.rhs(jnp.array([0.5, 0.1])), [1 - 1.4 * 0.25 + 0.1, 0.15], rtol=1e-6
    )
    with pytest.raises(TypeError, match="not a flow"):
        henon.vector_field(0.0, jnp.zeros(2), None)


def test_rhs_follows_state_dtype(x64):
    """Stored parameters are float64; a float32 state still gives float32 (strict promotion)."""
    for name in ("BeerRNN", "Torus", "MackeyGlass", "Henon"):
        system = chaos.get(name)
        x32 = jnp.asarray(system.ic[: system.dim], jnp.float32)
        assert system.rhs(x32, jnp.float64(1.0)).dtype == jnp.float32, name
        assert system.rhs(jnp.asarray(system.ic[: system.dim])).dtype == jnp.float64, name


def test_parameters_are_differentiable_pytrees(x64):
    """d(dx/dt)/dσ = y − x for Lorenz, and vmap over a batch of parameter sets."""
    lorenz = chaos.get("Lorenz")
    x = jnp.array([1.0, 3.0, 2.0])
    grads = jax.jacfwd(lambda p: lorenz.rhs(x, 0.0, p))(lorenz.param_array)
    np.testing.assert_allclose(grads["sigma"], [2.0, 0.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(grads["rho"], [0.0, 1.0, 0.0], rtol=1e-15)
    rhos = jnp.array([10.0, 28.0, 99.0])
    sweep = jax.vmap(lambda r: lorenz.rhs(x, 0.0, {**lorenz.param_array, "rho": r}))(rhos)
    np.testing.assert_allclose(sweep[:, 1], rhos * 1.0 - 1.0 * 2.0 - 3.0, rtol=1e-15)


def test_vector_field_is_diffrax_compatible(x64):
    lorenz = chaos.get("Lorenz")
    y = jnp.asarray(lorenz.ic)
    np.testing.assert_array_equal(lorenz.vector_field(0.5, y, None), lorenz.rhs(y, 0.5))
    args = {**lorenz.param_array, "rho": jnp.float64(10.0)}
    np.testing.assert_array_equal(lorenz.vector_field(0.0, y, args), lorenz.rhs(y, 0.0, args))


def test_comparison_detects_a_wrong_coefficient(x64):
    """The acceptance comparison is sharp: a 1e-8 relative change of one parameter fails it."""
    system = chaos.get("Lorenz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _dysts_model(system)
        states = _continuous_states(system)
        ref = _dysts_rhs(system, model, states)
    wrong = system.with_params(rho=28.0 * (1 + 1e-8))
    with pytest.raises(AssertionError, match="Lorenz"):
        _assert_close(_ours(wrong, states, jit=False), ref, RTOL, "Lorenz")


@pytest.mark.parametrize(
    ("name", "overrides"),
    [("Lorenz", {"rho": 35.0, "beta": 8.0 / 3.0}), ("BeerRNN", {"tau": [2.0, 1.0, 0.5]})],
)
def test_with_params_matches_dysts_with_the_same_parameters(name, overrides, x64):
    """Overridden parameters reach the equations exactly as dysts's ``parameters=`` does."""
    system = chaos.get(name).with_params(**overrides)
    pytest.importorskip("dysts")
    import dysts.flows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = {k: np.asarray(v).tolist() for k, v in system.params.items()}
        model = getattr(dysts.flows, name)(parameters=full)
        states = _continuous_states(system)
        ref = _dysts_rhs(system, model, states)
    _assert_close(_ours(system, states, jit=False), ref, RTOL, name)
    assert not np.allclose(ref, _dysts_rhs(system, _dysts_model(system), states))
