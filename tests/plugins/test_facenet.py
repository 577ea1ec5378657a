"""fswap_facenet: registration, weights lookup and loading, the embedding contract (random weights only)."""

from __future__ import annotations

from pathlib import Path

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
def test_saved_weights_load_and_embed(tmp_path: Path) -> None:
    import h5py
    from fswap_facenet.network import build_facenet
    from keras.src.legacy.saving import legacy_h5_format

    model = build_facenet()
    assert model.count_params() == 23_497_424  # Inception-ResNet-v1 with the 512-d bottleneck
    rng = np.random.default_rng(0)
    for layer in model.layers:  # perturb batch-norm statistics so a wrong load would show
        if layer.weights and "BatchNorm" in layer.name:
            layer.set_weights(
                [w + rng.normal(0, 0.05, w.shape).astype(np.float32) for w in layer.get_weights()]
            )
    native = tmp_path / "facenet.weights.h5"
    model.save_weights(str(native))
    legacy = tmp_path / "facenet_keras2.h5"
    with h5py.File(legacy, "w") as fh:
        legacy_h5_format.save_weights_to_hdf5_group(fh, model)

    faces = [
        public_domain_face("astronaut")[40:296, 96:352],
        public_domain_face("grace_hopper")[100:356, 130:386],
    ]
    embedder = FacenetEmbedder(FacenetConfig(), weights=native)
    vectors = embedder.embed(faces)
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    import cv2

    x = standardize(
        np.stack([cv2.cvtColor(cv2.resize(f, (160, 160), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
                  for f in faces]), "fixed"
    )  # fmt: skip
    direct = np.asarray(model(x, training=False))
    np.testing.assert_allclose(vectors, direct / np.linalg.norm(direct, axis=1, keepdims=True), atol=1e-5)
    again = FacenetEmbedder(FacenetConfig(weights=legacy, metric="cosine"))
    np.testing.assert_allclose(again.embed(faces), vectors, atol=1e-5)
    euclid = embedder.distance(vectors[0], vectors[1])
    cosine = again.distance(vectors[0], vectors[1])
    np.testing.assert_allclose(euclid**2, 2 * cosine, rtol=1e-4)  # unit vectors: |a−b|² = 2(1 − cos)
    assert embedder.embed([]).shape == (0, 512)

    junk = tmp_path / "other.weights.h5"
    import keras

    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(str(junk))
    with pytest.raises(WeightsError, match="not FaceNet Inception-ResNet-v1"):
        FacenetEmbedder(FacenetConfig(weights=junk))
