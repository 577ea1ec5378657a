"""Colour transfers: each moves the generated face's statistics to the reference inside the mask."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fswap_standard.color import AdaIN, AdaINXYZ, HistogramMatch, NoTransfer, ReinhardLab
from fswap_standard.convert_config import NoTransferConfig, StatsTransferConfig
from skimage import data


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[40:200, 160:320], (64, 64))


def _tinted(face: np.ndarray) -> np.ndarray:
    """The same face, darker, bluer and with less contrast: what a colour transfer must undo."""
    out = face.astype(np.float32) * np.array([0.6, 0.8, 0.7]) + np.array([60, 10, 0])
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("cls", [AdaIN, AdaINXYZ, ReinhardLab, HistogramMatch])
def test_transfer_recovers_reference_colours(face, cls):
    mask = np.ones(face.shape[:2], np.float32)
    generated = _tinted(face)
    out = cls(StatsTransferConfig()).transfer(generated, face, mask)
    assert out.dtype == np.uint8 and out.shape == face.shape
    before = np.abs(generated.astype(float).mean((0, 1)) - face.mean((0, 1))).max()
    after = np.abs(out.astype(float).mean((0, 1)) - face.mean((0, 1))).max()
    assert after < 0.2 * before
    assert np.abs(out.astype(float) - face).mean() < 0.4 * np.abs(generated.astype(float) - face).mean()


def test_adain_matches_channel_std_exactly_inside_mask(face):
    mask = np.zeros(face.shape[:2], np.float32)
    mask[16:48, 16:48] = 1.0
    out = AdaIN(StatsTransferConfig()).transfer(_tinted(face), face, mask)
    sel = mask > 0.5
    np.testing.assert_allclose(out[sel].std(0), face[sel].std(0), rtol=0.05)
    np.testing.assert_allclose(out[sel].mean(0), face[sel].mean(0), atol=1.5)


def test_statistics_come_from_the_masked_area(face):
    generated = _tinted(face)
    reference = face.copy()
    reference[:, :32] = 0  # outside the mask: must not influence the transfer
    mask = np.zeros(face.shape[:2], np.float32)
    mask[:, 32:] = 1.0
    a = AdaIN(StatsTransferConfig()).transfer(generated, reference, mask)
    b = AdaIN(StatsTransferConfig()).transfer(generated, face, mask)
    np.testing.assert_array_equal(a, b)


def test_none_keeps_generated(face):
    generated = _tinted(face)
    assert NoTransfer(NoTransferConfig()).transfer(generated, face, np.ones((64, 64))) is generated
