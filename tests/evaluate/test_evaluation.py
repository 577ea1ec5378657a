"""Held-out split, face-level sections (reconstruction, identity, masks) and the report files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from fswap_eval_toys import CopyGenerator, SwapToGenerator, ThumbEmbedder, make_faceset

from fswap.errors import InputError
from fswap.evaluate import faces as fx
from fswap.evaluate.evaluation import EvaluationInputs, Limits, evaluate
from fswap.evaluate.holdout import every_nth, select_holdout, training_indices
from fswap.evaluate.report import json_safe, write_report


def test_every_nth_split_is_deterministic_and_complementary() -> None:
    assert every_nth(25, 10) == [0, 10, 20]
    assert every_nth(25, 10, offset=3) == [3, 13, 23]
    assert sorted(every_nth(25, 10) + training_indices(25, 10)) == list(range(25))
    with pytest.raises(ValueError):
        every_nth(5, 0)


def test_holdout_uses_the_train_stage_record(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 6)
    model = tmp_path / "model"
    model.mkdir()
    plain = select_holdout(a, "a", every=3, model_folder=model)
    assert plain.indices == (0, 3) and not plain.recorded_by_training
    assert "training saw these faces" in plain.description
    (model / "holdout.json").write_text(json.dumps({"a": [a.records[5].file, a.records[1].file], "b": []}))
    (model / "export").mkdir()
    rec = select_holdout(a, "a", every=3, model_folder=model / "export")  # found beside the export too
    assert rec.indices == (5, 1) and rec.recorded_by_training
    (model / "holdout.json").write_text(json.dumps({"a": ["nope.png"]}))
    with pytest.raises(InputError, match=r"held-out face 'nope\.png' is not in the face set"):
        select_holdout(a, "a", every=3, model_folder=model)


def test_identical_reconstruction_scores_perfectly(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 3)
    faces = fx.load_faces(a, [0, 1, 2])
    out, _alpha = fx.run_generator(CopyGenerator(), faces, batch_size=2)
    scores = fx.reconstruction_scores(faces, out, ["x", "y", "z"])
    assert scores["ssim"] == pytest.approx(1.0) and scores["l1"] == 0.0
    assert scores["identical_faces"] == 3 and math.isinf(scores["psnr"])
    assert json_safe(scores)["psnr"] is None


def _inputs(tmp_path: Path, generators: dict) -> EvaluationInputs:
    sets = {"a": make_faceset(tmp_path / "a", "astronaut", 8, seed=1),
            "b": make_faceset(tmp_path / "b", "grace_hopper", 8, seed=2)}
    holdouts = {s: select_holdout(f, s, every=4, model_folder=None) for s, f in sets.items()}
    reference = {s: training_indices(len(f), 4) for s, f in sets.items()}
    return EvaluationInputs(sets=sets, holdouts=holdouts, reference=reference, embedder=ThumbEmbedder(),
                            embedder_label="toy thumbnails", generators=generators, resolution=64,
                            model_label="fake model", video=None)


def test_swap_to_the_other_identity_is_closer_to_it(tmp_path: Path) -> None:
    probe_a = make_faceset(tmp_path / "pa", "astronaut", 1, seed=9)
    probe_b = make_faceset(tmp_path / "pb", "grace_hopper", 1, seed=9)
    swap = {"a_to_b": SwapToGenerator(probe_b.load_image(probe_b.records[0])),
            "b_to_a": SwapToGenerator(probe_a.load_image(probe_a.records[0]))}
    copy = {"a_to_b": CopyGenerator(), "b_to_a": CopyGenerator()}
    full_crop = Limits(examples=2, roi_coverage=0.995)  # ROI = the whole crop: the fakes return whole crops
    good, images = evaluate(_inputs(tmp_path / "good", swap), full_crop)
    bad, _ = evaluate(_inputs(tmp_path / "bad", copy), full_crop)
    for direction in ("a_to_b", "b_to_a"):
        g, b = good["identity"][direction], bad["identity"][direction]
        # a real swap lands near the target identity, a non-swap stays with the source
        assert g["closer_to_target"] == 1.0 and b["closer_to_target"] == 0.0
        assert g["distance_to_target"] < g["distance_to_source"]
        assert b["distance_to_source"] < b["distance_to_target"]
        # an unchanged face scores exactly like the real source faces; a swapped one is far from them
        assert b["distance_to_source"] == pytest.approx(b["baseline"]["real_source_to_source"], rel=0.05)
        assert g["distance_to_source"] > 3 * b["distance_to_source"]
        base = g["baseline"]
        assert base["real_target_to_target"] < base["real_source_to_target"]
    # the copy model reconstructs perfectly; the fixed-face model only approximately (pose differs)
    assert bad["reconstruction"]["a"]["ssim"] == pytest.approx(1.0)
    assert good["reconstruction"]["a"]["ssim"] < 0.95
    masks = bad["masks"]["groups"]
    assert masks["reconstruction A"]["mean_alpha"] == pytest.approx(0.7)
    assert masks["reconstruction A"]["empty_fraction"] == 0.0
    assert good["masks"]["groups"]["swap A→B"]["full_fraction"] == 1.0
    assert {"examples", "reconstruction", "identity_a_to_b", "identity_b_to_a", "masks"} <= set(images)
    assert "temporal stability" in good["skipped"]


def test_report_files_are_self_contained_and_valid(tmp_path: Path) -> None:
    copy = {"a_to_b": CopyGenerator(), "b_to_a": CopyGenerator()}
    result, images = evaluate(_inputs(tmp_path, copy), Limits(examples=2))
    out = tmp_path / "evaluate"
    old = os.umask(0o022)
    try:
        json_path, html_path = write_report(out, result, images)
    finally:
        os.umask(old)
    data = json.loads(json_path.read_text())  # strict JSON: no NaN/Infinity tokens
    assert "NaN" not in json_path.read_text() and "Infinity" not in json_path.read_text()
    assert data["format"] == "fswap-evaluation"
    assert data["identity"]["by"] == "toy thumbnails"
    assert data["inputs"]["holdout"]["a"]["recorded_by_training"] is False
    page = html_path.read_text()
    for heading in ("Identity transfer", "Reconstruction on held-out faces", "Mask sanity", "Examples"):
        assert heading in page
    assert page.count("data:image/png;base64,") + page.count("data:image/jpeg;base64,") == len(images)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"]  # no temp files left
    assert html_path.stat().st_mode & 0o777 == json_path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
