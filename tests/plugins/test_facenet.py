"""fswap_facenet: registration, weights lookup and loading, the embedding contract (random weights only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fswap_facenet.config import WEIGHTS, FacenetConfig
from fswap_facenet.embedder import FacenetEmbedder, standardize

from fswap.errors import WeightsError
from fswap.plugins import make_plugin_manager
from fswap.samples import public_domain_face


def test_weights_are_registered_for_fswap_weights() -> None:
    pm = make_plugin_manager()
    names = {spec.name for specs in pm.hook.fswap_register_weights() for spec in specs}
    assert WEIGHTS.name in names
    assert WEIGHTS.url.startswith("https://") and WEIGHTS.filename.endswith(".h5")


def test_missing_weights_say_how_to_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSWAP_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(WeightsError, match="fswap weights fetch facenet512"):
        FacenetEmbedder(FacenetConfig())
    with pytest.raises(WeightsError, match="does not exist"):
        FacenetEmbedder(FacenetConfig(weights=tmp_path / "nope.weights.h5"))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        FacenetConfig(metric="manhattan")
    with pytest.raises(ValueError, match="image_size must be ≥ 75"):
        FacenetConfig(image_size=32)


def test_standardize() -> None:
    x = np.full((1, 4, 4, 3), 255, np.uint8)
    assert standardize(x, "fixed").max() == pytest.approx(127.5 / 128)
    y = standardize(np.arange(48, dtype=np.uint8).reshape(1, 4, 4, 3), "per_image")
    assert abs(float(y.mean())) < 1e-5 and float(y.std()) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping nested container:UserWarning")  # weightless op containers
def test_saved_weights_load_and_embed(tmp_path: Path, facenet_random_weights: Any) -> None:
    import cv2
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    native = facenet_random_weights.path
    embedder = FacenetEmbedder(FacenetConfig(), weights=native)
    model = embedder.model
    assert model.count_params() == 23_497_424  # Inception-ResNet-v1 with the 512-d bottleneck
    # the loaded network computes what the saving one did (same weights, same ops: float32 round-off only)
    out = facenet_random_weights.output
    np.testing.assert_allclose(np.asarray(model(facenet_random_weights.probe, training=False)), out,
                               rtol=1e-5, atol=1e-5 * float(np.abs(out).max()))
    legacy = tmp_path / "facenet_keras2.h5"
    with h5py.File(legacy, "w") as fh:
        legacy_h5_format.save_weights_to_hdf5_group(fh, model)

    faces = [
        public_domain_face("astronaut")[40:296, 96:352],
        public_domain_face("grace_hopper")[100:356, 130:386],
    ]
    vectors = embedder.embed(faces)
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    x = standardize(
        np.stack([cv2.cvtColor(cv2.resize(f, (160, 160), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
                  for f in faces]), "fixed"
    )  # fmt: skip
    direct = np.asarray(model(x, training=False))
    np.testing.assert_allclose(vectors, direct / np.linalg.norm(direct, axis=1, keepdims=True), atol=1e-5)
    again = FacenetEmbedder(FacenetConfig(weights=legacy, metric="cosine"))
    np.testing.assert_allclose(again.embed(faces), vectors, atol=1e-5)

    euclid = float(embedder.distance(vectors[0], vectors[1])[0])
    cosine = float(again.distance(vectors[0], vectors[1])[0])
    assert 0.05 < euclid < 1.9  # two different faces: neither the same vector nor opposite ones
    # Unit vectors: |a − b|² = 2 − 2·a·b = 2(1 − cos). Both sides subtract O(1) terms in float32, so their
    # error is absolute, a few float32 epsilons at magnitude 1 (ε ≈ 1.2e-7), however small the distance: a
    # relative tolerance fails for near-identical faces. 8 ε ≈ 1e-6, far below the ≈ 0.016 compared.
    np.testing.assert_allclose(euclid**2, 2 * cosine, rtol=0, atol=8 * np.finfo(np.float32).eps)
    # known cases: the same vector, orthogonal and opposite unit vectors
    e0, e1 = np.eye(512, dtype=np.float32)[:2]
    pairs = (np.stack([e0, e0, e0]), np.stack([e0, e1, -e0]))
    np.testing.assert_allclose(embedder.distance(*pairs), [0.0, np.sqrt(2.0), 2.0], atol=1e-7)
    np.testing.assert_allclose(again.distance(*pairs), [0.0, 1.0, 2.0], atol=1e-7)
    assert embedder.embed([]).shape == (0, 512)

    junk = tmp_path / "other.weights.h5"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(str(junk))
    with pytest.raises(WeightsError, match="not FaceNet Inception-ResNet-v1"):
        FacenetEmbedder(FacenetConfig(weights=junk))
