"""Shot-cut detection (fswap.video.cuts) on made-to-order clips: cuts found exactly where the shots change,
never inside a shot (faces moving, crossing, leaving; a compressed video whipping the camera round), and the
default thresholds sit between the within-shot and the cut distances with room on both sides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fswap import samples_scenes as scenes
from fswap.samples import make_face_video
from fswap.video.cuts import (
    DEFAULT_PIXEL_THRESHOLD,
    DEFAULT_RATIO,
    DEFAULT_THRESHOLD,
    MIN_HISTORY,
    CutDetector,
    FrameDistance,
    distance,
    find_cuts,
)
from fswap.video.reader import open_frames


def _clips() -> dict[str, scenes.Scene]:
    return {
        "crossing": scenes.crossing(10),
        "leave_and_return": scenes.leave_and_return(9),
        "small_extra": scenes.small_extra(6),
        "hard_cut": scenes.hard_cut(10, cut=4),
        "alternating_shots": scenes.alternating_shots(4, 4),
        "alternating_shots_seed3": scenes.alternating_shots(3, 3, seed=3),
    }


@pytest.fixture(scope="module")
def clips() -> dict[str, tuple[scenes.Scene, list[np.ndarray]]]:
    return {name: (scene, scene.frames()) for name, scene in _clips().items()}


def test_cuts_are_found_exactly_where_the_shots_change(clips) -> None:
    for name, (scene, frames) in clips.items():
        assert find_cuts(frames) == scene.cuts, name
    assert clips["hard_cut"][0].cuts == [4]
    assert clips["alternating_shots"][0].cuts == [4, 8, 12]


def _walk(frames: list[np.ndarray]) -> list[tuple[FrameDistance, float | None]]:
    """(distance to the previous frame, the detector's baseline before it or None while the shot's motion
    is not known yet) for frames 1…"""
    detector, out = CutDetector(), []
    detector.is_cut(frames[0])
    for frame in frames[1:]:
        baseline = detector.baseline if len(detector.recent) >= MIN_HISTORY else None
        detector.is_cut(frame)
        assert detector.last is not None
        out.append((detector.last, baseline))
    return out


def test_default_thresholds_have_margin_on_both_sides(clips, tmp_path: Path) -> None:
    """The calibration. Inside a shot (the clips, and lossy videos whose camera whips round in half a second
    or pans over 30 frames): the colour distance stays below half its threshold, and every pixel distance
    above pixel_threshold, once the shot's motion is known, is below half of ratio × baseline. At every cut:
    pixels ≥ 1.3 × pixel_threshold and ≥ 2 × ratio × baseline (measured: cuts 0.20–0.23 against shot
    baselines ≤ 0.02; fast motion up to 0.22 but ≤ 1.9 × its baseline)."""
    inside, at_cuts = [], []
    for scene, frames in clips.values():
        for i, pair in enumerate(_walk(frames), start=1):
            (at_cuts if i in scene.cuts else inside).append(pair)
    for n, motion in enumerate(("mixed", "pan", "zoom")):
        for count in (12, 30):
            video = make_face_video(tmp_path / f"{motion}{count}.avi", frames=count, size=(320, 180),
                                    motion=motion, seed=n)
            frames = [f for _, f in open_frames(video.path)]
            assert find_cuts(frames) == [], (motion, count)
            inside += _walk(frames)
    assert max(d.histogram for d, _ in inside) < 0.5 * DEFAULT_THRESHOLD
    assert max(d.pixels for d, _ in inside) > DEFAULT_PIXEL_THRESHOLD  # fast motion does reach it…
    for d, baseline in inside:  # … but never suddenly
        if baseline is not None and d.pixels >= DEFAULT_PIXEL_THRESHOLD:
            assert d.pixels < 0.5 * DEFAULT_RATIO * baseline
    assert len(at_cuts) == 6
    for d, baseline in at_cuts:
        assert baseline is not None and d.pixels >= 1.3 * DEFAULT_PIXEL_THRESHOLD
        assert d.pixels >= 2 * DEFAULT_RATIO * baseline


def test_detector_state_reset_and_sizes() -> None:
    scene = scenes.hard_cut(6, cut=3)
    frames = scene.frames()
    detector = CutDetector()
    assert [detector.is_cut(f) for f in frames] == [False, False, False, True, False, False]
    assert detector.last is not None and detector.last.histogram < DEFAULT_THRESHOLD
    assert detector.baseline > 0  # two within-shot pairs since the cut
    detector.reset()
    assert detector.last is None and detector.baseline == 0.0
    assert detector.is_cut(frames[0]) is False  # the first frame after a reset never starts a shot
    assert detector.is_cut(frames[5]) is False  # another shot, but too soon to tell from the pixels…
    assert detector.is_cut(frames[4]) is False and detector.is_cut(frames[5]) is False
    assert detector.is_cut(frames[0]) is True  # … now the shot's motion is known: back in shot 0
    assert detector.is_cut(frames[5][:100]) is True  # a frame of another size is another shot
    assert detector.is_cut(frames[5][:100]) is False
    grey = [f[:, :, 1] for f in frames]
    assert find_cuts(grey) == [3]  # single-channel frames work too


def test_thresholds_decide() -> None:
    frames = scenes.hard_cut(6, cut=3).frames()
    d = distance(frames[2], frames[3])
    just_above = CutDetector(min(d.histogram + 1e-3, 1.0), pixel_threshold=min(d.pixels + 1e-3, 1.0))
    assert find_cuts(frames, just_above) == []
    assert find_cuts(frames, CutDetector(d.histogram, pixel_threshold=1.0)) == [3]
    assert find_cuts(frames, CutDetector(1.0, pixel_threshold=d.pixels)) == [3]
    # the sudden-change rule: the same jump after frames that already moved that much is no cut
    moved = float(np.median([distance(frames[0], frames[1]).pixels, distance(frames[1], frames[2]).pixels]))
    slow = CutDetector(1.0, pixel_threshold=d.pixels, ratio=d.pixels / moved * 1.01)
    fast = CutDetector(1.0, pixel_threshold=d.pixels, ratio=d.pixels / moved * 0.99)
    assert find_cuts(frames, slow) == [] and find_cuts(frames, fast) == [3]


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"pixel_threshold": 0.0}, {"ratio": 0.5}, {"window": 0},
     {"width": 2}, {"bins": 10}],
)
def test_bad_settings_are_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        CutDetector(**kwargs)


def test_bad_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        CutDetector().is_cut(np.zeros((8, 8, 3), np.float32))
