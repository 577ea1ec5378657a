"""The evaluate stage end to end: face sets, a tiny random model, convert, then `evaluate` (and its CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import cv2
import numpy as np
import pytest
from fswap_eval_toys import make_faceset

from fswap.catalog import Catalog
from fswap.components import ComponentSpec, Kind, Provider
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.errors import ConfigError, StageError
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.samples import make_face_video
from fswap.stages.evaluate_config import EvaluateConfig, with_evaluate_section


@attrs.frozen
class NoOptions:
    """The toy embedder has no options."""


TOY = ComponentSpec(kind=Kind.EMBEDDER, name="toy_thumbnails", factory="fswap_eval_toys:ThumbEmbedder",
                    config=NoOptions, summary="test-only grey-thumbnail embedder")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    catalog.add(TOY, Provider("tests", "fswap-tests", "0"))
    return catalog


def _pipeline(root: Path, body: str) -> Path:
    path = root / "pipeline.toml"
    path.write_text(f'workdir = "work"\n{body}\n', encoding="utf-8")
    return path


def test_config_defaults_and_checks(tmp_path: Path, catalog: Catalog) -> None:
    path = _pipeline(tmp_path, '[evaluate]\nembedder = { use = "toy_thumbnails" }\nholdout_every = 5')
    config = load_pipeline(path, catalog=catalog).stage("evaluate")
    assert isinstance(config, EvaluateConfig)
    assert config.holdout_every == 5 and config.detector is None and config.tracks == "auto"
    bad = _pipeline(tmp_path, '[evaluate]\nembedder = { use = "toy_thumbnails" }\nempty_mask_below = 0.9\n'
                              'full_mask_above = 0.5')
    with pytest.raises(ConfigError, match=r"\[evaluate\]: empty_mask_below \(0.9\) must be smaller"):
        load_pipeline(bad, catalog=catalog)
    with pytest.raises(ConfigError, match=r"\[evaluate\].*holdout_every must be ≥ 2, received 1"):
        load_pipeline(_pipeline(tmp_path, "[evaluate]\nholdout_every = 1"), catalog=catalog)


def test_nothing_to_evaluate_is_a_stage_error(tmp_path: Path, catalog: Catalog) -> None:
    make_faceset(tmp_path / "work" / "faces" / "a", "astronaut", 4)
    make_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", 4)
    path = _pipeline(tmp_path, '[evaluate]\nembedder = { use = "toy_thumbnails" }')
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    with pytest.raises(StageError, match="nothing to evaluate: no exported model"):
        run_pipeline(ctx, ["evaluate"])


@pytest.mark.slow
def test_convert_then_evaluate_writes_the_report(tmp_path: Path, catalog: Catalog) -> None:
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    root = tmp_path
    make_face_video(root / "in.mp4", frames=12, size=(320, 180), fps=20, motion="pan")
    faces_a = make_faceset(root / "work" / "faces" / "a", "astronaut", 12, seed=1)
    faces_b = make_faceset(root / "work" / "faces" / "b", "grace_hopper", 12, seed=2)
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    model = parse_model_config(table, catalog=catalog)
    import keras

    keras.utils.set_random_seed(0)  # the re-detection below finds faces in this random model's output
    networks = build_networks(model)
    save_networks(networks, root / "work" / "model" / "export", model)
    path = _pipeline(root, '[convert]\ninput = "in.mp4"\n[evaluate]\nembedder = { use = "toy_thumbnails" }\n'
                           'detector = { use = "mtcnn" }\naligner = { use = "umeyama5" }\nholdout_every = 4\n'
                           'identity_every = 3\nexamples = 2')
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    results = run_pipeline(ctx, ["convert", "evaluate"])
    result = results[-1]
    report = json.loads(result.outputs["numbers"].read_text())
    assert report["inputs"]["video"].endswith("in_a_to_b.mp4")
    assert report["inputs"]["held_out_evaluated_a"] == 3  # faces 0, 4, 8
    assert "toy_thumbnails" in report["identity"]["by"]
    sets = {"a": faces_a, "b": faces_b}
    held = {s: [sets[s].records[i].file for i in (0, 4, 8)] for s in sets}  # holdout_every = 4
    for direction in ("a_to_b", "b_to_a"):
        sec = report["identity"][direction]
        rows = sec["per_face"]
        assert sec["faces"] == 3 and [r["file"] for r in rows] == held[direction[0]]
        to_t, to_s = (np.array([r[k] for r in rows]) for k in ("to_target", "to_source"))
        assert sec["closer_to_target"] == pytest.approx(float(np.mean(to_t < to_s)))
        assert sec["distance_to_target"] == pytest.approx(float(to_t.mean()))
        # the references are wired to the right people: real source faces sit nearer their own centroid
        base = sec["baseline"]
        assert base["real_source_to_source"] < base["real_source_to_target"]
    # reconstruction, recomputed here: the held-out crops' central ROI (as [convert] feeds the generator:
    # its default roi_coverage 0.875, since [evaluate] sets none) at 64², through the encoder and that
    # side's own decoder, scored with plain numpy L1 and scikit-image SSIM against the input
    from skimage.metrics import structural_similarity

    from fswap.model.generator import FaceGenerator

    margin = int(96 * (1 - 0.875))
    for side in ("a", "b"):
        crops = [cv2.imread(str(sets[side].faces_dir / f))[margin:96 - margin, margin:96 - margin]
                 for f in held[side]]
        inputs = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_AREA) for c in crops])
        outputs, _alpha = FaceGenerator(networks.encoder, networks.decoders[side])(inputs)
        x, y = inputs / 255.0, np.asarray(outputs) / 255.0
        rec = report["reconstruction"][side]
        assert rec["faces"] == 3 and [r["file"] for r in rec["per_face"]] == held[side]
        # one 8-bit level on one pixel moves L1 by 3e-7: abs 1e-4 allows output round-off, not other faces
        assert rec["l1"] == pytest.approx(float(np.mean(np.abs(x - y))), abs=1e-4)
        ssim = [structural_similarity(p, q, data_range=1.0, channel_axis=-1)
                for p, q in zip(x, y, strict=True)]
        assert rec["ssim"] == pytest.approx(float(np.mean(ssim)), abs=1e-3)
    temporal = report["temporal"]
    assert temporal["tracks"] == 1 and temporal["per_track"][0]["frames"] >= 10
    assert "the convert stage's record" in temporal["by"]  # convert wrote tracks.json; auto uses it
    # box jitter recomputed from that record: std over time of the second differences of (centre, size) of
    # the scored track (the clip's pan turns back fast near its end, where the tracker starts a second,
    # 2-frame track: too short to score)
    record = json.loads((root / "work" / "convert" / "tracks.json").read_text())
    scored = temporal["per_track"][0]
    rows = [(f["frame"], face["box"]) for f in record["frames"] for face in f["faces"]
            if face["track_id"] == scored["track_id"]]
    assert [frame for frame, _ in rows] == list(range(scored["first_frame"], scored["last_frame"] + 1))
    boxes = np.array([(x + w / 2, y + h / 2, w, h) for _, (x, y, w, h) in rows])
    d2 = boxes[2:] - 2 * boxes[1:-1] + boxes[:-2]
    jitter = float(np.mean(np.sqrt(np.mean(d2**2, axis=0))))
    assert temporal["box_jitter_px"] == pytest.approx(jitter, rel=1e-9)
    size = float(np.mean(np.sqrt(boxes[:, 2] * boxes[:, 3])))
    assert temporal["box_jitter_relative"] == pytest.approx(jitter / size, rel=1e-9)
    assert temporal["colour_flicker"] > 0  # measured on the pasted faces, which change frame to frame
    assert report["identity"]["video"]["frames"] == 4  # frames 0, 3, 6, 9
    assert set(report["masks"]["groups"]) == {"reconstruction A", "swap A→B", "reconstruction B", "swap B→A"}
    assert report["skipped"] == {}
    page = result.outputs["report"].read_text()
    assert "Temporal stability" in page and page.count("data:image/png;base64,") >= 5
    assert result.summary["a_to_b_closer_to_target"] == pytest.approx(report["identity"]["a_to_b"]
                                                                      ["closer_to_target"], abs=1e-3)
    # the same video with faces re-detected instead of the record
    text = path.read_text().replace("identity_every = 3", 'identity_every = 3\ntracks = "redetect"')
    path.write_text(text)
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    (again,) = run_pipeline(ctx, ["evaluate"])
    redetected = json.loads(again.outputs["numbers"].read_text())["temporal"]
    assert "re-detection with detector 'mtcnn'" in redetected["by"]
    assert redetected["tracks"] == 1 and redetected["per_track"][0]["frames"] >= 10


def test_with_evaluate_section_fills_defaults(tmp_path: Path, catalog: Catalog) -> None:
    body = '[convert]\ninput = "in.mp4"\n[evaluate]\nembedder = { use = "toy_thumbnails" }'
    path = _pipeline(tmp_path, body)
    pipeline = load_pipeline(path, catalog=catalog)
    assert with_evaluate_section(pipeline, catalog) is pipeline
    bare = attrs.evolve(pipeline, stages={"convert": pipeline.stage("convert")})
    if "dlib_resnet" in catalog.names(Kind.EMBEDDER):
        filled = with_evaluate_section(bare, catalog)
        assert filled.stage("evaluate").embedder.name == "dlib_resnet"
    else:
        with pytest.raises(ConfigError, match="no embedder named 'dlib_resnet'"):
            with_evaluate_section(bare, catalog)


def test_cli_evaluate_reports_a_missing_face_set_in_one_line(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, '[convert]\ninput = "in.mp4"')
    proc = subprocess.run([sys.executable, "-m", "fswap.cli", "evaluate", str(path), "--no-progress"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fswap: error:")
    assert "faces/a" in lines[0] or "dlib_resnet" in lines[0]
