"""An example third-party fswap plugin.

fswap finds it through the `fswap.plugins` entry point in pyproject.toml. Its two components are declared
on their config classes in `config.py` (``@fswap.declare(kind, name, factory=...)``), and the one hook
below returns them. This module imports only fswap and the config module: the dlib and TensorFlow code
lives in `detector.py` and `ssim.py`, which fswap imports only when a pipeline uses the component.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_plugin_example import config

__version__ = "0.2.0"


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
