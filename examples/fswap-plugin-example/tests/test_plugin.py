"""Contract tests of the example plugin, written the way any plugin author would, with fswap.testing."""

from __future__ import annotations

import numpy as np
import pytest
from fswap_plugin_example import config as plugin_config
from fswap_plugin_example.config import DlibHogConfig, SsimLossConfig
from fswap_plugin_example.detector import five_points

from fswap import ConfigError, Kind, declared
from fswap.testing import check_detector, check_loss, check_spec, sample_detection

DETECTOR, SSIM = declared(plugin_config)  # the specs the plugin's hook returns, in definition order


def test_declared_components() -> None:
    assert [(s.kind, s.name, s.aliases, s.config) for s in declared(plugin_config)] == [
        (Kind.DETECTOR, "dlib_hog", (), DlibHogConfig),
        (Kind.LOSS, "ssim", ("dssim",), SsimLossConfig),
    ]
    assert SSIM.summary == "Structural dissimilarity (1 − SSIM) / 2, single- or multi-scale, via tf.image."


def test_specs_follow_the_static_contract() -> None:
    for spec in declared(plugin_config):
        check_spec(spec)


def test_dlib_hog_detector_contract_and_accuracy() -> None:
    found = check_detector(DETECTOR)
    for name, faces in zip(("astronaut", "grace_hopper"), found, strict=False):
        reference = sample_detection(name).landmarks  # MTCNN's landmarks of the same photo
        eye_distance = np.linalg.norm(reference[1] - reference[0])
        error = np.linalg.norm(faces[0].landmarks - reference, axis=1) / eye_distance
        assert error[:3].max() < 0.1, (name, error)  # eyes and nose
        assert error[3:].max() < 0.25, (name, error)  # estimated mouth corners


def test_min_face_size_drops_small_faces() -> None:
    assert check_detector(DETECTOR, config=DlibHogConfig(min_face_size=400), expect_faces=False)[0] == []


def test_five_points_from_dlib_order() -> None:
    # dlib's 5-point order: image-right eye corners, image-left eye corners, nose base
    parts = np.array([[70.0, 40], [60, 40], [30, 40], [40, 40], [50, 70]])
    points = five_points(parts)
    assert np.allclose(points[0], [35, 40]) and np.allclose(points[1], [65, 40])
    assert np.allclose(points[2], [50, 40 + 0.77 * 30])
    assert np.allclose(points[3], [50 - 0.46 * 30, 40 + 1.32 * 30])
    assert np.allclose(points[4], [50 + 0.46 * 30, 40 + 1.32 * 30])


@pytest.mark.parametrize(
    "config",
    [SsimLossConfig(), SsimLossConfig(output="masked"), SsimLossConfig(scales=2, filter_size=7)],
)
def test_ssim_loss_contract(config: SsimLossConfig) -> None:
    value = check_loss(SSIM, config=config)
    assert 0.0 < value < 0.5  # noisy copies of the target: similar, not identical


def test_ssim_of_identical_images_is_zero_and_too_many_scales_is_explained() -> None:
    import tensorflow as tf
    from fswap_plugin_example.ssim import SsimLoss

    from fswap.losses import LossInputs, LossTerm

    assert isinstance(SsimLoss(SsimLossConfig()), LossTerm)
    image = tf.random.stateless_uniform((2, 64, 64, 3), seed=(1, 2), minval=-1.0, maxval=1.0)
    alpha = tf.ones((2, 64, 64, 1))
    same = LossInputs(warped=image, target=image, alpha=alpha, bgr=image, masked=image)
    assert float(SsimLoss(SsimLossConfig()).generator_loss(same)) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ConfigError, match="needs faces of at least 81 px, but the model outputs 64 px"):
        SsimLoss(SsimLossConfig(scales=4)).generator_loss(same)


def test_bad_option_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="filter_size must be odd, received 8"):
        SsimLossConfig(filter_size=8)
    with pytest.raises(ValueError, match="output must be one of 'raw', 'masked', received 'both'"):
        SsimLossConfig(output="both")
