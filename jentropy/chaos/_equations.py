"""Imports every equation file so that each registers its systems (see ``_system.py``)."""

from . import _delay, _flows, _maps  # noqa: F401
