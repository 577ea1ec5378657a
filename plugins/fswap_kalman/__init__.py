"""fswap_kalman: a constant-velocity Kalman tracker (filterpy) that smooths face boxes and landmarks.

Registered through the `fswap.plugins` entry point; the tracker is declared on its config class in
`fswap_kalman.config`. This module imports only fswap and the config module.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_kalman import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
