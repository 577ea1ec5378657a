"""fswap: a plugin-based face-swap framework (the faceswap-GAN method on TensorFlow 2 / Keras 3).

Public API for plugin authors: `declare` / `declared` / `NoOptions` (a component is declared once, on its
config class), `hookimpl`, `ComponentSpec`, `Kind`, the value types and Protocols, the loss API
(`LossInputs`, `LossComponent`, `LossTerm`), the option helpers and the errors.

Importing fswap never imports TensorFlow; it does ask TensorFlow, if it is imported later, for its oneDNN
kernels on x86-64 CPUs (fswap.tensorflow_env: TensorFlow 2.21 uses them by default only on AVX-512/AMX CPUs;
without them training was 1.75–2.17× slower on an AVX2 CPU).
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
    MaskGenerator,
    Provider,
    TrackedFace,
    Tracker,
    Writer,
)
from fswap.declaration import NoOptions, declare, declared
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
from fswap.losses import LossComponent, LossInputs, LossTerm
from fswap.options import component, component_list, option
from fswap.tensorflow_env import prefer_onednn

prefer_onednn()  # before anything imports TensorFlow (none of the imports above does)

__version__ = "0.2.0"

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
    "LossComponent",
    "LossInputs",
    "LossTerm",
    "MaskGenerator",
    "NoOptions",
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
    "declare",
    "declared",
    "hookimpl",
    "option",
]
