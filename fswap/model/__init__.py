"""The faceswap-GAN networks: config (TensorFlow-free), builders, save/load and the inference generator.

Importing this package does not import TensorFlow; `fswap.model.networks` and friends do.
"""

from __future__ import annotations

from fswap.model.config import CAPACITIES, RESOLUTIONS, ModelConfig

__all__ = ["CAPACITIES", "RESOLUTIONS", "ModelConfig"]
