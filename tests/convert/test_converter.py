"""The conversion loop with stand-in detector and generator (no TensorFlow): batching, detect-every-N,
pass-through of frames without a face, part mode, enhance, layouts and the summary counts."""

from __future__ import annotations

import numpy as np
import pytest
from fswap_kalman.config import KalmanConfig
from fswap_kalman.tracker import KalmanTracker
from fswap_standard.blenders import FeatherBlender
from fswap_standard.color import NoTransfer
from fswap_standard.convert_config import FeatherBlendConfig, NoTransferConfig

from fswap import AlignedFace, Detection
from fswap.convert.engine import Converter, ConvertOptions
from fswap.convert.geometry import crop

TEMPLATE = np.array([[0.35, 0.4], [0.65, 0.4], [0.5, 0.55], [0.38, 0.72], [0.62, 0.72]])


class BoxAligner:
    """Axis-aligned crop of the detection box (a stand-in for umeyama5 with the same contract)."""

    size = 128

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace:
        x, y, w, _h = detection.box
        s = self.size / w
        matrix = np.array([[s, 0, -x * s], [0, s, -y * s]])
        return AlignedFace(
            image=crop(frame, matrix, self.size),
            matrix=matrix,
            landmarks=detection.landmarks,
            detection=detection,
        )


class FakeDetector:
    """Finds one face at a fixed box on the frames listed in `faces_on` (all when None)."""

    def __init__(self, faces_on: set[int] | None = None) -> None:
        self.calls: list[int] = []
        self.faces_on = faces_on
        self.seen = 0

    def detect(self, frames):
        self.calls.append(len(frames))
        out = []
        for _ in frames:
            has = self.faces_on is None or self.seen in self.faces_on
            box = (60.0, 40.0, 80.0, 80.0)
            out.append(
                [Detection(box=box, confidence=0.99, landmarks=TEMPLATE * 80 + [60, 40])] if has else []
            )
            self.seen += 1
        return out


class FakeGenerator:
    """A solid white face with alpha 1 everywhere; records batch sizes."""

    resolution = 32

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, faces):
        self.batches.append(len(faces))
        n = len(faces)
        return np.full((n, 32, 32, 3), 255, np.uint8), np.ones((n, 32, 32), np.float32)


class CentreMask:
    """A part mask covering only the centre quarter of the crop."""

    def generate(self, face: AlignedFace) -> np.ndarray:
        m = np.zeros((face.size, face.size), np.float32)
        q = face.size // 4
        m[q:-q, q:-q] = 1.0
        return m


def frames(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(i, rng.integers(0, 100, (180, 240, 3), dtype=np.uint8)) for i in range(n)]


def make(detector=None, generator=None, parts=None, **options):
    return Converter(
        detector=detector or FakeDetector(),
        aligner=BoxAligner(),
        tracker=KalmanTracker(KalmanConfig()),
        generator=generator or FakeGenerator(),
        color=NoTransfer(NoTransferConfig()),
        blender=FeatherBlender(FeatherBlendConfig()),
        parts=parts,
        options=ConvertOptions(**{"label": False, **options}),
    )


def test_one_detector_and_one_generator_call_per_batch():
    det, gen = FakeDetector(), FakeGenerator()
    conv = make(det, gen, batch_frames=4)
    out = list(conv.run(frames(10)))
    assert len(out) == 10
    assert det.calls == [4, 4, 2] and gen.batches == [4, 4, 2]
    assert conv.stats.frames == 10 and conv.stats.faces_swapped == 10 and conv.stats.generator_calls == 3
    assert out[0][80, 100].min() > 200  # face centre replaced by the white face
    assert [row["frame"] for row in conv.tracks] == list(range(10))
    assert all(len(row["faces"]) == 1 and row["faces"][0]["track_id"] == 0 for row in conv.tracks)
    assert conv.stats.to_json()["fps"] > 0


def test_detect_every_n_lets_the_tracker_fill_in():
    det = FakeDetector()
    conv = make(det, batch_frames=6, detect_every_n=3)
    list(conv.run(frames(12)))
    assert sum(det.calls) == 4  # frames 0, 3, 6, 9
    assert conv.stats.faces_swapped == 12


def test_single_face_calls_baseline_gives_same_frames():
    a = list(make(batch_frames=5).run(frames(5)))
    gen = FakeGenerator()
    b = list(make(generator=gen, batch_frames=5, single_face_calls=True).run(frames(5)))
    assert gen.batches == [1] * 5
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_frames_without_face_pass_through_unchanged_and_are_counted():
    src = frames(6)
    conv = make(FakeDetector(faces_on={0, 1, 2}), batch_frames=6)
    out = list(conv.run(src))
    assert conv.stats.frames_without_face == 3 and conv.stats.faces_swapped == 3
    for (_, frame), result in zip(src[3:], out[3:], strict=True):
        np.testing.assert_array_equal(result, frame)


def test_small_faces_are_left_alone():
    src = frames(2)
    conv = make(min_face_size=100)
    out = list(conv.run(src))
    assert conv.stats.frames_without_face == 2
    np.testing.assert_array_equal(out[0], src[0][1])


def test_part_mode_replaces_only_the_part():
    src = frames(1)
    whole = next(iter(make().run(src)))
    part = next(iter(make(parts=CentreMask()).run(src)))
    # the generator's ROI covers frame x 70–130, y 50–110; the part mask its centre quarter (y 65–95)
    centre = (slice(75, 85), slice(95, 105))
    edge = (slice(60, 64), slice(95, 105))  # inside the ROI, outside the part
    assert part[centre].min() > 200 and whole[centre].min() > 200
    assert whole[edge].mean() > 150
    np.testing.assert_array_equal(part[edge], src[0][1][edge])


def test_enhance_boosts_contrast_against_the_input():
    src = frames(1)
    plain = next(iter(make(generator=GreyGenerator()).run(src))).astype(float)
    boosted = next(iter(make(generator=GreyGenerator(), enhance=0.4).run(src))).astype(float)
    # enhance e pastes (1 + e)·generated − e·input: inside the face it adds e·(generated − input), about
    # 0.4 × (128 − 50) levels here (the input is the model-resolution crop, so compare region means). The
    # generator is mid-grey: a white face (FakeGenerator) clips at 255 with or without enhance.
    centre = (slice(85, 105), slice(90, 110))
    gain = boosted[centre].mean() - plain[centre].mean()
    assert gain == pytest.approx(0.4 * (plain[centre].mean() - src[0][1][centre].mean()), rel=0.1)
    np.testing.assert_array_equal(boosted[:20], plain[:20])  # outside the face: untouched either way


@pytest.mark.parametrize(("layout", "width"), [("result", 240), ("side_by_side", 480), ("triple", 720)])
def test_layouts(layout, width):
    src = frames(2)
    conv = make(layout=layout)
    out = list(conv.run(src))
    assert out[0].shape == (180, width, 3)
    if layout != "result":
        np.testing.assert_array_equal(out[0][:, :240], src[0][1])  # source panel untouched
    offset = 0 if layout == "result" else 240  # recorded boxes point at the result panel
    assert conv.tracks[0]["faces"][0]["box"][0] == pytest.approx(60 + offset, abs=3)
    if layout == "triple":
        heat = out[0][:, 480:].astype(int)
        assert heat[80, 100].sum() > 3 * heat[5, 5].sum()  # mask bright where the face is


def test_label_is_drawn_when_enabled():
    src = frames(1)
    labelled = next(iter(make(label=True).run(src)))
    plain = next(iter(make(label=False).run(src)))
    diff = np.any(labelled != plain, axis=2)
    assert diff.any() and np.nonzero(diff)[0].min() > 150  # bottom strip only


class TwoFaces(FakeDetector):
    """Two faces side by side on every frame, listed in alternating order."""

    def detect(self, frames):
        self.calls.append(len(frames))
        out = []
        for _ in frames:
            faces = [
                Detection(box=(x, 40.0, 60.0, 60.0), confidence=0.9, landmarks=TEMPLATE * 60 + [x, 40])
                for x in (20.0, 150.0)
            ]
            out.append(faces if self.seen % 2 else faces[::-1])
            self.seen += 1
        return out


def test_several_faces_per_frame_share_one_generator_call_and_keep_ids():
    gen = FakeGenerator()
    conv = make(TwoFaces(), gen, batch_frames=4)
    list(conv.run(frames(4)))
    assert gen.batches == [8] and conv.stats.faces_swapped == 8
    first = {f["track_id"]: f["box"][0] < 100 for f in conv.tracks[0]["faces"]}
    assert all({f["track_id"]: f["box"][0] < 100 for f in row["faces"]} == first for row in conv.tracks)


class GreyGenerator(FakeGenerator):
    def __call__(self, faces):
        self.batches.append(len(faces))
        n = len(faces)
        return np.full((n, 32, 32, 3), 128, np.uint8), np.ones((n, 32, 32), np.float32)


def test_colour_smoothing_removes_flicker():
    from fswap_standard.color import AdaIN
    from fswap_standard.convert_config import StatsTransferConfig

    rng = np.random.default_rng(1)
    base = rng.integers(60, 120, (180, 240, 3)).astype(np.int16)
    src = [
        (i, np.clip(base + rng.normal(0, 15), 0, 255).astype(np.uint8)) for i in range(30)
    ]  # brightness flicker

    def centre_means(smoothing: float) -> np.ndarray:
        conv = make(generator=GreyGenerator(), color_smoothing=smoothing)
        conv.color = AdaIN(StatsTransferConfig())
        return np.array([f[70:90, 90:110].mean() for f in conv.run(src)])

    raw, smooth = centre_means(0.0), centre_means(0.8)
    assert np.diff(smooth[5:]).std() < 0.5 * np.diff(raw[5:]).std()
    assert abs(smooth[5:].mean() - raw[5:].mean()) < 5  # same average colour


def test_automatic_batches_give_the_detector_eight_detected_frames_per_call():
    # detect_every_n = 5 with the automatic size: batches of 40 frames, 8 of them detected, so MTCNN's fixed
    # cost per call is shared by 8 frames (a fixed 16-frame batch gave it 3 or 4)
    det, gen = FakeDetector(), FakeGenerator()
    conv = make(det, gen, detect_every_n=5)
    list(conv.run(frames(85)))
    assert det.calls == [8, 8, 1] and gen.batches == [40, 40, 5]
    det = FakeDetector()
    list(make(det).run(frames(20)))  # every frame detected: at least 16 frames per batch
    assert det.calls == [16, 4]


@pytest.mark.parametrize(("shape", "every_n", "expected"), [
    ((360, 640, 3), 1, 16), ((360, 640, 3), 5, 40), ((1080, 1920, 3), 25, 86), ((2160, 3840, 3), 5, 21),
    ((20000, 20000, 3), 1, 1),
])
def test_frames_per_batch_is_bounded_by_the_memory_of_its_frames(shape, every_n, expected):
    from fswap.convert.batching import frames_per_batch

    assert frames_per_batch(None, every_n, shape) == expected
    assert frames_per_batch(7, every_n, shape) == 7  # a size the user gave is kept
