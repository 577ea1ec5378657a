"""fswap.model.deploy and `fswap export`: ONNX and SavedModel exports of one direction's generator give the
Keras generator's outputs, carry fswap's metadata, are written atomically and are made again when the
networks change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fswap.errors import InputError, StageError
from fswap.model import deploy
from fswap.model.config import ModelConfig
from fswap.model.generator import FaceGenerator
from fswap.model.io import save_networks
from fswap.model.networks import build_networks

pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")

ALPHA_ATOL = 1e-4
"""α is float32 in [0, 1] after a few hundred thousand multiply-adds: ONNX Runtime and TensorFlow sum them in
other orders, so they differ by some float32 ulps of the pre-activation (measured up to 4.4e-6 on the demo
model); 1e-4 is ~20× that and still 1/10 of a grey level."""
BGR_SHARE = 0.005
"""BGR is rounded to whole levels: a pre-rounding value within float noise of .5 may round the other way, so
a value may differ by exactly 1, for a small share of pixels (measured 0.02 % on the demo model)."""


@pytest.fixture
def model_dir(make_config: Callable[..., ModelConfig], tmp_path: Path) -> Path:
    config = make_config(resolution=64, width_divisor=32, attention="none")
    save_networks(build_networks(config), tmp_path / "export", config)
    return tmp_path / "export"


def _faces(count: int = 5, resolution: int = 64) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (count, resolution, resolution, 3), dtype=np.uint8)


def _assert_same_pixels(bgr: np.ndarray, alpha: np.ndarray, want_bgr: np.ndarray,
                        want_alpha: np.ndarray) -> None:
    assert bgr.dtype == np.uint8 and bgr.shape == want_bgr.shape
    assert alpha.dtype == np.float32 and alpha.shape == want_alpha.shape
    np.testing.assert_allclose(alpha, want_alpha, atol=ALPHA_ATOL)
    diff = np.abs(bgr.astype(np.int16) - want_bgr.astype(np.int16))
    assert diff.max() <= 1 and (diff > 0).mean() <= BGR_SHARE


def test_onnx_export_gives_the_keras_outputs_with_any_batch_size(model_dir: Path) -> None:
    for direction in ("a_to_b", "b_to_a"):
        path = deploy.export_generator(model_dir, direction, "onnx")
        assert path == model_dir / "onnx" / f"generator_{direction}.onnx"
        want_bgr, want_alpha = FaceGenerator.load(model_dir, direction)(_faces())
        onnx_gen = deploy.OnnxGenerator(path, batch_size=2)  # 5 faces: batches of 2, 2 and 1
        assert onnx_gen.resolution == 64 and onnx_gen.direction == direction
        _assert_same_pixels(*onnx_gen(_faces()), want_bgr, want_alpha)
    # the two directions are different generators, so the check above can fail
    a_to_b = deploy.OnnxGenerator(model_dir / "onnx" / "generator_a_to_b.onnx")(_faces())[1]
    b_to_a = deploy.OnnxGenerator(model_dir / "onnx" / "generator_b_to_a.onnx")(_faces())[1]
    assert np.abs(a_to_b - b_to_a).max() > 100 * ALPHA_ATOL


def test_onnx_export_carries_fswaps_metadata(model_dir: Path) -> None:
    path = deploy.export_generator(model_dir, "a_to_b", "onnx")
    meta = deploy.read_export_metadata(path)
    assert meta["direction"] == "a_to_b" and meta["resolution"] == "64" and meta["condition_channels"] == "0"
    assert meta["inputs"] == "faces: uint8 BGR (N, 64, 64, 3)"
    assert meta["outputs"].startswith("alpha: float32 (N, 64, 64)")
    assert "synthetic media" in meta["provenance"]
    assert meta["source_digest"] == deploy.source_digest(model_dir, "a_to_b")
    gen = deploy.OnnxGenerator(path)
    assert gen.metadata == FaceGenerator.load(model_dir, "a_to_b").metadata  # model.json travels inside


def test_a_self_attention_model_exports_and_a_graph_onnx_cannot_run_is_refused(
    make_config: Callable[..., ModelConfig], tmp_path: Path
) -> None:
    # the demo's lite 64² networks at full width with self-attention (the default attention block)
    config = make_config(resolution=64, width_divisor=1, capacity="lite")
    save_networks(build_networks(config), tmp_path / "full", config)
    path = deploy.export_generator(tmp_path / "full", "a_to_b", "onnx")
    want_bgr, want_alpha = FaceGenerator.load(tmp_path / "full", "a_to_b")(_faces())
    _assert_same_pixels(*deploy.OnnxGenerator(path, batch_size=2)(_faces()), want_bgr, want_alpha)
    # under 16 channels an attention layer's keys have one channel, and tf2onnx 1.17's rewrites of that
    # graph do not run: the export says so and keeps nothing
    tiny = make_config(resolution=64, width_divisor=32)
    save_networks(build_networks(tiny), tmp_path / "tiny", tiny)
    with pytest.raises(StageError, match="does not run in ONNX Runtime"):
        deploy.export_generator(tmp_path / "tiny", "a_to_b", "onnx")
    assert not (tmp_path / "tiny" / "onnx").exists() or not any((tmp_path / "tiny" / "onnx").iterdir())


def test_savedmodel_export_serves_uint8_faces(model_dir: Path) -> None:
    import tensorflow as tf

    path = deploy.export_generator(model_dir, "b_to_a", "savedmodel")
    assert path == model_dir / "savedmodel" / "generator_b_to_a" and (path / "saved_model.pb").is_file()
    assert deploy.read_export_metadata(path)["direction"] == "b_to_a"
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    out = serve(faces=tf.constant(_faces()))
    want_bgr, want_alpha = FaceGenerator.load(model_dir, "b_to_a")(_faces())
    _assert_same_pixels(out["bgr"].numpy(), out["alpha"].numpy(), want_bgr, want_alpha)


def test_a_failed_export_leaves_the_earlier_one(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = deploy.export_generator(model_dir, "a_to_b", "onnx")
    before = path.read_bytes()

    def broken(*_args: object) -> Path:
        raise ValueError("converter failed")

    monkeypatch.setattr(deploy, "_write_onnx", broken)
    with pytest.raises(StageError, match=r"a_to_b\.onnx: the onnx export of a_to_b failed .*unchanged"):
        deploy.export_generator(model_dir, "a_to_b", "onnx")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["generator_a_to_b.onnx"]  # no leftovers


def test_the_onnx_runtime_exports_again_only_when_the_networks_changed(
    model_dir: Path, make_config: Callable[..., ModelConfig]
) -> None:
    first = deploy.load_onnx_generator(model_dir, "a_to_b")
    stamp = first.path.stat().st_mtime_ns
    assert deploy.load_onnx_generator(model_dir, "a_to_b").path.stat().st_mtime_ns == stamp  # reused
    # training went on: other weights saved over the model
    config = make_config(resolution=64, width_divisor=32, attention="none")
    import keras

    keras.utils.set_random_seed(7)
    save_networks(build_networks(config), model_dir, config)
    again = deploy.load_onnx_generator(model_dir, "a_to_b")
    recorded = deploy.read_export_metadata(again.path)["source_digest"]
    assert recorded == deploy.source_digest(model_dir, "a_to_b")
    want_bgr, want_alpha = FaceGenerator.load(model_dir, "a_to_b")(_faces())
    _assert_same_pixels(*again(_faces()), want_bgr, want_alpha)


def test_bad_exports_and_inputs_are_clear_errors(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no ONNX export here"):
        deploy.OnnxGenerator(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"junk\.onnx: not a readable ONNX file"):
        deploy.OnnxGenerator(junk)
    gen = deploy.OnnxGenerator(deploy.export_generator(model_dir, "a_to_b", "onnx"))
    with pytest.raises(InputError, match=r"\(N, 64, 64, 3\)"):
        gen(np.zeros((1, 32, 32, 3), np.uint8))


def test_cli_export_writes_both_directions_and_fails_in_one_line(model_dir: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from fswap.cli import main

    assert main(["export", str(model_dir), "--output", str(tmp_path / "deploy")]) == 0
    assert sorted(p.name for p in (tmp_path / "deploy").iterdir()) == [
        "generator_a_to_b.onnx", "generator_b_to_a.onnx"]
    capsys.readouterr()
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere: no exported model here" in err[0]
