"""The EMA tracker (reference fallback) and the pass-through `none` tracker."""

from __future__ import annotations

import numpy as np
from fswap_standard.convert_config import EmaTrackerConfig
from fswap_standard.ema import EmaSmoother, EmaTracker
from fswap_standard.trackers import PassThroughTracker
from track_synth import jitter, make_track


def test_ema_formula_matches_reference_weight():
    s = EmaSmoother(np.array([0.0, 10.0]), 0.65)
    np.testing.assert_allclose(s.update(np.array([10.0, 0.0])), [3.5, 6.5])
    np.testing.assert_allclose(s.predict(), [3.5, 6.5])  # held without a measurement


def test_ema_lowers_jitter():
    track = make_track(noise=2.0)
    raw = np.array([d.center for d in track.detections])
    tracker = EmaTracker(EmaTrackerConfig())
    smooth = np.array([tracker.update(i, [d])[0].detection.center for i, d in enumerate(track.detections)])
    assert jitter(raw) / jitter(smooth) >= 2.0


def test_none_tracker_passes_detections_through():
    track = make_track(frames=3)
    tracker = PassThroughTracker(None)
    faces = tracker.update(0, [track.detections[0]])
    assert faces[0].detection is track.detections[0]
    assert tracker.update(1, None) == []
