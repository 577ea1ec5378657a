"""`leak` (fswap.evaluate.leak): the share of other people's face pixels convert changed, computed from
tracks.json "left" boxes; and end to end: identity selection gives leak = 0 in the evaluate report, and a
pasted-over bystander is caught."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.evaluate.leak import label_mask, leak_scores


def _pair(h: int = 40, w: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return src, src.copy()


def test_counts_changed_pixels_inside_left_boxes_only() -> None:
    src, out = _pair()
    rows = [{"frame": 0, "left": [{"box": [10, 5, 10, 8]}]}]
    assert leak_scores(rows, [(src, out)])["leak"] == 0.0
    out[0:3, 40:50] = 255 - out[0:3, 40:50]  # outside the box: not a leak
    out[5:7, 10:15] = 255 - out[5:7, 10:15]  # 10 of the box's 80 pixels
    section = leak_scores(rows, [(src, out)])
    assert section["leak"] == pytest.approx(10 / 80) and section["pixels"] == 80
    assert section["pixels_changed"] == 10 and section["frames_with_leak"] == [0]
    assert section["faces_left"] == 1


def test_tolerance_and_side_by_side_offset() -> None:
    src, result = _pair()
    result[6, 12] = np.clip(result[6, 12].astype(int) + 5, 0, 255)  # moved by at most 5 levels
    moved = int(np.abs(result[6, 12].astype(int) - src[6, 12].astype(int)).max())
    output = np.concatenate([src, result], axis=1)  # layout side_by_side: source | result
    rows = [{"frame": 0, "left": [{"box": [70, 5, 10, 8]}]}]  # x in output pixels (offset 60)
    assert leak_scores(rows, [(src, output)], layout="side_by_side")["pixels_changed"] == int(moved > 0)
    assert leak_scores(rows, [(src, output)], layout="side_by_side", tolerance=5)["pixels_changed"] == 0


def test_the_html_report_shows_the_leak_and_the_frames_where_it_happened() -> None:
    from fswap.evaluate.report import render_html

    src, out = _pair()
    rows = [{"frame": f, "left": [{"box": [10, 10, 10, 8]}]} for f in (0, 1)]
    painted = out.copy()
    painted[10:18, 10:15] = 255 - painted[10:18, 10:15]
    section = leak_scores(rows, [(src, out), (src, painted)])
    page = render_html({"inputs": {}, "leak": section}, {})
    assert "<h2>Leak: other people's faces left unchanged</h2>" in page
    assert "<th>leak (share of pixels changed)</th><td>0.25</td>" in page  # 40 of 160 pixels
    assert "<th>frames with a leak</th><td>1</td>" in page
    unmeasured = render_html({"inputs": {}, "leak": {"leak": None, "why": "no [convert] section"}}, {})
    assert "not measured: no [convert] section" in unmeasured and "pixels changed" not in unmeasured
    assert "Leak" not in render_html({"inputs": {}}, {})


def test_the_label_corner_is_excluded() -> None:
    src = np.full((120, 200, 3), 128, np.uint8)
    label = {"enabled": True, "text": "SYNTHETIC • fswap", "corner": "bottom_right"}
    from fswap.video.provenance import draw_label

    out = draw_label(src, label["text"], label["corner"])
    mask = label_mask(src.shape, label)
    assert mask is not None and mask.any() and not mask[:60].any()
    rows = [{"frame": 0, "left": [{"box": [0, 0, 200, 120]}]}]
    section = leak_scores(rows, [(src, out)], label=label)
    assert section["pixels_changed"] == 0 and section["pixels"] == 200 * 120 - int(mask.sum())
    assert leak_scores(rows, [(src, out)])["pixels_changed"] > 0  # without the exclusion it would count
    assert label_mask(src.shape, {"enabled": False}) is None


@pytest.mark.slow
def test_identity_selection_has_no_leak_and_a_painted_bystander_is_caught(tmp_path: Path) -> None:
    from fswap_eval_toys import make_faceset

    from fswap import samples_scenes as scenes
    from fswap.catalog import Catalog
    from fswap.config import load_pipeline
    from fswap.context import RunContext
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager
    from fswap.run import run_pipeline
    from fswap.samples import public_domain_face

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), tmp_path / "model", config)
    make_faceset(tmp_path / "work" / "faces" / "a", "astronaut", 4, seed=1)
    make_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", 4, seed=2)
    cv2.imwrite(str(tmp_path / "a.png"), public_domain_face("astronaut"))
    scene = scenes.crossing(12)  # faces move a quarter of their size per frame: one track each
    scene.write_images(tmp_path / "clip")
    path = tmp_path / "pipeline.toml"
    path.write_text('workdir = "work"\n[convert]\ninput = "clip"\noutput = "out"\nmodel = "model"\n'
                    'reference = "a.png"\n[convert.embedder]\nuse = "dlib_resnet"\n'
                    '[convert.writer]\nuse = "image_sequence"\n'
                    '[evaluate]\nmodel = "no-model"\nembedder = { use = "dlib_resnet" }\n', encoding="utf-8")
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    convert, evaluate = run_pipeline(ctx, ["convert", "evaluate"])
    assert convert.summary["tracks_swapped"] == 1 and convert.summary["tracks_left"] == 1
    report = json.loads(evaluate.outputs["numbers"].read_text())
    leak = report["leak"]
    assert leak["leak"] == 0.0 and leak["faces_left"] == 12 and leak["pixels"] > 12 * 40 * 40
    assert leak["tolerance"] == 0 and evaluate.summary["leak"] == 0.0
    # paint over the bystander (person B) in one output frame: evaluate must see it
    record = json.loads((tmp_path / "work" / "convert" / "tracks.json").read_text())
    frame_file = sorted((tmp_path / "out").glob("*.png"))[2]
    image = cv2.imread(str(frame_file))
    x, y, w, h = (round(v) for v in record["frames"][2]["left"][0]["box"])
    image[y:y + h // 2, x:x + w] = 0
    cv2.imwrite(str(frame_file), image)
    (again,) = run_pipeline(ctx, ["evaluate"])
    painted = json.loads(again.outputs["numbers"].read_text())["leak"]
    assert painted["frames_with_leak"] == [2]
    assert painted["leak"] == pytest.approx(painted["pixels_changed"] / painted["pixels"])
    assert 0.5 * (h // 2) * w / painted["pixels"] < painted["leak"] < 1.5 * (h // 2) * w / painted["pixels"]
