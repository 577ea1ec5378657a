"""fswap: a plugin-based face-swap framework (the faceswap-GAN method on TensorFlow 2 / Keras 3).

Public API for plugin authors: `hookimpl`, `ComponentSpec`, `Kind`, the value types and Protocols,
the option helpers and the errors. Importing fswap never imports TensorFlow.
"""

from __future__ import annotations

import pluggy

from fswap.components import (
    AlignedFace,
    Aligner,
    Blender,
    ColorTransfer,
    ComponentChoice,
    ComponentSpec,
    Detection,
    Detector,
    Embedder,
    Kind,
    LayerFactory,
    LossTerm,
    MaskGenerator,
    Provider,
    TrackedFace,
    Tracker,
    Writer,
)
from fswap.errors import (
    ComponentNotFoundError,
    ConfigError,
    FswapError,
    InputError,
    PluginError,
    PluginFailure,
    StageError,
    TrainingError,
    WeightsError,
)
from fswap.options import component, component_list, option

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("fswap")

__all__ = [
    "AlignedFace",
    "Aligner",
    "Blender",
    "ColorTransfer",
    "ComponentChoice",
    "ComponentNotFoundError",
    "ComponentSpec",
    "ConfigError",
    "Detection",
    "Detector",
    "Embedder",
    "FswapError",
    "InputError",
    "Kind",
    "LayerFactory",
    "LossTerm",
    "MaskGenerator",
    "PluginError",
    "PluginFailure",
    "Provider",
    "StageError",
    "TrackedFace",
    "Tracker",
    "TrainingError",
    "WeightsError",
    "Writer",
    "__version__",
    "component",
    "component_list",
    "hookimpl",
    "option",
]
