"""Fixtures shared by test folders. Heavy imports stay inside the fixtures."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest


@attrs.frozen(eq=False)
class RandomFacenet:
    """A FaceNet weights file with seeded random weights, and what the saving model computed on `probe`."""

    path: Path  # Keras 3 .weights.h5
    probe: np.ndarray  # (2, 160, 160, 3) float32 network input
    output: np.ndarray  # the saving model's raw (pre-normalisation) output for `probe`


@pytest.fixture(scope="session")
def facenet_random_weights(tmp_path_factory: pytest.TempPathFactory) -> RandomFacenet:
    """Inception-ResNet-v1 with weights drawn from a fixed numpy generator (no download, same on every
    machine): He-normal kernels, zero biases, and batch-norm offsets and statistics perturbed away from
    their defaults (0 and 1) so a load that skipped or shuffled them would change the output. Unlike
    Keras' unseeded initialisers, the weights do not depend on test order; with them the sample faces
    embed well apart (Euclidean: the astronaut vs herself shifted by 3 px 0.037, vs Grace Hopper 0.13),
    so the embedder contract and the distance identities are checked on vectors that differ."""
    from fswap_facenet.network import build_facenet

    model = build_facenet()
    rng = np.random.default_rng(20240615)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        kind = type(layer).__name__
        if kind in ("Conv2D", "Dense"):
            kernel = weights[0]
            fan_in = int(np.prod(kernel.shape[:-1]))
            biases = [np.zeros_like(b) for b in weights[1:]]
            new = [rng.normal(0.0, np.sqrt(2.0 / fan_in), kernel.shape), *biases]
        elif kind == "BatchNormalization":  # scale=False: beta, moving mean, moving variance
            beta, mean, var = weights
            new = [rng.normal(0.0, 0.05, beta.shape), rng.normal(0.0, 0.05, mean.shape),
                   1.0 + np.abs(rng.normal(0.0, 0.05, var.shape))]
        else:
            raise AssertionError(f"facenet layer {layer.name} ({kind}) has weights this fixture does not set")
        layer.set_weights([np.asarray(w, np.float32) for w in new])
    path = tmp_path_factory.mktemp("facenet") / "facenet_random.weights.h5"
    model.save_weights(str(path))
    probe = rng.uniform(-1.0, 1.0, (2, 160, 160, 3)).astype(np.float32)
    return RandomFacenet(path=path, probe=probe, output=np.asarray(model(probe, training=False)))
