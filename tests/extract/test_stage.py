"""The extract stage end to end: two inputs → two face sets with masks, summary, resume, --fresh, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.data.faceset import FaceSet
from fswap.errors import ConfigError, InputError, StageError
from fswap.extract.alignment import warp
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.samples import make_face_video, make_image_folder, public_domain_face
from fswap.video.reader import read_image


def write_pipeline(folder: Path, body: str) -> Path:
    path = folder / "pipeline.toml"
    path.write_text('workdir = "work"\n' + textwrap.dedent(body))
    return path


def run(path: Path, catalog: Catalog, *, resume: bool = True) -> dict:
    pipeline = load_pipeline(path, catalog=catalog)
    ctx = RunContext(
        pipeline=pipeline, catalog=catalog, pm=make_plugin_manager(), resume=resume, progress=False
    )
    (result,) = run_pipeline(ctx, ["extract"])
    return result.summary


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    make_face_video(root / "a.mp4", frames=8, size=(320, 180), seed=1)
    make_image_folder(root / "b", face="grace_hopper", count=4, size=(320, 240), seed=2)
    return root


def test_two_inputs_make_two_face_sets(tmp_path: Path, inputs: Path, catalog: Catalog) -> None:
    path = write_pipeline(
        tmp_path,
        f"""
        [extract]
        every_n_frames = 2
        save_raw = true
        [extract.a]
        input = "{inputs / "a.mp4"}"
        [extract.b]
        input = "{inputs / "b" / "*.png"}"
        [extract.masks.eyes5]
        [extract.masks.soft_eyes]
        use = "eyes5"
        blur = 5
        """,
    )
    summary = run(path, catalog)
    assert summary["a.frames"] == 4 and summary["a.faces_kept"] == 4
    assert summary["b.frames"] == 2 and summary["b.faces_kept"] == 2
    assert summary["a.frames_per_s"] > 0
    a = FaceSet.open(tmp_path / "work" / "faces" / "a")
    assert a.size == 256 and a.masks == ["eyes5", "soft_eyes"]
    assert [r.frame for r in a.records] == [0, 2, 4, 6]
    record = a.records[1]
    assert record.file == "000002_0.png" and record.source == str(inputs / "a.mp4")
    assert a.load_image(record).shape == (256, 256, 3)
    hard, soft = a.load_mask(record, "eyes5"), a.load_mask(record, "soft_eyes")
    assert set(np.unique(hard)) == {0.0, 1.0} and 0.01 < hard.mean() < 0.2
    assert len(np.unique(soft)) > 2  # blurred edges
    assert (tmp_path / "work" / "faces" / "a" / "raw" / "000002_0.png").is_file()
    b = FaceSet.open(tmp_path / "work" / "faces" / "b")
    assert [Path(r.source).name for r in b.records] == ["000000.png", "000002.png"]
    for r in b.records:  # the crop is its source warped by the stored matrix (PNG sources are lossless)
        np.testing.assert_array_equal(b.load_image(r), warp(read_image(Path(r.source)), r.matrix, 256))
    # round trip: what was written reads back identical
    again = FaceSet.from_json(a.path, json.loads(a.alignments_path.read_text()))
    assert again.to_json() == a.to_json()
    meta = a.meta["extract"]
    assert meta["done"] == [[0, 4]] and meta["summary"]["faces_kept"] == 4


def test_rerun_resumes_and_fresh_redoes(tmp_path: Path, inputs: Path, catalog: Catalog) -> None:
    body = f"""
        [extract]
        every_n_frames = 3
        [extract.a]
        input = "{inputs / "a.mp4"}"
        """
    path = write_pipeline(tmp_path, body)
    first = run(path, catalog)
    assert first["a.frames"] == 3 and first["a.faces_in_set"] == 3
    mtime = (tmp_path / "work/faces/a/faces/000003_0.png").stat().st_mtime_ns
    second = run(path, catalog)
    assert second["a.frames"] == 0 and second["a.resumed_frames"] == 3 and second["a.faces_in_set"] == 3
    assert (tmp_path / "work/faces/a/faces/000003_0.png").stat().st_mtime_ns == mtime
    # a half-done set continues where it stopped
    faceset = FaceSet.open(tmp_path / "work/faces/a")
    faceset.records = faceset.records[:1]
    faceset.meta["extract"]["done"] = [[0, 1]]
    faceset.save()
    third = run(path, catalog)
    assert third["a.frames"] == 2 and third["a.resumed_frames"] == 1 and third["a.faces_in_set"] == 3
    # other settings on an existing set: refuse, and say how to redo it
    write_pipeline(tmp_path, body.replace("every_n_frames = 3", "every_n_frames = 2"))
    with pytest.raises(StageError, match=r"other settings \(changed: every_n_frames\).*--fresh"):
        run(path, catalog)
    fresh = run(path, catalog, resume=False)
    assert fresh["a.frames"] == 4 and fresh["a.faces_in_set"] == 4
    assert not (tmp_path / "work/faces/a/faces/000003_0.png").exists()


def test_policies_single_and_all(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "pairs"
    folder.mkdir()
    left = cv2.resize(public_domain_face("astronaut"), (256, 256))
    right = cv2.resize(public_domain_face("grace_hopper"), (256, 300))[22:278]
    cv2.imwrite(str(folder / "0.png"), np.hstack([left, right]))  # two faces
    cv2.imwrite(str(folder / "1.png"), left)  # one face
    body = f"""
        [extract]
        policy = "POLICY"
        [extract.a]
        input = "{folder}"
        """
    path = write_pipeline(tmp_path, body.replace("POLICY", "single"))
    single = run(path, catalog)
    assert single["a.faces_found"] == 3 and single["a.faces_kept"] == 1
    assert single["a.rejected.several_faces_in_frame"] == 2
    write_pipeline(tmp_path, body.replace("POLICY", "all"))
    every = run(path, catalog, resume=False)
    assert every["a.faces_kept"] == 3
    files = sorted(r.file for r in FaceSet.open(tmp_path / "work/faces/a").records)
    assert files == ["000000_0.png", "000000_1.png", "000001_0.png"]


def test_no_face_is_a_clear_error(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    path = write_pipeline(tmp_path, f'[extract]\n[extract.a]\ninput = "{folder}"\n')
    with pytest.raises(
        StageError, match=r"no faces found in 2 frames with detector mtcnn \(.*thresholds=\[0\.6"
    ):
        run(path, catalog)


def test_unreadable_input_fails_or_is_skipped(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "imgs"
    make_image_folder(folder, count=3, size=(320, 180))
    (folder / "000001.png").write_bytes(b"\x89PNG broken")
    body = f'[extract]\non_error = "MODE"\n[extract.a]\ninput = "{folder}"\n'
    path = write_pipeline(tmp_path, body.replace("MODE", "fail"))
    with pytest.raises(InputError, match=r"000001\.png: unreadable"):
        run(path, catalog)
    write_pipeline(tmp_path, body.replace("MODE", "skip"))
    summary = run(path, catalog, resume=False)
    assert summary["a.read_errors"] == 1 and summary["a.faces_kept"] == 2
    missing = write_pipeline(
        tmp_path, body.replace("MODE", "fail").replace(str(folder), str(tmp_path / "x.mp4"))
    )
    with pytest.raises(InputError, match=r"x\.mp4: no such file"):
        run(missing, catalog, resume=False)


def test_config_checks(tmp_path: Path, catalog: Catalog) -> None:
    path = write_pipeline(tmp_path, '[extract]\npolicy = "identity"\n[extract.a]\ninput = "a.mp4"\n')
    with pytest.raises(ConfigError, match=r"needs an embedder"):
        load_pipeline(path, catalog=catalog)
    path = write_pipeline(tmp_path, "[extract]\nevery_n_frames = 0\n")
    with pytest.raises(ConfigError, match=r"\[extract\]: every_n_frames must be ≥ 1, received 0"):
        load_pipeline(path, catalog=catalog)
    path = write_pipeline(tmp_path, "[extract]\n")
    with pytest.raises(ConfigError, match="at least one input"):
        load_pipeline(path, catalog=catalog)
    path = write_pipeline(tmp_path, '[extract.a]\ninput = "a.mp4"\n[extract.detector]\nmin_face_size = -1\n')
    with pytest.raises(ConfigError, match=r"\(mtcnn\): min_face_size must be ≥ 8, received -1"):
        load_pipeline(path, catalog=catalog)
    path = write_pipeline(tmp_path, '[extract.a]\ninput = "work/faces/a"\n')
    with pytest.raises(ConfigError, match="inside the output folder"):
        load_pipeline(path, catalog=catalog)


@pytest.mark.slow
def test_fswap_run_cli_with_only_extract(tmp_path: Path, inputs: Path) -> None:
    path = write_pipeline(
        tmp_path,
        f"""
        [extract]
        every_n_frames = 4
        [extract.a]
        input = "{inputs / "a.mp4"}"
        [extract.b]
        input = "{inputs / "b"}"
        [extract.masks.eyes5]
        """,
    )
    done = subprocess.run(
        [sys.executable, "-m", "fswap.cli", "run", str(path), "--no-progress"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[extract] a.frames=2" in done.stdout and "b.faces_kept=1" in done.stdout
    for side, count in (("a", 2), ("b", 1)):
        folder = tmp_path / "work" / "faces" / side
        assert len(list((folder / "faces").glob("*.png"))) == count
        assert len(list((folder / "masks" / "eyes5").glob("*.png"))) == count
        assert f"faceset {side}: {folder}" in done.stdout


def test_identity_policy_keeps_only_the_reference_person(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "mixed"
    make_image_folder(folder / "x", face="astronaut", count=2, size=(320, 240), seed=3)
    make_image_folder(folder / "y", face="grace_hopper", count=2, size=(320, 240), seed=4)
    reference = tmp_path / "ref.png"
    cv2.imwrite(str(reference), public_domain_face("astronaut"))
    path = write_pipeline(
        tmp_path,
        f"""
        [extract]
        policy = "identity"
        store_embeddings = true
        [extract.a]
        input = "{folder}/*/*.png"
        reference = "{reference}"
        [extract.embedder]
        use = "dlib_resnet"
        """,
    )
    summary = run(path, catalog)
    assert summary["a.faces_found"] == 4 and summary["a.faces_kept"] == 2
    assert summary["a.rejected.other_identity"] == 2
    faceset = FaceSet.open(tmp_path / "work/faces/a")
    assert all(Path(r.source).parent.name == "x" for r in faceset.records)
    assert all(r.embedding is not None and r.embedding.shape == (128,) for r in faceset.records)
    np.save(tmp_path / "ref.npy", faceset.records[0].embedding)  # an embedding works as the reference too
    write_pipeline(tmp_path, path.read_text().replace("ref.png", "ref.npy").replace('workdir = "work"\n', ""))
    assert run(path, catalog, resume=False)["a.faces_kept"] == 2


def test_batches_are_capped_by_pixels_and_speed_options_keep_resume(
    tmp_path: Path, inputs: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fswap_mtcnn.detector import MtcnnDetector

    sizes: list[int] = []
    original = MtcnnDetector.detect

    def spy(self: MtcnnDetector, frames: list) -> list:
        sizes.append(len(frames))
        return original(self, frames)

    monkeypatch.setattr(MtcnnDetector, "detect", spy)
    monkeypatch.setattr("fswap.stages.extract.BATCH_PIXELS", 2 * 320 * 180)  # two frames' worth
    body = f'[extract]\nevery_n_frames = 2\nbatch_size = 8\n[extract.a]\ninput = "{inputs / "a.mp4"}"\n'
    path = write_pipeline(tmp_path, body)
    assert run(path, catalog)["a.faces_kept"] == 4
    assert sizes == [2, 2]
    # batch sizes and devices change speed only: a resumed run with other values still matches the set
    write_pipeline(tmp_path, body + "[extract.detector]\nbatch_size = 2\n")
    again = run(path, catalog)
    assert again["a.resumed_frames"] == 4 and again["a.frames"] == 0


def test_truncated_video_fails_or_ends_the_side(tmp_path: Path, catalog: Catalog) -> None:
    whole = make_face_video(tmp_path / "whole.avi", frames=12, size=(320, 180), seed=6).path
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])  # decodes up to frame 9 of 12
    body = f'[extract]\nevery_n_frames = 2\non_error = "MODE"\n[extract.a]\ninput = "{cut}"\n'
    path = write_pipeline(tmp_path, body.replace("MODE", "fail"))
    with pytest.raises(InputError, match=r"cut\.avi: video ends at frame \d+ of 12"):
        run(path, catalog)
    write_pipeline(tmp_path, body.replace("MODE", "skip"))
    summary = run(path, catalog, resume=False)
    assert summary["a.read_errors"] == 1 and 3 <= summary["a.faces_kept"] <= 5
    assert "truncated" in FaceSet.open(tmp_path / "work/faces/a").meta["extract"]["summary"]["errors"][0]
