"""Imports every equation file so that each registers its systems (see ``_system.py``).

Continuous systems are split by theme:

* ``_flows_classic.py`` — Lorenz-like and other quadratic 3-D flows (plus Lorenz-96);
* ``_flows_sprott.py`` — Sprott's simple flows (cases A–S and later ones) and jerk systems;
* ``_flows_hyper.py`` — four-dimensional hyperchaotic flows;
* ``_flows_circuits.py`` — electronic circuits, neurons, neural networks, forced oscillators;
* ``_flows_life.py`` — biology, chemistry and ecology;
* ``_flows_physics.py`` — mechanics, Hamiltonian systems, fluid flows, geophysics, a torus;
* ``_delay.py`` — the six scalar delay equations; ``_maps.py`` — the 23 discrete maps.
"""

from . import (  # noqa: F401
    _delay,
    _flows_circuits,
    _flows_classic,
    _flows_hyper,
    _flows_life,
    _flows_physics,
    _flows_sprott,
    _maps,
)
