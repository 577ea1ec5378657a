"""Property-based tests (hypothesis) of the two parsers of user-editable files: pipeline.toml and a face
set's alignments.json. Whatever the content, the result is a value or one FswapError line naming the file —
never another exception, never a path outside the face set."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fswap.catalog import Catalog
from fswap.components import Detection
from fswap.config import load_pipeline
from fswap.data.faceset import ALIGNMENTS, FaceRecord, FaceSet
from fswap.errors import ConfigError, InputError
from fswap.plugins import make_plugin_manager

PROFILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


# -- pipeline.toml as text ------------------------------------------------------------------------------

VALID_TOML = """workdir = "work"
seed = 0
[extract]
every_n_frames = 1
policy = "single"
[extract.a]
input = "a.mp4"
[extract.detector]
use = "mtcnn"
[train]
iterations = 200
batch_size = 8
[train.model]
resolution = 64
[convert]
input = "a.mp4"
direction = "a_to_b"
"""

_fragments = st.sampled_from([
    "", "\n", "[", "]", "[[x]]", "=", '"', "'''", "#", "1e999", "nan", "inf", "-0", "true", "[]", "{}",
    "\x00", "é", "[train.model]\nresolution = 96\n", "[extract.zzz]\n", "batch_size = -2\n",
    'use = "nope"\n', "every_n_frames = 1.5\n", "workdir = 3\n", "[convert]\noutput = \"a.mp4\"\n",
])


@PROFILE
@given(data=st.data())
def test_pipeline_text_gives_a_config_or_one_config_error(
    tmp_path: Path, catalog: Catalog, data: Any
) -> None:
    text = VALID_TOML
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.one_of(_fragments, st.text(max_size=12)))
        cut = data.draw(st.integers(0, 6))
        text = text[:at] + piece + text[at + cut:]
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_pipeline(path, catalog=catalog)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message.strip() and message.startswith("pipeline.toml")
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            assert "line" in message and "column" in message  # syntax errors say where


# -- alignments.json ------------------------------------------------------------------------------------


def _valid_document(faces: int = 2) -> dict[str, Any]:
    detection = Detection(box=(10, 12, 80, 90), confidence=0.98,
                          landmarks=[[30, 40], [60, 40], [45, 60], [33, 80], [58, 80]])
    records = [
        FaceRecord(file=f"{i:06d}_0.png", source="in.mp4", frame=i, face_index=0, detection=detection,
                   landmarks=detection.landmarks, matrix=[[1, 0, -10], [0, 1, -12]])
        for i in range(faces)
    ]
    faceset = FaceSet(path=Path("unused"), size=256, masks=["eyes5"], records=records,
                      meta={"extract": {"done": [[0, faces - 1]]}})
    return faceset.to_json()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10) | st.sampled_from(["../../etc/passwd", "/abs.png", "a/b.png", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _check_open(folder: Path) -> None:
    try:
        faceset = FaceSet.open(folder)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and str(folder) in message
        return
    for record in faceset.records:  # what was accepted is usable and stays inside the face set
        assert faceset.image_path(record).resolve().is_relative_to(folder.resolve())
        assert record.matrix.shape == (2, 3) and record.landmarks.shape[1] == 2
        assert np.isfinite(record.matrix).all() and np.isfinite(record.landmarks).all()
    assert faceset.size > 0


@PROFILE
@given(data=st.data())
def test_alignments_file_with_any_value_anywhere(tmp_path: Path, data: Any) -> None:
    doc = _valid_document()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        where = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "delete"]))
        if action == "delete" and where and isinstance(doc, dict):
            parent = doc
            for key in where[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                del parent[where[-1]]
                continue
        doc = _set(doc, where, data.draw(_json_values))
    folder = tmp_path / "set"
    folder.mkdir(exist_ok=True)
    (folder / ALIGNMENTS).write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    _check_open(folder)


@PROFILE
@given(blob=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_alignments_file_with_any_bytes(tmp_path: Path, blob: bytes) -> None:
    folder = tmp_path / "set"
    folder.mkdir(exist_ok=True)
    (folder / ALIGNMENTS).write_bytes(blob)
    _check_open(folder)


@PROFILE
@given(faces=st.integers(1, 5), frame_shift=st.integers(0, 10**6))
def test_valid_alignments_round_trip(tmp_path: Path, faces: int, frame_shift: int) -> None:
    doc = _valid_document(faces)
    for face in doc["faces"]:
        face["frame"] += frame_shift
    folder = tmp_path / "set"
    folder.mkdir(exist_ok=True)
    (folder / ALIGNMENTS).write_text(json.dumps(doc), encoding="utf-8")
    again = FaceSet.open(folder).to_json()
    expected = copy.deepcopy(doc)
    assert again["faces"] == expected["faces"] and again["size"] == 256


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("file", "../../outside.png"),
        ("file", "/etc/passwd"),
        ("file", "sub/dir.png"),
        ("frame", float("inf")),
        ("frame", -1),
        ("matrix", [[float("nan"), 0, 0], [0, 1, 0]]),
        ("landmarks", [[1, 2], [float("inf"), 3]]),
    ],
)
def test_alignments_entries_that_are_rejected(tmp_path: Path, field: str, value: Any) -> None:
    """Hand-picked cases the random search may miss: paths leaving the face set, non-finite numbers."""
    doc = _valid_document()
    doc["faces"][1][field] = value
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / ALIGNMENTS).write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        FaceSet.open(folder)
    assert str(folder) in str(info.value) and field in str(info.value)
