"""policy = "identity" decides per track: two people in alternating shots with a background extra of the
other person give two face sets with no face of the wrong person (ground truth from the clip)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from test_stage import run, write_pipeline

from fswap.catalog import Catalog
from fswap.components import Detection, TrackedFace
from fswap.convert.tracking import iou
from fswap.data.faceset import FaceSet
from fswap.extract.identity import PendingFace, Segment, TrackIdentity, match_tracks
from fswap.samples import public_domain_face
from fswap.samples_scenes import PERSON_A, PERSON_B, alternating_shots


def person_of(scene: object, frame: int, box: tuple[float, ...]) -> str:
    """The person whose true face box overlaps a detection most in that frame."""
    people = scene.people(frame)  # type: ignore[attr-defined]
    best = max(people.values(), key=lambda p: iou(p.face, box))
    assert iou(best.face, box) > 0.3
    return best.person


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, Path, Path]:
    root = tmp_path_factory.mktemp("alternating")
    scene = alternating_shots(
        shots=4, frames_per_shot=5, size=(480, 384), face_px=110.0, extra_px=60.0, seed=1
    )
    scene.write_images(root / "clip")
    for name, person in (("ref_a.png", PERSON_A), ("ref_b.png", PERSON_B)):
        cv2.imwrite(str(root / name), public_domain_face(person))
    return scene, root / "clip", root / "ref_a.png", root / "ref_b.png"


def pipeline(tmp_path: Path, clip: tuple, extra: str = "") -> Path:
    _, folder, ref_a, ref_b = clip
    return write_pipeline(
        tmp_path,
        f"""
        [extract]
        policy = "identity"
        dedupe = "off"
        {extra}
        [extract.a]
        input = "{folder}"
        reference = "{ref_a}"
        [extract.b]
        input = "{folder}"
        reference = "{ref_b}"
        [extract.embedder]
        use = "dlib_resnet"
        """,
    )


def wrong_faces(scene: object, folder: Path, person: str) -> int:
    return sum(person_of(scene, r.frame, r.detection.box) != person for r in FaceSet.open(folder).records)


@pytest.mark.slow
def test_each_face_set_holds_one_person(tmp_path: Path, clip: tuple, catalog: Catalog) -> None:
    scene = clip[0]
    # the blur gate off (the background extras reach the identity decision too) and a loose threshold: the
    # two portraits are about 0.6-0.75 apart for dlib_resnet, so the distance to the own reference alone
    # lets the other person in; the other side's reference as "not this person" keeps each set clean
    loose = "min_sharpness = 0.0\nidentity_threshold = 0.75"
    run(pipeline(tmp_path, clip, loose + "\nother_side_not = false"), catalog, resume=False)
    assert wrong_faces(scene, tmp_path / "work" / "faces" / "a", PERSON_A) > 0
    summary = run(pipeline(tmp_path, clip, loose), catalog, resume=False)
    for side, person in (("a", PERSON_A), ("b", PERSON_B)):
        faceset = FaceSet.open(tmp_path / "work" / "faces" / side)
        people = [person_of(scene, r.frame, r.detection.box) for r in faceset.records]
        assert people and set(people) == {person}, (side, people)
        main_frames = [i for i in range(len(scene)) if scene.actors[i][-1].person == person]  # type: ignore
        assert len(people) >= len(main_frames) - 1  # the person's own shots are kept
        assert summary[f"{side}.cuts"] == 3
        assert summary[f"{side}.tracks_rejected"] >= 2 and summary[f"{side}.tracks_kept"] >= 2
        assert summary[f"{side}.rejected.other_identity"] > 0
        sheet = cv2.imread(str(faceset.path / "contact_sheet.png"))
        assert sheet is not None


def test_defaults_keep_one_person_too(tmp_path: Path, clip: tuple, catalog: Catalog) -> None:
    scene = clip[0]
    run(pipeline(tmp_path, clip), catalog)
    for side, person in (("a", PERSON_A), ("b", PERSON_B)):
        faceset = FaceSet.open(tmp_path / "work" / "faces" / side)
        people = {person_of(scene, r.frame, r.detection.box) for r in faceset.records}
        assert people == {person}


class _FixedTracker:
    """Gives each detection the id listed for its frame."""

    def __init__(self, ids: dict[int, list[int]]) -> None:
        self.ids = ids
        self.resets = 0

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        return [TrackedFace(i, d) for i, d in zip(self.ids[frame_index], detections or [], strict=True)]

    def reset(self) -> None:
        self.resets += 1


class _Cuts:
    def __init__(self, at: set[int]) -> None:
        self.at, self.n = at, -1

    def is_cut(self, frame: np.ndarray) -> bool:
        self.n += 1
        return self.n in self.at


def _det(x: float) -> Detection:
    return Detection(box=(x, 0.0, 10.0, 10.0), confidence=1.0, landmarks=np.zeros((5, 2)))


def _face(frame: int, distance: float, negative: float | None = None) -> PendingFace:
    return PendingFace(frame=frame, distance=distance, negative=negative, image=np.zeros((4, 4, 3), np.uint8),
                       payload=frame)  # fmt: skip


def test_a_track_shares_one_verdict_from_its_mean_distance() -> None:
    identity = TrackIdentity(_FixedTracker({i: [0] for i in range(6)}), threshold=0.6, margin=0.05)
    frame = np.zeros((4, 4, 3), np.uint8)
    decided: list[Segment] = []
    for i, d in enumerate([0.5, 0.7, 0.55, 0.65, 0.5, 0.62]):  # mean 0.587: one verdict for all six
        ended, keys = identity.frame(i, frame, [_det(0.0)])
        decided += ended
        decided += identity.add(keys[0], _face(i, d))
    assert decided == [] and identity.oldest_pending() == 0
    (segment,) = identity.finish()
    assert segment.accepted is True and len(segment.faces) == 6 and identity.oldest_pending() is None
    far = Segment(track_id=1, faces=[_face(0, 0.65), _face(1, 0.7)])
    identity.decide(far)
    assert far.accepted is False and "mean distance" in far.reason


def test_negative_references_and_hysteresis() -> None:
    identity = TrackIdentity(_FixedTracker({}), threshold=0.6, margin=0.05)
    nearer_other = Segment(track_id=3, faces=[_face(0, 0.5, negative=0.4)])
    identity.decide(nearer_other)
    assert nearer_other.accepted is False and "negative" in nearer_other.reason
    # track 5 accepted once: its next segment may reach 0.65; track 6 rejected once: must stay below 0.55
    for track, first, second, expected in ((5, 0.5, 0.63, True), (6, 0.9, 0.58, False)):
        identity.decide(Segment(track_id=track, faces=[_face(0, first)]))
        later = Segment(track_id=track, faces=[_face(1, second)])
        identity.decide(later)
        assert later.accepted is expected


def test_cuts_end_tracks_and_long_tracks_are_decided_in_segments() -> None:
    tracker = _FixedTracker({i: [0] for i in range(7)})
    identity = TrackIdentity(tracker, threshold=0.6, margin=0.0, cuts=_Cuts({3}), max_faces=2)
    frame = np.zeros((4, 4, 3), np.uint8)
    segments: list[Segment] = []
    for i in range(7):
        ended, keys = identity.frame(i, frame, [_det(0.0)])
        segments += ended
        segments += identity.add(keys[0], _face(i, 0.1 if i < 3 else 0.9))
    segments += identity.finish()
    assert [(s.first, s.last) for s in segments] == [(0, 1), (2, 2), (3, 4), (5, 6)]
    assert [s.accepted for s in segments] == [True, True, False, False]
    assert tracker.resets == 1 and identity.cut_count == 1
    assert segments[1].track_id != segments[2].track_id  # no identity carries across the cut


def test_tracks_are_matched_to_detections_by_overlap() -> None:
    detections = [_det(0.0), _det(100.0)]
    tracked = [TrackedFace(7, _det(101.0)), TrackedFace(3, _det(1.0))]
    assert match_tracks(tracked, detections) == [3, 7]
    assert match_tracks([], detections) == [None, None]
