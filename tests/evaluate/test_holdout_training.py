"""Held-out faces chosen by the train stage: the split rule, the record, resume rules, and a real train run
that never sees them (nor lends their parts to look-alike pastes), followed by evaluate using exactly them."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.data.faceset import FaceSet
from fswap.errors import ConfigError, InputError
from fswap.evaluate.holdout import (
    HOLDOUT_FILE,
    HoldoutRecord,
    extend_holdout,
    held_positions,
    plan_holdout,
    read_record,
    select_holdout,
    split_for_training,
    training_set,
    write_record,
)
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.train.toys import make_landmarked_faceset


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


def _names(faceset: FaceSet, count: int, prefix: str) -> FaceSet:
    """`faceset` with `count` records renamed prefix000.png, … (names only: enough for the split rules)."""
    base = faceset.records[0]
    records = [attrs.evolve(base, file=f"{prefix}{i:03d}.png") for i in range(count)]
    return attrs.evolve(faceset, records=records)


@pytest.fixture(scope="module")
def base_set(tmp_path_factory: pytest.TempPathFactory) -> FaceSet:
    return make_landmarked_faceset(tmp_path_factory.mktemp("one") / "s", "astronaut", 1, size=32)


def test_every_nth_face_is_held_out_counting_from_one() -> None:
    assert held_positions(25, 10) == [9, 19]  # the 10th and 20th face
    assert held_positions(9, 10) == []  # a set smaller than n keeps every face for training
    assert held_positions(8, 2) == [1, 3, 5, 7]
    with pytest.raises(ValueError):
        held_positions(5, 0)


def test_plan_record_roundtrip_and_training_subset(tmp_path: Path, base_set: FaceSet) -> None:
    sets = {"a": _names(base_set, 25, "a"), "b": _names(base_set, 7, "b")}
    record = plan_holdout(sets, 10)
    assert record.held == {"a": ("a009.png", "a019.png"), "b": ()}
    assert len(record.trained["a"]) == 23 and "a009.png" not in record.trained["a"]
    assert set(record.trained["a"]) | set(record.held["a"]) == {r.file for r in sets["a"].records}
    path = tmp_path / "model" / HOLDOUT_FILE
    write_record(path, record)
    assert [p.name for p in path.parent.iterdir()] == [HOLDOUT_FILE]  # atomic: no temporary file left
    data = json.loads(path.read_text())
    assert (data["format"], data["every"], data["a"]) == ("fswap-holdout", 10, ["a009.png", "a019.png"])
    assert read_record(path) == record
    kept = training_set(sets["a"], record, "a")
    assert [r.file for r in kept.records] == list(record.trained["a"])
    assert training_set(sets["a"], None, "a") is sets["a"]
    # an older record without the "trained" list is still read
    path.write_text(json.dumps({"every": 10, "a": ["a009.png"], "b": []}))
    old = read_record(path)
    assert old is not None and old.trained is None and old.held["a"] == ("a009.png",)
    path.write_text(json.dumps({"every": "ten", "a": [], "b": []}))
    with pytest.raises(InputError, match=r"holdout\.json: unreadable held-out record .*every must be"):
        read_record(path)


def test_grown_face_set_keeps_the_split_and_splits_only_new_faces(base_set: FaceSet) -> None:
    sets = {"a": _names(base_set, 20, "a"), "b": _names(base_set, 10, "b")}
    record = plan_holdout(sets, 5)
    assert record.held["a"] == ("a004.png", "a009.png", "a014.png", "a019.png")
    # the set gained 12 faces and lost one training face; the new ones are named so they sort first
    grown = [attrs.evolve(base_set.records[0], file=f"new{i:02d}.png") for i in range(12)]
    old = [r for r in sets["a"].records if r.file != "a000.png"]
    now = {"a": attrs.evolve(sets["a"], records=grown + old), "b": sets["b"]}
    extended, added = extend_holdout(record, now, "p.toml [train]")
    assert added == {"a": 12, "b": 0}
    assert extended.held["a"] == record.held["a"] + ("new04.png", "new09.png")  # every 5th of the new ones
    assert extended.held["b"] == record.held["b"]
    assert set(record.trained["a"]) <= set(extended.trained["a"])  # faces trained on stay trained on
    assert "new04.png" not in extended.trained["a"] and "new00.png" in extended.trained["a"]
    # an older record (no "trained" list): every face it does not hold out counts as trained on
    legacy = HoldoutRecord(every=5, held=record.held, trained=None)
    again, added = extend_holdout(legacy, sets, "p.toml [train]")
    assert added == {"a": 0, "b": 0} and again.held == record.held
    # a held-out face that vanished: the evaluation could no longer use it
    lost = {"a": attrs.evolve(sets["a"], records=[r for r in sets["a"].records if r.file != "a009.png"]),
            "b": sets["b"]}
    with pytest.raises(InputError, match=r"p\.toml \[train\]: held-out face 'a009\.png' of face set a is no "
                                         r"longer in .*; restore it, or train afresh with --fresh"):
        extend_holdout(record, lost, "p.toml [train]")


def test_resume_rules(tmp_path: Path, base_set: FaceSet) -> None:
    sets = {"a": _names(base_set, 12, "a"), "b": _names(base_set, 12, "b")}
    path = tmp_path / HOLDOUT_FILE
    record, note = split_for_training(4, sets, path, resuming=False, where="w")
    assert record is not None and record.held["a"] == ("a003.png", "a007.png", "a011.png")
    assert "3 of 12 faces of a" in note
    none, note = split_for_training(0, sets, path, resuming=False, where="w")
    assert none is None and "every face" in note
    # resuming checkpoints that were trained on every face: no split now (it would be a lie)
    none, note = split_for_training(4, sets, path, resuming=True, where="w")
    assert none is None and "resuming without held-out faces" in note and "--fresh" in note
    write_record(path, record)
    kept, note = split_for_training(4, sets, path, resuming=True, where="w")
    assert kept == record and "keeping the recorded split" in note
    for changed in (5, 0):
        message = (rf"w: holdout = {changed}, but .*holdout\.json records that this model's training holds "
                   r"out every 4th face; set holdout = 4 to resume, or train afresh with --fresh")
        with pytest.raises(ConfigError, match=message):
            split_for_training(changed, sets, path, resuming=True, where="w")


def _pipeline(root: Path, body: str) -> Path:
    path = root / "pipeline.toml"
    path.write_text(f'workdir = "work"\n{body}\n', encoding="utf-8")
    return path


def test_holdout_option_is_validated(tmp_path: Path, catalog: Catalog) -> None:
    config = load_pipeline(_pipeline(tmp_path, "[train]"), catalog=catalog).stage("train")
    assert config.holdout == 10
    config = load_pipeline(_pipeline(tmp_path, "[train]\nholdout = 0"), catalog=catalog).stage("train")
    assert config.holdout == 0
    for bad in ("1", "-3"):
        message = (r"\[train\].*holdout must be 0 \(train on every face\) or a whole number ≥ 2 \(hold "
                   rf"out every n-th face\), received {bad}")
        with pytest.raises(ConfigError, match=message):
            load_pipeline(_pipeline(tmp_path, f"[train]\nholdout = {bad}"), catalog=catalog)
    for bad in ('"none"', "true", "2.5"):
        with pytest.raises(ConfigError, match=r"\[train\].*holdout"):
            load_pipeline(_pipeline(tmp_path, f"[train]\nholdout = {bad}"), catalog=catalog)


# -- a real train run -------------------------------------------------------------------------------------

TRAIN = """seed = 1
[train]
iterations = {iterations}
batch_size = 2
holdout = {holdout}
checkpoint_every = 2
preview_every = 100
log_every = 1
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 16
[train.model.attention]
use = "none"
[train.losses.reconstruction]
[train.lookalike]
enabled = true
probability = 0.5
features = "thumbnail"
k = 11
[evaluate]
embedder = {{ use = "toy_thumbnails" }}
holdout_every = 2
max_faces = 8
"""


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


def _face_digests(faceset: FaceSet, files: Any) -> set[str]:
    from fswap.data.pipeline import load_faces

    chosen = attrs.evolve(faceset, records=[r for r in faceset.records if r.file in set(files)])
    return {_digest(img) for img in load_faces(chosen).images}


@pytest.mark.slow
def test_train_never_sees_held_out_faces_and_evaluate_uses_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import fswap.stages.train as train_stage
    from fswap.cli import main
    from fswap.components import ComponentSpec, Kind, Provider

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    toy = ComponentSpec(kind=Kind.EMBEDDER, name="toy_thumbnails", factory="fswap_eval_toys:ThumbEmbedder",
                        config=_NoOptions, summary="test-only")
    catalog.add(toy, Provider("tests", "fswap-tests", "0"))
    faces = tmp_path / "work" / "faces"
    sets = {"a": make_landmarked_faceset(faces / "a", "astronaut", 12, size=64, seed=1),
            "b": make_landmarked_faceset(faces / "b", "grace_hopper", 12, size=64, seed=2)}
    seen: dict[str, set[str]] = {}
    real_maker = train_stage.BatchMaker

    def spy(**kwargs: Any) -> Any:  # what the batches are drawn from
        seen.clear()
        seen.update({s: {_digest(img) for img in f.images} for s, f in kwargs["faces"].items()})
        return real_maker(**kwargs)

    monkeypatch.setattr(train_stage, "BatchMaker", spy)

    def run(iterations: int, holdout: int = 4, stages: tuple[str, ...] = ("train",)) -> Any:
        path = _pipeline(tmp_path, TRAIN.format(iterations=iterations, holdout=holdout))
        ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None,
                         progress=False)
        return run_pipeline(ctx, list(stages))

    results = run(2, stages=("train", "evaluate"))
    model = tmp_path / "work" / "model"
    record = read_record(model / HOLDOUT_FILE)
    assert record is not None and record.every == 4
    assert record.held == {s: (f"{n}_003.png", f"{n}_007.png", f"{n}_011.png")
                           for s, n in (("a", "astronaut"), ("b", "grace_hopper"))}
    assert read_record(model / "export" / HOLDOUT_FILE) == record  # travels with the exported networks
    assert results[0].summary["held_out"] == {"a": 3, "b": 3}
    for side in ("a", "b"):
        held = _face_digests(sets[side], record.held[side])
        trained = _face_digests(sets[side], record.trained[side])
        assert len(held) == 3 and len(trained) == 9
        assert seen[side] == trained and not held & seen[side]  # batches come from training faces only
        # no held-out face of the other set lends its parts to a look-alike paste
        other = "b" if side == "a" else "a"
        report = json.loads((model / "logs" / f"lookalike_{side}.json").read_text())
        neighbours = {n["file"] for face in report["faces"] for n in face["neighbours"]}
        assert len(neighbours) == 9 and not neighbours & set(record.held[other])
        assert {face["source"] for face in report["faces"]} == set(record.trained[side])
    # evaluate uses exactly the recorded faces, not its own every-2nd fallback, and says so
    evaluation = json.loads(results[1].outputs["numbers"].read_text())
    assert evaluation["inputs"]["held_out_evaluated_a"] == 3
    hold = evaluation["inputs"]["holdout"]["a"]
    assert hold["recorded_by_training"] is True and "training never saw them" in hold["description"]
    chosen = select_holdout(sets["a"], "a", every=2, model_folder=model / "export")
    assert [sets["a"].records[i].file for i in chosen.indices] == list(record.held["a"])
    files = [r["file"] for r in evaluation["reconstruction"]["a"]["per_face"]]
    assert files == list(record.held["a"])
    assert [r["file"] for r in evaluation["following"]["a_to_b"]["per_face"]] == list(record.held["a"])
    assert results[1].outputs["comparison"] == tmp_path / "work" / "evaluate" / "comparison.png"
    assert results[1].outputs["comparison"].read_bytes()[:4] == b"\x89PNG"
    line = results[1].headline
    assert line.startswith("A→B: ") and "/3 held-out swaps are closer to B than to A" in line
    # the CLI prints that line below the summary
    cli_pipeline = tmp_path / "cli.toml"
    cli_pipeline.write_text('workdir = "work"\n[evaluate]\nmax_faces = 8\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["evaluate", str(cli_pipeline), "--no-progress"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("[evaluate] A→B: ") and "| B→A: " in line for line in printed)
    assert any(line.strip().startswith("comparison: ") for line in printed)

    # an extended run on a face set grown by 4 faces: the recorded split stays, the 4th new face is held
    # out and the other three are trained on
    extra = make_landmarked_faceset(tmp_path / "extra", "astronaut", 4, size=64, seed=7)
    grown = FaceSet.open(faces / "a")
    for r in extra.records:
        new = attrs.evolve(r, file=f"later_{r.file}")
        shutil.copy(extra.image_path(r), grown.image_path(new))
        grown.records.append(new)
    grown.save()
    (extended,) = run(4)
    assert (extended.summary["start_iteration"], extended.summary["iteration"]) == (2, 4)
    record2 = read_record(model / HOLDOUT_FILE)
    assert record2 is not None and record2.held["b"] == record.held["b"]
    assert record2.held["a"] == record.held["a"] + ("later_astronaut_003.png",)
    assert seen["a"] == _face_digests(grown, record2.trained["a"]) and len(seen["a"]) == 12
    with pytest.raises(ConfigError, match=r"holdout = 5, but .* every 4th face; set holdout = 4"):
        run(5, holdout=5)
    # a held-out face removed from its set
    data = json.loads((faces / "b" / "alignments.json").read_text())
    data["faces"] = [f for f in data["faces"] if f["file"] != "grace_hopper_007.png"]
    (faces / "b" / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"held-out face 'grace_hopper_007\.png' of face set b is no longer"):
        run(5)
    # --fresh forgets the split with the checkpoints (the next run splits the face sets as they are then)
    from fswap.stages.train import clear_training_outputs

    clear_training_outputs(RunContext(pipeline=load_pipeline(_pipeline(tmp_path, TRAIN.format(
        iterations=2, holdout=3)), catalog=catalog), catalog=catalog, pm=None, progress=False, resume=False))
    assert not (model / HOLDOUT_FILE).exists() and not (model / "export").exists()


@attrs.frozen
class _NoOptions:
    """The toy embedder has no options."""


def test_batch_size_error_counts_the_held_out_faces(tmp_path: Path, catalog: Catalog) -> None:
    for side, face in (("a", "astronaut"), ("b", "grace_hopper")):
        make_landmarked_faceset(tmp_path / "work" / "faces" / side, face, 10, size=32)
    path = _pipeline(tmp_path, "[train]\nbatch_size = 10\nholdout = 5")
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    with pytest.raises(ConfigError, match=r"\[train\]: batch_size = 10 does not fit face set a \(8 faces to "
                                          r"train on, 2 more held out by \[train\] holdout\); use an even "
                                          r"batch_size ≤ 8 or extract more faces"):
        run_pipeline(ctx, ["train"])
    assert not (tmp_path / "work" / "model" / HOLDOUT_FILE).exists()  # nothing recorded for a failed start
