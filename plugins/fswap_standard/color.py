"""Colour transfers: make the generated face's colours match the source face inside the mask.

All work on BGR uint8 crops with numpy/cv2. Statistics are taken over pixels whose mask value exceeds
`mask_threshold` in both images (all pixels when fewer than 16 pass), then applied to every pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from fswap_standard.convert_config import AdaINConfig, HistMatchConfig, NoTransferConfig, StatsTransferConfig

_EPS = 1e-7
_MIN_PIXELS = 16


def _selection(mask: np.ndarray, threshold: float) -> np.ndarray:
    sel = np.asarray(mask, np.float32) > threshold
    return sel if int(sel.sum()) >= _MIN_PIXELS else np.ones_like(sel)


def match_mean_std(source: np.ndarray, reference: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Per-channel (x − μ_s)/σ_s·σ_r + μ_r on float images (statistics over `sel`)."""
    src, ref = source[sel], reference[sel]
    mu_s, sd_s = src.mean(axis=0), src.std(axis=0)
    mu_r, sd_r = ref.mean(axis=0), ref.std(axis=0)
    return (source - mu_s) / (sd_s + _EPS) * sd_r + mu_r


class AdaIN:
    """`adain`: per-channel mean/std transfer in BGR (reference eps 1e-7)."""

    def __init__(self, config: AdaINConfig) -> None:
        self.config = config

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        sel = _selection(mask, self.config.mask_threshold)
        out = match_mean_std(generated.astype(np.float32), reference.astype(np.float32), sel)
        return np.clip(out, 0, 255).round().astype(np.uint8)


class _SpaceTransfer:
    """Mean/std transfer in another colour space given by a cv2 conversion pair on float32 [0, 1].

    Built with AdaINXYZConfig (`adain_xyz`) or ReinhardConfig (`reinhard`), both StatsTransferConfigs."""

    forward: int
    backward: int

    def __init__(self, config: StatsTransferConfig) -> None:
        self.config = config

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        sel = _selection(mask, self.config.mask_threshold)
        gen = cv2.cvtColor(generated.astype(np.float32) / 255.0, self.forward)
        ref = cv2.cvtColor(reference.astype(np.float32) / 255.0, self.forward)
        out = cv2.cvtColor(match_mean_std(gen, ref, sel).astype(np.float32), self.backward)
        return np.clip(out * 255.0, 0, 255).round().astype(np.uint8)


class AdaINXYZ(_SpaceTransfer):
    """`adain_xyz`: mean/std transfer in CIE XYZ."""

    forward, backward = cv2.COLOR_BGR2XYZ, cv2.COLOR_XYZ2BGR


class ReinhardLab(_SpaceTransfer):
    """`reinhard`: Reinhard et al.'s transfer, mean/std matching in CIE L*a*b*."""

    forward, backward = cv2.COLOR_BGR2Lab, cv2.COLOR_Lab2BGR


def histogram_lut(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A 256-entry lookup table mapping source values so their CDF follows the reference's."""
    s_hist = np.bincount(source.ravel(), minlength=256).astype(np.float64)
    r_hist = np.bincount(reference.ravel(), minlength=256).astype(np.float64)
    s_cdf = np.cumsum(s_hist) / max(s_hist.sum(), 1.0)
    r_cdf = np.cumsum(r_hist) / max(r_hist.sum(), 1.0)
    return np.clip(np.interp(s_cdf, r_cdf, np.arange(256)), 0, 255).round().astype(np.uint8)


class HistogramMatch:
    """`hist_match`: per-channel histogram (CDF) matching, the reference default."""

    def __init__(self, config: HistMatchConfig) -> None:
        self.config = config

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        sel = _selection(mask, self.config.mask_threshold)
        out = np.empty_like(generated)
        for c in range(generated.shape[2]):
            lut = histogram_lut(generated[..., c][sel], reference[..., c][sel])
            out[..., c] = lut[generated[..., c]]
        return out


class NoTransfer:
    """`none`: the generated colours are kept."""

    def __init__(self, config: NoTransferConfig) -> None:
        self.config = config

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return generated
