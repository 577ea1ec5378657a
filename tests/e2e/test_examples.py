"""Every example runs in a tiny configuration, so none rots.

* Example pipelines (examples/*/pipeline.toml) pass `fswap validate` as shipped, and a shrunken copy of
  each — the same tables with tiny sizes and iteration counts and synthetic input videos — runs its stages
  through fswap.api.
* The Python-API scripts (examples/python-api/*.py) run with --tiny and their JSON output is checked.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from fswap import api
from fswap.errors import ConfigError
from fswap.samples import make_face_video

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SCRIPTS = EXAMPLES / "python-api"
PIPELINES = sorted(EXAMPLES.glob("*/pipeline.toml"))
TINY_MODEL = {"resolution": 64, "width_divisor": 8}
TINY_TRAIN = {"iterations": 2, "batch_size": 2, "checkpoint_every": 2, "preview_every": 2, "log_every": 1,
              "backup_every": 0}


def fswap_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fswap.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


def run_script(name: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one example script; its stdout is one JSON document."""
    proc = subprocess.run([sys.executable, str(SCRIPTS / name), *args], capture_output=True, text=True,
                          timeout=600, cwd=REPO, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def shrink(data: dict[str, Any], inputs: dict[str, Path]) -> dict[str, Any]:
    """A tiny copy of a pipeline: synthetic inputs, 2 iterations of a narrow 64×64 model, no downloads."""
    tiny = copy.deepcopy(data)
    if "extract" in tiny:
        tiny["extract"]["every_n_frames"] = 1
        for side in ("a", "b"):
            tiny["extract"][side]["input"] = str(inputs[side])
    if "train" in tiny:
        tiny["train"].update(TINY_TRAIN)
        tiny["train"]["model"].update(TINY_MODEL)
        vgg = tiny["train"].get("losses", {}).get("vggface")
        if vgg is not None:  # the VGGFace2 weights are a download: use the ONet that ships in mtcnn
            vgg["backbone"] = "mtcnn_onet"
            vgg.pop("weights", None)
    if "convert" in tiny:
        tiny["convert"]["input"] = str(inputs["a"])
    return tiny


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "a": make_face_video(folder / "a.mp4", face="astronaut", frames=6, size=(320, 180), seed=0).path,
        "b": make_face_video(folder / "b.mp4", face="grace_hopper", frames=6, size=(320, 180), seed=1).path,
    }


# --------------------------------------------------------------------------------------------------
# pipelines
# --------------------------------------------------------------------------------------------------


def test_every_documented_example_has_a_pipeline() -> None:
    names = {p.parent.name for p in PIPELINES}
    assert {"research", "part-swap"} <= names


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: p.parent.name)
def test_example_pipeline_validates_as_shipped(pipeline: Path) -> None:
    proc = fswap_cli("validate", str(pipeline))
    assert proc.returncode == 0, proc.stderr
    assert "valid; stages:" in proc.stdout


def test_research_pipeline_is_the_research_recipe() -> None:
    config = api.load(EXAMPLES / "research" / "pipeline.toml").stage_config("train")
    assert config.iterations >= 18000
    assert (config.model.resolution, config.model.capacity) == (128, "standard")
    losses = {c.name: c.config for c in config.losses}
    assert losses["vggface"].weight > 0 and losses["vggface"].tap_weights == (0.01, 0.1, 0.3, 0.1)
    assert {"reconstruction", "edge", "eyes", "mixup_lsgan"} <= set(losses)


def test_part_swap_pipeline_uses_part_mode_with_68_landmarks() -> None:
    config = api.load(EXAMPLES / "part-swap" / "pipeline.toml").stage_config("convert")
    assert config.parts is not None and config.parts.name == "parts68"
    assert set(config.parts.config.parts) == {"eyes", "mouth"}
    assert config.aligner.name == "dlib68"


@pytest.mark.slow
def test_research_pipeline_runs_shrunken(tmp_path: Path, clips: dict[str, Path]) -> None:
    data = tomllib.loads((EXAMPLES / "research" / "pipeline.toml").read_text(encoding="utf-8"))
    pipe = api.from_dict(shrink(data, clips), base_dir=tmp_path)
    assert pipe.stage_config("train").model.capacity == "standard"  # only the widths were shrunk
    results = {r.stage: r for r in pipe.run("extract", "train", "convert", progress=False)}
    assert results["extract"].summary["a.faces_in_set"] == 6
    train_summary = json.loads((pipe.workdir.model / "train_summary.json").read_text())
    assert train_summary["backbones"] == {"vggface": "mtcnn_onet"}
    assert results["train"].summary["iteration"] == 2
    assert results["convert"].summary["faces_swapped"] == 6
    assert Path(results["convert"].summary["output"]).stat().st_size > 0


@pytest.mark.slow
def test_part_swap_pipeline_runs_shrunken(tmp_path: Path, clips: dict[str, Path]) -> None:
    data = tomllib.loads((EXAMPLES / "part-swap" / "pipeline.toml").read_text(encoding="utf-8"))
    pipe = api.from_dict(shrink(data, clips), base_dir=tmp_path)
    results = {r.stage: r for r in pipe.run(progress=False)}
    part_masks = sorted((pipe.workdir.root / "faces" / "a" / "masks" / "parts68").glob("*.png"))
    assert len(part_masks) == 6
    mask = cv2.imread(str(part_masks[0]), cv2.IMREAD_GRAYSCALE)
    assert 0.01 < np.count_nonzero(mask > 127) / mask.size < 0.4  # eyes + mouth, not the whole face
    convert = results["convert"].summary
    assert convert["faces_swapped"] == 6 and convert["frames_without_face"] == 0
    reader = cv2.VideoCapture(convert["output"])
    ok, frame = reader.read()
    reader.release()
    assert ok and frame.shape[1] == 3 * 320  # triple layout: source | result | mask


# --------------------------------------------------------------------------------------------------
# Python-API scripts
# --------------------------------------------------------------------------------------------------


def test_detect_align_video_tiny(tmp_path: Path) -> None:
    out = run_script("detect_align_video.py", "--tiny", "--out", str(tmp_path))
    assert out["faces"] == 6
    assert out["max_eye_error_px"] < 4.0  # MTCNN's eye points against the synthetic clip's ground truth
    crops = sorted((tmp_path / "faces").glob("*.png"))
    assert len(crops) == 6
    assert cv2.imread(str(crops[0])).shape == (256, 256, 3)
    records = json.loads((tmp_path / "faces.json").read_text())
    assert [r["frame"] for r in records] == list(range(6))
    assert np.asarray(records[0]["matrix"]).shape == (2, 3)


def test_eye_masks_tiny_via_environment(tmp_path: Path) -> None:
    out = run_script("eye_masks.py", "--out", str(tmp_path), env={"FSWAP_EXAMPLES_TINY": "1"})
    faces = {row["face"]: row for row in out["faces"]}
    assert set(faces) == {"astronaut_0", "grace_hopper_0"}
    for stem, row in faces.items():
        for mask_name in ("eyes5", "eyes68"):
            mask = cv2.imread(str(tmp_path / "masks" / mask_name / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
            assert set(np.unique(mask)) == {0, 255}  # binary
            upper, lower = mask[:128], mask[128:]
            assert np.count_nonzero(upper) > 0 and np.count_nonzero(lower) == 0  # eyes sit in the upper half
        assert 0.005 < row["eyes5_coverage"] < 0.2 and 0.005 < row["eyes68_coverage"] < 0.2
        assert row["iou"] > 0.3  # the two constructions agree on where the eyes are


def test_convert_tiny(tmp_path: Path) -> None:
    out = run_script("convert.py", "--tiny", "--out", str(tmp_path))
    assert out["frames"] == 6 and out["faces_swapped"] == 6
    output = Path(out["output"])
    assert output.is_file() and output.parent == tmp_path / "work" / "convert"
    tracks = json.loads(Path(out["tracks"]).read_text())
    assert tracks["output"] == out["output"] and tracks["layout"] == "side_by_side"
    assert [f["frame"] for f in tracks["frames"]] == list(range(6))
    assert [len(f["faces"]) for f in tracks["frames"]] == [1] * 6  # the clip's one face, every frame
    reader = cv2.VideoCapture(str(output))
    shapes = []
    while (frame := reader.read()[1]) is not None:
        shapes.append(frame.shape)
    reader.release()
    assert shapes == [(180, 2 * 320, 3)] * 6  # source | result


@pytest.mark.slow
def test_train_tiny(tmp_path: Path) -> None:
    out = run_script("train.py", "--tiny", "--out", str(tmp_path))
    assert out["faces"] == {"a": 6, "b": 6}
    assert out["iteration"] == 2
    assert (Path(out["export"]) / "model.json").is_file()
    previews = sorted(p.name for p in Path(out["previews"]).glob("preview_*.png"))
    assert previews == ["preview_00000002.png"]  # preview_every = 2 in the tiny settings


@pytest.mark.slow
def test_all_in_one_tiny(tmp_path: Path) -> None:
    out = run_script("all_in_one.py", "--tiny", "--out", str(tmp_path))
    assert list(out) == ["extract", "train", "convert", "evaluate"]
    assert out["convert"]["faces_swapped"] == 6
    report = json.loads(Path(out["evaluate"]["outputs"]["numbers"]).read_text())
    # the evaluation is of what the earlier stages made: their face sets, exported model and video
    inputs = report["inputs"]
    assert inputs["faces_a"] == out["extract"]["outputs"]["faceset a"]
    assert inputs["faces_in_a"] == out["extract"]["a.faces_in_set"] == 6
    assert inputs["faces_in_b"] == out["extract"]["b.faces_in_set"] == 6
    assert inputs["video"] == out["convert"]["output"]
    assert out["train"]["outputs"]["export"] in inputs["model"]
    assert report["skipped"] == {}  # every section ran with the default [evaluate] table
    assert report["identity"]["by"].startswith("embedder 'dlib_resnet'")
    assert report["temporal"]["tracks"] == 1 and report["temporal"]["faces_seen"] == 6
    for direction in ("a_to_b", "b_to_a"):
        base = report["identity"][direction]["baseline"]  # dlib's embedder tells the two people apart
        assert base["real_source_to_source"] < 0.6 < base["real_source_to_target"], base
        assert out["evaluate"][f"{direction}_closer_to_target"] == pytest.approx(
            report["identity"][direction]["closer_to_target"], abs=1e-3)
    for side in ("a", "b"):
        assert report["reconstruction"][side]["faces"] == report["inputs"][f"held_out_evaluated_{side}"] >= 1
    assert Path(out["evaluate"]["outputs"]["report"]).stat().st_size > 1000


def test_scripts_without_inputs_say_what_is_missing() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPTS / "train.py")], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 2 and "--tiny" in proc.stderr


# --------------------------------------------------------------------------------------------------
# fswap.api, which the scripts use
# --------------------------------------------------------------------------------------------------


def test_api_from_dict_validates_like_the_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[train.model\].*resolution"):
        api.from_dict({"train": {"model": {"resolution": 65}}}, base_dir=tmp_path)
    pipe = api.from_dict({"workdir": "w", "train": {"iterations": 5}}, base_dir=tmp_path)
    assert pipe.stages == ["train"]
    assert pipe.workdir.root == tmp_path.resolve() / "w"
    assert pipe.stage_config("train").iterations == 5 and pipe.stage_config("convert") is None


def test_api_build_checks_options() -> None:
    with pytest.raises(ConfigError, match="min_face_size must be ≥ 8, received -1"):
        api.build("detector", "mtcnn", min_face_size=-1)
    with pytest.raises(ConfigError, match="Did you mean 'eyes5'"):
        api.choice("mask_generator", "eyes")
    mask = api.build("mask_generator", "eyes5", half_width=0.1)
    assert mask.config.half_width == 0.1


# --------------------------------------------------------------------------------------------------
# documentation that points at the examples
# --------------------------------------------------------------------------------------------------

DOCS = REPO / "docs"
LINKED_PAGES = [DOCS / "index.md", DOCS / "getting-started.md", DOCS / "python-api.md",
                EXAMPLES / "research" / "README.md", EXAMPLES / "python-api" / "README.md",
                EXAMPLES / "part-swap" / "README.md", EXAMPLES / "notebooks" / "README.md"]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [m for m in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in m]


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    for link in _links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name}: broken link {link}"
        if anchor and path.suffix == ".md":
            headings = re.findall(r"^#+\s+(.*)$", path.read_text(encoding="utf-8"), flags=re.M)
            slugs = {_slug(h) for h in headings}
            assert anchor in slugs, f"{page.name}: no heading for #{anchor} in {target}"


def test_docs_index_links_every_page() -> None:
    linked = {(DOCS / link.partition("#")[0]).resolve() for link in _links(DOCS / "index.md")}
    pages = {p.resolve() for p in DOCS.glob("*.md") if p.name != "index.md"}
    pages |= {p.resolve() for p in (DOCS / "plugins").glob("*.md")}
    missing = sorted(p.name for p in pages - linked)
    assert not missing, f"add these pages to docs/index.md: {missing}"


def test_api_validation_never_imports_tensorflow() -> None:
    code = ("import sys; from fswap import api; "
            "api.load('examples/research/pipeline.toml'); api.choice('detector', 'mtcnn'); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'cv2') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
