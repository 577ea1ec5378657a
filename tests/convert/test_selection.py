"""Per-track selection in convert, end to end on made-to-order two-person clips (fswap.samples_scenes) with a
tiny random model, MTCNN, the real dlib embedder and PNG input/output (lossless, so pixel identity is
checkable): by default only person A (the astronaut) is swapped and every pixel outside A's pasted region is
the input's; A's face changes in every frame; decisions are constant inside a track; a hard cut splits
tracks; `fswap tracks` and select = "tracks" convert exactly the chosen ids; evaluate reports leak = 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from fswap import samples_scenes as scenes
from fswap.catalog import Catalog
from fswap.components import Detection
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.convert.geometry import paste_region, roi_matrix
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.samples import public_domain_face

pytestmark = pytest.mark.slow

RESOLUTION = 64
FRAMES = 12  # the crossing clip: its faces move 10 px (a quarter of their size) per frame


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A tiny random exported model, a reference photo of person A and two clips as PNG folders."""
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    folder = tmp_path_factory.mktemp("select")
    table = {"resolution": RESOLUTION, "capacity": "lite", "width_divisor": 16,
             "attention": {"use": "none"}, "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), folder / "work" / "model" / "export", config)
    cv2.imwrite(str(folder / "a.png"), public_domain_face("astronaut"))
    scenes.crossing(FRAMES).write_images(folder / "crossing")
    scenes.hard_cut(8, cut=4).write_images(folder / "cut")
    return folder


def _run(root: Path, catalog: Catalog, name: str, clip: str, body: str, embedder: bool = True,
         workdir: str = "work") -> dict:
    toml = (f'workdir = "{workdir}"\n[convert]\ninput = "{clip}"\noutput = "{name}"\nbatch_frames = 3\n'
            f'model = "work/model/export"\n{body}\n[convert.label]\nenabled = false\n'
            '[convert.writer]\nuse = "image_sequence"\n')
    if embedder:
        toml += '[convert.embedder]\nuse = "dlib_resnet"\n'
    path = root / f"{name}.toml"
    path.write_text(toml, encoding="utf-8")
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    (result,) = run_pipeline(ctx, ["convert"])
    summary = json.loads(result.outputs["summary"].read_text())
    summary["record"] = json.loads(result.outputs["tracks"].read_text())
    return summary


def _frames(folder: Path) -> list[np.ndarray]:
    return [cv2.imread(str(p)) for p in sorted(folder.glob("*.png"))]


def _pasted(face: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    """Pixels (H, W) bool that convert may change for one swapped face: its ROI crop's frame rectangle
    (recomputed from the recorded detection with the default aligner), grown by 2 px for the rounding."""
    from fswap_standard.aligners import Umeyama5Aligner
    from fswap_standard.extract_config import Umeyama5Config

    det = Detection(box=face["box"], confidence=face["confidence"], landmarks=np.array(face["landmarks"]))
    aligned = Umeyama5Aligner(Umeyama5Config()).align(np.zeros(shape, np.uint8), det)
    region = paste_region(roi_matrix(aligned.matrix, aligned.size, 0.875, RESOLUTION), RESOLUTION, shape)
    mask = np.zeros(shape[:2], bool)
    mask[max(0, region.y0 - 2):region.y1 + 2, max(0, region.x0 - 2):region.x1 + 2] = True
    return mask


def _inside(box: tuple[float, ...], point: tuple[float, float]) -> bool:
    x, y, w, h = box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def _check_swapped_only(scene: scenes.Scene, inputs: list, outputs: list, record: dict, person: str) -> None:
    """`person`'s face changed in every frame; every pixel outside its pasted rectangles is the input's; the
    other person's pixels are untouched; the recorded swapped faces are all that person's."""
    assert len(outputs) == len(inputs) == len(scene) == len(record["frames"])
    for i, (src, out) in enumerate(zip(inputs, outputs, strict=True)):
        people = scene.people(i)
        row = record["frames"][i]
        assert row["faces"], f"frame {i}: nothing swapped"
        may_change = np.zeros(src.shape[:2], bool)
        for face in row["faces"]:
            x, y, w, h = face["box"]
            assert _inside(people[person].face, (x + w / 2, y + h / 2)), f"frame {i}: swapped someone else"
            may_change |= _pasted(face, src.shape)
        changed = np.any(src != out, axis=2)
        assert not (changed & ~may_change).any(), f"frame {i}: pixels changed outside the swapped face"
        for name, where in people.items():
            x, y, w, h = (round(v) for v in where.face)
            region = (slice(y + h // 5, y + h - h // 5), slice(x + w // 5, x + w - w // 5))
            diff = np.abs(src[region].astype(int) - out[region].astype(int)).mean()
            if name == person:
                assert diff > 1.0, f"frame {i}: {name}'s face barely changed ({diff:.2f})"
            else:
                ex, ey, ew, eh = where.extent
                assert not may_change[ey:ey + eh, ex:ex + ew].any(), "clip too tight: paste reaches B"
                np.testing.assert_array_equal(out[ey:ey + eh, ex:ex + ew], src[ey:ey + eh, ex:ex + ew])


def _decisions_constant(record: dict) -> dict[int, str]:
    """Track id → "swap"/"leave" from the per-frame rows; fails if a track is in both lists anywhere."""
    seen: dict[int, str] = {}
    for row in record["frames"]:
        for key, decision in (("faces", "swap"), ("left", "leave")):
            for face in row[key]:
                assert seen.setdefault(face["track_id"], decision) == decision, f"track {face['track_id']}"
    by_record = {t["track_id"]: t["decision"] for t in record["tracks"]}
    assert {k: v for k, v in by_record.items() if k in seen} == seen
    return seen


def test_default_swaps_only_person_a(root: Path, catalog: Catalog) -> None:
    summary = _run(root, catalog, "out_default", "crossing", 'reference = "a.png"')
    assert summary["select"] == "identity" and "default" in summary["select_why"]
    assert summary["identity_reference"].startswith("the reference ")
    assert summary["seconds_first_pass"] >= summary["seconds_identity"] > 0
    assert summary["tracks_swapped"] == 1 and summary["tracks_left"] == 1
    record = summary["record"]
    tracks = {t["decision"]: t for t in record["tracks"]}
    swap, leave = tracks["swap"], tracks["leave"]
    assert swap["frames"] == leave["frames"] == FRAMES and swap["first_frame"] == 0
    assert swap["last_frame"] == FRAMES - 1
    assert swap["mean_distance"] < 0.6 < leave["mean_distance"]
    assert swap["reason"] == f"mean distance {swap['mean_distance']:.2f} ≤ threshold 0.6"
    assert leave["reason"] == f"mean distance {leave['mean_distance']:.2f} > threshold 0.6"
    assert summary["tracks"] == record["tracks"] and record["cuts"] == []
    _decisions_constant(record)
    clip = scenes.crossing(FRAMES)
    outputs = _frames(root / "out_default")
    _check_swapped_only(clip, _frames(root / "crossing"), outputs, record, scenes.PERSON_A)


def test_a_hard_cut_splits_tracks(root: Path, catalog: Catalog) -> None:
    summary = _run(root, catalog, "out_cut", "cut", 'reference = "a.png"')
    record = summary["record"]
    assert record["cuts"] == [4] == summary["cuts"]
    assert summary["tracks_swapped"] == 2 and summary["tracks_left"] == 2
    for track in record["tracks"]:  # no track spans the cut, though A stands where B stood before it
        assert track["last_frame"] < 4 or track["first_frame"] >= 4
        assert track["shot"] == int(track["first_frame"] >= 4)
    _decisions_constant(record)
    _check_swapped_only(scenes.hard_cut(8, cut=4), _frames(root / "cut"), _frames(root / "out_cut"), record,
                        scenes.PERSON_A)


def test_fswap_tracks_then_select_tracks_converts_exactly_those(root: Path, catalog: Catalog,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from fswap.cli import cli

    toml = root / "review.toml"
    toml.write_text('workdir = "work_review"\n[convert]\ninput = "crossing"\nreference = "a.png"\n'
                    '[convert.embedder]\nuse = "dlib_resnet"\n', encoding="utf-8")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["tracks", str(toml), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "tracks=2, swap=1, leave=1" in result.output
    sheet = root / "work_review" / "convert" / "tracks.png"
    assert f"contact sheet: {sheet}" in result.output
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[1] > 2 * 112  # two cells side by side
    review = json.loads((root / "work_review" / "convert" / "tracks.json").read_text())
    assert review["dry_run"] is True and not (root / "work_review" / "convert" / "crossing_a_to_b").exists()
    b_track = next(t["track_id"] for t in review["tracks"] if t["decision"] == "leave")
    summary = _run(root, catalog, "out_tracks", "crossing", f'select = "tracks"\ntracks = [{b_track}]\n'
                   'reference = "a.png"')
    record = summary["record"]
    assert [t["track_id"] for t in record["tracks"]] == [t["track_id"] for t in review["tracks"]]
    decisions = _decisions_constant(record)
    assert decisions == {t["track_id"]: "swap" if t["track_id"] == b_track else "leave"
                         for t in review["tracks"]}
    reasons = {t["track_id"]: t["reason"] for t in record["tracks"]}
    assert reasons[b_track] == "in select.tracks" and "not in select.tracks" in reasons.values()
    clip = scenes.crossing(FRAMES)
    outputs = _frames(root / "out_tracks")
    _check_swapped_only(clip, _frames(root / "crossing"), outputs, record, scenes.PERSON_B)


def test_without_an_embedder_every_face_is_swapped(root: Path, catalog: Catalog) -> None:
    summary = _run(root, catalog, "out_all", "crossing", "", embedder=False)
    assert summary["select"] == "all" and "no embedder" in summary["select_why"]
    assert summary["identity_reference"] is None and summary["seconds_identity"] == 0.0
    assert summary["tracks_swapped"] == 2 and summary["tracks_left"] == 0
    assert {t["reason"] for t in summary["tracks"]} == {"select = all"}
    inputs, outputs = _frames(root / "crossing"), _frames(root / "out_all")
    scene = scenes.crossing(FRAMES)
    for i, (src, out) in enumerate(zip(inputs, outputs, strict=True)):
        for where in scene.people(i).values():
            x, y, w, h = (round(v) for v in where.face)
            assert np.abs(src[y:y + h, x:x + w].astype(int) - out[y:y + h, x:x + w].astype(int)).mean() > 1.0


def test_unknown_track_ids_are_refused(root: Path, catalog: Catalog) -> None:
    from fswap.errors import StageError

    with pytest.raises(StageError, match=r"tracks lists \[99\] but this clip's tracks are: 0, 1"):
        _run(root, catalog, "out_bad", "crossing", 'select = "tracks"\ntracks = [99]\nreference = "a.png"')


def _faceset_a(folder: Path, person: str, *, store: bool) -> None:
    """A two-face set at `folder` made from `person`'s photo (MTCNN + the default aligner, as extract makes
    it), with or without stored dlib embeddings."""
    from fswap_dlib.config import DlibResnetConfig
    from fswap_dlib.embedder import DlibResnetEmbedder
    from fswap_standard.aligners import Umeyama5Aligner
    from fswap_standard.extract_config import Umeyama5Config

    from fswap.data.faceset import FaceRecord, FaceSet
    from fswap.samples import photo_detection

    photo = public_domain_face(person)
    det = photo_detection(person)
    face = Umeyama5Aligner(Umeyama5Config()).align(photo, det)
    emb = DlibResnetEmbedder(DlibResnetConfig()).embed([face.image])[0] if store else None
    faceset = FaceSet(path=folder, size=face.size)
    faceset.faces_dir.mkdir(parents=True, exist_ok=True)
    for n in range(2):
        cv2.imwrite(str(faceset.faces_dir / f"{n:06d}.png"), face.image)
        faceset.records.append(FaceRecord(file=f"{n:06d}.png", source="photo", frame=n, face_index=0,
                                          detection=det, landmarks=face.landmarks, matrix=face.matrix,
                                          embedding=emb))
    faceset.save()


@pytest.mark.parametrize(("store", "person"), [(False, scenes.PERSON_A), (True, scenes.PERSON_B)])
def test_without_reference_the_face_set_centroid_decides(root: Path, catalog: Catalog, store: bool,
                                                         person: str) -> None:
    """No reference: side a's face set. Its faces are embedded, or its stored embeddings are used (here made
    of the other person, so only the stored vectors can make convert pick person B)."""
    workdir = f"work_fs_{store}"
    _faceset_a(root / workdir / "faces" / "a", person, store=store)
    summary = _run(root, catalog, f"out_fs_{store}", "crossing", "", workdir=workdir)
    how = "2 stored embeddings" if store else "2 of its faces embedded"
    assert summary["identity_reference"].endswith(f"({how})")
    assert summary["tracks_swapped"] == 1 and summary["tracks_left"] == 1
    clip = scenes.crossing(FRAMES)
    outputs = _frames(root / f"out_fs_{store}")
    _check_swapped_only(clip, _frames(root / "crossing"), outputs, summary["record"], person)


def test_identity_without_a_face_set_or_reference_says_what_to_do(root: Path, catalog: Catalog) -> None:
    from fswap.errors import StageError

    expected = (r'compares faces with side a\'s face set, but .* has none: run extract first, set '
                r'\[convert\] reference = "person.png", or use select = "all"')
    with pytest.raises(StageError, match=expected):
        _run(root, catalog, "out_none", "crossing", "", workdir="work_empty")
