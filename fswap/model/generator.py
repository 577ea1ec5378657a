"""Inference wrapper used by convert/evaluate: encoder + one decoder on uint8 BGR faces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from fswap.errors import ConfigError, FswapError
from fswap.model.attribution import saved_block_failure
from fswap.model.face_batch import face_batch
from fswap.model.io import load_network, read_metadata

DIRECTIONS: dict[str, str] = {"a_to_b": "decoder_b", "b_to_a": "decoder_a"}
"""A→B encodes a face of A and decodes it with B's decoder (the reference's path_abgr_B)."""


class FaceGenerator:
    """Swaps aligned faces: `gen(faces)` → (BGR uint8 (N,R,R,3), alpha float32 (N,R,R)), in batches."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, condition_channels: int = 0,
                 batch_size: int = 16) -> None:
        self.metadata: dict[str, Any] = {}  # model.json of a loaded model: names a failing block layer
        self.networks: tuple[str, ...] = ()
        self.resolution = int(encoder.inputs[0].shape[1])
        self.condition_channels = int(condition_channels)
        self.batch_size = max(1, int(batch_size))
        r = self.resolution
        face = keras.Input((r, r, 3), name="face")
        if self.condition_channels:
            condition = keras.Input((r, r, self.condition_channels), name="condition")
            abgr = decoder([encoder(face), condition])["abgr"]
            self.model = keras.Model([face, condition], abgr, name="face_generator")
        else:
            self.model = keras.Model(face, decoder(encoder(face))["abgr"], name="face_generator")

    @classmethod
    def load(cls, folder: Path, direction: str, *, batch_size: int = 16) -> FaceGenerator:
        """Load the encoder and the decoder `direction` needs from a folder written by save_networks."""
        if direction not in DIRECTIONS:
            raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)}, received {direction!r}")
        metadata = read_metadata(Path(folder))
        encoder = load_network(folder, "encoder", metadata)
        decoder = load_network(folder, DIRECTIONS[direction], metadata)
        networks = ("encoder", DIRECTIONS[direction])
        try:
            generator = cls(encoder, decoder, condition_channels=int(metadata.get("condition_channels", 0)),
                            batch_size=batch_size)
        except FswapError:
            raise
        except Exception as exc:  # a plugin's layer, when the block components are known, else fswap's
            doing = f"when the {direction} generator was built"
            failure = saved_block_failure(metadata, networks, exc, doing)
            if failure is None:
                raise
            raise failure from exc
        generator.metadata, generator.networks = metadata, networks
        return generator

    def _predict(self, batch: Any, faces: int) -> np.ndarray:
        try:
            return np.asarray(self.model.predict_on_batch(batch), dtype=np.float32)
        except FswapError:
            raise
        except Exception as exc:
            doing = f"when the model generated a batch of {faces} faces"
            failure = saved_block_failure(self.metadata, self.networks, exc, doing)
            if failure is None:
                raise
            raise failure from exc

    def __call__(
        self, faces: np.ndarray, condition: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        faces, cond = face_batch(faces, self.resolution, self.condition_channels, condition)
        r = self.resolution
        x = faces.astype(np.float32) / 127.5 - 1.0
        outs = []
        for start in range(0, len(x), self.batch_size):
            batch: Any = x[start : start + self.batch_size]
            if cond is not None:
                batch = [batch, cond[start : start + self.batch_size]]
            outs.append(self._predict(batch, len(x[start : start + self.batch_size])))
        abgr = np.concatenate(outs, axis=0) if outs else np.zeros((0, r, r, 4), np.float32)
        bgr = np.clip(np.rint((abgr[..., 1:] + 1.0) * 127.5), 0, 255).astype(np.uint8)
        return bgr, np.ascontiguousarray(abgr[..., 0], dtype=np.float32)
