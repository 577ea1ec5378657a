"""Every normalization `fswap validate` accepts trains, converts and evaluates (tiny sizes), and a SPADE
model's condition map is the eye mask extract made: at convert, at evaluate and in the training previews.

The face sets come from the real extract stage (MTCNN, umeyama5, the eyes5 mask) on two short synthetic
clips, made once for the module; each case trains its own model on copies of them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import attrs
import cv2
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.components import ComponentSpec, Kind, Provider
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.errors import ConfigError, InputError
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.samples import make_face_video
from fswap.video.reader import open_frames

pytestmark = pytest.mark.slow

PM = make_plugin_manager()
NORMALIZATIONS = Catalog.from_plugin_manager(PM).names(Kind.NORMALIZATION)  # what `fswap validate` accepts
FRAMES = 8
ROI = 0.875  # the [convert] default


@attrs.frozen
class NoOptions:
    """The toy embedder has no options."""


class ThumbEmbedder:
    """A stand-in identity embedder (zero-mean grey 16² thumbnails, cosine distance): no model files."""

    def __init__(self, config: object = None) -> None:
        self.dim = 256

    def embed(self, faces: list[np.ndarray]) -> np.ndarray:
        rows = []
        for face in faces:
            grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_BGR2GRAY).astype(np.float64)
            small = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).reshape(-1)
            small -= small.mean()
            rows.append(small / max(float(np.linalg.norm(small)), 1e-9))
        return np.stack(rows).astype(np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        return 1.0 - np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1),
                                                        1e-12)


TOY = ComponentSpec(kind=Kind.EMBEDDER, name="toy_thumbs", factory=f"{__name__}:ThumbEmbedder",
                    config=NoOptions, summary="test-only thumbnail embedder")
TRAIN = """
[train]
iterations = 2
batch_size = 2
checkpoint_every = 2
preview_every = 2
log_every = 1
backup_every = 0
holdout = 3
[train.losses.reconstruction]
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 16
[train.model.normalization]
use = "{norm}"
[train.model.attention]
use = "none"
[train.model.upsampling]
use = "nearest"
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    catalog = Catalog.from_plugin_manager(PM)
    catalog.add(TOY, Provider("tests", "fswap-tests", "0"))
    return catalog


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A folder with a.mp4, b.mp4 and work/faces/{a,b} from the extract stage (with eyes5 masks)."""
    root = tmp_path_factory.mktemp("extracted")
    make_face_video(root / "a.mp4", face="astronaut", frames=FRAMES, size=(320, 180), seed=0)
    make_face_video(root / "b.mp4", face="grace_hopper", frames=FRAMES, size=(320, 180), seed=1)
    body = ('[extract]\nevery_n_frames = 1\npolicy = "single"\n[extract.a]\ninput = "a.mp4"\n'
            '[extract.b]\ninput = "b.mp4"\n[extract.detector]\nuse = "mtcnn"\n[extract.aligner]\n'
            'use = "umeyama5"\n[extract.masks.eyes5]\n')
    run(root, catalog, body, ["extract"])
    for side in ("a", "b"):
        faces = json.loads((root / "work" / "faces" / side / "alignments.json").read_text())
        assert len(faces["faces"]) >= 6 and faces["masks"] == ["eyes5"]
    return root


def run(root: Path, catalog: Catalog, body: str, stages: list[str]) -> list[Any]:
    path = root / "pipeline.toml"
    path.write_text(f'workdir = "work"\nseed = 0\n{body}', encoding="utf-8")
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=PM, progress=False)
    return run_pipeline(ctx, stages)


def project(extracted: Path, tmp_path: Path) -> Path:
    """A fresh project holding copies of the extracted face sets."""
    shutil.copytree(extracted / "work" / "faces", tmp_path / "work" / "faces")
    return tmp_path


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_normalization_trains_converts_and_evaluates(norm: str, extracted: Path, tmp_path: Path,
                                                     catalog: Catalog) -> None:
    root = project(extracted, tmp_path)
    body = TRAIN.format(norm=norm) + (
        f'[convert]\ninput = "{extracted / "a.mp4"}"\noutput = "out"\nwriter = {{ use = "image_sequence" }}\n'
        'label = { enabled = false }\n[evaluate]\nembedder = { use = "toy_thumbs" }\nholdout_every = 3\n')
    train, convert, evaluate = run(root, catalog, body, ["train", "convert", "evaluate"])
    assert train.summary["iteration"] == 2
    # convert: every frame written; where a face was swapped, its box changed and the far corners did not
    tracks = json.loads(convert.outputs["tracks"].read_text())["frames"]
    written = sorted((root / "out").glob("frame_*.png"))
    assert len(written) == len(tracks) == FRAMES
    swapped = 0
    for (_, source), path, row in zip(open_frames(extracted / "a.mp4"), written, tracks, strict=True):
        out = cv2.imread(str(path))
        for face in row["faces"]:
            x, y, w, h = (round(v) for v in face["box"])
            region = (slice(max(y, 0), y + h), slice(max(x, 0), x + w))
            assert np.abs(out[region].astype(int) - source[region].astype(int)).mean() > 1.0
            swapped += 1
        assert np.array_equal(out[:12, :12], source[:12, :12]) and np.array_equal(out[-12:, -12:],
                                                                                   source[-12:, -12:])
    assert swapped == convert.summary["faces_swapped"] >= FRAMES - 1
    # evaluate: reconstruction and identity of held-out faces were measured, not skipped
    report = json.loads(evaluate.outputs["numbers"].read_text())
    assert "reconstruction and face identity" not in report["skipped"]
    for side in ("a", "b"):
        rec = report["reconstruction"][side]
        assert rec["faces"] >= 2 and 0.0 < rec["ssim"] <= 1.0 and np.isfinite(rec["l1"])
    assert set(report["identity"]) >= {"a_to_b", "b_to_a"}
    model = json.loads((root / "work" / "model" / "export" / "model.json").read_text())
    if norm != "spade":
        assert model["condition_channels"] == 0 and "condition" not in model
        return
    # the decoders are conditioned on each face set's eyes5 mask, remade at convert and evaluate
    assert model["condition_channels"] == 1
    made_by = model["condition"]["made_by"]
    assert model["condition"]["mask"] == "eyes5"
    assert made_by["a"]["use"] == made_by["b"]["use"] == "eyes5"
    summary = json.loads(convert.outputs["summary"].read_text())
    assert "mask generator 'eyes5'" in summary["condition_map"]
    assert "condition maps: a_to_b mask generator 'eyes5'" in report["reconstruction"]["by"]


def _random_spade_model(root: Path, catalog: Catalog) -> Path:
    """A tiny untrained SPADE model in work/model/export, with the condition record of work/faces."""
    import keras

    from fswap.data.faceset import FaceSet
    from fswap.model.condition import condition_record, write_condition
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "normalization": {"use": "spade"},
             "attention": {"use": "none"}, "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    keras.utils.set_random_seed(0)
    folder = save_networks(build_networks(config), root / "work" / "model" / "export", config)
    sets = {s: FaceSet.open(root / "work" / "faces" / s) for s in ("a", "b")}
    write_condition(folder, condition_record(1, "eyes5", sets))
    return folder


def test_convert_time_map_is_the_extract_mask_in_the_generator_input_geometry(
        extracted: Path, tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """The map convert feeds with each face equals the eyes5 mask extract stored for that frame, warped
    into the pixel grid of the face crop the generator is given (frame → ROI crop, as the engine crops)."""
    from fswap.convert.geometry import roi_matrix
    from fswap.data.faceset import FaceSet
    from fswap.model.condition import ConditionMaps

    root = project(extracted, tmp_path)
    _random_spade_model(root, catalog)
    seen: list[tuple[Any, np.ndarray]] = []
    original = ConditionMaps.for_faces

    def recording(self: ConditionMaps, faces: list[Any], coverage: float) -> np.ndarray:
        maps = original(self, faces, coverage)
        assert coverage == ROI
        seen.extend(zip(faces, maps, strict=True))
        return maps

    monkeypatch.setattr(ConditionMaps, "for_faces", recording)
    body = (f'[convert]\ninput = "{extracted / "a.mp4"}"\noutput = "out"\n'
            'writer = { use = "image_sequence" }\ntracker = { use = "none" }\n')
    run(root, catalog, body, ["convert"])
    faceset = FaceSet.open(root / "work" / "faces" / "a")
    assert len(seen) == len(faceset) >= 6
    for aligned, got in seen:
        record = min(faceset.records, key=lambda r: np.abs(np.subtract(r.detection.box,
                                                                       aligned.detection.box)).sum())
        stored = faceset.load_mask(record, "eyes5")
        to_input = np.vstack([roi_matrix(aligned.matrix, aligned.size, ROI, 64), [0, 0, 1]])
        from_crop = np.linalg.inv(np.vstack([record.matrix, [0, 0, 1]]))  # extract crop → frame
        expected = cv2.warpAffine(stored, (to_input @ from_crop)[:2], (64, 64), flags=cv2.INTER_LINEAR)
        assert got.shape == (64, 64, 1) and got.dtype == np.float32
        assert expected.sum() > 20  # both eyes inside the crop
        # resampling (area vs bilinear) differs only along the rectangles' edges
        assert np.abs(got[..., 0] - expected).mean() < 0.02
        assert abs(float(got.sum()) - float(expected.sum())) < 0.08 * float(expected.sum())


def test_old_conditioned_model_without_the_record_says_what_to_do(extracted: Path, tmp_path: Path,
                                                                  catalog: Catalog) -> None:
    root = project(extracted, tmp_path)
    folder = _random_spade_model(root, catalog)
    meta = json.loads((folder / "model.json").read_text())
    del meta["condition"]
    (folder / "model.json").write_text(json.dumps(meta))
    body = f'[convert]\ninput = "{extracted / "a.mp4"}"\noutput = "out"\n'
    with pytest.raises(InputError, match=r"export.*1-channel condition map.*re-run the train stage"):
        run(root, catalog, body, ["convert"])


def test_validate_refuses_a_condition_map_nothing_provides(tmp_path: Path, catalog: Catalog) -> None:
    body = TRAIN.format(norm="spade").replace('use = "spade"', 'use = "spade"\ncondition_channels = 2')
    (tmp_path / "pipeline.toml").write_text(f'workdir = "work"\n{body}', encoding="utf-8")
    refused = r"\[train.model.normalization\].*condition_channels must be one of 1"
    with pytest.raises(ConfigError, match=refused):
        load_pipeline(tmp_path / "pipeline.toml", catalog=catalog)
