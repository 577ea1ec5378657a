"""Pass 1 of convert (fswap.convert.plan) with stand-in components, no models: cuts split tracks and reset
the tracker, a tracker that swaps two people's ids gets its track split where the identity changes for good
(with hysteresis, never on a short excursion), and each track has one decision with its reason."""

from __future__ import annotations

import numpy as np
import pytest

from fswap import samples_scenes as scenes
from fswap.components import AlignedFace, Detection, TrackedFace
from fswap.convert.plan import FaceTracks, SelectOptions, TrackRecord, change_points, decide, plan_tracks
from fswap.convert.tracking import MultiFaceTracker
from fswap.video.cuts import CutDetector

CODE = {scenes.PERSON_A: 0.91, scenes.PERSON_B: 0.92}  # confidence carries who it is, for the toy embedder


class Still:
    """A smoother that returns the measurement (and predicts the last one)."""

    def __init__(self, z: np.ndarray) -> None:
        self.z = z

    def update(self, z: np.ndarray) -> np.ndarray:
        self.z = z
        return z

    def predict(self) -> np.ndarray:
        return self.z


class TruthDetector:
    """Detections from a scene's ground truth (frames are looked up by their first pixel row hash)."""

    def __init__(self, scene: scenes.Scene) -> None:
        self.by_frame = {scene.render(i).tobytes(): scene.boxes(i) for i in range(len(scene))}
        self.calls = 0

    def detect(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        self.calls += len(frames)
        out = []
        for frame in frames:
            dets = []
            for b in self.by_frame[frame.tobytes()]:
                x, y, w, h = b.face
                rel = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]])
                pts = np.array([x, y]) + rel * np.array([w, h])
                dets.append(Detection(box=b.face, confidence=CODE[b.person], landmarks=pts))
            out.append(dets)
        return out


class CodeAligner:
    """A 2×2 'crop' whose value is the detection's confidence code."""

    def align(self, frame: np.ndarray, det: Detection) -> AlignedFace:
        image = np.full((2, 2, 3), round(det.confidence * 100), np.uint8)
        return AlignedFace(image=image, matrix=np.eye(2, 3), landmarks=det.landmarks, detection=det)


class CodeEmbedder:
    """Embedding 0 for A's code, 1 for B's: distance |a − b| (A's reference is 0)."""

    dim = 1

    def embed(self, faces: list[np.ndarray]) -> np.ndarray:
        return np.array([[float(f[0, 0, 0] == 92)] for f in faces], np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(np.atleast_2d(a) - np.atleast_2d(b)).sum(axis=-1)


class SwappingTracker:
    """A broken tracker: one track id (0) that follows A until `at`, then B (as if it jumped at a crossing);
    the other face gets id 1."""

    def __init__(self, at: int) -> None:
        self.at = at

    def reset(self) -> None:
        pass

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        dets = sorted(detections or [], key=lambda d: d.confidence)  # A first
        if frame_index >= self.at:
            dets = dets[::-1]
        return [TrackedFace(n, d) for n, d in enumerate(dets)]


def _frames(scene: scenes.Scene) -> list[tuple[int, np.ndarray]]:
    return list(enumerate(scene.frames()))


def test_a_cut_resets_the_tracker_and_starts_new_ids() -> None:
    scene = scenes.hard_cut(8, cut=4)
    source = FaceTracks(detector=TruthDetector(scene), tracker=MultiFaceTracker(Still), cuts=CutDetector())
    plan = plan_tracks(_frames(scene), source=source, options=SelectOptions(select="all", min_face_size=10),
                       batch_frames=3)
    assert plan.cuts == [4]
    assert sorted(plan.tracks) == [0, 1, 2, 3]
    for t in plan.tracks.values():
        assert (t.first, t.last) in ((0, 3), (4, 7)) and t.shot == int(t.first == 4) and t.swapped
    # without the cut detector the IoU tracker carries both ids over the cut, handing A's track to B
    source = FaceTracks(detector=TruthDetector(scene), tracker=MultiFaceTracker(Still))
    plan = plan_tracks(_frames(scene), source=source, options=SelectOptions(select="all", min_face_size=10))
    assert plan.cuts == [] and sorted(plan.tracks) == [0, 1]


def test_a_cut_on_a_skipped_frame_is_detected_there() -> None:
    scene = scenes.hard_cut(8, cut=3)
    detector = TruthDetector(scene)
    source = FaceTracks(detector=detector, tracker=MultiFaceTracker(Still), detect_every_n=4,
                        cuts=CutDetector())
    plan = plan_tracks(_frames(scene), source=source, options=SelectOptions(select="all", min_face_size=10))
    assert plan.cuts == [3] and detector.calls == 3  # frames 0 and 4 by the schedule, 3 for the cut
    after = [t for t in plan.tracks.values() if t.first == 3]
    assert len(after) == 2 and all(t.last == 7 for t in after)


def test_an_id_swap_splits_the_track_and_each_piece_keeps_its_verdict() -> None:
    scene = scenes.crossing(12)
    source = FaceTracks(detector=TruthDetector(scene), tracker=SwappingTracker(at=6))
    options = SelectOptions(select="identity", identity_threshold=0.5, min_face_size=10)
    plan = plan_tracks(_frames(scene), source=source, options=options, aligner=CodeAligner(),
                       embedder=CodeEmbedder(), reference=np.zeros(1, np.float32), batch_frames=5)
    spans = {tid: (t.first, t.last, t.decision, t.split_from) for tid, t in plan.tracks.items()}
    assert spans == {0: (0, 5, "swap", None), 1: (0, 5, "leave", None),
                     2: (6, 11, "leave", 0), 3: (6, 11, "swap", 1)}
    for position in range(12):  # the swapped face is A's in every frame
        (face,) = plan.swapped_at(position)
        assert face.detection.confidence == CODE[scenes.PERSON_A]
        assert [f.detection.confidence for f in plan.left_at(position)] == [CODE[scenes.PERSON_B]]
    assert plan.counts() == {"tracks": 4, "tracks_swapped": 2, "tracks_left": 2}


def test_change_points_need_sustained_evidence_beyond_the_band() -> None:
    opts = SelectOptions(identity_threshold=0.6, hysteresis=0.05, sustain=3)
    assert change_points([0.3, 0.3, 0.3], opts) == []
    assert change_points([0.3, 0.9, 0.9, 0.3, 0.9, 0.3], opts) == []  # excursions of 2 do not split
    assert change_points([0.3, 0.62, 0.64, 0.58, 0.63, 0.3], opts) == []  # inside the band proves nothing
    assert change_points([0.3, 0.3, 0.9, 0.62, 0.9, 0.9, 0.3, 0.3, 0.3], opts) == [2, 6]
    assert change_points([0.64, 0.9, 0.9, 0.9], opts) == []  # starts far and stays far
    assert change_points([0.9, 0.2, 0.2, 0.2, 0.2], opts) == [1]


def test_decisions_and_reasons() -> None:
    def record(samples: list[float], large: bool = True) -> TrackRecord:
        return TrackRecord(3, 0, 0, 9, frames=10, samples=[(i, d) for i, d in enumerate(samples)],
                           large_enough=large)

    ident = SelectOptions(select="identity", identity_threshold=0.6)
    assert decide(record([0.2, 0.4]), ident) == ("swap", "mean distance 0.30 ≤ threshold 0.6")
    assert decide(record([0.7, 0.9]), ident) == ("leave", "mean distance 0.80 > threshold 0.6")
    assert decide(record([]), ident)[0] == "leave"
    small = ("leave", "every face smaller than min_face_size 35 px")
    assert decide(record([0.2], large=False), ident) == small
    assert decide(record([0.9]), SelectOptions(select="all")) == ("swap", "select = all")
    listed = SelectOptions(select="tracks", tracks=(3,))
    assert decide(record([]), listed) == ("swap", "in select.tracks")
    other = SelectOptions(select="tracks", tracks=(4,))
    assert decide(record([]), other) == ("leave", "not in select.tracks")
    with pytest.raises(ValueError, match="select must be one of"):
        SelectOptions(select="everyone")
    with pytest.raises(ValueError, match="needs an aligner, an embedder and a reference"):
        plan_tracks([], source=FaceTracks(detector=None, tracker=MultiFaceTracker(Still)), options=ident)


class NoDetector:
    """Pass 2 must not detect: any call fails the test."""

    def detect(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        raise AssertionError("pass 2 detected again")


class BoxAligner:
    """Axis-aligned 64² crop of the detection box."""

    def align(self, frame: np.ndarray, det: Detection) -> AlignedFace:
        from fswap.convert.geometry import crop

        x, y, w, _h = det.box
        s = 64 / w
        matrix = np.array([[s, 0, -x * s], [0, s, -y * s]])
        image = crop(frame, matrix, 64)
        return AlignedFace(image=image, matrix=matrix, landmarks=det.landmarks, detection=det)


class WhiteGenerator:
    resolution = 32

    def __call__(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(faces)
        return np.full((n, 32, 32, 3), 255, np.uint8), np.ones((n, 32, 32), np.float32)


def test_pass_two_swaps_only_the_planned_tracks_in_every_layout_option() -> None:
    """The engine with a plan (select = "tracks": A's two tracks of a two-shot clip), detect_every_n = 2,
    batches of 3 and the side-by-side layout: no detection, A's face white in every frame, B's pixels and
    the source panel untouched, B recorded under "left" in output pixels, the plan's tracks and cuts kept."""
    from fswap_standard.blenders import FeatherBlender
    from fswap_standard.color import NoTransfer
    from fswap_standard.convert_config import FeatherBlendConfig, NoTransferConfig

    from fswap.convert.engine import Converter, ConvertOptions

    scene = scenes.hard_cut(8, cut=4)
    items = _frames(scene)

    def planned(options: SelectOptions):
        source = FaceTracks(detector=TruthDetector(scene), tracker=MultiFaceTracker(Still), detect_every_n=2,
                            cuts=CutDetector())
        return plan_tracks(items, source=source, options=options, batch_frames=3)

    everyone = planned(SelectOptions(select="all", min_face_size=10))
    a_ids = tuple(sorted({f.track_id for row in everyone.faces for f in row
                          if f.detection.confidence == CODE[scenes.PERSON_A]}))
    assert len(a_ids) == 2  # one per shot
    plan = planned(SelectOptions(select="tracks", tracks=a_ids, min_face_size=10))
    conv = Converter(detector=NoDetector(), aligner=BoxAligner(), tracker=MultiFaceTracker(Still),
                     generator=WhiteGenerator(), color=NoTransfer(NoTransferConfig()),
                     blender=FeatherBlender(FeatherBlendConfig()),
                     options=ConvertOptions(label=False, layout="side_by_side", batch_frames=3,
                                            detect_every_n=2, min_face_size=10))
    outputs = list(conv.run(items, plan=plan))
    width = scene.size[0]
    for (index, src), out, row in zip(items, outputs, conv.tracks, strict=True):
        np.testing.assert_array_equal(out[:, :width], src)  # the source panel
        result = out[:, width:]
        people = scene.people(index)
        ex, ey, ew, eh = people[scenes.PERSON_B].extent
        np.testing.assert_array_equal(result[ey:ey + eh, ex:ex + ew], src[ey:ey + eh, ex:ex + ew])
        x, y, w, h = (round(v) for v in people[scenes.PERSON_A].face)
        centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
        assert result[centre].mean() > 230 > src[centre].mean()  # A's face is now the white one
        assert [f["track_id"] for f in row["faces"]] == [t for t in a_ids if plan.tracks[t].first <= index
                                                         <= plan.tracks[t].last]
        (left,) = row["left"]  # B, in output pixels (the result panel is the right one)
        (planned_b,) = plan.left_at(index)
        assert planned_b.detection.confidence == CODE[scenes.PERSON_B]
        assert left["box"][0] == round(planned_b.detection.box[0] + width, 2)
        assert left["why"] == "not selected"
    assert conv.track_records == plan.to_json()["tracks"] and conv.cuts == [4]
    assert conv.stats.faces_swapped == 8 and conv.stats.frames_without_face == 0
